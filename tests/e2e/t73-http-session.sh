#!/bin/bash
# t73: signing in with a cookie session.  The one-time password from
# `evident user add` signs in but leads only to /password until it is
# replaced; the session cookie is HttpOnly and SameSite=Strict; a form POST
# without the session's CSRF token (or with a wrong one) is refused and
# writes nothing; five failed sign-ins lock the address and the user out
# with 429; signing out ends the session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
t_ok "add a user" "$EVIDENT" user add carol --role incident-manager
otp=$(out)
t_like "one-time password printed" '^[A-Za-z0-9_-]{24}$' "$otp"
t_ok "add a second user" "$EVIDENT" user add dave --role viewer
http_start
J="$T/jar"
login() { # user password [jar]
	req POST /login -c "${3:-$J}" -b "${3:-$J}" --data-urlencode "user=$1" --data-urlencode "password=$2"
}
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/body" | head -1; }

t_is "login page: 200" 200 "$(req GET /login)"
t_is "a sign-in posted from another site: 403" 403 "$(req POST /login -H 'Origin: https://evil.example' --data-urlencode user=carol --data-urlencode "password=$otp")"
t_is "a sign-in posted from this site is fine (wrong password: 401)" 401 \
	"$(req POST /login -H "Origin: $URL" --data-urlencode user=carol --data-urlencode password=wrong-password-000)"
t_is "wrong password: 401" 401 "$(login carol wrong-password-123)"
t_is "one-time password signs in (303)" 303 "$(login carol "$otp")"
t_like "  and leads to /password" $'Location: /password\r' "$(cat "$T/headers")"
cookie=$(grep -i '^Set-Cookie:' "$T/headers")
t_like "cookie is HttpOnly" 'HttpOnly' "$cookie"
t_like "cookie is SameSite=Strict" 'SameSite=Strict' "$cookie"
t_is "other pages send a one-time session to /password" 303 "$(req GET / -b "$J")"
t_like "  Location /password" $'Location: /password\r' "$(cat "$T/headers")"
t_is "the API refuses it too (403)" 403 "$(req GET /api/entries -b "$J")"
t_is "  code password_change_required" password_change_required "$(jget .error.code)"
t_is "password page: 200" 200 "$(req GET /password -b "$J")"
csrf=$(csrf_of)
t_like "the form carries a CSRF token" '^[0-9a-f]{64}$' "$csrf"
n0=$("$EVIDENT" log --json | wc -l)
t_is "password change without CSRF: 403" 403 \
	"$(req POST /password -b "$J" --data-urlencode "current=$otp" --data-urlencode new=correct-horse-battery --data-urlencode confirm=correct-horse-battery)"
t_is "password change with a wrong CSRF token: 403" 403 \
	"$(req POST /password -b "$J" --data-urlencode "csrf=$(printf '%064d' 0)" --data-urlencode "current=$otp" --data-urlencode new=correct-horse-battery --data-urlencode confirm=correct-horse-battery)"
t_is "nothing written by the refused posts" "$n0" "$("$EVIDENT" log --json | wc -l)"
t_is "a too-short new password: 400" 400 \
	"$(req POST /password -b "$J" --data-urlencode "csrf=$csrf" --data-urlencode "current=$otp" --data-urlencode new=short --data-urlencode confirm=short)"
t_is "password change with CSRF: 303" 303 \
	"$(req POST /password -b "$J" --data-urlencode "csrf=$csrf" --data-urlencode "current=$otp" --data-urlencode new=correct-horse-battery --data-urlencode confirm=correct-horse-battery)"
t_like "user.password_set recorded without the password" '"one_time":false,"user":"carol"' "$("$EVIDENT" log --json --kind user.password_set)"
"$EVIDENT" log --json >"$T/log"
t_is "neither password is in the ledger" 0 "$(grep -c -e "$otp" -e correct-horse "$T/log")"
t_is "the dashboard opens now" 200 "$(req GET / -b "$J")"
t_like "  and names the user" 'carol \(incident-manager\)' "$(body)"
csrf=$(csrf_of)
t_is "the one-time password no longer works" 401 "$(login carol "$otp" "$T/jar2")"
t_is "the new one does" 303 "$(login carol correct-horse-battery "$T/jar3")"

# A JSON API POST from a cookie session needs the token in X-CSRF-Token.
t_is "API POST from a session without X-CSRF-Token: 403" 403 \
	"$(req POST /api/incidents -b "$J" -H 'Content-Type: application/json' --data-binary '{"title":"t"}')"
t_is "  code csrf" csrf "$(jget .error.code)"
t_is "API POST from a session with X-CSRF-Token: 201" 201 \
	"$(req POST /api/incidents -b "$J" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data-binary '{"title":"Signing service down"}')"
inc=$(jget .incident)
t_like "an incident id" '^inc-[0-9]{4}-[0-9]{4}$' "$inc"
t_is "form post to an incident step without CSRF: 403" 403 \
	"$(req POST "/incidents/$inc/classify" -b "$J" --data-urlencode severity=high --data-urlencode category=availability --data-urlencode significant=yes --data-urlencode reason=r)"
t_is "with CSRF: 303 back to the incident" 303 \
	"$(req POST "/incidents/$inc/classify" -b "$J" --data-urlencode "csrf=$csrf" --data-urlencode severity=high --data-urlencode category=availability --data-urlencode significant=yes --data-urlencode reason=outage)"
t_like "  the classification is recorded by carol" '"actor":"carol"' "$("$EVIDENT" log --json --kind incident.classified)"
t_is "incident page: 200" 200 "$(req GET "/incidents/$inc" -b "$J")"
t_like "  shows the stage bar" 'id="stage-bar"' "$(body)"
t_like "  shows a countdown" 'data-due="' "$(body)"

# Rate limit: 5 failures per window for a user, then 429 even with the right password.
for i in 1 2 3 4 5; do login dave "wrong-$i-password" "$T/jar4" >/dev/null; done
t_is "sixth attempt after five failures: 429" 429 "$(login dave whatever-password "$T/jar4")"
t_like "  with Retry-After" 'Retry-After: [0-9]+' "$(cat "$T/headers")"
t_is "the address is locked out for other users too" 429 "$(login carol correct-horse-battery "$T/jar5")"

t_exit "user passwd refuses a short password (usage, 2)" 2 sh -c "echo short | '$EVIDENT' user passwd vera-none"
t_ok "add a user, set the password from stdin" sh -c "'$EVIDENT' user add eve --role viewer >/dev/null && echo 'eve-long-enough-pw' | '$EVIDENT' user passwd eve"
t_is "a forged X-Forwarded-For does not escape the address lockout" 429 "$(req POST /login -H "X-Forwarded-For: 10.9.9.9" --data-urlencode user=eve --data-urlencode password=eve-long-enough-pw)"
sid=$(awk '$6 == "evident_session" {print $7}' "$J")
t_like "the jar holds the session" '^[0-9a-f]{64}$' "$sid"
t_is "the session works before signing out" 200 "$(req GET / -H "Cookie: evident_session=$sid")"
t_is "sign out: 303" 303 "$(req POST /logout -b "$J" -c "$J" --data-urlencode "csrf=$csrf")"
t_is "the old session cookie is refused after sign-out" 303 "$(req GET / -H "Cookie: evident_session=$sid")"
t_like "  back to /login" $'Location: /login\r' "$(cat "$T/headers")"
http_stop
t_done
