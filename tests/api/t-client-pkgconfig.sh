#!/bin/bash
# libsupermachine as an outside program sees it: `meson install --destdir`
# into a temp root, then a small program outside the tree is compiled with
# nothing but `pkg-config --cflags --libs libsupermachine`, and run against
# a daemon: version, an error with the daemon's code and message, events.
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$(dirname "$0")/lib.sh"

command -v pkg-config > /dev/null || { echo "FAIL: no pkg-config" >&2; exit 1; }
dest="$WORK/root"
meson install -C "$SM_BUILD_ROOT" --destdir "$dest" --no-rebuild --tags libsupermachine,devel \
	> "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "meson install"; }
pc=$(find "$dest" -name libsupermachine.pc | head -1)
[ -n "$pc" ] || fail "no libsupermachine.pc installed"
prefix=$(sed -n 's/^prefix=//p' "$pc")
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR="$dest"
libdir=$(dirname "$(find "$dest" -name 'libsupermachine.so' | head -1)")
[ -f "$dest$prefix/include/supermachine.h" ] || fail "header not installed under $prefix/include"

mkdir -p "$WORK/outside"
cat > "$WORK/outside/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <supermachine.h>

static int seen;
static int on_event(const char *type, const char *json, void *ud)
{
	(void)json; (void)ud;
	printf("event %s\n", type);
	return ++seen == 1;   /* stop after the first */
}

int main(int argc, char **argv)
{
	struct sm_client_opts o = { .socket_path = argv[1] };
	sm_client *c;
	struct sm_version v;
	struct sm_image img;
	if (argc != 2 || sm_client_new(&o, &c) != SM_OK)
		return 10;
	if (sm_version(c, &v) != SM_OK) {
		fprintf(stderr, "version: %s\n", sm_errmsg(c));
		return 11;
	}
	printf("daemon %s api %s\n", v.version, v.api_version);
	sm_version_free(&v);
	int st = sm_image_inspect(c, "no/such:image", &img);
	printf("inspect %d %s %s\n", st, sm_errcode(c), sm_errmsg(c));
	if (st != SM_E_NOT_FOUND)
		return 12;
	st = sm_image_remove(c, "bad name!", NULL);
	printf("remove %d %s\n", st, sm_errcode(c));
	if (st != SM_E_BAD_REQUEST)
		return 13;
	struct sm_events_opts eo = { .type_prefix = "image." };
	st = sm_events(c, &eo, on_event, NULL);
	printf("events %d\n", st);
	sm_client_free(c);
	return st == SM_E_STOPPED ? 0 : 14;
}
EOF
san=""
if nm -D "$libdir/libsupermachine.so" | grep -q __asan_init; then
	san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror $san -o "$WORK/outside/prog" "$WORK/outside/prog.c" \
	$(pkg-config --cflags --libs libsupermachine) 2> "$WORK/cc.log" ||
	{ cat "$WORK/cc.log" >&2; fail "compiling against the installed library"; }

simple_image "$WORK/img" 1 gzip
start_daemon
LD_LIBRARY_PATH="$libdir" "$WORK/outside/prog" "$SOCK" > "$WORK/prog.out" 2>&1 &
prog=$!
for _ in $(seq 1 50); do
	[ "$(metric supermachine_event_subscribers)" = 1 ] && break
	sleep 0.1
done
[ "$(metric supermachine_event_subscribers)" = 1 ] || fail "the program never subscribed"
req POST /v1/images/import -d "{\"path\": \"$WORK/img\", \"tag\": \"local/pc:v1\"}"
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
wait "$prog" || { cat "$WORK/prog.out" >&2; fail "the outside program failed ($?)"; }
cat "$WORK/prog.out"
grep -q '^daemon 0\..* api v1$' "$WORK/prog.out" || fail "version line"
grep -q '^inspect -4 not_found no such image' "$WORK/prog.out" || fail "inspect line"
grep -q '^event image.imported$' "$WORK/prog.out" || fail "event line"
stop_daemon
