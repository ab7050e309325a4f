#!/bin/bash
# t48: report drafts pre-filled from the records, Markdown or JSON, marking
# what is still missing.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
t_ok "init" $E init
t_ok "open" $E --actor alice incident open --title "Timestamping unit key exposure" --aware-at 2026-01-10T08:00:00Z
ID=$(out)
t_ok "classify" $E --actor alice incident classify "$ID" --severity critical --category integrity \
	--significant yes --reason "TSU key readable by a service account"
t_ok "early warning draft" $E incident report "$ID" --form nis2-early-warning
t_like "Markdown title" "^# DRAFT: NIS2 early warning" "$(out)"
t_like "deadline from the clock" "Deadline: 2026-01-11T08:00:00.000000Z" "$(out)"
t_like "awareness filled in" "Became aware \(UTC\)\*\*: 2026-01-10T08:00:00.000000Z" "$(out)"
t_like "malicious question missing" "MISSING: Suspected unlawful or malicious act" "$(out)"
t_ok "answer it" $E --actor alice incident assess "$ID" --answer suspected_malicious=no \
	--answer cross_border_impact=yes --answer integrity_compromised=yes --answer integrity_affected_count=500
t_ok "draft again" $E incident report "$ID" --form nis2-early-warning
t_like "now filled" "Suspected unlawful or malicious act\*\*: not suspected" "$(out)"
t_ok "final report draft as JSON" $E incident report "$ID" --form nis2-final --json
J=$(out)
t_like "root cause missing" "root cause" "$(echo "$J" | jq -r '.missing | join(",")')"
t_is "form name" nis2-final "$(echo "$J" | jq -r .form)"
t_is "no final-report clock yet" null "$(echo "$J" | jq -c .clock)"
t_ok "Markdown final draft" $E incident report "$ID" --form nis2-final
t_like "MISSING: root cause, in Markdown" "MISSING: Type of threat or root cause" "$(out)"
t_ok "act and review" $E --actor bob incident act "$ID" --type containment --note "key revoked"
t_ok "review" $E --actor bob incident review "$ID" --root-cause "ACL error on key file" \
	--action "fix ACL" --vulnerability-exposure "misconfiguration"
t_ok "notification" $E --actor bob incident notify "$ID" --to csirt --clock nis2-notification \
	--ref CS-7 --note sent --sent-at 2026-01-11T06:00:00Z
t_ok "final report draft" $E incident report "$ID" --form nis2-final --json
J=$(out)
t_is "root cause filled" "ACL error on key file" \
	"$(echo "$J" | jq -r '.fields[] | select(.name == "root_cause") | .value')"
t_is "notification reference filled" CS-7 \
	"$(echo "$J" | jq -r '.fields[] | select(.name == "notification") | .value')"
t_is "deadline one month after the notification" 2026-02-11T06:00:00.000000Z "$(echo "$J" | jq -r .clock.due)"
t_ok "EN 319 401 notice draft" $E incident report "$ID" --form en319401-notice
t_like "measures quoted" "key revoked" "$(out)"
t_like "affected persons still missing" "MISSING: Affected persons informed" "$(out)"
t_ok "notification draft" $E incident report "$ID" --form nis2-notification --json
t_like "IoCs missing" "Indicators of compromise" "$(out | jq -r '.missing | join(",")')"
t_ok "a note that looks like JSON" $E --actor bob incident act "$ID" --type decision --note '["not","json"]'
t_is "stays a string in show --json" string \
	"$($E incident show "$ID" --json | jq -r '.actions[-1].note | type')"
t_done
