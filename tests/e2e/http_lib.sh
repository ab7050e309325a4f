# tests/e2e/http_lib.sh - sourced by the t7* HTTP tests after lib.sh.
# Gives: http_start [ARGS...] (runs `evident http` on a free loopback port,
# sets $URL and $HTTP_PID), http_stop (SIGTERM, and a TAP line that the
# server exited 0: under ASan that includes "no leaks"), and
# req METHOD PATH [CURL ARGS...]: prints the status code, body in $T/body,
# headers in $T/headers.
command -v curl >/dev/null || { echo "not ok 1 - curl is not installed (scripts/install-deps)"; exit 1; }
HTTP_PID=
http_start() {
	"$EVIDENT" http --listen 127.0.0.1:0 "$@" >"$T/http.out" 2>"$T/http.err" &
	HTTP_PID=$!
	trap 'http_kill; rm -rf "$T"' EXIT
	for _ in $(seq 200); do
		grep -q '^listening on ' "$T/http.out" 2>/dev/null && break
		kill -0 "$HTTP_PID" 2>/dev/null || break
		sleep 0.05
	done
	URL=$(sed -n 's/^listening on //p' "$T/http.out")
	[ -n "$URL" ] || { echo "# server did not start:"; sed 's/^/# /' "$T/http.err"; }
}
http_kill() { [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null && wait "$HTTP_PID" 2>/dev/null; HTTP_PID=; }
http_stop() {
	local rc
	kill -TERM "$HTTP_PID" 2>/dev/null
	wait "$HTTP_PID"; rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T/http.err" | tail -30
	HTTP_PID=
	t_is "the server stops cleanly on SIGTERM" 0 "$rc"
}
req() {
	local m=$1 p=$2; shift 2
	curl -s -k -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
body() { cat "$T/body"; }
# JSON member of the last body, with python3 (a path like .error.code).
jget() { python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].strip(".").split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k) if isinstance(v, dict) else None
print("" if v is None else (json.dumps(v) if isinstance(v,(dict,list,bool)) else v))' "$T/body" "$1" 2>/dev/null; }
# Make a user with ROLE and a token for it: prints the token.
make_token() { # name role
	"$EVIDENT" user add "$1" --role "$2" >/dev/null && "$EVIDENT" token create --user "$1"
}
