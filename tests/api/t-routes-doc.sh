#!/bin/bash
# docs/api.md documents exactly the routes the daemon serves: its
# "### `METHOD PATH`" headings and `supermachined --print-routes` list the
# same set, and a route the daemon lists is really served (not a 404).
. "$(dirname "$0")/lib.sh"

"$DAEMON" --print-routes | sort > "$WORK/served"
sed -n 's/^### `\([A-Z]*\) \(\/[^`]*\)`$/\1 \2/p' "$SM_SOURCE_ROOT/docs/api.md" | sort > "$WORK/documented"
[ -s "$WORK/served" ] || fail "no routes printed"
[ -s "$WORK/documented" ] || fail "no routes found in docs/api.md"
if ! diff -u "$WORK/documented" "$WORK/served"; then
	fail "docs/api.md (-) and the daemon's routes (+) differ"
fi
note "$(wc -l < "$WORK/served") routes, all documented"

start_daemon
while read -r method path; do
	[ "$method" = GET ] || continue
	case "$path" in *'{'*) path=$(echo "$path" | sed 's/{[^}]*}/no-such-thing/g') ;; esac
	code=$(curl -s --max-time 1 --unix-socket "$SOCK" -o "$WORK/out" -w '%{http_code}' \
		"http://sm$path" || true)
	if [ "$code" = 404 ]; then
		grep -q '"no route' "$WORK/out" && fail "$method $path is listed but not routed"
	fi
done < "$WORK/served"
stop_daemon
