#!/bin/bash
# t23-serve.sh - `evident serve` with real sockets on free loopback ports:
# UDP datagrams, TCP with LF framing and RFC 6587 octet counting (auto
# detected per frame, an embedded newline kept, an oversized frame refused
# and counted, framing recovered after it, a last line without LF kept), the
# rules raising an alert from syslog input, SIGTERM right after sending: every
# accepted line is in the ledger, the counts in the final stats line match,
# verify passes.  Also: a bad listener address is refused, SIGINT works too.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
export EVIDENT_RULES="$EVIDENT_ROOT/rules"
free_port() { python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
wait_ready() { # errfile
	for _ in $(seq 300); do grep -q "ready:" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

t_ok "init" "$E" init
t_ok "register the syslog source" "$E" sources add syslog --category security-events
UP=$(free_port udp)
TP=$(free_port tcp)
"$E" serve --syslog-udp "127.0.0.1:$UP" --syslog-tcp "127.0.0.1:$TP" --stats-every 1s \
	--followup-every 1s 2>"$T/serve.err" &
SPID=$!
PIDS+=("$SPID")
t_ok "serve starts and says ready" wait_ready "$T/serve.err"
t_like "names the UDP listener" "syslog udp 127.0.0.1:$UP \(source syslog\)" "$(cat "$T/serve.err")"
t_like "names the TCP listener" "syslog tcp 127.0.0.1:$TP \(source syslog\)" "$(cat "$T/serve.err")"

cat >"$T/send.py" <<'EOF'
import socket, sys, time
up, tp = int(sys.argv[1]), int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    u.sendto(b"<38>Nov 24 10:00:%02d web1 app[7]: udp message %d\n" % (i % 60, i), ("127.0.0.1", up))
# two lines in one datagram: one message (RFC 5426), its newline kept
u.sendto(b"<38>Nov 24 10:01:00 web1 app[7]: udp pair a\n<38>Nov 24 10:01:00 web1 app[7]: udp pair b\n", ("127.0.0.1", up))
# six failed logins from one address: the brute-force rule fires
for i in range(6):
    u.sendto(b"<38>Nov 24 10:02:%02d ca1 sshd[9]: Failed password for root from 198.51.100.23 port %d ssh2" % (i, 4000 + i), ("127.0.0.1", up))
# TCP, LF framing, in awkward chunks
t = socket.create_connection(("127.0.0.1", tp))
data = b"".join(b"<38>Nov 24 10:03:%02d web1 app[7]: tcp lf message %d\n" % (i % 60, i) for i in range(100))
for k in range(0, len(data), 777):
    t.sendall(data[k:k + 777])
t.close()
# TCP, octet counting; an embedded newline; an oversized frame; a frame after it
t = socket.create_connection(("127.0.0.1", tp))
out = b""
for i in range(100):
    m = b"<38>1 2026-11-24T10:04:00Z web1 app 7 - - tcp octet message %d" % i
    out += b"%d %s" % (len(m), m)
m = b"<38>1 2026-11-24T10:05:00Z web1 app 7 - - two\nlines in one frame"
out += b"%d %s" % (len(m), m)
big = b"<38>1 2026-11-24T10:05:00Z web1 app 7 - - " + b"x" * 70000
out += b"%d %s" % (len(big), big)
m = b"<38>1 2026-11-24T10:05:01Z web1 app 7 - - after the big one"
out += b"%d %s" % (len(m), m)
# then LF framing on the same connection, the last line without LF
out += b"<38>Nov 24 10:06:00 web1 app[7]: mixed lf after octets\n"
out += b"<38>Nov 24 10:06:01 web1 app[7]: last line without newline"
for k in range(0, len(out), 4096):
    t.sendall(out[k:k + 4096])
t.close()
EOF
t_ok "send over UDP and TCP" python3 "$T/send.py" "$UP" "$TP"
# SIGTERM at once: what the kernel accepted must still be recorded.
kill -TERM "$SPID"
wait "$SPID"
t_is "serve exits 0 on SIGTERM" 0 $?
t_like "says it is stopping" "stopping \(SIGTERM\)" "$(cat "$T/serve.err")"
FINAL=$(grep "final:" "$T/serve.err")
t_like "final stats: UDP datagrams" "received udp 207," "$FINAL"
t_like "final stats: TCP frames (100 LF + 100 + 1 + 1 octet + 2 LF)" "tcp 204 \(connections 2\)" "$FINAL"
t_like "final stats: lines recorded" "recorded 411 lines" "$FINAL"
t_like "final stats: the oversized frame refused" "refused: oversized 1," "$FINAL"
t_like "final stats: nothing queued" "queued 0$" "$FINAL"

"$E" --json log --kind log --subject syslog >"$T/logs.jsonl"
t_is "411 log entries (207 UDP, 204 TCP)" 411 "$(wc -l <"$T/logs.jsonl")"
t_is "every UDP message" 200 "$(grep -cE '"raw":"<38>Nov 24 10:00:[0-9]+ web1 app\[7\]: udp message [0-9]+"' "$T/logs.jsonl")"
t_is "each exactly once" 200 "$(grep -oE 'udp message [0-9]+"' "$T/logs.jsonl" | sort -u | wc -l)"
t_like "one datagram is one message, newline kept" '"raw":"<38>Nov 24 10:01:00 web1 app\[7\]: udp pair a\\n<38>Nov 24 10:01:00 web1 app\[7\]: udp pair b"' "$(cat "$T/logs.jsonl")"
t_is "every TCP LF message, once" 100 "$(grep -oE 'tcp lf message [0-9]+"' "$T/logs.jsonl" | sort -u | wc -l)"
t_is "every octet-counted message, once" 100 "$(grep -oE 'tcp octet message [0-9]+"' "$T/logs.jsonl" | sort -u | wc -l)"
t_like "a frame keeps its embedded newline" '"raw":"<38>1 2026-11-24T10:05:00Z web1 app 7 - - two\\nlines in one frame"' "$(cat "$T/logs.jsonl")"
t_is "the oversized frame is not recorded" 0 "$(grep -c xxxxxxxxxx "$T/logs.jsonl")"
t_like "framing recovered after it" 'after the big one' "$(cat "$T/logs.jsonl")"
t_like "LF frames after octet frames on one connection" 'mixed lf after octets' "$(cat "$T/logs.jsonl")"
t_like "the last line without LF is kept" 'last line without newline"' "$(cat "$T/logs.jsonl")"
t_like "brute force from syslog raised an alert" '"group":"src_ip=198.51.100.23".*"source":"syslog"' "$("$E" --json log --kind alert.raised)"
t_like "the listener's source is in the inventory with its lines" '"lines":411,"name":"syslog"' "$("$E" --json sources list)"
t_ok "verify" "$E" verify

# --- the follow-up timer -----------------------------------------------------------------
OPEN=$("$E" --json alerts --open | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))')
"$E" serve --no-syslog-udp --no-syslog-tcp --no-rules --followup-after 1s --followup-every 1s 2>"$T/fu.err" &
FPID=$!
PIDS+=("$FPID")
wait_ready "$T/fu.err"
for _ in $(seq 60); do grep -q "follow-up alert" "$T/fu.err" && break; sleep 0.1; done
sleep 1.2
kill -TERM "$FPID"
wait "$FPID"
t_like "serve raises follow-ups on its timer" "alert [0-9]+ is still open: follow-up alert [0-9]+ raised" "$(cat "$T/fu.err")"
t_is "one follow-up per open alert, not repeated on later rounds" "$OPEN" "$("$E" --json log --kind alert.raised | grep -c '"followup_of":')"

# --- a configuration file ------------------------------------------------------------------
UP3=$(free_port udp)
TP3=$(free_port tcp)
printf 'http:\n  listen: 127.0.0.1:0\nserve:\n  syslog_udp: [ "udp-src=127.0.0.1:%s" ]\n  syslog_tcp: "127.0.0.1:%s"\n  followup_after: 1h\n  stats_every: 5m\n' "$UP3" "$TP3" >"$T/serve.yml"
"$E" serve --config "$T/serve.yml" --no-rules 2>"$T/cfg.err" &
CPID=$!
PIDS+=("$CPID")
wait_ready "$T/cfg.err"
kill -TERM "$CPID"
wait "$CPID"
t_like "config: UDP listener with its source name" "syslog udp 127.0.0.1:$UP3 \(source udp-src\)" "$(cat "$T/cfg.err")"
t_like "config: TCP listener" "syslog tcp 127.0.0.1:$TP3 \(source syslog\)" "$(cat "$T/cfg.err")"
t_like "config: follow-up delay" "alerts followed up after 3600s" "$(cat "$T/cfg.err")"
printf 'serve:\n  syslog_udpp: 127.0.0.1:1\n' >"$T/bad.yml"
t_exit "config: an unknown key is refused" 2 "$E" serve --config "$T/bad.yml"
t_like "names it" "unknown key serve.syslog_udpp" "$(err)"

# --- refusals and SIGINT ------------------------------------------------------------------
t_exit "a bad listener address" 2 "$E" serve --syslog-udp "nonsense" --no-syslog-tcp
t_exit "a port in use" 1 "$E" serve --syslog-udp "127.0.0.1:$UP" --syslog-tcp "127.0.0.1:$TP" --syslog-tcp "127.0.0.1:$TP"
t_like "says which" "tcp 127.0.0.1:$TP: Address already in use" "$(err)"
t_exit "--tail without SOURCE=" 2 "$E" serve --no-syslog-udp --no-syslog-tcp --tail /var/log/x
UP2=$(free_port udp)
"$E" serve --syslog-udp "127.0.0.1:$UP2" --no-syslog-tcp --no-rules 2>"$T/serve2.err" &
SPID=$!
PIDS+=("$SPID")
wait_ready "$T/serve2.err"
python3 -c 'import socket,sys
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50): u.sendto(b"<13>Nov 24 11:00:00 h app: sigint %d" % i, ("127.0.0.1", int(sys.argv[1])))' "$UP2"
kill -HUP "$SPID"
sleep 0.3
t_ok "SIGHUP does not stop the daemon" kill -0 "$SPID"
kill -INT "$SPID"
wait "$SPID"
t_is "SIGINT: exit 0" 0 $?
t_is "SIGINT: all 50 recorded" 50 "$("$E" log --kind log | grep -c 'sigint [0-9]')"
t_ok "verify again" "$E" verify
t_done
