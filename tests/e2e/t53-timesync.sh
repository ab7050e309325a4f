#!/bin/bash
# t53-timesync: `evident timesync check` against a fake SNTP server on
# loopback (python3, answering with a chosen clock offset) records the
# offset as a clock.synced entry; an offset over the threshold, a
# kiss-o'-death answer and a day without a sync raise "timesync" alerts,
# each once.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "ok 1 - # SKIP python3 missing"; exit 0; }
export EVIDENT_ACTOR=ops
$EVIDENT init >/dev/null

cat >"$T/sntp.py" <<'PY'
import socket, struct, sys, time
offset, stratum, portfile = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
def ts(t):
    t += 2208988800
    return struct.pack("!II", int(t), int((t - int(t)) * 2**32))
while True:
    data, addr = s.recvfrom(512)
    if len(data) < 48:
        continue
    now = time.time() + offset
    reply = bytes([(0 << 6) | (4 << 3) | 4, stratum, 6, 0xEC]) + struct.pack("!II", 0, 0)
    reply += bytes([127, 0, 0, 1]) + ts(now - 10) + data[40:48] + ts(now) + ts(now)
    s.sendto(reply, addr)
PY
start_server() { # OFFSET STRATUM -> sets PORT, SPID
	rm -f "$T/port"
	python3 "$T/sntp.py" "$1" "$2" "$T/port" &
	SPID=$!
	for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	PORT=$(cat "$T/port")
}
stop_server() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }

start_server 0 2
t_ok "check against a server in step exits 0" $EVIDENT timesync check --server "127.0.0.1:$PORT" --json
o=$(out)
t_like "the result names the server" "\"server\":\"127.0.0.1:$PORT\"" "$o"
off=$(echo "$o" | python3 -c 'import json,sys; print(abs(json.load(sys.stdin)["offset_ms"]) < 200)')
t_is "the offset is near zero" True "$off"
t_ok "log shows the clock.synced entry" $EVIDENT log --kind clock.synced --json
t_like "entry body has offset, stratum and server" '"offset_ms":.*"server":"127.0.0.1:[0-9]+".*"stratum":2' "$(out)"
t_like "the entry is attributed to the actor" '"actor":"ops"' "$(out)"
t_is "no alert for a good offset" 0 "$($EVIDENT log --kind alert.raised | wc -l)"
stop_server

start_server 5 2
t_exit "a 5 s offset exits 1" 1 $EVIDENT timesync check --server "127.0.0.1:$PORT" --json
t_like "the alert is reported" '"alerted":true' "$(out)"
off=$(out | python3 -c 'import json,sys; o=json.load(sys.stdin)["offset_ms"]; print(-5200 < o < -4800)')
t_is "offset recorded as local minus server, about -5000 ms" True "$off"
t_ok "alerts logged" $EVIDENT log --kind alert.raised --json
t_like "a timesync alert was raised" '"rule":"timesync"' "$(out)"
t_like "the alert says the offset exceeds the threshold" 'exceeds 1000 ms' "$(out)"
t_ok "a 5 s offset is within a 10 s threshold" $EVIDENT timesync check --server "127.0.0.1:$PORT" --threshold-ms 10000
t_is "still one alert" 1 "$($EVIDENT log --kind alert.raised | wc -l)"
stop_server

start_server 0 0
t_exit "a kiss-o'-death answer (stratum 0) fails" 1 $EVIDENT timesync check --server "127.0.0.1:$PORT"
t_like "the error names the stratum" "stratum 0" "$(err)"
stop_server
t_is "the failed check raised an alert" 2 "$($EVIDENT log --kind alert.raised | wc -l)"

t_exit "no answer fails after the timeout" 1 $EVIDENT timesync check --server "127.0.0.1:$PORT" --timeout-ms 300
t_exit "a malformed server is a usage error" 2 $EVIDENT timesync check --server "host:notaport"
t_exit "a bad threshold is a usage error" 2 $EVIDENT timesync check --server 127.0.0.1:1 --threshold-ms -4

t_ok "status right after a sync is ok" $EVIDENT timesync status --json
t_like "status reports ok" '"ok":true' "$(out)"
n0=$($EVIDENT log --kind alert.raised | wc -l)
t_exit "status 25 h later is stale" 1 $EVIDENT timesync status --now now+25h --json
t_like "stale status raised an alert" '"alerted":true' "$(out)"
t_exit "status again: still stale" 1 $EVIDENT timesync status --now now+26h --json
t_like "but no second alert for the same missed sync" '"alerted":false' "$(out)"
t_is "exactly one new alert" $((n0 + 1)) "$($EVIDENT log --kind alert.raised | wc -l)"
t_ok "the stale alert is in the log" $EVIDENT log --kind alert.raised --json
t_like "it says no sync in 24 h" 'no clock synchronisation recorded in the last 24 h' "$(out)"
t_ok "alerts projection lists timesync alerts" $EVIDENT alerts --json
t_like "alerts shows rule timesync" 'timesync' "$(out)"
t_ok "verify after all of it" $EVIDENT verify
t_done
