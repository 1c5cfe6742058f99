# lib.sh - shared helpers for the store integration tests (sourced).
#
# Starts Debian's docker-registry on 127.0.0.1 with a free port and temp
# storage, builds OCI image layouts by hand (tar + sha256 + JSON, so every
# byte is known), pushes them with skopeo and drives the store through the
# smstore tool. Everything started is killed by the EXIT trap.
set -eu

: "${SM_BUILD_ROOT:?run through meson test}"
SMSTORE="$SM_BUILD_ROOT/tests/store/smstore"
FAULTPROXY="$SM_BUILD_ROOT/tests/store/faultproxy"
WORK=$(mktemp -d /tmp/sm-store-test.XXXXXX)
PIDS=""
# Hermetic credentials: the user's ~/.docker/config.json is not consulted.
export DOCKER_CONFIG="$WORK/docker-config"

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ -n "${SM_KEEP_TEST_DIR:-}" ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# A random port below the kernel's ephemeral range (so no outgoing
# connection holds it) that nobody listens on.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((10000 + RANDOM % 20000))
		(exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	fail "no free port found"
}

wait_port() { # port [log of the server]
	for _ in $(seq 1 300); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	[ -n "${2:-}" ] && cat "$2" >&2
	fail "nothing listening on port $1"
}

# start_registry NAME [AUTH_YAML]: sets REG_PORT, REG (host:port), REG_PID.
start_registry() {
	local dir="$WORK/$1" auth="${2:-}"
	mkdir -p "$dir/data"
	[ -n "${REG_PORT:-}" ] || REG_PORT=$(free_port)
	cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REG_PORT
${REG_HTTP_EXTRA:-}
$auth
YML
	/usr/bin/docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
	REG_PID=$!
	PIDS="$PIDS $REG_PID"
	REG="127.0.0.1:$REG_PORT"
	wait_port "$REG_PORT" "$dir/log"
}

stop_registry() {
	kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
fsize() { stat -c %s "$1"; }

# add_blob LAYOUT FILE: moves FILE into LAYOUT's blobs, prints its hex.
add_blob() {
	local h; h=$(sha "$2")
	mkdir -p "$1/blobs/sha256"
	mv "$2" "$1/blobs/sha256/$h"
	echo "$h"
}

# make_layer LAYOUT SRCDIR COMPRESSION(gzip|zstd|none): prints
# "hex size mediatype diffid".
make_layer() {
	local out="$1" src="$2" comp="$3" t="$WORK/layer.tmp"
	tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner \
		-C "$src" -cf "$t.tar" .
	local diff; diff=$(sha "$t.tar")
	case "$comp" in
	gzip) gzip -n -c "$t.tar" > "$t"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
	zstd) zstd -q -c "$t.tar" > "$t"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
	none) cp "$t.tar" "$t"; mt=application/vnd.oci.image.layer.v1.tar ;;
	esac
	rm -f "$t.tar"
	local size; size=$(fsize "$t")
	echo "$(add_blob "$out" "$t") $size $mt sha256:$diff"
}

# make_manifest LAYOUT ARCH VARIANT LAYERSPEC... (each "hex size mt diffid"):
# writes config + manifest blobs, prints "hex size" of the manifest.
make_manifest() {
	local out="$1" arch="$2" variant="$3"; shift 3
	local diffs="" layers="" sep=""
	for l in "$@"; do
		set -- $l
		diffs="$diffs$sep\"$4\""
		layers="$layers$sep{\"mediaType\":\"$3\",\"digest\":\"sha256:$1\",\"size\":$2}"
		sep=,
	done
	printf '{"architecture":"%s",%s"os":"linux","config":{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hello"],"Env":["PATH=/usr/bin:/bin","GREETING=hi there"],"WorkingDir":"/srv","User":"1000:1000","ExposedPorts":{"8080/tcp":{}}},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "${variant:+\"variant\":\"$variant\",}" "$diffs" > "$WORK/cfg.tmp"
	local csize; csize=$(fsize "$WORK/cfg.tmp")
	local chex; chex=$(add_blob "$out" "$WORK/cfg.tmp")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
		"$chex" "$csize" "$layers" > "$WORK/man.tmp"
	local msize; msize=$(fsize "$WORK/man.tmp")
	echo "$(add_blob "$out" "$WORK/man.tmp") $msize"
}

# write_index LAYOUT TAG ENTRY...: ENTRY is "hex size mediatype [platform-json]".
write_index() {
	local out="$1" tag="$2"; shift 2
	local entries="" sep=""
	for e in "$@"; do
		set -- $e
		entries="$entries$sep{\"mediaType\":\"$3\",\"digest\":\"sha256:$1\",\"size\":$2${4:+,\"platform\":$4},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}"
		sep=,
	done
	echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
	printf '{"schemaVersion":2,"manifests":[%s]}' "$entries" > "$out/index.json"
}

# rootfs DIR SEED: a small distinct file tree.
rootfs() {
	mkdir -p "$1/etc" "$1/bin" "$1/srv/data"
	echo "file of $2" > "$1/etc/$2.conf"
	head -c 20000 /dev/urandom > "$1/srv/data/$2.bin"
	ln -sf "../etc/$2.conf" "$1/bin/$2-link"
}

