#!/bin/bash
# t62: index.html of a pack renders in headless Chromium without network:
# a screenshot is saved (tests/browser/screenshots/, git-ignored) and the
# DOM holds the summary, checkpoint, incidents, alerts and the charts.
. "$(dirname "$0")/lib.sh"
TOOL="$EVIDENT_ROOT/tests/independent/pack_tool.py"
SHOTS="$EVIDENT_ROOT/tests/browser/screenshots"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "not ok 1 - chromium is not installed (scripts/install-deps installs it)"
	exit 1
fi

t_ok "init" "$EVIDENT" init
python3 "$TOOL" quarter "$EVIDENT_DATA" 300 >"$T/q.jsonl"
t_ok "append a quarter" "$EVIDENT" append --stdin <"$T/q.jsonl"
t_ok "export" "$EVIDENT" pack export --from now-1h --to now --out "$T/p.tar.gz"
mkdir -p "$T/x" && tar -xzf "$T/p.tar.gz" -C "$T/x" index.html
html="$T/x/index.html"
t_ok "index.html extracted" test -s "$html"
# Nothing in the page may reach outside the file.
t_is "no external src/href/url()" "" "$(grep -oiE '(src|href)="[a-z]+:|url\(' "$html" | head -3)"
t_is "no script" "" "$(grep -oi '<script' "$html" | head -1)"

chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$T/profile" --window-size=1280,2000 "$@" \
		"file://$html" 2>"$T/chrome.err"
}
mkdir -p "$SHOTS"
rm -f "$SHOTS/pack-index.png"
chrome --screenshot="$SHOTS/pack-index.png" >/dev/null
t_ok "screenshot saved" test -s "$SHOTS/pack-index.png"
t_is "screenshot is a PNG" "89504e470d0a1a0a" "$(head -c 8 "$SHOTS/pack-index.png" | od -An -tx1 | tr -d ' \n')"
size=$(stat -c %s "$SHOTS/pack-index.png" 2>/dev/null || echo 0)
t_ok "screenshot is not trivial ($size bytes)" test "$size" -gt 20000
chrome --dump-dom >"$T/dom.html"
dom=$(cat "$T/dom.html")
t_like "DOM: title" "<h1>Evidence pack</h1>" "$dom"
t_like "DOM: pack summary" "Pack summary" "$dom"
t_like "DOM: checkpoint root" "Root hash</dt><dd><code>[0-9a-f]{64}" "$dom"
t_like "DOM: entries per kind" "Entries per kind" "$dom"
t_like "DOM: an incident with its timeline" "Timeline of inc-2026-0001" "$dom"
t_like "DOM: alerts" "Alerts \([0-9]+ entries\)" "$dom"
t_like "DOM: weekly chart drawn" "aria-label=\"Alerts and incidents per week\"" "$dom"
t_like "DOM: durations chart drawn" "aria-label=\"Hours to classify, notify and close per incident\"" "$dom"
t_like "DOM: entry text is escaped, not markup" "Incident 1 &lt;b&gt;" "$dom"
t_done
