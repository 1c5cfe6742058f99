# tests/vm/network/world.sh - the networks the VM network tests run in, made
# from nothing and torn down after: no packet leaves them.
#
# Sourced. world_up WORK makes two network namespaces joined by a veth pair:
#   sm-lan-$$    the daemon's (and so every VM's passt's): veth 10.99.0.1/24,
#                a default route to 10.99.0.2, loopback up;
#   sm-world-$$  the "internet": veth 10.99.0.2/24 and, on loopback,
#                10.99.1.1 and 10.99.2.1, where it serves HTTP (busybox
#                httpd, one per address and port, each logging every request
#                it gets to WORK/httpd-ADDR-PORT.log) and DNS (dnsmasq on
#                10.99.0.2:53, answering web.test and denied.test and
#                nothing else; its log in WORK/dnsmasq.log).
# (busybox 1.35's wget -T crashes: timeout(1) bounds a fetch instead.)
# in_lan CMD... / in_world CMD... run a command in one of them; world_down
# kills what world_up started and removes both namespaces.
# shellcheck shell=bash

WORLD_LAN=sm-lan-$$ WORLD_NET=sm-world-$$
world_pids=()

in_lan() { ip netns exec "$WORLD_LAN" "$@"; }
in_world() { ip netns exec "$WORLD_NET" "$@"; }

# world_httpd WORK ADDR PORT: a page "hello from ADDR:PORT" served there.
world_httpd() {
	local root=$1/www-$2-$3
	mkdir -p "$root"
	echo "hello from $2:$3" > "$root/index.html"
	# (ip itself, not a function, in the background: $! is the server's pid)
	ip netns exec "$WORLD_NET" busybox httpd -f -v -p "$2:$3" -h "$root" \
		< /dev/null > /dev/null 2>> "$1/httpd-$2-$3.log" &
	world_pids+=($!)
}

world_up() {
	local work=$1
	ip netns add "$WORLD_LAN" && ip netns add "$WORLD_NET" || return 1
	ip link add sm-lan0 netns "$WORLD_LAN" type veth peer name sm-world0 netns "$WORLD_NET" ||
		return 1
	in_lan ip link set lo up && in_world ip link set lo up &&
		in_lan ip addr add 10.99.0.1/24 dev sm-lan0 && in_lan ip link set sm-lan0 up &&
		in_world ip addr add 10.99.0.2/24 dev sm-world0 && in_world ip link set sm-world0 up &&
		in_lan ip route add default via 10.99.0.2 &&
		in_world ip addr add 10.99.1.1/32 dev lo && in_world ip addr add 10.99.2.1/32 dev lo ||
		return 1
	# passt runs as nobody: let it open ping sockets for the guest's ICMP.
	in_lan sysctl -qw net.ipv4.ping_group_range="0 2147483647" || return 1
	world_httpd "$work" 10.99.1.1 8000
	world_httpd "$work" 10.99.1.1 8001
	world_httpd "$work" 10.99.2.1 8000
	ip netns exec "$WORLD_NET" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=10.99.0.2 --port=53 --log-queries --log-facility="$work/dnsmasq.log" \
		--local=/test/ --host-record=web.test,10.99.1.1 --host-record=denied.test,10.99.2.1 --pid-file= \
		--user=root < /dev/null > /dev/null 2>&1 &
	world_pids+=($!)
	# Up once each server answers.
	local i
	for i in $(seq 1 100); do
		in_lan timeout 5 busybox wget -q -O /dev/null http://10.99.1.1:8000/ 2>/dev/null &&
			in_lan timeout 5 busybox wget -q -O /dev/null http://10.99.2.1:8000/ 2>/dev/null &&
			in_lan timeout 5 busybox nslookup web.test 10.99.0.2 > /dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || return 1
	# Those probes are not the VMs': start the logs afresh.
	for i in "$work"/httpd-*.log; do : > "$i"; done
}

world_down() { # never fails: it runs in traps under set -e
	local p
	for p in "${world_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ ${#world_pids[@]} = 0 ] || wait "${world_pids[@]}" 2>/dev/null || true
	world_pids=()
	ip netns del "$WORLD_LAN" 2>/dev/null || true
	ip netns del "$WORLD_NET" 2>/dev/null || true
}
