#!/bin/bash
# t74: the incident workflow and alert follow-up through the JSON API, each
# step by the role the matrix gives it, with the authenticated user as the
# entry's actor: an alert is acknowledged; an incident is opened from it,
# classified significant (clocks start), acted on, notified (its clock
# stops), reviewed, approved by someone else, and closed.  Then /metrics
# counts it all, and the pages render it with every value HTML-escaped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
mon=$(make_token mona monitoring)
im=$(make_token ivan incident-manager)
resp=$(make_token rita responder)
comp=$(make_token cleo compliance)
view=$(make_token vera viewer)
t_ok "an alert is raised" "$EVIDENT" append --kind alert.raised --subject alerts --actor rule:test \
	--body '{"group":null,"log_seq":[],"rule":"test","severity":"high","source":null,"tags":[],"title":"<script>alert(1)</script> odd login","why":"w"}'
alert=$("$EVIDENT" log --json --kind alert.raised | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["seq"])')
http_start --config /dev/null
as() { local t=$1 m=$2 p=$3; shift 3; req "$m" "$p" -H "Authorization: Bearer $t" -H 'Content-Type: application/json' "$@"; }

t_is "alerts list: 200" 200 "$(as "$view" GET /api/alerts)"
t_is "  the alert is open" true "$(jget .alerts.0.open)"
t_is "monitoring acknowledges it: 201" 201 "$(as "$mon" POST "/api/alerts/$alert/ack" --data-binary '{"disposition":"escalated","note":"looks real"}')"
t_is "a second acknowledgement: 409" 409 "$(as "$mon" POST "/api/alerts/$alert/ack" --data-binary '{"disposition":"benign","note":"again"}')"
t_is "  code state" state "$(jget .error.code)"
as "$view" GET "/api/alerts/$alert" >/dev/null
t_is "  acknowledged by mona" mona "$(jget .acknowledged.by)"

t_is "monitoring opens an incident from it: 201" 201 "$(as "$mon" POST /api/incidents --data-binary "{\"title\":\"Suspicious login\",\"alerts\":[$alert],\"aware_at\":\"now-1h\"}")"
inc=$(jget .incident)
t_like "  incident id" '^inc-[0-9]{4}-[0-9]{4}$' "$inc"
t_is "the responder may not classify: 403" 403 "$(as "$resp" POST "/api/incidents/$inc/classify" --data-binary '{"severity":"high","category":"availability","significant":"yes","reason":"r"}')"
t_is "the incident manager classifies: 201" 201 "$(as "$im" POST "/api/incidents/$inc/classify" --data-binary '{"severity":"high","category":"integrity","significant":"yes","reason":"signing key possibly exposed"}')"
as "$view" GET /api/clocks >/dev/null
t_like "clocks are running" '"incident": ?"'"$inc"'"' "$(body)"
clock=$(jget .clocks.0.clock)
t_like "  a named clock" '^[a-z0-9.-]+' "$clock"
t_is "the responder records an action: 201" 201 "$(as "$resp" POST "/api/incidents/$inc/act" --data-binary '{"type":"containment","note":"key revoked, HSM partition locked"}')"
t_is "compliance notifies (stops the clock): 201" 201 "$(as "$comp" POST "/api/incidents/$inc/notify" --data-binary "{\"to\":\"supervisory-body\",\"clock\":\"$clock\",\"ref\":\"SB-1\",\"note\":\"initial notice\"}")"
t_is "closing without a review: 409" 409 "$(as "$im" POST "/api/incidents/$inc/close" --data-binary '{"note":"done"}')"
t_is "the review: 201" 201 "$(as "$im" POST "/api/incidents/$inc/review" --data-binary '{"root_cause":"weak ACL","actions":["tighten ACL"],"vulnerability_exposure":"none found"}')"
t_is "compliance approves the review: 201" 201 "$(as "$comp" POST "/api/incidents/$inc/approve")"
t_is "the incident manager closes it: 201" 201 "$(as "$im" POST "/api/incidents/$inc/close" --data-binary '{"note":"done"}')"
t_is "the incident shows: 200" 200 "$(as "$view" GET "/api/incidents/$inc")"
t_is "  stage closed" closed "$(jget .stage)"
"$EVIDENT" log --json --subject "$inc" >"$T/inc.log"
t_like "every step names its user as actor" \
	'"actor":"mona".*"actor":"ivan".*"actor":"rita".*"actor":"cleo".*"actor":"ivan".*"actor":"cleo".*"actor":"ivan"' \
	"$(tr -d '\n' <"$T/inc.log")"

t_is "monitoring registers a log source: 201" 201 "$(as "$mon" POST /api/sources --data-binary '{"name":"bastion","categories":["admin-activity","security-events"],"description":"SSH bastion"}')"
t_is "  an unknown category: 400" 400 "$(as "$mon" POST /api/sources --data-binary '{"name":"b2","categories":["astrology"]}')"
t_is "  a viewer may not: 403" 403 "$(as "$view" POST /api/sources --data-binary '{"name":"b3","categories":["admin-activity"]}')"
as "$view" GET /api/sources >/dev/null
t_is "  the inventory lists it" bastion "$(jget .sources.0.name)"
t_is "rule pack status: 200" 200 "$(as "$view" GET /api/rules)"
t_like "  counts rules" '"rules": ?[0-9]+' "$(body)"
t_is "metrics with a token: 200" 200 "$(as "$view" GET /metrics)"
t_like "  Prometheus text" '^# HELP evident_ledger_entries' "$(body)"
t_like "  one alert" 'evident_alerts_total 1' "$(body)"
t_like "  none open" 'evident_alerts_open 0' "$(body)"
t_like "  no open incident" 'evident_incidents_open 0' "$(body)"
t_like "  the verification run at start passed" 'evident_verify_ok 1' "$(body)"
if grep -q evident_checkpoint_age "$T/body"; then ca=1; else ca=0; fi
t_is "  no checkpoint age before a checkpoint" 0 "$ca"
as "$mon" POST /api/checkpoints >/dev/null
as "$view" GET /metrics >/dev/null
t_like "  checkpoint age once there is one" 'evident_checkpoint_age_seconds [0-9]+' "$(body)"

for p in / /alerts?all=1 /incidents "/incidents/$inc" /ledger /entries/1; do
	t_is "page $p: 200" 200 "$(as "$view" GET "$p")"
	if grep -q '<script>alert' "$T/body"; then un=1; else un=0; fi
	t_is "  nothing unescaped on $p" 0 "$un"
done
as "$view" GET /alerts?all=1 >/dev/null
t_like "the alert title is shown escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt; odd login' "$(body)"
as "$view" GET / >/dev/null
t_like "the dashboard draws the chart" '<svg id="chart"' "$(body)"
as "$view" GET "/incidents/$inc" >/dev/null
t_like "the incident page has a timeline" 'id="timeline"' "$(body)"
if grep -q 'id="form-' "$T/body"; then forms=1; else forms=0; fi
t_is "a closed incident offers no step forms" 0 "$forms"
as "$view" GET "/entries/1" >/dev/null
t_like "an entry page shows its inclusion proof" 'id="proof-root"' "$(body)"
t_ok "the ledger verifies" "$EVIDENT" verify
http_stop
t_done
