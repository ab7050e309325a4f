#!/bin/bash
# t55-mapping: the shipped default mapping maps every catalogue row of
# clauses 7.9 (7.9.1-7.9.5), 7.10 and 7.11 to at least one control with at
# least one evidence query (and, today, every row); a mapping that names an
# unknown requirement or control, or a bad cadence, is refused (exit 2)
# with the file and key; not_applicable shows its reason.
. "$(dirname "$0")/lib.sh"
$EVIDENT init >/dev/null
C="$EVIDENT_ROOT/compliance"
t_ok "the shipped mapping leaves no row unmapped" $EVIDENT compliance --unmapped --compliance "$C"
t_is "no unmapped ids" "" "$(out)"
t_ok "index JSON" $EVIDENT compliance --json --compliance "$C"
python3 - "$T/.out" "$C/requirements.tsv" "$C/controls.yaml" >"$T/check" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
rows = [l.split("\t") for l in open(sys.argv[2]).read().splitlines()[1:] if l and not l.startswith("#")]
want = [r[0] for r in rows if r[1] in ("7.10", "7.11") or r[1] == "7.9" or r[1].startswith("7.9.")]
by = {r["id"]: r for r in idx["requirements"]}
bad = [i for i in want if not by[i]["controls"] or not any(q["kinds"] for q in by[i]["queries"])]
print(len(want), len(rows), len(idx["requirements"]), " ".join(bad) or "none")
PY
read -r n79 nrows nidx bad <"$T/check"
t_is "43 rows in 7.9-7.11" 43 "$n79"
t_is "every 7.9/7.10/7.11 row has a control and an evidence query" none "$bad"
t_is "the index lists every catalogue row" "$nrows" "$nidx"

mk() { mkdir -p "$T/m"; cp "$C/requirements.tsv" "$T/m/"; cat >"$T/m/controls.yaml"; }
mk <<'Y'
controls:
  CTL-A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [x.y], cadence: quarterly}]}
requirements:
  C7.11-a: [CTL-A]
  C7.13-b: {not_applicable: "no end-user products are offered"}
  C7.99-z: [CTL-A]
Y
t_exit "an unknown requirement id is refused" 2 $EVIDENT compliance --compliance "$T/m"
t_like "names it" "requirement C7.99-z is not in the catalogue" "$(err)"
mk <<'Y'
controls:
  CTL-A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [x.y], cadence: fortnightly}]}
requirements:
  C7.11-a: [CTL-A]
Y
t_exit "a bad cadence is refused" 2 $EVIDENT compliance --compliance "$T/m"
t_like "names the control and the cadence" "control CTL-A evidence 1: cadence 'fortnightly'" "$(err)"
mk <<'Y'
controls:
  CTL-A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [x.y]}]}
requirements:
  C7.11-a: [CTL-B]
Y
t_exit "an unknown control is refused" 2 $EVIDENT compliance --compliance "$T/m"
t_like "names it" "unknown control 'CTL-B'" "$(err)"
mk <<'Y'
controls:
  CTL-A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [x.y]}]}
requirements:
  C7.11-a: [CTL-A]
  C7.11-a: [CTL-A]
Y
t_exit "a duplicate key is refused" 2 $EVIDENT compliance --compliance "$T/m"
t_like "names the line" "controls.yaml:5: duplicate key 'C7.11-a'" "$(err)"
mk <<'Y'
controls:
  CTL-A: {narrative: n, owner: o, verification: v, evidence: [{kinds: [x.y], cadence: P2W}]}
requirements:
  C7.11-a: [CTL-A]
  C7.13-b: {not_applicable: "no end-user products are offered"}
Y
t_ok "a small valid mapping loads" $EVIDENT compliance --compliance "$T/m" --json
o=$(out)
t_is "not-applicable with the recorded reason" "not-applicable no end-user products are offered" \
	"$(echo "$o" | python3 -c 'import json,sys; r=[r for r in json.load(sys.stdin)["requirements"] if r["id"]=="C7.13-b"][0]; print(r["status"], r["reason"])')"
t_is "rows it does not mention are unmapped" unmapped \
	"$(echo "$o" | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin)["requirements"] if r["id"]=="C7.11-b"][0]["status"])')"
t_exit "--unmapped lists them and exits 1" 1 $EVIDENT compliance --compliance "$T/m" --unmapped
t_like "C7.11-b is listed" "^C7.11-b$" "$(out)"
t_ok "EVIDENT_COMPLIANCE selects the directory" env EVIDENT_COMPLIANCE="$T/m" $EVIDENT compliance --json
t_like "the small mapping was used" '"unmapped": 117' "$(out)"
t_done
