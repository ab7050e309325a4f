#!/bin/bash
# t75: the public reporting page.  Off by default (404); one config line
# `public_report: true` turns it on.  A report needs no account, lands as a
# report.received entry (subject "reports", actor "public:<address hash>")
# with an alert.raised that monitoring must triage, and the reporter gets a
# reference number.  Size-limited, unknown fields refused, rate-limited per
# address (429 after report_per_hour).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
mon=$(make_token mona monitoring)
http_start
t_is "GET /report is off by default: 404" 404 "$(req GET /report)"
t_is "POST /report is off by default: 404" 404 "$(req POST /report --data-urlencode description=x)"
http_stop

printf 'public_report: true\nreport_per_hour: 3\nbody_max: 16384\n' >"$T/http.yaml"
http_start --config "$T/http.yaml"
t_is "GET /report with public_report: true: 200" 200 "$(req GET /report)"
t_like "  a form" 'id="report-form"' "$(body)"
n0=$("$EVIDENT" log --json | wc -l)
t_is "empty description: 400" 400 "$(req POST /report --data-urlencode description=)"
t_is "unknown field: 400" 400 "$(req POST /report --data-urlencode description=x --data-urlencode evil=1)"
head -c 9000 /dev/zero | tr '\0' 'a' >"$T/long"
t_is "description over 8192 bytes: 400" 400 "$(req POST /report --data-urlencode description@"$T/long")"
head -c 20000 /dev/zero | tr '\0' 'a' >"$T/huge"
t_is "body over body_max: 413" 413 "$(req POST /report --data-urlencode description@"$T/huge")"
t_is "nothing written by refused reports" "$n0" "$("$EVIDENT" log --json | wc -l)"
t_is "a report: 201" 201 "$(req POST /report --data-urlencode 'description=Your OCSP responder <b>signs</b> stale answers' --data-urlencode contact=r@example.org)"
ref=$(sed -n 's/.*reference number is \(rpt-[0-9a-f]*\).*/\1/p' "$T/body")
t_like "the reporter gets a reference number" '^rpt-[0-9a-f]{12}$' "$ref"
"$EVIDENT" log --json --kind report.received >"$T/r"
t_like "report.received recorded with the reference" "\"reference\":\"$ref\"" "$(cat "$T/r")"
t_like "  subject reports, actor public:<hash>" '"actor":"public:[0-9a-f]{16}".*"subject":"reports"' "$(cat "$T/r")"
if grep -q '127.0.0.1' "$T/r"; then ip=1; else ip=0; fi
t_is "  the address itself is not recorded" 0 "$ip"
req GET '/api/alerts?open=1' -H "Authorization: Bearer $mon" >/dev/null
t_like "an open alert for monitoring to triage" '"rule":"public-report"' "$(body)"
t_is "second report: 201" 201 "$(req POST /report --data-urlencode description=two)"
t_is "third report: 201" 201 "$(req POST /report --data-urlencode description=three)"
t_is "fourth report in the hour: 429" 429 "$(req POST /report --data-urlencode description=four)"
t_is "reports stay off the API without a token" 401 "$(req GET /api/entries)"
http_stop
t_done
