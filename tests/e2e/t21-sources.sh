#!/bin/bash
# t21-sources.sh - the log-source inventory (EN 319 401 7.9.1): sources add
# (an entry per change), list (text and JSON, with line counts and last
# seen), coverage over a window (--days, --now) naming who fed each
# category and which categories nobody covers; bad input refused.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
py() { python3 -c "$@"; }

t_ok "init" "$E" init
t_ok "add a source with two categories" "$E" sources add auth --category security-events --category user-admin --description "sshd and PAM"
t_like "prints the entry seq" '^[0-9]+$' "$(out)"
t_ok "add a second source" "$E" sources add fw --category network-traffic --category network-devices
t_ok "add a source that will send nothing" "$E" sources add ups --category physical-environmental
t_like "registration is a source.registered entry" '"body":\{"auto":false,"categories":\["security-events","user-admin"\],"description":"sshd and PAM","name":"auth"\},"kind":"source.registered"' "$("$E" --json log --kind source.registered --subject auth)"

# --- bad input ---------------------------------------------------------------------
t_exit "unknown category" 2 "$E" sources add x --category marketing
t_like "lists the valid categories" "network-traffic, user-admin" "$(err)"
t_exit "no category" 2 "$E" sources add x
t_exit "bad name" 2 "$E" sources add 'has space' --category resource-use
t_exit "no subcommand" 2 "$E" sources
t_is "refusals wrote nothing" 3 "$("$E" log --kind source.registered | wc -l)"

# --- lines --------------------------------------------------------------------------
printf 'Nov 24 10:00:00 h sshd[1]: Accepted password for a from 10.0.0.1 port 1 ssh2\nNov 24 10:00:01 h sshd[1]: session closed\n' >"$T/a.log"
printf 'Nov 24 10:00:00 fw1 kernel: DROP IN=eth0 SRC=192.0.2.1\n' >"$T/f.log"
t_ok "ingest auth" "$E" ingest --source auth --no-rules "$T/a.log"
t_ok "ingest fw" "$E" ingest --source fw --no-rules "$T/f.log"

t_ok "list" "$E" sources list
t_like "text list shows auth with its categories and 2 lines" '^auth +security-events,user-admin +2 ' "$(out | grep '^auth')"
t_like "ups never seen" '^ups .* 0  never' "$(out | grep '^ups')"
t_ok "list --json" "$E" --json sources list
J=$(out)
t_is "auth lines in JSON" 2 "$(echo "$J" | py 'import json,sys; print([s for s in json.load(sys.stdin)["sources"] if s["name"]=="auth"][0]["lines"])')"
t_like "last_seen is a time" '"last_seen":"20[0-9-]+T[0-9:.]+Z"' "$J"
t_like "ups last_seen null" '"last_seen":null,"lines":0,"name":"ups"' "$J"

# --- changing a source is another entry; categories replace -----------------------------------
t_ok "change ups" "$E" sources add ups --category physical-environmental --category resource-use
t_is "two registrations of ups" 2 "$("$E" log --kind source.registered --subject ups | wc -l)"
t_like "categories replaced" '"categories":\["physical-environmental","resource-use"\]' "$("$E" --json sources list)"

# --- coverage -------------------------------------------------------------------------------
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)  # microseconds: lines of this very second are before it
t_ok "coverage --json" "$E" --json sources coverage --now "$NOW"
C=$(out)
t_like "security-events covered by auth" '\{"category":"security-events","covered":true,"sources":\["auth"\]\}' "$C"
t_like "network-traffic covered by fw" '\{"category":"network-traffic","covered":true,"sources":\["fw"\]\}' "$C"
t_like "physical-environmental uncovered: ups registered but silent" '\{"category":"physical-environmental","covered":false,"sources":\[\]\}' "$C"
t_is "uncovered list" '["admin-activity","config-backup","resource-use","physical-environmental"]' "$(echo "$C" | py 'import json,sys; print(json.dumps(json.load(sys.stdin)["uncovered"],separators=(",",":")))')"
t_is "eight categories" 8 "$(echo "$C" | py 'import json,sys; print(len(json.load(sys.stdin)["categories"]))')"

t_ok "coverage 10 days later, 7-day window: nothing covered" "$E" --json sources coverage --now "$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)"
t_like "everything uncovered" '"uncovered":\["network-traffic","user-admin","admin-activity","config-backup","security-events","resource-use","physical-environmental","network-devices"\]' "$(out)"
t_ok "the same with --days 30 sees the lines" "$E" --json sources coverage --days 30 --now "$(date -u -d '+10 days' +%Y-%m-%dT%H:%M:%SZ)"
t_like "auth covers again" '"category":"user-admin","covered":true,"sources":\["auth"\]' "$(out)"
t_ok "coverage before the lines arrived" "$E" --json sources coverage --days 1 --now "$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)"
t_like "nothing covered then" '"category":"security-events","covered":false' "$(out)"
t_ok "text coverage exits 0 with gaps" "$E" sources coverage --now "$NOW"
t_like "text names uncovered categories" 'config-backup +UNCOVERED' "$(out)"
t_like "text counts them" '4 of 8 categories uncovered' "$(out)"
t_exit "bad --days" 2 "$E" sources coverage --days zero
t_exit "bad --now" 2 "$E" sources coverage --now yesterday-ish
t_ok "verify" "$E" verify
t_done
