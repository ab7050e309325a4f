#!/bin/bash
# bench/rules.sh [BUILD] [LINES] - matching speed of the built-in rule pack.
# Generates an auth.log-like stream (accepted and failed SSH logins, sudo,
# cron, systemd, kernel audit lines), parses every line with ev_parse_line,
# and reports lines/s for parse alone, for parse+match, and the difference:
# the cost of ev_rules_match per event.  Informational, not a pass/fail test.
#   make BUILD=build tests && bench/rules.sh build 1000000
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
LINES=${2:-1000000}
[ -x "$BUILD/tests/test_rules" ] || make -s BUILD="$BUILD" "$BUILD/tests/test_rules"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
EVIDENT_ROOT=$PWD "$BUILD/tests/test_rules" --bench "$LINES" | sed 's/^# bench: //'
# The whole path a user meets: rules test over a generated file (parse, match, print).
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 - "$LINES" >"$TMP/auth.log" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    k = (i * 2654435761 >> 29) & 7
    t = "Nov 24 10:%02d:%02d web%d" % ((i // 60) % 60, i % 60, i % 7)
    if k == 4:
        out.write("%s sshd[%d]: Failed password for invalid user admin from 203.0.%d.%d port 4%04d ssh2\n" % (t, 1000 + i % 30000, i % 250, (i // 7) % 250, i % 10000))
    elif k == 5:
        out.write("%s sudo[%d]:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl status nginx\n" % (t, 1000 + i % 30000))
    elif k == 2:
        out.write("%s CRON[%d]: pam_unix(cron:session): session closed for user root\n" % (t, 1000 + i % 30000))
    else:
        out.write("%s sshd[%d]: Accepted publickey for deploy from 10.0.%d.%d port 52%03d ssh2: RSA SHA256:abcdefghijklmnop\n" % (t, 1000 + i % 30000, i % 250, (i // 7) % 250, i % 1000))
PY
start=$(date +%s.%N)
"$BUILD/evident" --quiet rules test rules "$TMP/auth.log" >/dev/null
end=$(date +%s.%N)
python3 -c "import sys; n=$LINES; d=$end-$start; print('evident rules test rules/ (read, parse, match, print): %d lines in %.2fs = %.0f lines/s' % (n, d, n/d))"
