#!/bin/bash
# t56-pack-requirements: an evidence pack's index.html carries the
# requirement index: each requirement with its controls, owner and the
# seqs of this pack's entries that match the controls' evidence queries.
. "$(dirname "$0")/lib.sh"
export EVIDENT_ACTOR=compliance
$EVIDENT init >/dev/null
$EVIDENT securitytest record --type vulnerability-scan --scope "all IPs" --result "clean <b>" >/dev/null
$EVIDENT backup restore-test --scope db --result ok --recovery-time 1h --target 4h >/dev/null
scan=$($EVIDENT log --kind securitytest.recorded --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
t_ok "pack export" $EVIDENT pack export --from now-1d --to now+1d --out "$T/p.tar.gz"
mkdir -p "$T/x" && tar -xzf "$T/p.tar.gz" -C "$T/x"
html=$(find "$T/x" -name index.html | head -1)
t_ok "index.html exists" test -f "$html"
page=$(tr -d '\n' <"$html")
t_like "the requirement section is there" '<section id="requirements"><h2>Requirement index' "$page"
t_like "REQ-7.8-14 lists the scan's seq" "<td>REQ-7.8-14</td><td>7.8</td><td>network security</td><td>CTL-VULN-SCAN</td><td>security officer</td><td>$scan</td>" "$page"
t_like "a requirement without records says so" '<td>C7.12-d</td>[^<]*<td>7.12</td>.*none in this pack' "$page"
t_like "the count of requirements with evidence" '[0-9]+ of 119 requirements have evidence in this pack' "$page"
t_ok "the pack verifies" $EVIDENT pack verify "$T/p.tar.gz"
t_done
