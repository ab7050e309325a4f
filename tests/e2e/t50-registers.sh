#!/bin/bash
# t50-registers: every register records its actions as attributed entries,
# checks its input (usage errors exit 2), refuses actions on unknown or
# closed items (also for a raw `evident append`), imports scan results, and
# its projection is rebuilt from the ledger to the same state.
. "$(dirname "$0")/lib.sh"
export EVIDENT_ACTOR=alice
$EVIDENT init >/dev/null

# vulnerabilities
t_ok "vuln add" $EVIDENT vuln add --title "OpenSSL CVE-2026-0001" --severity high --cvss 7.5 --asset ca1 --asset tsa1
t_is "the first vulnerability is vuln-1" vuln-1 "$(out)"
t_exit "severity must be low..critical" 2 $EVIDENT vuln add --title x --severity severe
t_like "the error names the option and values" "severity 'severe': must be one of low\|medium\|high\|critical" "$(err)"
t_exit "cvss must be 0 to 10" 2 $EVIDENT vuln add --title x --severity low --cvss 11
t_exit "title is required" 2 $EVIDENT vuln add --severity low
t_exit "discovery in the future is refused" 2 $EVIDENT vuln add --title x --severity low --discovered-at now+2d
t_ok "vuln assess" $EVIDENT vuln assess vuln-1 --exposure "internet-facing OCSP responder" --asset ocsp1
t_ok "vuln mitigate with a plan" $EVIDENT vuln mitigate vuln-1 --note "WAF rule" --plan "upgrade in window 12"
t_exit "assess an unknown vulnerability" 1 $EVIDENT vuln assess vuln-9 --exposure x
t_like "names the item" "no vuln item 'vuln-9'" "$(err)"
t_exit "a malformed id is a usage error" 2 $EVIDENT vuln close nonsense --note x
t_ok "vuln close" $EVIDENT vuln close vuln-1 --note "patched to 3.0.99"
t_exit "a closed vulnerability takes no more actions" 1 $EVIDENT vuln mitigate vuln-1 --note again
t_like "says it is closed" "vuln-1 is closed" "$(err)"
t_ok "vuln show" $EVIDENT vuln show vuln-1
t_is "history has four actions" 4 "$(out | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')"
t_like "every action is attributed" '"actor": "alice"' "$(out)"

cat >"$T/scan.json" <<'JSON'
[{"title":"TLS 1.0 enabled","severity":"Medium","cvss":5.3,"asset":"web1","id":"NES-10001"},
 {"title":"Remote code execution in agent","cvss":9.8,"asset":["ra1","ra2"],"id":"NES-10002"},
 {"title":"Self-signed certificate","severity":"info","id":77}]
JSON
t_ok "vuln import" $EVIDENT vuln import "$T/scan.json"
t_is "three recorded" "3 recorded, 0 already open (skipped)" "$(out)"
t_ok "importing the same scan again" $EVIDENT vuln import "$T/scan.json"
t_is "skips findings already open" "0 recorded, 3 already open (skipped)" "$(out)"
t_ok "vuln list --open --json" $EVIDENT vuln list --open --json
o=$(out)
t_is "three open" 3 "$(echo "$o" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
t_is "severity derived from cvss 9.8" critical "$(echo "$o" | python3 -c 'import json,sys; print([v for v in json.load(sys.stdin) if v["id"]=="vuln-3"][0]["body"]["severity"])')"
t_is "info maps to low" low "$(echo "$o" | python3 -c 'import json,sys; print([v for v in json.load(sys.stdin) if v["id"]=="vuln-4"][0]["body"]["severity"])')"
echo '[{"title":"ok","severity":"low"},{"severity":"high"}]' >"$T/bad.json"
t_exit "a finding without title refuses the whole import" 2 $EVIDENT vuln import "$T/bad.json"
t_like "names the finding" "finding 1" "$(err)"
t_is "nothing of it was recorded" 4 "$($EVIDENT vuln list | wc -l)"

# changes and security tests
t_ok "change add" $EVIDENT change add --title "new HSM firmware" --significant yes
t_is "change-1" change-1 "$(out)"
t_exit "significant must be yes or no" 2 $EVIDENT change add --title x --significant maybe
t_ok "pen test after the change" $EVIDENT securitytest record --type penetration-test --scope "CA network" --result "2 low findings" --trigger change-1 --tester "ACME pentest"
t_exit "trigger must be a recorded change" 1 $EVIDENT securitytest record --type penetration-test --scope x --result y --trigger change-7
t_like "names the missing change" "change-7 is not recorded" "$(err)"
t_exit "trigger must be a change id" 2 $EVIDENT securitytest record --type penetration-test --scope x --result y --trigger vuln-1
t_ok "vulnerability scan" $EVIDENT securitytest record --type vulnerability-scan --scope "public and private IPs" --result clean

