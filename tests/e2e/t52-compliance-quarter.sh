#!/bin/bash
# t52-compliance-quarter: a scripted quarter of operations (a vulnerability
# scan, a log review, a backup and a restore test, a policy approval and
# review, a significant change answered by a penetration test) makes the
# matching requirements "evidenced"; evaluated later with --now, the
# skipped next quarterly scan makes REQ-7.8-14 "missing" exactly after
# its due date (entry time + P3M), a monthly log review goes missing after
# a month, a policy past its next review goes "stale", and an unanswered
# significant change makes the pen-test requirement "missing" after 30 days.
. "$(dirname "$0")/lib.sh"
export EVIDENT_ACTOR=compliance
$EVIDENT init >/dev/null
status() { # NOW ID...
	local now=$1; shift
	$EVIDENT compliance --now "$now" --json >"$T/idx.json" || return 1
	python3 - "$T/idx.json" "$@" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
by = {r["id"]: r for r in idx["requirements"]}
print(" ".join(by[i]["status"] for i in sys.argv[2:]))
PY
}

t_is "before anything: the scan requirement is missing" missing "$(status now REQ-7.8-14)"

$EVIDENT securitytest record --type vulnerability-scan --scope "203.0.113.0/28, 10.0.0.0/24" --result "no critical findings" --tester "Scan GmbH" >/dev/null
$EVIDENT logreview record --reviewer soc-1 --source auth --source firewall --from now-30d --to now --findings none >/dev/null
$EVIDENT backup record --scope "CA db" --location "vault" --off-network yes --integrity ok >/dev/null
$EVIDENT backup restore-test --scope "CA db" --result ok --recovery-time 2h --target 4h >/dev/null
$EVIDENT policy add --name CPS --type practice-statement --version 5 --owner compliance --approved-by board --next-review now+200d >/dev/null
$EVIDENT policy review policy-1 --reviewer compliance --outcome "reviewed, no change" >/dev/null
$EVIDENT securitytest record --type penetration-test --scope "initial set-up" --result "ok" >/dev/null

t_is "10 days in: scan, log review, restore test, TSPS review evidenced" \
	"evidenced evidenced evidenced evidenced evidenced" \
	"$(status now+10d REQ-7.8-14 C7.9.1-i C7.11-d C6.1-f C6.1-b)"
t_is "the pen-test requirement is evidenced (set-up test, no change since)" evidenced "$(status now+10d REQ-7.8-17)"
t_ok "index JSON" $EVIDENT compliance --now now+10d --json
scan_seq=$($EVIDENT log --kind securitytest.recorded --json | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
t_is "REQ-7.8-14 names its control, owner and evidence seq" "CTL-VULN-SCAN security officer [$scan_seq]" \
	"$(out | python3 -c 'import json,sys; r=[r for r in json.load(sys.stdin)["requirements"] if r["id"]=="REQ-7.8-14"][0]; print(r["control"], r["owner"], json.dumps(r["evidence"]))')"
t_like "the summary counts by clause" '"7.8"' "$(out | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["summary"]["by_clause"]))')"

# The next quarterly scan is skipped: find the exact due date (scan time + 3 calendar months).
scan_time=$($EVIDENT log --kind securitytest.recorded --json | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["time"])')
read -r before after <<<"$(python3 - "$scan_time" <<'PY'
import sys, datetime as d, calendar
t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ")
m = t.month - 1 + 3; y = t.year + m // 12; m = m % 12 + 1
due = t.replace(year=y, month=m, day=min(t.day, calendar.monthrange(y, m)[1]))
f = lambda x: x.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
print(f(due - d.timedelta(minutes=1)), f(due + d.timedelta(minutes=1)))
PY
)"
t_is "one minute before the quarter ends the scan is still evidenced" evidenced "$(status "$before" REQ-7.8-14)"
t_is "one minute after, with no new scan, it is missing" missing "$(status "$after" REQ-7.8-14)"
t_is "REQ-7.8-13 (same control) goes missing with it" missing "$(status "$after" REQ-7.8-13)"
t_is "at now+100d: the restore test (quarterly) is missing too" missing "$(status now+100d C7.11-d)"
t_is "the log review (monthly) is missing after 40 days" missing "$(status now+40d C7.9.1-i)"
t_is "the yearly TSPS review still holds at now+100d" evidenced "$(status now+100d C6.1-f)"
t_is "past its next-review date the practice statement is stale" stale "$(status now+250d C6.1-b)"
$EVIDENT policy review policy-1 --reviewer compliance --outcome "extended" --next-review now+400d >/dev/null
t_is "a review that sets a later next-review date renews it" evidenced "$(status now+250d C6.1-b)"

# A significant change calls for a penetration test within 30 days.
$EVIDENT change add --title "new CA hardware" --significant yes >/dev/null
t_is "within the 30 days the pen test is pending, not missing" evidenced "$(status now+10d REQ-7.8-17)"
t_is "after 30 days without a test it is missing" missing "$(status now+31d REQ-7.8-17)"
$EVIDENT securitytest record --type penetration-test --scope "new CA hardware" --result ok --trigger change-1 >/dev/null
t_is "the test answers the change" evidenced "$(status now+31d REQ-7.8-17)"
$EVIDENT change add --title "minor config" --significant no >/dev/null
t_is "an insignificant change asks for nothing" evidenced "$(status now+31d REQ-7.8-17)"

t_ok "text output ends with a summary" $EVIDENT compliance --now now+10d
t_like "summary line" '^total 119: [0-9]+ evidenced, [0-9]+ stale, [0-9]+ missing, 0 not applicable, 0 unmapped$' "$(out | tail -1)"
t_ok "--clause 7.11 keeps only 7.11" $EVIDENT compliance --clause 7.11 --json
t_is "six 7.11 rows" 6 "$(out | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["requirements"]))')"
t_done
