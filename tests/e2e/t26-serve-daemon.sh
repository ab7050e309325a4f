#!/bin/bash
# t26: `evident serve` is the one process: next to intake it runs the web
# UI/API (answers /healthz on its bound port, refuses /api without
# credentials) and the scheduler, which raises an overdue regulatory clock
# as an alert and POSTs it to a webhook receiver on loopback, once.
. "$(dirname "$0")/lib.sh"
E=$EVIDENT
cat >"$T/recv.py" <<'PY'
import http.server, os, sys
portfile, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as f:
            f.write(body.decode() + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
python3 "$T/recv.py" "$T/recv.port" "$T/recv.log" &
RECV=$!
SERVE=
trap 'kill $RECV $SERVE 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/recv.port" ] && break; sleep 0.05; done
touch "$T/recv.log"

t_ok "init" "$E" init
t_ok "open an incident its team became aware of two days ago" "$E" --actor alice incident open \
	--title "TSA signing outage" --aware-at "$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)"
ID=$(out)
t_ok "classify it significant" "$E" --actor alice incident classify "$ID" --severity high \
	--category availability --significant yes --reason "time-stamping down"

"$E" serve --no-syslog-udp --no-syslog-tcp --no-rules --no-timesync --listen 127.0.0.1:0 \
	--tick-every 1s --webhook "http://127.0.0.1:$(cat "$T/recv.port")/hook" 2>"$T/serve.err" &
SERVE=$!
for _ in $(seq 100); do grep -q 'ready' "$T/serve.err" && break; sleep 0.1; done
URL=$(grep -o 'web UI and API on http://[0-9.:]*' "$T/serve.err" | sed 's/.* on //')
t_like "serve reports where the web UI listens" '^http://127\.0\.0\.1:[0-9]+$' "$URL"
t_is "GET /healthz answers 200 without credentials" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
t_like "GET /api/incidents without credentials is refused" '^40[13]$' \
	"$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/incidents")"

for _ in $(seq 100); do grep -q 'clock.overdue' "$T/recv.log" && break; sleep 0.1; done
t_like "the scheduler delivered the overdue clock to the webhook" "\"rule\":\"clock.overdue\"" \
	"$(cat "$T/recv.log")"
t_like "the delivered alert names the incident" "$ID" "$(cat "$T/recv.log")"
t_is "the overdue alert is in the ledger, raised by system" "system" \
	"$("$E" log --kind alert.raised --json | jq -r 'select(.body.rule == "clock.overdue") | .actor' | sort -u)"
sleep 2.5 # two more ticks: nothing is raised or delivered twice
n_alerts=$("$E" log --kind alert.raised --json | jq -s '[.[] | select(.body.rule == "clock.overdue")] | length')
n_posts=$(grep -c 'clock.overdue' "$T/recv.log")
t_is "each overdue clock is delivered once" "$n_alerts" "$n_posts"
t_like "deliveries are recorded" '"ok":true' "$("$E" log --kind webhook.delivery --json)"

kill -TERM $SERVE
wait $SERVE
t_is "serve exits 0 on SIGTERM" 0 $?
SERVE=
t_is "the web server is gone" 000 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
t_ok "the ledger verifies" "$E" verify

# --demo: a newcomer's first page shows alerts and an incident with its clocks.
export EVIDENT_DATA="$T/demo"
t_ok "init a second data directory" "$E" init
"$E" serve --demo --no-syslog-udp --no-syslog-tcp --no-timesync 2>"$T/demo.err" &
SERVE=$!
for _ in $(seq 100); do grep -q 'ready' "$T/demo.err" && break; sleep 0.1; done
kill -TERM $SERVE; wait $SERVE; SERVE=
t_like "demo says what it recorded" 'demo: sample log recorded.*inc-[0-9]{4}-[0-9]{4}' "$(cat "$T/demo.err")"
t_like "demo raised the brute-force alert through the rule pack" 'Repeated SSH authentication failures' \
	"$("$E" alerts --open)"
t_like "demo incident is classified significant" 'classify-escalate.*high.*yes' "$("$E" incident list)"
t_like "its 24-hour notice clock runs" 'en319401-notice.*running' "$("$E" clocks)"
n=$("$E" log | wc -l)
"$E" serve --demo --no-syslog-udp --no-syslog-tcp --no-timesync 2>"$T/demo2.err" &
SERVE=$!
for _ in $(seq 100); do grep -q 'ready' "$T/demo2.err" && break; sleep 0.1; done
kill -TERM $SERVE; wait $SERVE; SERVE=
t_like "a second --demo repeats nothing" 'demo: already recorded' "$(cat "$T/demo2.err")"
t_is "  and writes nothing" "$n" "$("$E" log | wc -l)"
t_ok "the demo ledger verifies" "$E" verify

# Scheduled checkpoints: one when the ledger grew, none while it does not.
"$E" serve --no-syslog-udp --no-syslog-tcp --no-timesync --no-http --checkpoint-every 1s \
	2>"$T/cp.err" &
SERVE=$!
for _ in $(seq 100); do grep -q 'checkpoint: size' "$T/cp.err" && break; sleep 0.1; done
sleep 2.5 # two more periods with nothing new
kill -TERM $SERVE; wait $SERVE; SERVE=
t_like "serve signs a checkpoint on its schedule" 'checkpoint: size [0-9]+ signed as entry [0-9]+' \
	"$(cat "$T/cp.err")"
t_is "  once: nothing new since, nothing signed" 1 "$(grep -c 'checkpoint: size' "$T/cp.err")"
t_is "  recorded by system" "system" "$("$E" log --kind checkpoint --json | jq -r .actor | sort -u)"
t_ok "  and it verifies with the rest" "$E" verify
t_exit "--tsa-ca without --tsa is a usage error" 2 "$E" serve --tsa-ca /dev/null --no-http
t_done
