#!/bin/bash
# t77: the web UI in headless Chromium (Debian's chromium, driven by
# playwright-core from tests/browser, installed by scripts/install-deps):
# sign-in with a one-time password and the forced change, the dashboard,
# acknowledging an alert, opening and classifying an incident with live
# countdowns, walking it to closed (response action, post-incident review,
# the owner's approval refused, a second person's accepted, close), the
# ledger page, CSRF refusal, sign-out, and no console error
# or outside request.  Screenshots: tests/browser/screenshots/ (git-ignored).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
B="$EVIDENT_ROOT/tests/browser"
if ! [ -x /usr/bin/chromium ] || ! command -v node >/dev/null || ! [ -d "$B/node_modules/playwright-core" ]; then
	echo "not ok 1 - chromium, node or playwright-core missing (scripts/install-deps installs them)"
	exit 1
fi
t_ok "init" "$EVIDENT" init
t_ok "a user with a one-time password" "$EVIDENT" user add ivan --role incident-manager
otp=$(out)
t_ok "a second person, who approves the review" "$EVIDENT" user add cleo --role compliance
otp2=$(out)
t_ok "an alert" "$EVIDENT" append --kind alert.raised --subject alerts --actor rule:test \
	--body '{"group":null,"log_seq":[],"rule":"test","severity":"high","source":null,"tags":[],"title":"TSU clock drift","why":"offset 3 s"}'
alert=$("$EVIDENT" log --json --kind alert.raised | sed -n 's/.*"seq":\([0-9]*\).*/\1/p' | head -1)
http_start
mkdir -p "$B/screenshots"
URL="$URL" EV_USER=ivan EV_OTP="$otp" EV_USER2=cleo EV_OTP2="$otp2" EV_ALERT="$alert" SHOTS="$B/screenshots" PROFILE="$T/profile" \
	timeout 180 node "$B/ui.mjs" | sed "s/^\(not \)\{0,1\}ok \([0-9]*\)/\1ok $((_n)) + \2/" >"$T/ui.tap"
rc=${PIPESTATUS[0]}
# Renumber the browser's lines into this file's count.
while IFS= read -r line; do
	case $line in
	"ok "*) _report 0 "${line#*- }" ;;
	"not ok "*) _report 1 "${line#*- }" ;;
	*) echo "# $line" ;;
	esac
done <"$T/ui.tap"
t_is "the browser run exits 0" 0 "$rc"
t_ok "the dashboard screenshot is a PNG" test -s "$B/screenshots/dashboard.png"
t_ok "the ledger verifies after the browser's writes" "$EVIDENT" verify
http_stop
t_done
