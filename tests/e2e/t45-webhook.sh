#!/bin/bash
# t45: the scheduler pass (`clocks --raise`) raises clock.due / clock.overdue
# alerts once per clock and state and POSTs them to webhooks: a receiver on
# loopback gets the overdue alerts; a receiver that fails twice (HTTP 500)
# gets the alert on the third try (backoff 0.2 s, 0.4 s); every attempt is a
# webhook.delivery entry whose URL carries no credentials or query; nothing
# is delivered twice across runs.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
cat >"$T/recv.py" <<'PY'
import http.server, json, sys
fail, portfile, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = {"n": 0}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen["n"] += 1
        code = 500 if seen["n"] <= fail else 200
        with open(log, "a") as f:
            f.write("%d %s %s %s\n" % (code, self.path, self.headers.get("Content-Type"),
                                       body.decode()))
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
PIDS=()
start_recv() { # fail-count name -> sets PORT
	python3 "$T/recv.py" "$1" "$T/$2.port" "$T/$2.log" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$T/$2.port" ] && break; sleep 0.05; done
	PORT=$(cat "$T/$2.port")
	touch "$T/$2.log"
}
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

t_ok "init" $E init
t_ok "open, aware at T" $E --actor alice incident open --title "CA outage" --aware-at 2026-01-10T08:00:00Z
ID=$(out)
t_ok "significant" $E --actor alice incident classify "$ID" --severity high --category availability \
	--significant yes --reason "CA down"
# A narrower profile set would be simpler, but the default profiles are what
# a TSP runs: at T+23h three 24 h clocks are due-soon and the 72 h target runs.
t_ok "pass at T+23h, no webhook" $E clocks --raise --now 2026-01-11T07:00:00Z
t_like "three due-soon alerts raised" "^3 alerts raised" "$(out)"
t_is "rule clock.due, subject alerts, actor system" "3" \
	"$($E log --kind alert.raised --json | jq -s '[.[] | select(.actor == "system" and .subject == "alerts" and .body.rule == "clock.due")] | length')"
t_is "body names incident, clock, due" "$ID en319401-notice 2026-01-11T08:00:00.000000Z" \
	"$($E log --kind alert.raised --json | jq -rs '.[0].body | "\(.incident) \(.clock) \(.due)"')"
t_ok "same pass again" $E clocks --raise --now 2026-01-11T07:30:00Z
t_like "nothing raised twice" "^0 alerts raised" "$(out)"

start_recv 0 good
t_ok "pass at T+25h delivers to the receiver" $E clocks --raise --now 2026-01-11T09:00:00Z \
	--webhook "http://user:pw@127.0.0.1:$PORT/hook?token=s3cret" --webhook-backoff 0.2
t_like "three overdue alerts raised" "^3 alerts raised" "$(out)"
t_is "receiver got the overdue alerts" 3 "$(grep -c '"rule":"clock.overdue"' "$T/good.log")"
t_like "as JSON" "application/json" "$(head -1 "$T/good.log")"
t_like "carrying incident and clock" "\"incident\":\"$ID\"" "$(cat "$T/good.log")"
t_like "the secret query reached the receiver" "token=s3cret" "$(head -1 "$T/good.log")"
D=$($E log --kind webhook.delivery --json)
t_is "deliveries recorded" 3 "$(echo "$D" | jq -s '[.[] | select(.body.ok == true and .body.status == 200)] | length')"
t_is "recorded URL has no credentials, no query" "http://127.0.0.1:$PORT/hook" \
	"$(echo "$D" | jq -rs '.[0].body.url')"
t_exit "no secret anywhere in the ledger" 1 grep -q s3cret <($E log --json)
t_is "stale due-soon alerts (superseded by overdue) not sent" 3 "$(wc -l <"$T/good.log")"
C=$(wc -l <"$T/good.log")
t_ok "next pass" $E clocks --raise --now 2026-01-11T10:00:00Z \
	--webhook "http://127.0.0.1:$PORT/hook?token=s3cret" --webhook-backoff 0.2
t_like "no new alert, no delivery" "^0 alerts raised, 0 deliveries" "$(out)"
t_is "receiver got nothing twice" "$C" "$(wc -l <"$T/good.log")"

# A notice stops a clock: its alerts are not delivered to a new webhook.
t_ok "notice for en319401" $E --actor carol incident notify "$ID" --to supervisory-body \
	--clock en319401-notice --ref SB-1 --note sent --sent-at 2026-01-11T06:00:00Z

start_recv 2 flaky
S0=$(date +%s%N)
t_ok "receiver failing twice" $E clocks --raise --now 2026-01-11T10:00:00Z \
	--webhook "http://127.0.0.1:$PORT/flaky" --webhook-backoff 0.2 --webhook-tries 3
MS=$(( ($(date +%s%N) - S0) / 1000000 ))
t_like "both running overdue clocks' alerts delivered" "0 alerts raised, 2 deliveries" "$(out)"
t_ok "backoff waited 0.2 s + 0.4 s (took ${MS} ms)" test "$MS" -ge 600
F=$($E log --kind webhook.delivery --json | jq -c -s "[.[] | select(.body.url == \"http://127.0.0.1:$PORT/flaky\") | .body]")
t_is "first alert: 500, 500, then 200 on the third try" '[[1,500,false],[2,500,false],[3,200,true]]' \
	"$(echo "$F" | jq -c '[.[] | select(.alert == ('"$(echo "$F" | jq '.[0].alert')"')) | [.attempt, .status, .ok]]')"
t_is "receiver saw 4 requests (2 failures + 2 successes)" 4 "$(wc -l <"$T/flaky.log")"
t_exit "stopped clock's alerts not sent to the new webhook" 1 grep -q '"clock":"en319401-notice"' "$T/flaky.log"

# A receiver that is down: attempts recorded, retried on the next pass.
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null
t_ok "unreachable receiver is not an error of the pass" $E clocks --raise --now 2026-01-11T10:00:00Z \
	--webhook "http://127.0.0.1:$PORT/flaky" --webhook-backoff 0 --webhook-tries 1 --webhook-timeout 2
t_ok "verify" $E verify
t_done