# backups and restore tests
t_ok "backup record" $EVIDENT backup record --scope "CA database" --location "vault B" --off-network yes --integrity ok
t_ok "restore test within target" $EVIDENT backup restore-test --scope "CA database" --result ok --recovery-time 3h --target PT4H
t_is "restore-1" restore-1 "$(out)"
t_exit "5h30m is not a duration" 2 $EVIDENT backup restore-test --scope "TSA" --result ok --recovery-time 5h30m --target 4h
t_ok "restore test over target" $EVIDENT backup restore-test --scope "TSA" --result ok --recovery-time 330m --target 4h
t_ok "backup list --json" $EVIDENT backup list --json
o=$(out)
t_is "restore-1 met its target" True "$(echo "$o" | python3 -c 'import json,sys; print([v for v in json.load(sys.stdin) if v["id"]=="restore-1"][0]["body"]["met_target"])')"
t_is "restore-2 missed its target" False "$(echo "$o" | python3 -c 'import json,sys; print([v for v in json.load(sys.stdin) if v["id"]=="restore-2"][0]["body"]["met_target"])')"
t_is "recovery time normalised to ISO 8601" PT330M "$(echo "$o" | python3 -c 'import json,sys; print([v for v in json.load(sys.stdin) if v["id"]=="restore-2"][0]["body"]["recovery_time"])')"

# continuity
t_ok "bcp plan" $EVIDENT bcp plan --title "CA continuity plan" --version 3.1 --approved-by "board" --recovery-target 8h --next-review 2027-11-01
t_ok "bcp exercise" $EVIDENT bcp exercise --type crisis --scope "key compromise" --result "roles reached within 30 min"
t_ok "bcp role" $EVIDENT bcp role --role "crisis manager" --person "Dana" --deputy "Eli"
t_ok "bcp recovery" $EVIDENT bcp recovery --scope "OCSP" --started-at now-3h --restored-at now-1h --target 4h --cause-addressed "disk replaced"
t_ok "bcp show recovery-1" $EVIDENT bcp show recovery-1
t_like "recovery met its 4 h target in 2 h" '"met_target": true' "$(out)"
t_exit "restored before started is refused" 2 $EVIDENT bcp recovery --scope x --started-at now-1h --restored-at now-3h --target 4h --cause-addressed y
t_ok "bcp review" $EVIDENT bcp review bcp-1 --reviewer carol --outcome "contacts updated" --next-review 2028-01-01

# risks, policies, suppliers, log reviews, termination
t_ok "risk add" $EVIDENT risk add --asset "CA signing key" --threat "insider" --vulnerability "single custodian" --likelihood low --impact high --treatment "dual control"
t_ok "risk accept" $EVIDENT risk accept risk-1 --residual low --accepted-by "CEO Jane Roe"
t_exit "residual risk must be accepted by a named manager" 2 $EVIDENT risk accept risk-1 --residual low
t_ok "risk review" $EVIDENT risk review --scope "all trust services" --reviewer bob --changes "added HSM risks"
t_ok "policy add" $EVIDENT policy add --name "CPS" --type practice-statement --version 4.2 --owner "compliance" --approved-by "board" --next-review 2027-06-01
t_ok "policy publish" $EVIDENT policy publish policy-1 --url https://example.test/cps-4.2.pdf
t_ok "policy review" $EVIDENT policy review policy-1 --reviewer "compliance" --outcome "no change"
t_ok "supplier add" $EVIDENT supplier add --name "DC Ltd" --service colocation --criticality high --agreement "MSA-7" --sla "99.95%" --security-obligations "24 h incident notice"
t_exit "security obligations are required" 2 $EVIDENT supplier add --name x --service y --criticality low --agreement a --sla s
t_ok "supplier review" $EVIDENT supplier review supplier-1 --reviewer "procurement" --outcome "ISO 27001 cert checked"
t_ok "log review" $EVIDENT logreview record --reviewer "soc-1" --source auth --source firewall --from now-30d --to now --findings none
t_exit "log review period must not run backwards" 2 $EVIDENT logreview record --reviewer r --source s --from now --to now-1d --findings none
t_ok "termination plan" $EVIDENT termination plan --version 2 --approved-by board --recipient "successor TSP: subscriber records" --recipient "notary: private keys destruction certificate" --next-review 2027-11-01
t_ok "termination show" $EVIDENT termination show termination-1
t_like "recipients recorded" '"successor TSP: subscriber records"' "$(out)"

# raw appends meet the same rules
t_exit "raw append acting on an unknown item is refused" 1 $EVIDENT append --kind vuln.closed --subject vuln-99 --body '{"note":"x"}'
t_exit "raw append without required member is refused" 2 $EVIDENT append --kind backup.tested --subject restore-9 --body '{"scope":"x"}'
t_exit "raw append recording an item twice is refused" 1 $EVIDENT append --kind change.recorded --subject change-1 --body '{"significant":false,"title":"dup"}'

# usage
t_ok "register help" $EVIDENT vuln --help
t_like "lists actions" "mitigate" "$(out)"
t_ok "action help" $EVIDENT backup restore-test --help
t_like "lists fields" "--recovery-time DURATION" "$(out)"
t_exit "unknown action" 2 $EVIDENT risk frobnicate

# rebuild gives the same projection
for r in vuln securitytest change backup bcp risk policy supplier logreview termination; do
	$EVIDENT $r list --json >"$T/before-$r.json"
done
t_ok "rebuild" $EVIDENT rebuild
same=0
for r in vuln securitytest change backup bcp risk policy supplier logreview termination; do
	$EVIDENT $r list --json | cmp -s - "$T/before-$r.json" || { same=1; echo "# $r differs"; }
done
t_is "every register is the same after rebuild" 0 $same
t_ok "verify" $EVIDENT verify
t_done
