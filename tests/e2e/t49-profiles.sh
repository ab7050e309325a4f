#!/bin/bash
# t49: clock profiles are data: --clocks DIR or $EVIDENT_CLOCKS replaces the
# default directory (../clocks next to the binary); a TSP's own clock works
# end to end; a broken profile is refused with the file and the problem.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
t_ok "init" $E init
t_ok "default profiles found next to the binary" $E clocks --list
t_like "lists the TSP default" "nis2-notification +PT24H" "$(out)"
t_like "lists the vulnerability clock with its condition" "critical-vulnerability +PT48H +law +vulnerability:critical" "$(out)"
mkdir -p "$T/own"
cat >"$T/own/national.yaml" <<'Y'
profile: national
version: "2026-1"
clocks:
  - name: national-notice
    title: "National regulator notice"
    condition: significant
    duration: PT12H
    due_soon: PT2H
    basis: law
    source: "a national rule"
Y
t_ok "--clocks DIR" $E clocks --list --clocks "$T/own"
t_like "own clock listed" "national-notice" "$(out)"
t_exit "the defaults are not mixed in" 1 grep -q nis2 <(out)
t_ok "open" $E --actor alice incident open --title x --aware-at 2026-03-01T00:00:00Z
ID=$(out)
t_ok "classify with the own profile (env)" env EVIDENT_CLOCKS="$T/own" $E --actor alice incident classify \
	"$ID" --severity high --category c --significant yes --reason r
t_is "only the own clock runs" national-notice "$($E clocks --json | jq -r '[.[].clock] | join(",")')"
t_is "due after 12 h" 2026-03-01T12:00:00.000000Z "$($E clocks --json | jq -r '.[0].due')"
t_is "due-soon 2 h before" due-soon "$($E clocks --now 2026-03-01T10:30:00Z --json | jq -r '.[0].state')"
t_is "running 2h30 before" running "$($E clocks --now 2026-03-01T09:30:00Z --json | jq -r '.[0].state')"
t_ok "profile version recorded in the entry" $E log --kind incident.classified --json
t_like "in the body" '"profile":"national","started"|"profile":"national"' "$(out)"
t_ok "notify stops it" env EVIDENT_CLOCKS="$T/own" $E --actor bob incident notify "$ID" --to other \
	--clock national-notice --ref N-1 --note sent
t_is "stopped" 0 "$($E clocks --json | jq length)"
printf 'profile: bad\nversion: "1"\nclocks:\n  - name: Bad Name\n    title: t\n' >"$T/own/zz.yaml"
t_exit "broken profile refused" 2 $E clocks --list --clocks "$T/own"
t_like "names the file and the problem" "zz.yaml: clocks\[0\]: name must be" "$(err)"
printf 'profile: b\nversion: "1"\nclocks:\n  - name: x\n    title: t\n    condition: significant\n    duration: 24h\n    basis: law\n' >"$T/own/zz.yaml"
t_exit "bad duration refused" 2 $E clocks --list --clocks "$T/own"
t_like "says duration" "duration must be an ISO 8601 duration" "$(err)"
printf 'profile: b\nversion: "1"\nclocks: [\n' >"$T/own/zz.yaml"
t_exit "YAML syntax error refused" 2 $E clocks --list --clocks "$T/own"
t_like "with a line" "zz.yaml:[0-9]+: YAML" "$(err)"
t_exit "missing directory" 1 $E clocks --list --clocks "$T/nowhere"
t_like "names it" "nowhere" "$(err)"
t_done
