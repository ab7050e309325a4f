#!/bin/bash
# t76: with a certificate and key (PEM) the server speaks only HTTPS, sends
# HSTS, and marks the session cookie Secure; a certificate without a key is
# a usage error.  Also: listening on IPv6 loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
"$EVIDENT" user add erin --role viewer >"$T/pw"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
t_exit "a certificate without a key: usage error" 2 "$EVIDENT" http --tls-cert "$T/cert.pem"
http_start --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
t_like "listening on https" '^https://127\.0\.0\.1:[0-9]+$' "$URL"
t_is "healthz over TLS: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "$URL/healthz")"
plain=${URL/https:/http:}
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$plain/healthz")
t_is "plain HTTP gets no answer" 000 "$code"
t_is "sign in over TLS: 303" 303 "$(req POST /login --cacert "$T/cert.pem" --data-urlencode user=erin --data-urlencode "password=$(cat "$T/pw")")"
t_like "the session cookie is Secure" 'Set-Cookie: evident_session=[0-9a-f]{64};.*; Secure' "$(cat "$T/headers")"
t_like "HSTS is sent" 'Strict-Transport-Security: max-age=' "$(cat "$T/headers")"
http_stop
# IPv6 loopback, when the host has it.
if [ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	http_start --listen '[::1]:0'
	t_like "listening on [::1]" '^http://\[::1\]:[0-9]+$' "$URL"
	t_is "healthz over IPv6: 200" 200 "$(curl -s -g -o /dev/null -w '%{http_code}' "$URL/healthz")"
	http_stop
fi
t_done
