#!/bin/bash
# t43: no incident closes without an approved post-incident review, and the
# incident owner cannot approve it (the opener owns it until `assign`).
# Refusals write nothing.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
size() { $E log --json | wc -l; }
t_ok "init" $E init
t_ok "open by alice" $E --actor alice incident open --title "TSA clock drift"
ID=$(out)
N=$(size)
t_exit "close without a review fails" 1 $E --actor alice incident close "$ID"
t_like "clear message" "cannot close $ID: no post-incident review is recorded" "$(err)"
t_is "nothing written" "$N" "$(size)"
t_exit "approve with no review fails" 1 $E --actor bob incident review "$ID" --approve
t_like "says there is nothing to approve" "no post-incident review to approve" "$(err)"
t_ok "review by alice" $E --actor alice incident review "$ID" --root-cause "NTP source lost" \
	--action "second NTP source" --vulnerability-exposure "none" \
	--no-remediation-basis "configuration fixed, no software flaw"
N=$(size)
t_exit "close with an unapproved review fails" 1 $E --actor alice incident close "$ID"
t_like "says not approved" "review is not approved" "$(err)"
t_exit "the owner (opener) cannot approve" 1 $E --actor alice incident review "$ID" --approve
t_like "says why" "someone other than the incident owner" "$(err)"
t_is "nothing written by the refusals" "$N" "$(size)"
t_ok "assign to bob" $E --actor alice incident assign "$ID" --owner bob
t_exit "now bob, the owner, cannot approve" 1 $E --actor bob incident review "$ID" --approve
t_ok "alice, no longer owner, can" $E --actor alice incident review "$ID" --approve
t_is "approved_by recorded" alice "$($E incident show "$ID" --json | jq -r '.reviews[0].approved_by')"
t_exit "approving twice refused" 1 $E --actor carol incident review "$ID" --approve
t_ok "a new review needs a new approval" $E --actor bob incident review "$ID" \
	--root-cause "NTP source lost; monitoring gap" --action "second NTP source" \
	--action "drift alarm" --vulnerability-exposure "none"
t_exit "close refused again" 1 $E --actor bob incident close "$ID"
t_ok "carol approves" $E --actor carol incident review "$ID" --approve
t_ok "close" $E --actor bob incident close "$ID"
t_is "closed" closed "$($E incident show "$ID" --json | jq -r .stage)"
t_exit "raw append cannot skip the rule either" 1 $E --actor mallory append --kind incident.closed \
	--subject "$ID" --body '{}'
t_ok "open another" $E --actor alice incident open --title "x"
ID2=$(out)
t_exit "raw append of a close without review refused" 1 $E --actor mallory append \
	--kind incident.closed --subject "$ID2" --body '{}'
t_like "by the projector's rule" "cannot close $ID2" "$(err)"
t_exit "raw append with a bad severity refused (projector checks bodies)" 2 $E --actor mallory append \
	--kind incident.classified --subject "$ID2" \
	--body '{"severity":"severe","category":"c","significant":"yes","reason":"r"}'
t_like "names the field" '"severity"' "$(err)"
t_exit "raw append with an unknown field refused" 2 $E --actor mallory append \
	--kind incident.escalated --subject "$ID2" --body '{"to":"x","reason":"y","extra":1}'
t_exit "review needs an action" 2 $E --actor bob incident review "$ID2" --root-cause x \
	--vulnerability-exposure y
t_exit "--approve with review fields is a usage error" 2 $E --actor bob incident review "$ID2" \
	--approve --root-cause x
t_ok "verify" $E verify
t_done
