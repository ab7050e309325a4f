#!/bin/bash
# t54-cadence: every control with a cadence has a due date computed from
# its latest evidence; `evident cadence` lists done, due and overdue items,
# and --raise alerts each overdue item once per item and period.
. "$(dirname "$0")/lib.sh"
export EVIDENT_ACTOR=ops
$EVIDENT init >/dev/null
item() { # NOW ITEM FIELD
	$EVIDENT cadence --now "$1" --json |
	    python3 -c "import json,sys; i=[x for x in json.load(sys.stdin) if x['item']=='$2'][0]; print(i['$3'])"
}
t_is "never evidenced: due now" due "$(item now CTL-VULN-SCAN#1 state)"
t_is "never evidenced: no due date" None "$(item now CTL-VULN-SCAN#1 due)"
$EVIDENT securitytest record --type vulnerability-scan --scope all --result clean >/dev/null
t_is "just scanned: done" done "$(item now CTL-VULN-SCAN#1 state)"
t_is "80 days on (inside the due-soon window): due" due "$(item now+80d CTL-VULN-SCAN#1 state)"
t_is "100 days on: overdue" overdue "$(item now+100d CTL-VULN-SCAN#1 state)"
t_is "the item names its requirements" "['REQ-7.8-13', 'REQ-7.8-14']" \
	"$($EVIDENT cadence --json | python3 -c "import json,sys; print(sorted([x for x in json.load(sys.stdin) if x['item']=='CTL-VULN-SCAN#1'][0]['requirements']))")"

scan_alerts() { $EVIDENT log --kind alert.raised --json | grep -c '"item":"CTL-VULN-SCAN#1"'; }
t_ok "raise at now+100d" $EVIDENT cadence --raise --now now+100d --json
t_like "alerts were raised" '"raised": [1-9]' "$(out)"
t_is "one alert for the overdue scan" 1 "$(scan_alerts)"
t_ok "raise again in the same period" $EVIDENT cadence --raise --now now+101d --json
t_is "no second alert for the same item and period" 1 "$(scan_alerts)"
t_ok "alert in the log" $EVIDENT log --kind alert.raised --json
t_like "rule cadence, actor system, item and due date in the body" '"actor":"system".*"due":"[0-9T:.-]+Z".*"item":"CTL-VULN-SCAN#1".*"rule":"cadence"' "$(out)"
t_like "the unanswered alert itself is a follow-up item (7.9.2-b)" '"item":"CTL-ALERT-FOLLOWUP#1"' "$(out)"

# A new scan starts a new period: overdue again later means a new alert.
$EVIDENT securitytest record --type vulnerability-scan --scope all --result clean >/dev/null
t_ok "raise 200 days on (new period overdue)" $EVIDENT cadence --raise --now now+200d --json
t_is "the new period's overdue scan is alerted" 2 "$(scan_alerts)"
t_ok "text output" $EVIDENT cadence --now now+200d
t_like "text lists overdue items with owner" 'CTL-VULN-SCAN#1 +overdue +quarterly .*security officer' "$(out)"
t_exit "a bad --now is a usage error" 2 $EVIDENT cadence --now yesterday
t_done
