#!/bin/bash
# t25-serve-overload.sh - overload never loses accepted data silently: a UDP
# flood against a daemon with a tiny queue (--batch 50 --max-queue 100) and
# four TCP connections flooding at once while every 50 lines cost a durable
# commit.  Every datagram is either recorded
# or counted as a kernel drop (sent = recorded + drops), every TCP line sent
# on an accepted connection is recorded (back-pressure, not loss), and the
# final stats line says so.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
free_port() { python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
wait_ready() {
	for _ in $(seq 300); do grep -q "ready:" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

t_ok "init" "$E" init
UP=$(free_port udp)
TP=$(free_port tcp)
"$E" serve --syslog-udp "127.0.0.1:$UP" --syslog-tcp "127.0.0.1:$TP" --no-rules \
	--batch 50 --max-queue 100 --stats-every 1s 2>"$T/serve.err" &
SPID=$!
PIDS+=("$SPID")
t_ok "serve with a tiny queue" wait_ready "$T/serve.err"

cat >"$T/flood.py" <<'EOF'
import socket, sys, threading
up, tp = int(sys.argv[1]), int(sys.argv[2])
N_UDP, N_TCP, CONNS = 30000, 20000, 4
def tcp(k):
    t = socket.create_connection(("127.0.0.1", tp))
    t.sendall(b"".join(b"<13>Nov 24 10:00:00 h app: tcp %d line %d\n" % (k, i) for i in range(N_TCP)))
    t.close()
th = [threading.Thread(target=tcp, args=(k,)) for k in range(CONNS)]
for x in th: x.start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(N_UDP):
    u.sendto(b"<13>Nov 24 10:00:00 h app: udp flood %d" % i, ("127.0.0.1", up))
for x in th: x.join()
print(N_UDP, N_TCP * CONNS)
EOF
read -r SENT_UDP SENT_TCP < <(python3 "$T/flood.py" "$UP" "$TP")
t_is "flood sent" "30000 80000" "$SENT_UDP $SENT_TCP"
sleep 1
kill -TERM "$SPID"
wait "$SPID"
t_is "clean exit" 0 $?
FINAL=$(grep "final:" "$T/serve.err")
echo "# $FINAL"
num() { echo "$FINAL" | sed -E "s/.*$1 ([0-9]+).*/\1/"; }
RECV_UDP=$(num "received udp")
DROPS=$(num "udp kernel drops")
RECORDED=$(num "recorded")
t_is "every datagram recorded or counted as dropped" "$SENT_UDP" "$((RECV_UDP + DROPS))"
t_is "every TCP line recorded (back-pressure, no loss)" "$SENT_TCP" "$(echo "$FINAL" | sed -E 's/.*, tcp ([0-9]+) .*/\1/')"
t_is "recorded = received" "$((RECV_UDP + SENT_TCP))" "$RECORDED"
t_is "the ledger holds them" "$RECORDED" "$("$E" log --kind log | wc -l)"
t_like "the periodic stats line reports kernel drops while running" "stats: .*udp kernel drops [0-9]+" "$(cat "$T/serve.err")"
t_ok "verify" "$E" verify
t_done