# simple_image LAYOUT NLAYERS COMPRESSION: one manifest, tag "v1".
simple_image() {
	local out="$1" n="$2" comp="$3" specs=""
	mkdir -p "$out"
	local i=1
	set --
	while [ "$i" -le "$n" ]; do
		rootfs "$WORK/src-$i" "l$i-$$-$RANDOM"
		set -- "$@" "$(make_layer "$out" "$WORK/src-$i" "$comp")"
		rm -rf "$WORK/src-$i"
		i=$((i + 1))
	done
	local m; m=$(make_manifest "$out" amd64 "" "$@")
	write_index "$out" v1 "$m application/vnd.oci.image.manifest.v1+json"
}

push() { # LAYOUT REPO:TAG [skopeo args]
	local src="$1" dst="$2"; shift 2
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$src:v1" "docker://$REG/$dst" \
		> "$WORK/skopeo.log" 2>&1 || { cat "$WORK/skopeo.log" >&2; fail "skopeo push $dst"; }
}

sm() { "$SMSTORE" "$WORK/store" "$@"; }

# expect_fail PATTERN CMD...: CMD must fail with PATTERN in its stderr.
expect_fail() {
	local pat="$1"; shift
	if "$@" > "$WORK/out" 2> "$WORK/err"; then
		fail "'$*' succeeded; expected failure matching '$pat'"
	fi
	grep -q -- "$pat" "$WORK/err" || { cat "$WORK/err" >&2; fail "'$*': error lacks '$pat'"; }
	note "failed as expected: $(grep -m1 error "$WORK/err" || true)"
}

# umoci needs --rootless when not run as root.
UMOCI_ROOTLESS=$([ "$(id -u)" = 0 ] || echo --rootless)

count_files() { find "$1" -type f | wc -l; }

# start_proxy "RULES": faultproxy in front of the registry; sets PROXY,
# PLOG (its request log). A running proxy is replaced.
start_proxy() {
	if [ -n "${PROXY_PID:-}" ]; then kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; fi
	local port; port=$(free_port)
	printf '%s\n' "$1" > "$WORK/rules"
	PLOG="$WORK/proxy.log"; : > "$PLOG"
	"$FAULTPROXY" "$port" "$REG_PORT" "$WORK/rules" "$PLOG" 2> "$WORK/proxy.err" &
	PROXY_PID=$!
	PIDS="$PIDS $PROXY_PID"
	PROXY="127.0.0.1:$port"
	wait_port "$port" "$WORK/proxy.err"
}

# store_empty: no image rows, no blob or layer files, no partials.
store_empty() {
	[ -z "$(sm ls)" ] || fail "store lists images: $(sm ls)"
	[ "$(count_files "$WORK/store/blobs")" = 0 ] || fail "blob files stored"
	[ "$(count_files "$WORK/store/layers")" = 0 ] || fail "layer files stored"
	[ "$(count_files "$WORK/store/tmp")" = 0 ] || fail "partial files left: $(ls "$WORK/store/tmp")"
}

# start_token_service: busybox httpd serving token-cgi.sh twice: anonymous
# at /cgi-bin/token and behind basic auth (bob:pw) at /cgi-bin/private-token.
# Sets TOKEN_URL, TOKEN_DIR (cert.pem for the registry, token.log).
start_token_service() {
	TOKEN_DIR="$WORK/token"
	mkdir -p "$TOKEN_DIR/www/cgi-bin"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TOKEN_DIR/key.pem" \
		-out "$TOKEN_DIR/cert.pem" -days 2 -subj "/CN=sm-test-token" 2> /dev/null
	openssl x509 -in "$TOKEN_DIR/cert.pem" -outform DER | openssl base64 -A \
		> "$TOKEN_DIR/cert.der.b64"
	for n in token private-token; do
		printf '#!/bin/sh\nTOKEN_DIR=%s exec %s\n' "$TOKEN_DIR" \
			"$SM_SOURCE_ROOT/tests/store/token-cgi.sh" > "$TOKEN_DIR/www/cgi-bin/$n"
		chmod +x "$TOKEN_DIR/www/cgi-bin/$n"
	done
	echo "/cgi-bin/private-token:bob:pw" > "$TOKEN_DIR/httpd.conf"
	: > "$TOKEN_DIR/token.log"
	local port; port=$(free_port)
	busybox httpd -f -p "127.0.0.1:$port" -h "$TOKEN_DIR/www" -c "$TOKEN_DIR/httpd.conf" &
	PIDS="$PIDS $!"
	TOKEN_URL="http://127.0.0.1:$port/cgi-bin"
	wait_port "$port"
}

token_auth_yaml() { # realm path (token or private-token)
	printf 'auth:\n  token:\n    realm: %s/%s\n    service: sm-test-registry\n    issuer: sm-test-issuer\n    rootcertbundle: %s\n' \
		"$TOKEN_URL" "$1" "$TOKEN_DIR/cert.pem"
}
