#!/bin/bash
# t57: the web UI's compliance page and GET /api/compliance show the same
# requirement index as `evident compliance --json`: every requirement with
# its control, owner and status, and links from a requirement to the ledger
# entries that evidence it; ?clause narrows to a clause and its sub-clauses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

as() { local t=$1 m=$2 p=$3; shift 3; req "$m" "$p" -H "Authorization: Bearer $t" "$@"; }

t_ok "init" "$EVIDENT" init
view=$(make_token vera viewer)
t_ok "a quarterly vulnerability scan is recorded" "$EVIDENT" --actor sam securitytest record \
	--type vulnerability-scan --scope "203.0.113.0/28" --result "no critical findings" --tester "Scan GmbH"
scan=$("$EVIDENT" log --kind securitytest. --json | jq -s '.[-1].seq')
t_ok "the CLI's index" "$EVIDENT" --json compliance
cli_total=$(out | jq '.requirements | length')
cli_status=$(out | jq -r '.requirements[] | select(.id == "REQ-7.8-14") | .status')
t_is "the CLI says the quarterly scan requirement is evidenced" evidenced "$cli_status"

http_start
t_is "GET /api/compliance: 200" 200 "$(as "$view" GET /api/compliance)"
t_is "  every requirement of the catalogue" "$cli_total" "$(jq '.requirements | length' "$T/body")"
t_is "  the same status as the CLI" evidenced \
	"$(jq -r '.requirements[] | select(.id == "REQ-7.8-14") | .status' "$T/body")"
t_like "  its evidence names the scan entry" "(^|,)$scan(,|$)" \
	"$(jq -r '.requirements[] | select(.id == "REQ-7.8-14") | .evidence | map(tostring) | join(",")' "$T/body")"
t_is "GET /api/compliance?clause=7.9: 200" 200 "$(as "$view" GET '/api/compliance?clause=7.9')"
t_is "  only 7.9 and its sub-clauses" "true" \
	"$(jq '[.requirements[].clause | test("^7\\.9($|\\.)")] | all' "$T/body")"
t_like "  and some of them" '^[1-9][0-9]*$' "$(jq '.requirements | length' "$T/body")"
t_is "an unknown parameter is refused: 400" 400 "$(as "$view" GET '/api/compliance?sort=x')"

t_is "GET /compliance: 200" 200 "$(as "$view" GET /compliance)"
t_like "  the table of requirements" '<table id="requirements">' "$(body)"
row=$(tr '\n' ' ' <"$T/body" | grep -o '<tr><td title="[^"]*">REQ-7.8-14</td>.*' | sed 's|</tr>.*||')
t_like "  the scan requirement is evidenced" 'class="ok">evidenced' "$row"
t_like "  and links to its evidence entry" "href=\"/entries/$scan\"" "$row"
t_is "GET /compliance?clause=7.9: 200" 200 "$(as "$view" GET '/compliance?clause=7.9')"
if grep -q '>REQ-7.8-14<' "$T/body"; then other=1; else other=0; fi
t_is "  leaves out other clauses" 0 "$other"
t_like "the navigation links to the page" 'href="/compliance"' "$(body)"
t_like "without credentials the page sends to sign-in" '^30[23]$' "$(req GET /compliance)"
http_stop
t_done
