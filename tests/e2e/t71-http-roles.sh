#!/bin/bash
# t71: each role can do exactly what the route table says: for every route
# and every role, a request is refused with 403 "forbidden" when the role is
# not listed, and is not refused when it is.  Then the matrix is checked
# against docs/api.md, which must list the same table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

t_ok "init" "$EVIDENT" init
roles="viewer monitoring incident-manager responder compliance continuity admin"
declare -A tok
for r in $roles; do tok[$r]=$(make_token "u-$r" "$r"); done
t_like "a token per role" '^evt_' "${tok[continuity]}"
"$EVIDENT" http --routes >"$T/routes"
http_start

fill() { echo "$1" | sed -e 's/{seq}/1/g; s/{id}/1/g; s/{name}/nobody/g; s/{path\*}/checkpoint/g'; }
wrong=0 n=0
while read -r m p access; do
	[ "$access" = public ] || [ "$access" = public-report ] && continue
	path=$(fill "$p")
	for r in $roles; do
		n=$((n + 1))
		if [ "$m" = GET ]; then code=$(req GET "$path" -H "Authorization: Bearer ${tok[$r]}")
		else code=$(req "$m" "$path" -H "Authorization: Bearer ${tok[$r]}" \
			-H 'Content-Type: application/json' --data-binary '{}'); fi
		denied=0
		if [ "$code" = 403 ] && { grep -q '"code":"forbidden"' "$T/body" || grep -q 'Your role may not' "$T/body"; }; then denied=1; fi
		case ",$access," in *",$r,"*) want=0 ;; *) want=1 ;; esac
		if [ "$denied" != "$want" ] || [ "$code" = 401 ]; then
			echo "# $m $path as $r: $code (allowed: $access)"; wrong=$((wrong + 1)); fi
	done
done <"$T/routes"
t_is "all $n route x role checks follow the matrix" 0 "$wrong"

# docs/api.md carries the same matrix, row for row.
if [ -f "$EVIDENT_ROOT/docs/api.md" ]; then
	sed -n 's/^| `\([A-Z]*\) \([^`]*\)` | \([^|]*\) |.*/\1 \2 \3/p' "$EVIDENT_ROOT/docs/api.md" |
		sed 's/ *$//' | sort >"$T/doc"
	sort "$T/routes" >"$T/code"
	diff "$T/code" "$T/doc" >"$T/diff"; rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T/diff" | head -20
	t_is "docs/api.md lists the route table exactly" 0 "$rc"
fi
http_stop
t_done
