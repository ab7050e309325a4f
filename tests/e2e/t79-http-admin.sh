#!/bin/bash
# t79: user and token administration through the API (admin only): a user
# added over the API gets a one-time password in the response and nowhere
# else; a role change takes effect on the next request; a token created
# over the API works until it is revoked; every change is a ledger fact
# with the admin as actor, and no secret reaches the ledger.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
adm=$(make_token boss admin)
http_start
as() { local t=$1 m=$2 p=$3; shift 3; req "$m" "$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' "$@"; }

t_is "add a user over the API: 201" 201 "$(as "$adm" POST /api/users --data-binary '{"name":"nina","role":"responder"}')"
otp=$(jget .one_time_password)
t_like "  the response holds the one-time password" '^[A-Za-z0-9_-]{24}$' "$otp"
t_is "the same name again: 409" 409 "$(as "$adm" POST /api/users --data-binary '{"name":"nina","role":"viewer"}')"
t_is "  code exists" exists "$(jget .error.code)"
t_is "an unknown role: 400" 400 "$(as "$adm" POST /api/users --data-binary '{"name":"omar","role":"root"}')"
t_is "a bad name: 400" 400 "$(as "$adm" POST /api/users --data-binary '{"name":"Bad Name","role":"viewer"}')"
t_is "a token for nina: 201" 201 "$(as "$adm" POST /api/tokens --data-binary '{"user":"nina"}')"
ntok=$(jget .token); nid=$(jget .id)
t_like "  the response holds the token" '^evt_[0-9a-f]{16}_' "$ntok"
t_is "a token for nobody: 404" 404 "$(as "$adm" POST /api/tokens --data-binary '{"user":"nobody"}')"
as "$ntok" GET /api/whoami >/dev/null
t_is "nina's token acts as nina" responder "$(jget .role)"
t_is "a responder may not list users: 403" 403 "$(as "$ntok" GET /api/users)"
t_is "role change: 201" 201 "$(as "$adm" POST /api/users/nina/role --data-binary '{"role":"incident-manager"}')"
as "$ntok" GET /api/whoami >/dev/null
t_is "  takes effect on the next request" incident-manager "$(jget .role)"
t_is "role change for nobody: 404" 404 "$(as "$adm" POST /api/users/nobody/role --data-binary '{"role":"viewer"}')"
t_is "list tokens: 200" 200 "$(as "$adm" GET /api/tokens)"
if grep -q 'evt_' "$T/body"; then sec=1; else sec=0; fi
t_is "  the list holds no secret" 0 "$sec"
t_is "revoke nina's token: 201" 201 "$(as "$adm" POST "/api/tokens/$nid/revoke")"
t_is "  it no longer works" 401 "$(as "$ntok" GET /api/whoami)"
t_is "revoke again: 409" 409 "$(as "$adm" POST "/api/tokens/$nid/revoke")"
t_is "the one-time password signs in" 303 "$(req POST /login --data-urlencode user=nina --data-urlencode "password=$otp")"
t_like "  and must be changed" $'Location: /password\r' "$(cat "$T/headers")"
"$EVIDENT" log --json >"$T/log"
t_like "user.added by boss" '"actor":"boss","body":\{"name":"nina","role":"responder"\},"kind":"user.added"' "$(cat "$T/log")"
t_like "user.role_changed by boss" '"actor":"boss","body":\{"from":"responder","name":"nina","role":"incident-manager"\}' "$(cat "$T/log")"
t_is "neither secret is in the ledger" 0 "$(grep -c -F -e "$otp" -e "${ntok:21}" "$T/log")"
if grep -q -F -e "$otp" -e "$ntok" "$T/http.out" "$T/http.err"; then lk=1; else lk=0; fi
t_is "nor in the server's output" 0 "$lk"
http_stop
t_done
