#!/bin/bash
# t51-vuln-clock: a critical vulnerability recorded at T runs a 48 h clock
# (EN 319 401 7.9.5): running, due soon in the last 12 h, overdue at T+49h
# unless a mitigation or a documented plan was recorded, which stops it.
# The clock starts at --discovered-at when given.  Overdue clocks raise one
# vuln.overdue alert each, and the compliance index shows C7.9.5-b missing.
. "$(dirname "$0")/lib.sh"
export EVIDENT_ACTOR=sec
$EVIDENT init >/dev/null
state() { # ID NOW
	$EVIDENT vuln clocks --all --now "$2" --json |
	    python3 -c "import json,sys; c=[x for x in json.load(sys.stdin) if x['subject']=='$1']; print(c[0]['state'] if c else 'none')"
}
$EVIDENT vuln add --title "RCE in OCSP responder" --severity critical --cvss 9.8 >/dev/null
$EVIDENT vuln add --title "weak cipher" --severity medium >/dev/null
$EVIDENT vuln add --title "auth bypass" --severity critical >/dev/null
$EVIDENT vuln add --title "found last night" --severity critical --discovered-at now-47h >/dev/null
$EVIDENT vuln add --title "later critical" --severity high >/dev/null

t_is "a fresh critical clock is running" running "$(state vuln-1 now+1h)"
t_is "due soon 40 h after discovery" due-soon "$(state vuln-1 now+40h)"
t_is "still due soon at 47 h" due-soon "$(state vuln-1 now+47h)"
t_is "overdue at T+49h" overdue "$(state vuln-1 now+49h)"
t_is "a medium vulnerability has no clock" none "$(state vuln-2 now+49h)"
t_is "discovery 47 h ago: overdue 2 h from now" overdue "$(state vuln-4 now+2h)"
t_ok "clock JSON" $EVIDENT vuln clocks --now now+49h --json
t_like "clock names subject, clock, started, due, state" '"clock": "critical-vulnerability"' "$(out)"
o=$(out)
due=$(echo "$o" | python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x["subject"]=="vuln-1"][0]; print(c["due"])')
started=$(echo "$o" | python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x["subject"]=="vuln-1"][0]; print(c["started"])')
t_is "due is started + 48 h" "$due" "$(python3 -c "
import datetime as d; s=d.datetime.strptime('$started','%Y-%m-%dT%H:%M:%S.%fZ'); print((s+d.timedelta(hours=48)).strftime('%Y-%m-%dT%H:%M:%S.%fZ'))")"

t_ok "a documented mitigation plan" $EVIDENT vuln mitigate vuln-1 --note "no fix yet" --plan "isolate responder; vendor patch expected in 5 days"
t_is "the plan stops the clock" stopped "$(state vuln-1 now+49h)"
t_ok "close the third" $EVIDENT vuln close vuln-3 --note "patched"
t_is "closing stops the clock" stopped "$(state vuln-3 now+49h)"
t_ok "reassessed as critical" $EVIDENT vuln assess vuln-5 --exposure "exploit published" --severity critical
t_is "reassessment to critical starts the clock from discovery" overdue "$(state vuln-5 now+49h)"

t_ok "evident clocks lists vulnerability clocks with the incident clocks" $EVIDENT clocks --now now+49h --json
t_like "vuln-4 is overdue there" '"incident": "vuln-4",[^}]*"clock": "critical-vulnerability"[^}]*"state": "overdue"' "$(out | tr -d '\n')"
t_ok "raise overdue clocks" $EVIDENT vuln clocks --raise --now now+49h
t_like "two alerts (vuln-4, vuln-5)" "^2 alerts raised" "$(out | tail -1)"
t_ok "raise again" $EVIDENT vuln clocks --raise --now now+50h
t_like "no second alert for the same vulnerability" "^0 alerts raised" "$(out | tail -1)"
t_ok "alerts in the log" $EVIDENT log --kind alert.raised --json
t_like "rule vuln.overdue, actor system" '"actor":"system".*"rule":"vuln.overdue"' "$(out)"

t_ok "compliance at T+49h" $EVIDENT compliance --now now+49h --json --clause 7.9.5
t_is "C7.9.5-b is missing while vuln-4/vuln-5 are unaddressed" missing "$(out | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin)["requirements"] if r["id"]=="C7.9.5-b"][0]["status"])')"
$EVIDENT vuln mitigate vuln-4 --note "mitigated" >/dev/null
$EVIDENT vuln mitigate vuln-5 --note "mitigated" >/dev/null
t_ok "compliance once all are addressed" $EVIDENT compliance --now now+49h --json --clause 7.9.5
t_is "C7.9.5-b is no longer missing" evidenced "$(out | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin)["requirements"] if r["id"]=="C7.9.5-b"][0]["status"])')"
t_done
