#!/bin/bash
# t-guest-kernel.sh SM_LAYER2EROFS BUSYBOX_LAYOUT
#
# Our erofs images as the guest kernel sees them. The host kernel may be
# much newer than the microVM's (Debian's linux-image-cloud-amd64, 6.1),
# so this boots that guest kernel under QEMU TCG (no KVM needed) with a
# busybox initramfs, loop-mounts three images (every file type, hard links,
# devices, setuid, xattrs, a long symlink, multi-block directories; the
# busybox layer; a whiteout/opaque layer stacked on a lower one with
# overlayfs), and prints a manifest of each tree (type, mode, owner, size,
# mtime, links, inode, device, link target, md5). The same busybox prints
# the manifests from host mounts; both must be identical.
#
# Needs root (mknod, mount) and the guest kernel in $SM_CACHE/guest
# (script/fetch-kernels); fails without them.
set -euo pipefail
conv=$1 layout=$2
kdir=${SM_CACHE:-}/guest
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root" >&2; exit 1; }
[ -n "${SM_CACHE:-}" ] && [ -e "$kdir/vmlinuz" ] || {
	echo "FAIL: no guest kernel in \$SM_CACHE/guest (script/fetch-kernels)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL: no qemu" >&2; exit 1; }
ver=$(cat "$kdir/version")
mods=$kdir/lib/modules/$ver/kernel
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smlayer-gk-XXXXXX")
cleanup() {
	for m in ovl meta bb low up; do umount "$tmp/host/$m" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

make_trees() { # a layer with every file type; a lower and an upper layer
	local s=$tmp/src
	mkdir -p "$s/d/sub" "$s/e/emptydir" "$s/big"
	echo hello >"$s/d/f"
	ln "$s/d/f" "$s/d/hl"
	ln -s /etc "$s/d/link"
	ln -s "$(head -c 3000 /dev/zero | tr '\0' a)" "$s/d/longlink"
	mknod "$s/d/cdev" c 1 3
	mknod "$s/d/bdev" b 8 1
	mkfifo "$s/d/fifo"
	chown 1000:2000 "$s/d/f"
	cp /bin/busybox "$s/e/bb" && chmod 4755 "$s/e/bb"
	head -c 3000 /bin/busybox >"$s/e/t3000"
	head -c 10000 /bin/busybox >"$s/e/t10000"
	chmod 2711 "$s/e/t3000"
	for i in $(seq 1 300); do : >"$s/big/file_with_a_long_name_$i"; done
	tar -cf "$tmp/meta.tar" -C "$s" .
	mkdir -p "$tmp/lo/a" "$tmp/lo/b/old" "$tmp/up/a" "$tmp/up/b"
	echo keep >"$tmp/lo/a/keep"; echo gone >"$tmp/lo/a/gone"
	echo x >"$tmp/lo/b/old/x"
	: >"$tmp/up/a/.wh.gone"; : >"$tmp/up/b/.wh..wh..opq"; echo new >"$tmp/up/b/new"
	tar -czf "$tmp/low.tgz" -C "$tmp/lo" .
	tar -cf "$tmp/up.tar" -C "$tmp/up" .
}

make_images() {
	local img=$tmp/ir/img manifest layer
	mkdir -p "$img"
	"$conv" "$tmp/meta.tar" "$img/meta.erofs" >/dev/null
	"$conv" "$tmp/low.tgz" "$img/low.erofs" >/dev/null
	"$conv" "$tmp/up.tar" "$img/up.erofs" >/dev/null
	manifest=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$layout/index.json")
	layer=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["layers"][0]["digest"][7:])' "$layout/blobs/sha256/$manifest")
	"$conv" "$layout/blobs/sha256/$layer" "$img/bb.erofs" >/dev/null
}

write_scripts() {
	cat >"$tmp/ir/manifest.sh" <<'EOF'
cd "$1" || exit 1
find . | sort | while read -r f; do
	stat -c '%n %f %u %g %s %Y %h %i %t %T' "$f"
	if [ -L "$f" ]; then echo "  -> $(readlink "$f")"
	elif [ -f "$f" ]; then md5sum "$f"; fi
done
EOF
	cat >"$tmp/ir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in libcrc32c erofs overlay loop; do insmod /mod/$m.ko || echo "FAIL insmod $m"; done
for i in meta bb low up; do
	mkdir -p /mnt/$i
	mount -t erofs -o loop,ro /img/$i.erofs /mnt/$i || echo "FAIL mount $i"
done
mkdir -p /mnt/ovl
mount -t overlay overlay -o ro,lowerdir=/mnt/up:/mnt/low /mnt/ovl || echo "FAIL overlay"
echo                            # the console may prefix the first line
for i in meta bb ovl; do
	echo "=== BEGIN $i"; sh /manifest.sh /mnt/$i; echo "=== END $i"
done
/mnt/bb/bin/busybox echo "=== BUSYBOX RUNS"
poweroff -f
EOF
	chmod +x "$tmp/ir/init"
}

boot_guest() {
	local ir=$tmp/ir
	mkdir -p "$ir/bin" "$ir/mod" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/mnt"
	cp /bin/busybox "$ir/bin/"
	cp "$mods/lib/libcrc32c.ko" "$mods/fs/erofs/erofs.ko" \
	   "$mods/fs/overlayfs/overlay.ko" "$mods/drivers/block/loop.ko" "$ir/mod/"
	(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp/ir.cpio.gz"
	timeout 600 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 512 \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/ir.cpio.gz" -nographic -no-reboot \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet" </dev/null \
		| tr -d '\r' >"$tmp/guest.log" 2>&1 || true
	grep -q '^=== BUSYBOX RUNS' "$tmp/guest.log" || {
		tail -30 "$tmp/guest.log" >&2; fail "guest did not finish"; }
	! grep -q '^FAIL' "$tmp/guest.log" || fail "$(grep '^FAIL' "$tmp/guest.log")"
}

compare() {
	local h=$tmp/host i
	for i in meta bb low up; do
		mkdir -p "$h/$i"; mount -t erofs -o loop,ro "$tmp/ir/img/$i.erofs" "$h/$i"
	done
	mkdir -p "$h/ovl"
	mount -t overlay overlay -o "ro,lowerdir=$h/up:$h/low" "$h/ovl"
	for i in meta bb ovl; do
		sed -n "/=== BEGIN $i\$/,/^=== END $i\$/p" "$tmp/guest.log" | sed '1d;$d' \
			>"$tmp/guest-$i"
		busybox sh "$tmp/ir/manifest.sh" "$h/$i" >"$tmp/host-$i"
		[ -s "$tmp/host-$i" ] || fail "empty host manifest $i"
		diff -u "$tmp/host-$i" "$tmp/guest-$i" >&2 || {
			grep -n -m3 -a '===' "$tmp/guest.log" | cat -A | cut -c1-120 >&2
			fail "guest kernel sees $i differently"; }
		echo "ok: $i ($(wc -l <"$tmp/host-$i") lines) identical on $ver"
	done
}

make_trees
make_images
write_scripts
boot_guest
compare
