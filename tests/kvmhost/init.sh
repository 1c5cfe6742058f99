#!/bin/busybox sh
# PID 1 of the emulated KVM host (see tests/kvmhost/run): load kvm-amd and
# 9p, make the host's read-only root (with the shared folders mounted
# read-write at their own paths) the root of a mount namespace of the
# command's, run /ctl/cmd.sh there, store its exit status in /ctl/status,
# power off. Not a plain chroot: a chrooted process may not create user
# namespaces (EPERM), and passt, which VMs' networks run on, sandboxes
# itself in one.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m" || echo "kvmhost-init: insmod $m failed"; done < /modules/order
mkdir -p /host /ctl
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro hostroot /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ctl /ctl
for d in tmp run root var/tmp; do mount -t tmpfs tmpfs "/host/$d"; done
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t cgroup2 none /host/sys/fs/cgroup
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
n=$(sed -n 's/.*nshares=\([0-9]*\).*/\1/p' /proc/cmdline)
i=0
while [ "$i" -lt "$n" ]; do
	d=$(cat "/ctl/share$i")
	mkdir -p "/host$d" 2>/dev/null
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "share$i" "/host$d" ||
		echo "kvmhost-init: cannot mount $d"
	i=$((i + 1))
done
[ -e /dev/kvm ] || echo "kvmhost-init: no /dev/kvm after loading kvm-amd"
# Record every guest triple fault KVM sees (SVM exit SHUTDOWN, 0x7f) with
# the guest's RIP at that moment: KVM then resets the vCPU, so no VMM can
# report where it happened.
t=/sys/kernel/tracing
mount -t tracefs tracefs $t 2>/dev/null
echo 'exit_reason == 127' > $t/events/kvm/kvm_exit/filter 2>/dev/null &&
	echo 1 > $t/events/kvm/kvm_exit/enable 2>/dev/null ||
	echo "kvmhost-init: cannot trace KVM shutdown exits"
cp /ctl/cmd.sh /host/tmp/.kvmhost-cmd.sh
# A heartbeat for the runner's watchdog (tests/kvmhost/run).
(n=0; while :; do n=$((n + 1)); echo $n > /ctl/heartbeat; sleep 15; done) &
# Stalls: the emulated host standing still while the machine outside gives
# QEMU no CPU. A 1 s sleep that takes 4 s or more goes to the kernel log,
# where the runner's verdict (tests/kvmhost/verdict.sh) finds it: a VM
# test's deadlines of a few seconds mean nothing across such a stall.
uptime_cs() { read -r up _ < /proc/uptime; echo $((${up%.*} * 100 + 1${up#*.} - 100)); }
(prev=$(uptime_cs); while sleep 1; do
	now=$(uptime_cs) gap=$((now - prev - 100))
	[ $gap -lt 300 ] || printf 'kvmhost-init: the emulated host stood still for %d.%02d s\n' \
		$((gap / 100)) $((gap % 100)) > /dev/kmsg
	prev=$now
done) &
# Through a pipe, so the command's output is not a terminal (as under CI).
# The console is a tty: without output processing its lines end in \n
# alone, as the command wrote them (else every line would gain a \r).
exec 3>/dev/hvc0
stty -opost <&3 || echo "kvmhost-init: cannot set /dev/hvc0 to -opost"
set -o pipefail
# (/host moved onto / in the command's own mount namespace, then chroot to
# it: its root is then its namespace's root, as after switch_root.)
unshare -m --propagation private sh -c 'cd /host && mount --move . / && exec chroot . /bin/bash /tmp/.kvmhost-cmd.sh' \
	</dev/null 2>&1 3>&- | cat >&3
st=$?
# The emulated host's own kernel log, for the runner to show when CMD failed
# (an OOM kill, a KVM warning or a crashed VMM leaves its trace only here).
[ "$st" = 0 ] || dmesg > /ctl/dmesg.log 2>&1
grep -v '^#' $t/trace > /ctl/kvm-shutdowns.log 2>/dev/null
echo $st > /ctl/status
sync
poweroff -f
