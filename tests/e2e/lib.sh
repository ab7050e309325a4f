# tests/e2e/lib.sh - sourced by every end-to-end test.
# Gives: $EVIDENT (the binary), $T (a temporary directory removed on exit),
# and TAP helpers that count: ok CMD..., fails CMD..., is WHAT EXPECTED ACTUAL,
# like WHAT PATTERN TEXT.  Each prints "ok N - WHAT" or "not ok N - WHAT".
set -u
: "${EVIDENT:?EVIDENT must point at the evident binary (tests/run sets it)}"
: "${EVIDENT_FIXTURES:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../shared/fixtures" && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/evident-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export EVIDENT_DATA="$T/data"
_n=0
_report() { # status what
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; fi
}
# t_ok WHAT CMD...: CMD must exit 0.
t_ok() { local w=$1; shift; "$@" >"$T/.out" 2>"$T/.err"; local rc=$?
	[ $rc -eq 0 ] || { echo "# exit $rc: $*"; sed 's/^/# /' "$T/.err" | head -5; }
	_report $rc "$w"; }
# t_exit WHAT CODE CMD...: CMD must exit with CODE.
t_exit() { local w=$1 want=$2; shift 2; "$@" >"$T/.out" 2>"$T/.err"; local rc=$?
	[ $rc -eq "$want" ] || { echo "# want exit $want, got $rc: $*"; sed 's/^/# /' "$T/.err" | head -5; }
	_report $([ $rc -eq "$want" ]; echo $?) "$w"; }
# t_is WHAT EXPECTED ACTUAL
t_is() { [ "$2" = "$3" ] || echo "# expected [$2] got [$3]"; _report $([ "$2" = "$3" ]; echo $?) "$1"; }
# t_like WHAT EXTENDED-REGEX TEXT
t_like() { echo "$3" | grep -qE -- "$2"; local rc=$?
	[ $rc -eq 0 ] || echo "# [$3] does not match /$2/"; _report $rc "$1"; }
# The stdout / stderr of the last t_ok / t_exit.
out() { cat "$T/.out"; }
err() { cat "$T/.err"; }
t_done() { [ "$_n" -gt 0 ] || { echo "not ok 1 - no test ran"; exit 1; }; }
