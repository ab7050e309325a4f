#!/bin/bash
# t22-alerts.sh - alerts from the auth log, their follow-up by people:
# list (--open, --json), ack with a disposition (an alert.acknowledged entry),
# refusals (unknown alert, acknowledged twice, bad disposition, missing
# fields: exit 2, nothing written), and the follow-up timer: an alert open
# past the delay gets exactly one follow-up alert, never a second, and an
# acknowledged alert gets none.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
export EVIDENT_RULES="$EVIDENT_ROOT/rules"
py() { python3 -c "$@"; }

t_ok "init" "$E" init
t_ok "ingest the auth log" "$E" --json ingest --source auth "$EVIDENT_ROOT/tests/fixtures/ingest/auth.log"
N=$(out | sed 's/.*"alerts":\([0-9]*\)}/\1/')
t_ok "alerts" "$E" alerts
t_is "one line per alert" "$N" "$(out | wc -l)"
t_like "open alerts say OPEN" 'OPEN +high +1a61e24d' "$(out)"
IDS=$("$E" --json alerts | py 'import json,sys; print(" ".join(str(a["id"]) for a in json.load(sys.stdin)["alerts"]))')
FIRST=${IDS%% *}
SECOND=$(echo "$IDS" | cut -d' ' -f2)

# --- ack ------------------------------------------------------------------------------
t_ok "ack the first alert" "$E" --actor op-anna alerts ack "$FIRST" --by anna --disposition escalated --note "address blocked at the firewall; incident opened"
ACKSEQ=$(out)
t_like "ack prints the entry seq" '^[0-9]+$' "$ACKSEQ"
t_like "an alert.acknowledged entry" '"actor":"op-anna","body":\{"alert":'"$FIRST"',"by":"anna","disposition":"escalated","note":"address blocked at the firewall; incident opened"\},"kind":"alert.acknowledged","seq":'"$ACKSEQ"',"subject":"alert-'"$FIRST"'"' "$("$E" --json log --kind alert.acknowledged)"
t_ok "alerts --open" "$E" --json alerts --open
t_is "the acknowledged alert is not open" "$((N - 1))" "$(out | py 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))')"
t_like "status and ack in the full list" '"ack":\{"by":"anna","disposition":"escalated","note":"[^"]*","seq":'"$ACKSEQ"',"time":"[^"]*"\}' "$("$E" --json alerts)"

n_entries() { "$E" log | wc -l; }
before=$(n_entries)
t_exit "ack again refused (exit 2)" 2 "$E" alerts ack "$FIRST" --by bob --disposition benign --note "again"
t_like "says who acknowledged it" "alert $FIRST was already acknowledged by anna at 20.*\(entry $ACKSEQ\)" "$(err)"
t_exit "unknown alert (exit 2)" 2 "$E" alerts ack 99999 --by bob --disposition benign --note x
t_like "says no such alert" "no alert 99999" "$(err)"
t_exit "a log entry is not an alert" 2 "$E" alerts ack 2 --by bob --disposition benign --note x
t_exit "bad disposition" 2 "$E" alerts ack "$SECOND" --by bob --disposition ignored --note x
t_like "names the valid ones" "false-positive, benign, escalated" "$(err)"
t_exit "missing --note" 2 "$E" alerts ack "$SECOND" --by bob --disposition benign
t_exit "ID not a number" 2 "$E" alerts ack abc --by bob --disposition benign --note x
t_is "refusals wrote nothing" "$before" "$(n_entries)"

# --- follow-up ----------------------------------------------------------------------------
t_ok "follow-up now: nothing is 4h old" "$E" --json alerts followup
t_is "none raised" '{"raised":0}' "$(out)"
LATER=$(date -u -d '+5 hours' +%Y-%m-%dT%H:%M:%SZ)
t_ok "follow-up 5h later" "$E" --json alerts followup --now "$LATER"
t_is "one per open alert" "{\"raised\":$((N - 1))}" "$(out)"
"$E" --json log --kind alert.raised >"$T/raised.jsonl"
FU=$(grep -F '"rule":"followup"' "$T/raised.jsonl")
t_is "follow-up entries in the ledger" "$((N - 1))" "$(echo "$FU" | wc -l)"
t_like "follow-up references its original" '"followup_of":'"$SECOND"',' "$FU"
t_like "actor rule:followup" '"actor":"rule:followup"' "$FU"
t_is "none for the acknowledged alert" "" "$(echo "$FU" | grep -F "\"followup_of\":$FIRST,")"
t_ok "follow-up again, even later" "$E" --json alerts followup --now "$(date -u -d '+9 hours' +%Y-%m-%dT%H:%M:%SZ)"
t_is "no repeat for the same alerts (follow-ups are not followed up)" '{"raised":0}' "$(out)"
FUID=$("$E" --json alerts | py 'import json,sys
print([a["id"] for a in json.load(sys.stdin)["alerts"] if a["followup_of"]=='"$SECOND"'][0])')
t_like "the original shows its follow-up" '"followup":'"$FUID"',"followup_of":null,"group":null,"id":'"$SECOND"',' "$("$E" --json alerts)"
t_ok "a follow-up alert is acknowledged like any other" "$E" alerts ack "$FUID" --by anna --disposition benign --note "original handled"
t_ok "text follow-up output" "$E" alerts followup --now "$LATER"
t_is "text says none" "0 follow-up alerts raised" "$(out)"
t_exit "bad --followup-after" 2 "$E" alerts followup --followup-after soon
t_ok "--followup-after 10h: nothing yet at +5h" "$E" --json alerts followup --now "$LATER" --followup-after 10h
t_is "none" '{"raised":0}' "$(out)"

# --- rebuild keeps acks and follow-up marks --------------------------------------------------
a1=$("$E" --json alerts)
if "$E" rebuild --help >/dev/null 2>&1; then
	t_ok "rebuild" "$E" rebuild
	t_is "alerts projection identical after rebuild" "$a1" "$("$E" --json alerts)"
fi
t_ok "verify" "$E" verify
t_done
