#!/bin/bash
# t40: one incident walks through all six stages (EN 319 401 7.9.2-7.9.5);
# `incident show --json` gives the expected stage after each step, every
# step is an entry with its actor, and `evident verify` passes at the end.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
stage() { $E incident show "$1" --json | jq -r .stage; }

t_ok "init" $E init
t_ok "alert recorded by another part" $E --actor rule:tsa-down append --kind alert.raised \
	--subject alerts --body '{"rule":"tsa-down","title":"TSA not answering","severity":"high","why":"t","tags":[],"log_seq":[]}'
ALERT=$(out)
t_ok "open from the alert" $E --actor alice incident open --title "TSA signing outage" \
	--from-alert "$ALERT" --reported-by monitoring-bot --channel monitoring --aware-at 2026-01-10T08:00:00Z
ID=$(out)
t_like "id is inc-YYYY-NNNN" '^inc-[0-9]{4}-0001$' "$ID"
t_is "stage 1: detect-triage" detect-triage "$(stage "$ID")"
t_is "alert linked" "$ALERT" "$($E incident show "$ID" --json | jq -c '.alerts[0].alert_seq')"
t_is "aware_at recorded" 2026-01-10T08:00:00.000000Z "$($E incident show "$ID" --json | jq -r .aware_at)"

t_ok "classify" $E --actor alice incident classify "$ID" --severity high --category availability \
	--significant yes --reason "TSA unavailable for 45 minutes"
t_is "stage 2: classify-escalate" classify-escalate "$(stage "$ID")"
t_ok "escalate" $E --actor alice incident escalate "$ID" --to incident-manager --reason "significant"
t_ok "assign" $E --actor alice incident assign "$ID" --owner bob
t_is "owner is bob" bob "$($E incident show "$ID" --json | jq -r .owner)"
t_is "still classify-escalate" classify-escalate "$(stage "$ID")"

echo "hsm log excerpt" >"$T/hsm.log"
t_ok "containment with evidence" $E --actor bob incident act "$ID" --type containment \
	--note "switched to standby HSM" --evidence "$T/hsm.log"
t_is "stage 3: respond-document" respond-document "$(stage "$ID")"
SHA=$(sha256sum "$T/hsm.log" | cut -d' ' -f1)
t_is "evidence sha256 recorded" "$SHA" "$($E incident show "$ID" --json | jq -r '.actions[0].evidence_sha256')"
t_is "evidence name recorded" hsm.log "$($E incident show "$ID" --json | jq -r '.actions[0].evidence_name')"
t_ok "evidence copy kept content-addressed" cmp "$T/hsm.log" "$EVIDENT_DATA/evidence/$SHA"
t_is "evidence copy is 0600" 600 "$(stat -c %a "$EVIDENT_DATA/evidence/$SHA")"

t_ok "notify the CSIRT" $E --actor carol incident notify "$ID" --to csirt --clock nis2-early-warning \
	--ref CSIRT-2026-17 --note "early warning sent via portal"
t_is "stage 4: report-notify" report-notify "$(stage "$ID")"

t_ok "continuity plan" $E --actor bob incident continuity "$ID" --activate BCP-TSA-1 --note "DR site live"
t_is "stage 5: recover-preserve" recover-preserve "$(stage "$ID")"
t_ok "restored" $E --actor bob incident continuity "$ID" --restored --note "primary back"
t_ok "a later containment action does not move the stage back" $E --actor bob incident act "$ID" \
	--type decision --note "keep standby warm"
t_is "still recover-preserve" recover-preserve "$(stage "$ID")"

t_ok "review" $E --actor bob incident review "$ID" --root-cause "HSM firmware defect" \
	--action "upgrade firmware" --action "add HSM health alarm" --vulnerability-exposure "none found"
t_is "stage 6: review-correct" review-correct "$(stage "$ID")"
t_ok "approved by someone other than the owner" $E --actor dana incident review "$ID" --approve
t_ok "close" $E --actor bob incident close "$ID" --note "done"
t_is "closed" closed "$(stage "$ID")"
t_exit "nothing more after close" 1 $E --actor bob incident act "$ID" --type decision --note late
t_like "says it is closed" "is closed" "$(err)"

# The timeline names the stage each step belongs to (the late decision is a
# respond-document record); the incident's stage never moves back.
t_is "timeline stages in order" \
	'["detect-triage","classify-escalate","classify-escalate","classify-escalate","respond-document","report-notify","recover-preserve","recover-preserve","respond-document","review-correct","review-correct","closed"]' \
	"$($E incident show "$ID" --json | jq -c '[.timeline[].stage]')"
t_is "every step attributed" "alice alice alice alice bob carol bob bob bob bob dana bob" \
	"$($E incident show "$ID" --json | jq -r '[.timeline[].actor] | join(" ")')"
t_is "entries carry the actor too" "alice" \
	"$($E log --json --kind incident.opened | jq -r .actor)"
t_is "list --stage closed" "$ID" "$($E incident list --stage closed --json | jq -r '.[0].id')"
t_is "list --open is empty" 0 "$($E incident list --open --json | jq length)"
t_ok "text show works" $E incident show "$ID"
t_like "text show has the timeline" "post-incident review" "$(out)"
t_ok "verify passes" $E verify
t_done
