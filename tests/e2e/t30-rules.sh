#!/bin/bash
# t30-rules.sh - `evident rules lint` and `evident rules test` against the
# real binary: the built-in pack and the SigmaHQ fixtures lint clean, broken
# rules are reported as file:line: message with exit 1 (unsupported Sigma
# features named), and the SSH brute-force correlation fires exactly once
# per window on a prepared auth log.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
R="$EVIDENT_ROOT/rules"
FX="$EVIDENT_FIXTURES/sigma/rules"

# --- lint ---------------------------------------------------------------------------
t_ok "lint the built-in pack" "$E" rules lint "$R"
t_is "no problem printed" "" "$(out)"
t_like "summary on stderr" '^[0-9]+ rules loaded, 0 problems' "$(err)"
t_ok "lint the SigmaHQ fixture rules" "$E" rules lint "$FX"
t_like "10 fixture rules" '^10 rules loaded, 0 problems' "$(err)"

mkdir -p "$T/bad"
cat >"$T/bad/windash.yml" <<'Y'
title: uses windash
logsource:
    product: windows
detection:
    selection:
        CommandLine|windash|contains: '-enc'
    condition: selection
Y
cat >"$T/bad/cond.yml" <<'Y'
title: bad condition
logsource:
    product: linux
detection:
    selection:
        message: 'x'
    condition: selection and (nosuch or
Y
cat >"$T/bad/agg.yml" <<'Y'
title: old aggregation
logsource:
    product: linux
detection:
    selection:
        message: 'x'
    condition: selection | count() by host > 5
Y
cat >"$T/bad/yaml.yml" <<'Y'
title: broken yaml
detection: [unclosed
Y
cat >"$T/bad/corr.yml" <<'Y'
title: sums
correlation:
    type: value_sum
    rules:
        - x
    group-by:
        - host
    timespan: 1h
    condition:
        field: bytes
        gt: 100
Y
cp "$FX/lnx_clear_syslog.yml" "$T/bad/good.yml"
t_exit "lint broken rules exits 1" 1 "$E" rules lint "$T/bad"
O=$(out)
t_like "windash named at its line" "windash.yml:6: unsupported modifier 'windash' in 'CommandLine\|windash\|contains'" "$O"
t_like "bad condition at its line" "cond.yml:7: condition: " "$O"
t_like "aggregation named as unsupported" "agg.yml:7: unsupported: condition: unsupported aggregation|agg.yml:7: .*unsupported aggregation" "$O"
t_like "YAML error with a line" "yaml.yml:[0-9]+: YAML: " "$O"
t_like "value_sum named as unsupported" "corr.yml:3: unsupported correlation type 'value_sum'" "$O"
t_is "every problem is one file:line: line" "5" "$(echo "$O" | grep -cE '^[^:]+:[0-9]+: ')"
t_like "the good rule still loads" '^1 rule loaded, 5 problems \(3 unsupported features\)' "$(err)"
t_exit "lint --json" 1 "$E" --json rules lint "$T/bad/windash.yml"
t_like "json problem" '^\{"file":"[^"]*windash.yml","line":6,"message":"unsupported modifier .windash. in [^"]*","unsupported":true\}$' "$(out)"
t_exit "lint a missing path" 1 "$E" rules lint "$T/nosuch.yml"
t_like "missing path reported" "nosuch.yml:0: cannot open: No such file" "$(out)"
t_exit "lint without a path is a usage error" 2 "$E" rules lint
t_exit "unknown rules command" 2 "$E" rules frobnicate

# --- test: brute force ------------------------------------------------------------------
{
	for i in $(seq 0 11); do
		printf 'Nov 24 10:%02d:%02d bastion sshd[%d]: Failed password for invalid user admin from 203.0.113.7 port %d ssh2\n' \
			$((i * 15 / 60)) $((i * 15 % 60)) $((1000 + i)) $((40000 + i))
	done
	for i in 0 1 2; do
		printf 'Nov 24 10:04:0%d bastion sshd[2%03d]: Failed password for root from 198.51.100.9 port 5000%d ssh2\n' $i $i $i
	done
	for i in 0 1 2 3 4 5; do
		printf 'Nov 24 10:15:%02d bastion sshd[3%03d]: Failed publickey for alice from 203.0.113.7 port 4100%d ssh2\n' $((i * 10)) $i $i
	done
	echo 'Nov 24 10:16:00 bastion sshd[4000]: Accepted publickey for alice from 203.0.113.7 port 41999 ssh2'
} >"$T/auth.log"
t_ok "rules test: brute force over the auth log" "$E" rules test "$R/auth_ssh_bruteforce.yml" "$T/auth.log"
O=$(out)
t_is "fires exactly twice: once per window" "2" "$(echo "$O" | grep -c 'correlation')"
t_like "first window fires at line 5" '^line 5: correlation 1a61e24d-9df7-4170-90b5-ffae8aacd11f \[high\] Repeated SSH authentication failures from one address: event_count: 5 events \(gte 5\) within 5m for src_ip=203.0.113.7 \(lines 1,2,3,4,5\)' "$O"
t_like "second window fires at line 20" '^line 20: correlation .* \(lines 16,17,18,19,20\)' "$O"
t_is "three failures from another address never fire" "" "$(echo "$O" | grep 198.51.100.9)"
t_like "summary" '^22 lines, 2 matches' "$(err)"
t_ok "rules test --all shows the base rule too" "$E" rules test --all "$R/auth_ssh_bruteforce.yml" "$T/auth.log"
t_is "21 failures + 2 correlations" "23" "$(out | wc -l)"
t_ok "rules test --json" "$E" --json rules test "$R/auth_ssh_bruteforce.yml" "$T/auth.log"
t_like "one JSON object per match" '^\{"line":5,"rule":"1a61e24d-9df7-4170-90b5-ffae8aacd11f","title":"Repeated SSH authentication failures from one address","level":"high","why":"event_count: 5 events \(gte 5\) within 5m for src_ip=203.0.113.7","tags":\["en319401.7.9.1","en319401.7.9.1.security","attack.credential-access","attack.t1110"\],"correlation":true,"group":"src_ip=203.0.113.7","lines":\[1,2,3,4,5\]\}$' "$(out | head -1)"
t_ok "json lines parse" python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/.out"

# --- test: single-event rules, why -----------------------------------------------------
cat >"$T/mixed.log" <<'L'
Dec 21 17:13:54 testserver useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john, shell=/bin/bash
Dec 21 17:24:40 testserver useradd[1337]: new user: name=butter3, UID=1000, GID=100, home=/home/butter3, shell=/bin/bash
type=PATH msg=audit(1732487401.123:456): item=0 name="/etc/audit/auditd.conf" inode=1 nametype=NORMAL
Dec 21 17:30:00 testserver bash[1]: rm -rf /var/log/syslog.1
Dec 21 17:30:01 testserver bash[1]: rm -rf /var/log/syslog
L
t_ok "rules test the fixture rules" "$E" rules test "$FX" "$T/mixed.log"
O=$(out)
t_like "privileged user on line 1 with why" "^line 1: 0ac15ec3-d24f-4246-aa2a-3077bb1cf90e \[high\] Privileged User Has Been Created: selection_new_user: keyword ~ 'new user'; selection_uids_gids: keyword ~ 'GID=0,'" "$O"
t_like "auditd PATH on line 3" "^line 3: 977ef627.*type='PATH' ~ 'PATH', name='/etc/audit/auditd.conf' ~ '/etc/audit/\*'" "$O"
t_like "rm of syslog on line 5" "^line 5: e09eb557" "$O"
t_is "near misses (lines 2 and 4) do not match" "" "$(echo "$O" | grep -E '^line (2|4):')"
t_ok "rules test reads stdin" sh -c "\"$E\" rules test \"$FX\" - <\"$T/mixed.log\""
t_is "same matches from stdin" "3" "$(out | wc -l)"
t_exit "rules test with a broken rule fails" 1 "$E" rules test "$T/bad/windash.yml" "$T/mixed.log"
t_like "and names the problem" "unsupported modifier 'windash'" "$(err)"
# --- logsource.service mapping ------------------------------------------------------------
printf 'Nov 24 10:00:0%d h sshd-alt[1]: Failed password for root from 192.0.2.5 port 22 ssh2\n' 1 2 3 4 5 >"$T/alt.log"
t_ok "unmapped: the sshd rule sees every app" "$E" rules test "$R/auth_ssh_bruteforce.yml" "$T/alt.log"
t_is "fires on app sshd-alt" "1" "$(out | wc -l)"
t_ok "mapped to sshd only" "$E" rules test --map-service sshd=sshd "$R/auth_ssh_bruteforce.yml" "$T/alt.log"
t_is "nothing from app sshd-alt" "" "$(out)"
t_ok "mapped to both" "$E" rules test --map-service sshd=sshd,sshd-alt "$R/auth_ssh_bruteforce.yml" "$T/alt.log"
t_is "fires again" "1" "$(out | wc -l)"
t_exit "bad --map-service" 2 "$E" rules test --map-service sshd "$R" "$T/alt.log"
t_exit "rules test without a log is a usage error" 2 "$E" rules test "$R"
t_exit "rules test with a missing log" 1 "$E" rules test "$R" "$T/nosuch.log"
t_done
