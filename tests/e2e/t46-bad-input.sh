#!/bin/bash
# t46: bad input gives one clear line on stderr, exit 2, and writes nothing
# (the ledger's size does not change).
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
size() { $E log --json | wc -l; }
t_ok "init" $E init
t_ok "open" $E --actor alice incident open --title "t"
ID=$(out)
N=$(size)
bad() { # what pattern cmd...
	local w=$1 p=$2; shift 2
	t_exit "$w: exit 2" 2 "$@"
	t_like "$w: message" "$p" "$(err)"
	t_is "$w: nothing written" "$N" "$(size)"
}
bad "unknown incident" "no incident inc-2026-9999" $E --actor a incident classify inc-2026-9999 \
	--severity low --category c --significant no --reason r
bad "unknown incident on show" "no incident inc-2026-9999" $E incident show inc-2026-9999
bad "malformed id" "not an incident id" $E --actor a incident act INC-1 --type decision --note x
bad "bad severity" "--severity must be low, medium, high or critical" $E --actor a incident classify \
	"$ID" --severity severe --category c --significant no --reason r
bad "bad significance" "--significant must be" $E --actor a incident classify "$ID" --severity low \
	--category c --significant maybe --reason r
bad "missing reason" "needs --reason" $E --actor a incident classify "$ID" --severity low \
	--category c --significant no
bad "bad time" "is not a time" $E --actor a incident open --title x --aware-at 2026-13-45T99:00:00Z
bad "future awareness" "in the future" $E --actor a incident open --title x --aware-at now+2d
bad "bad --now" "is not a time" $E clocks --now yesterday-ish
bad "bad channel" "--channel must be" $E --actor a incident open --title x --reported-by eve --channel email
bad "bad action type" "--type must be" $E --actor a incident act "$ID" --type fix --note x
bad "missing evidence file" "cannot read" $E --actor a incident act "$ID" --type decision --note x \
	--evidence "$T/nope"
bad "bad recipient" "--to must be" $E --actor a incident notify "$ID" --to press --clock en319401-notice \
	--ref r --note n
bad "bad sent-at" "is not a time" $E --actor a incident notify "$ID" --to csirt \
	--clock en319401-notice --ref r --note n --sent-at soon
bad "alert that is not an alert" "not an alert.raised" $E --actor a incident open --title x --from-alert 1
bad "alert that does not exist" "no such ledger entry" $E --actor a incident open --title x --from-alert 999
bad "bad assessment key" "not a question" $E --actor a incident assess "$ID" --answer colour=blue
bad "bad assessment number" "needs a number" $E --actor a incident assess "$ID" \
	--answer total_unavailability_minutes=lots
bad "override without reason" "go together" $E --actor a incident assess "$ID" --override yes
bad "bad stage filter" "--stage must be" $E incident list --stage done
bad "bad form" "--form must be" $E incident report "$ID" --form gdpr
bad "empty title" "--title must be" $E --actor a incident open --title ""
bad "unknown subcommand" "unknown subcommand" $E incident reopen "$ID"
bad "webhook without --raise" "needs --raise" $E clocks --webhook http://127.0.0.1:1/
bad "webhook that is not http" "http:// or https://" $E clocks --raise --webhook file:///etc/passwd
t_ok "verify" $E verify
t_done
