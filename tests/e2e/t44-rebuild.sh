#!/bin/bash
# t44: `evident rebuild` after a scripted history reproduces every projection
# table byte for byte (rows dumped sorted before and after).
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
DB="$EVIDENT_DATA/evident.db"
dump() { # every projection table (all but the ledger's own), rows sorted
	local t
	for t in $(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT IN ('entries', 'nodes', 'meta') AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
		echo "== $t"
		sqlite3 -cmd '.mode quote' "$DB" "SELECT * FROM \"$t\"" | LC_ALL=C sort
	done
}
t_ok "init" $E init
t_ok "an alert" $E --actor rule:x append --kind alert.raised --subject alerts \
	--body '{"rule":"x","title":"t","severity":"low","why":"w","tags":[],"log_seq":[]}'
AL=$(out)
$E --actor alice incident open --title "one" --from-alert "$AL" --aware-at 2026-01-10T08:00:00Z >"$T/a"
A=$(cat "$T/a")
$E --actor alice incident open --title "two" --reported-by eve --channel customer >"$T/b"
B=$(cat "$T/b")
echo evidence >"$T/ev.txt"
set -e
$E --actor alice incident classify "$A" --severity low --category access --significant no --reason r1 >/dev/null
$E --actor bob incident classify "$A" --severity high --category access --significant yes --reason r2 >/dev/null
$E --actor bob incident assess "$B" --answer total_unavailability_minutes=5 --answer weekly_unavailability_minutes=10 \
	--answer limited_availability_users_percent=0 --answer physical_access_compromised=no \
	--answer integrity_compromised=no --override yes --reason "customer data exposure" >/dev/null
$E --actor bob incident escalate "$A" --to ciso --reason "key material" >/dev/null
$E --actor bob incident act "$A" --type containment --note c1 --evidence "$T/ev.txt" >/dev/null
$E --actor bob incident notify "$A" --to csirt --clock nis2-notification --ref R1 --note n1 --sent-at 2026-01-10T20:00:00Z >/dev/null
$E --actor bob incident continuity "$A" --activate BCP --note x >/dev/null
$E clocks --raise >/dev/null
$E --actor bob incident review "$A" --root-cause rc --action a1 --vulnerability-exposure none >/dev/null
$E --actor carol incident review "$A" --approve >/dev/null
$E --actor bob incident close "$A" >/dev/null
$E --actor bob incident assign "$B" --owner dana >/dev/null
set +e
dump >"$T/before"
t_like "the dump has incident rows" "'$A'" "$(cat "$T/before")"
t_like "and clock alerts" "== clock_alerts" "$(cat "$T/before")"
t_ok "rebuild" $E rebuild
dump >"$T/after"
t_ok "identical projections after rebuild" cmp "$T/before" "$T/after"
diff "$T/before" "$T/after" | head -20 | sed 's/^/# /'
t_ok "second rebuild too" $E rebuild
dump >"$T/after2"
t_ok "still identical" cmp "$T/before" "$T/after2"
t_ok "verify" $E verify
t_done
