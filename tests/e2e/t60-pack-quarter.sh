#!/bin/bash
# t60: a pack cut from a scripted quarter (~500 entries: logs, alerts,
# incidents with their whole workflow and evidence files) verifies, and every
# kind of tampering makes `pack verify` exit 3 with the reason, with the
# independent Python verifier agreeing each time.
. "$(dirname "$0")/lib.sh"
TOOL="$EVIDENT_ROOT/tests/independent/pack_tool.py"
PYV="$EVIDENT_ROOT/tests/independent/verify_pack.py"

t_ok "init" "$EVIDENT" init
python3 "$TOOL" quarter "$EVIDENT_DATA" 500 >"$T/quarter.jsonl"
t_ok "append the quarter" "$EVIDENT" append --stdin <"$T/quarter.jsonl"
t_ok "a checkpoint mid-quarter" "$EVIDENT" checkpoint
n=$(wc -l <"$T/quarter.jsonl")
today=$(date -u +%F)

t_ok "export the quarter" "$EVIDENT" pack export --from "$today" --to "$today" --out "$T/q.tar.gz"
t_like "export reports the entries and evidence" "evidence files 8" "$(out)"
t_ok "pack verify" "$EVIDENT" pack verify "$T/q.tar.gz"
t_like "verify names what it checked" "entries: $((n + 1)), every leaf hash" "$(out)"
t_ok "pack verify --key with the installation key" "$EVIDENT" pack verify "$T/q.tar.gz" --key "$EVIDENT_DATA/key.pub"
t_ok "independent Python verifier agrees" python3 "$PYV" "$T/q.tar.gz"
t_like "python checked the signatures with openssl" "manifest signature: verified" "$(out)"
t_ok "recorded as pack.exported" "$EVIDENT" log --kind pack.exported --json
t_like "pack.exported holds the manifest hash" '"manifest_sha256":"[0-9a-f]{64}"' "$(out)"

# A key the assessor got out of band that is not the pack's key.
mkdir -p "$T/other" && EVIDENT_DATA="$T/other/d" "$EVIDENT" init >/dev/null
t_exit "pack verify --key with another key exits 3" 3 "$EVIDENT" pack verify "$T/q.tar.gz" --key "$T/other/d/key.pub"
t_like "the reason names the key" "public-key.pem: key .* is not the key given with --key" "$(err)"

# Flip one byte of each member in turn.
for m in $(python3 "$TOOL" members "$T/q.tar.gz"); do
	python3 "$TOOL" flip "$T/q.tar.gz" "$T/bad.tar.gz" "$m"
	t_exit "flip a byte of $m: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
	case "$m" in
	manifest.json) t_like "  reason names the manifest" "manifest" "$(err)" ;;
	manifest.sig) t_like "  reason names the signature" "manifest.sig" "$(err)" ;;
	*) t_like "  reason: $m hash mismatch" "manifest: $m: hash mismatch" "$(err)" ;;
	esac
	python3 "$PYV" "$T/bad.tar.gz" >"$T/py.out" 2>&1
	t_is "  python verifier also fails" 1 $?
done

python3 "$TOOL" drop-line "$T/q.tar.gz" "$T/bad.tar.gz" 17
t_exit "remove entry 17: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
t_like "  reason" "manifest: entries.jsonl: (hash|size) mismatch" "$(err)"
python3 "$PYV" "$T/bad.tar.gz" >/dev/null; t_is "  python verifier also fails" 1 $?

python3 "$TOOL" add-line "$T/q.tar.gz" "$T/bad.tar.gz" 17
t_exit "add an entry line: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
python3 "$PYV" "$T/bad.tar.gz" >/dev/null; t_is "  python verifier also fails" 1 $?

python3 "$TOOL" add-line-remanifest "$T/q.tar.gz" "$T/bad.tar.gz" 17
t_exit "add an entry and fix the manifest hashes: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
t_like "  reason: the manifest signature" "manifest.sig: signature does not verify" "$(err)"
python3 "$PYV" "$T/bad.tar.gz" >/dev/null; t_is "  python verifier also fails" 1 $?

python3 "$TOOL" add-member "$T/q.tar.gz" "$T/bad.tar.gz" notes.txt
t_exit "an extra file: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
t_like "  reason" "manifest: notes.txt: in the archive but not listed" "$(err)"
python3 "$PYV" "$T/bad.tar.gz" >/dev/null; t_is "  python verifier also fails" 1 $?

python3 "$TOOL" add-member "$T/q.tar.gz" "$T/bad.tar.gz" index.html
t_exit "a member twice: verify exits 3" 3 "$EVIDENT" pack verify "$T/bad.tar.gz"
t_like "  reason" "archive: index.html: appears twice" "$(err)"
python3 "$PYV" "$T/bad.tar.gz" >/dev/null; t_is "  python verifier also fails" 1 $?

# A second export carries a consistency proof from the first.
t_ok "second export" "$EVIDENT" pack export --from "$today" --to "$today" --kind incident. --out "$T/q2.tar.gz"
t_like "consistency from the recorded previous export" "consistency from size" "$(out)"
t_ok "second pack verifies" "$EVIDENT" pack verify "$T/q2.tar.gz"
t_like "with its consistency proof" "consistency: extends" "$(out)"
t_ok "python agrees on the second pack" python3 "$PYV" "$T/q2.tar.gz"
t_ok "export by incident with --previous" "$EVIDENT" pack export --incident inc-2026-0002 --previous "$T/q.tar.gz" --out "$T/q3.tar.gz"
t_ok "incident pack verifies" "$EVIDENT" pack verify "$T/q3.tar.gz"
t_ok "python agrees on the incident pack" python3 "$PYV" "$T/q3.tar.gz"
python3 "$TOOL" members "$T/q3.tar.gz" >"$T/m3"
t_is "incident pack holds its evidence file" 1 "$(grep -c '^evidence/' "$T/m3")"

# Usage and input errors.
t_exit "export without a selection is a usage error" 2 "$EVIDENT" pack export --out "$T/x.tar.gz"
t_exit "verify of a missing file is an error" 1 "$EVIDENT" pack verify "$T/nope.tar.gz"
echo "not a tar" >"$T/junk.tar.gz"
t_exit "verify of junk exits 3" 3 "$EVIDENT" pack verify "$T/junk.tar.gz"
t_exit "nothing selected" 4 sh -c "'$EVIDENT' pack export --from 2001-01-01 --to 2001-01-02 --out '$T/none.tar.gz'; [ \$? -eq 1 ] && exit 4"
t_done
