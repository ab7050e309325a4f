#!/bin/bash
# t11-proof-fixtures.sh - `evident prove check` against the transparency-dev
# test cases, and every proof `evident prove` makes for a small ledger.
#
# 1. Every JSON case under fixtures/merkle/inclusion and consistency (196
#    files, base64 hashes): wantErr false must exit 0, wantErr true must exit
#    3 (a malformed proof is a failed verification, not a usage error).
# 2. A 20-entry ledger (19 entries and a checkpoint): the inclusion proof of
#    every seq in every tree size, and the consistency proof of every pair of
#    sizes, pass `prove check`; all proofs of one size name the same root; a
#    proof with one changed hash digit is refused with exit 3.
# 3. Independently of evident's Merkle code: leaf hashes and the roots of
#    sizes 19 and 20 are recomputed from `evident log --json` with openssl
#    alone (RFC 9162: leaf = SHA-256(0x00||line), node = SHA-256(0x01||l||r)).
. "$(dirname "$0")/lib.sh"

FIX="$EVIDENT_FIXTURES/merkle"

# --- 1. transparency-dev fixtures -------------------------------------------
nfiles=0
while IFS= read -r f; do
	nfiles=$((nfiles + 1))
	rel=${f#"$FIX"/}
	if grep -qE '"wantErr"[[:space:]]*:[[:space:]]*true' "$f"; then
		t_exit "prove check rejects $rel (wantErr true)" 3 "$EVIDENT" prove check "$f"
		# A refusal says why, on one line.
		[ "$(err | wc -l)" -eq 1 ] || echo "# stderr is not one line: $(err)"
	elif grep -qE '"wantErr"[[:space:]]*:[[:space:]]*false' "$f"; then
		t_exit "prove check accepts $rel (wantErr false)" 0 "$EVIDENT" prove check "$f"
	else
		_report 1 "$rel has a wantErr field"
	fi
done < <(find "$FIX/inclusion" "$FIX/consistency" -type f -name '*.json' | sort)
t_is "all 196 fixture files were checked" 196 "$nfiles"

# --- 2. proofs of a small ledger --------------------------------------------
N=20
t_ok "init" "$EVIDENT" init
for i in $(seq 1 $((N - 1))); do
	printf '{"kind":"log","subject":"host-%d","actor":"test","body":{"n":%d,"msg":"line %d"}}\n' \
		$((i % 3)) "$i" "$i"
done >"$T/in.jsonl"
t_ok "append $((N - 1)) entries" "$EVIDENT" append --stdin --batch 4 <"$T/in.jsonl"
t_ok "checkpoint as entry $N" "$EVIDENT" checkpoint
cp_root=$(out | sed -n 's/^root //p')
t_is "the ledger has $N entries" "$N" "$("$EVIDENT" log | wc -l)"

root_of() { # JSON proof, key -> hex (bash only: this runs a thousand times)
	if [[ $1 =~ \"$2\":\"([0-9a-f]*)\" ]]; then echo "${BASH_REMATCH[1]}"; fi
}
hash_of() { # like root_of, into the variable H without a subshell
	H=
	if [[ $1 =~ \"$2\":\"([0-9a-f]*)\" ]]; then H=${BASH_REMATCH[1]}; fi
}

declare -A ROOT
incl_bad=0 incl_root_bad=0 incl_n=0
for size in $(seq 1 $N); do
	for s in $(seq 1 "$size"); do
		incl_n=$((incl_n + 1))
		"$EVIDENT" prove inclusion "$s" --size "$size" >"$T/p.json" 2>"$T/p.err"
		if ! "$EVIDENT" prove check "$T/p.json" >/dev/null 2>"$T/c.err"; then
			[ "$incl_bad" -eq 0 ] && echo "# inclusion $s/$size: $(cat "$T/p.json" "$T/p.err" "$T/c.err")"
			incl_bad=$((incl_bad + 1))
		fi
		p=$(<"$T/p.json")
		hash_of "$p" root
		[ -n "${ROOT[$size]:-}" ] || ROOT[$size]=$H
		[ "${ROOT[$size]}" = "$H" ] || incl_root_bad=$((incl_root_bad + 1))
	done
done
t_is "all $incl_n inclusion proofs (every seq, every size 1..$N) pass prove check" 0 "$incl_bad"
t_is "all inclusion proofs of one size name the same root" 0 "$incl_root_bad"
t_is "the checkpoint's root is the root of size $((N - 1))" "$cp_root" "${ROOT[$((N - 1))]}"

cons_bad=0 cons_root_bad=0 cons_n=0
for s2 in $(seq 1 $N); do
	for s1 in $(seq 1 "$s2"); do
		cons_n=$((cons_n + 1))
		"$EVIDENT" prove consistency "$s1" "$s2" >"$T/p.json" 2>"$T/p.err"
		if ! "$EVIDENT" prove check "$T/p.json" >/dev/null 2>"$T/c.err"; then
			[ "$cons_bad" -eq 0 ] && echo "# consistency $s1 $s2: $(cat "$T/p.json" "$T/p.err" "$T/c.err")"
			cons_bad=$((cons_bad + 1))
		fi
		p=$(<"$T/p.json")
		hash_of "$p" root1
		r1=$H
		hash_of "$p" root2
		[ "$r1" = "${ROOT[$s1]}" ] && [ "$H" = "${ROOT[$s2]}" ] || cons_root_bad=$((cons_root_bad + 1))
	done
done
t_is "all $cons_n consistency proofs (every pair of sizes up to $N) pass prove check" 0 "$cons_bad"
t_is "consistency proofs name the same roots as the inclusion proofs" 0 "$cons_root_bad"

# Tampered proofs: change one hex digit of a proof hash, the root, or the index.
p=$("$EVIDENT" prove inclusion 7 --size 13)
flip() { # change the first hex digit after "KEY":" or "KEY":[" to another one
	sed -E "s/(\"$2\":\[?\")(.)/\1\2@/; s/0@/1/; s/([1-9a-f])@/0/" <<<"$1"
}
printf '%s\n' "$(flip "$p" proof)" >"$T/bad1.json"
printf '%s\n' "$(flip "$p" root)" >"$T/bad2.json"
printf '%s\n' "$(flip "$p" leaf_hash)" >"$T/bad3.json"
sed 's/"leaf_index":6/"leaf_index":7/' <<<"$p" >"$T/bad4.json"
printf '%s\n' "$p" >"$T/good.json"
t_exit "the untouched inclusion proof 7/13 verifies" 0 "$EVIDENT" prove check "$T/good.json"
t_exit "an inclusion proof with one proof digit changed is refused" 3 "$EVIDENT" prove check "$T/bad1.json"
t_exit "an inclusion proof with one root digit changed is refused" 3 "$EVIDENT" prove check "$T/bad2.json"
t_exit "an inclusion proof with one leaf hash digit changed is refused" 3 "$EVIDENT" prove check "$T/bad3.json"
t_exit "an inclusion proof for another index is refused" 3 "$EVIDENT" prove check "$T/bad4.json"
p=$("$EVIDENT" prove consistency 5 17)
printf '%s\n' "$(flip "$p" proof)" >"$T/bad5.json"
printf '%s\n' "$(flip "$p" root1)" >"$T/bad6.json"
t_exit "a consistency proof with one proof digit changed is refused" 3 "$EVIDENT" prove check "$T/bad5.json"
t_exit "a consistency proof with one root digit changed is refused" 3 "$EVIDENT" prove check "$T/bad6.json"
t_exit "--json prove check of a bad proof still exits 3" 3 "$EVIDENT" --json prove check "$T/bad5.json"
t_like "--json prove check says ok false" '"ok":false' "$(out)"

# --- 3. independent recomputation with openssl ------------------------------
if command -v openssl >/dev/null; then
	hexbin() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }
	sha() { openssl dgst -sha256 -r | cut -c1-64; }
	mapfile -t LINES < <("$EVIDENT" log --json)
	declare -a LH
	for i in "${!LINES[@]}"; do
		LH[$i]=$({ printf '\0'; printf '%s' "${LINES[$i]}"; } | sha)
	done
	mth() { # begin end -> hex root of leaves [begin, end)
		local a=$1 b=$2 k=1
		if [ $((b - a)) -eq 1 ]; then echo "${LH[$a]}"; return; fi
		while [ $((k * 2)) -lt $((b - a)) ]; do k=$((k * 2)); done
		local l r
		l=$(mth "$a" $((a + k)))
		r=$(mth $((a + k)) "$b")
		{ printf '\1'; hexbin "$l"; hexbin "$r"; } | sha
	}
	p=$("$EVIDENT" prove inclusion 11 --size 11)
	t_is "leaf hash of entry 11 = SHA-256(0x00 || its log --json line)" "${LH[10]}" "$(root_of "$p" leaf_hash)"
	t_is "root of size $((N - 1)) recomputed with openssl from log --json" "${ROOT[$((N - 1))]}" "$(mth 0 $((N - 1)))"
	t_is "root of size $N recomputed with openssl from log --json" "${ROOT[$N]}" "$(mth 0 $N)"
else
	echo "ok $((_n + 1)) - # SKIP openssl not installed: no independent recomputation"
	_n=$((_n + 1))
fi
t_done
