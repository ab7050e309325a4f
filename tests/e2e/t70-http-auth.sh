#!/bin/bash
# t70: every route of the route table refuses a request without credentials
# (401 for the API, a redirect to /login for pages), and with a bad, a
# malformed or a revoked token; only the reviewed public routes answer.
# The test walks `evident http --routes`, so a new route is covered the day
# it is added.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
tok=$(make_token ada admin)
t_like "token printed once, evt_ form" '^evt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$' "$tok"
revoked=$(make_token bea viewer)
rid=${revoked:4:16}
t_ok "revoke a token" "$EVIDENT" token revoke "$rid"
t_ok "the route table prints" "$EVIDENT" http --routes
out >"$T/routes"
n=$(wc -l <"$T/routes")
t_like "the route table has routes" '^[0-9]+$' "$n"

public=$(awk '$3 == "public" || $3 == "public-report" {print $1" "$2}' "$T/routes" | sort | tr '\n' ';')
t_is "the public routes are exactly the reviewed ones" \
	"GET /favicon.ico;GET /healthz;GET /login;GET /report;GET /static/app.css;GET /static/app.js;POST /login;POST /report;" \
	"$public"

http_start --public-report
t_like "server listens on loopback" '^http://127\.0\.0\.1:[0-9]+$' "$URL"

fill() { echo "$1" | sed -e 's/{seq}/1/g; s/{id}/1/g; s/{name}/nobody/g; s/{path\*}/checkpoint/g'; }
bad=0 checked=0
while read -r m p access; do
	[ "$access" = public ] || [ "$access" = public-report ] && continue
	path=$(fill "$p")
	for auth in none garbage malformed revoked basic; do
		case $auth in
		none) args=() ;;
		garbage) args=(-H "Authorization: Bearer evt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") ;;
		malformed) args=(-H "Authorization: Bearer x") ;;
		revoked) args=(-H "Authorization: Bearer $revoked") ;;
		basic) args=(-H "Authorization: Basic YWRhOmFkYQ==") ;;
		esac
		if [ "$m" = GET ]; then code=$(req "$m" "$path" "${args[@]}")
		else code=$(req "$m" "$path" "${args[@]}" -H 'Content-Type: application/json' --data-binary '{}'); fi
		checked=$((checked + 1))
		case $path in
		/api/*|/metrics|/tlog/*)
			if [ "$code" != 401 ] || ! grep -q '"code":"unauthenticated"' "$T/body"; then
				echo "# $m $path ($auth): $code $(body | head -c 200)"; bad=$((bad + 1)); fi ;;
		*)
			if [ "$code" != 303 ] || ! grep -qi $'^Location: /login\r$' "$T/headers"; then
				echo "# $m $path ($auth): $code $(grep -i ^location "$T/headers")"; bad=$((bad + 1)); fi ;;
		esac
	done
done <"$T/routes"
t_is "every non-public route refuses all $checked unauthenticated requests" 0 "$bad"

code=$(req GET /healthz); t_is "GET /healthz is open" 200 "$code"
code=$(req GET /api/whoami -H "Authorization: Bearer $tok")
t_is "a valid token is accepted" 200 "$code"
t_is "whoami names the token's user" ada "$(jget .user)"
code=$(req GET /api/nonexistent -H "Authorization: Bearer $tok")
t_is "unknown API route: 404" 404 "$code"
code=$(req DELETE /api/entries -H "Authorization: Bearer $tok")
t_is "wrong method: 405" 405 "$code"
grep -q -F -e "$tok" "$T/http.out" "$T/http.err" && leaked=1 || leaked=0
t_is "the token appears in no server output" 0 "$leaked"
"$EVIDENT" log --json >"$T/log"
grep -c -F -e "${tok:21}" "$T/log" >"$T/n"; t_is "the token secret is nowhere in the ledger" 0 "$(cat "$T/n")"
t_like "token.created records the token id" "\"token_id\":\"${tok:4:16}\"" "$(grep token.created "$T/log" | head -1)"
t_like "token.revoked is recorded" '"kind":"token.revoked"' "$(cat "$T/log")"
http_stop
t_done
