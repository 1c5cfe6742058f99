#!/bin/bash
# POST /v1/vms "network", "ports" and "egress" without KVM: every refusal
# is a 400 naming the field (ports out of range, protocols, host_ip, a
# host port given twice or overlapping, ports or egress with network none,
# bad rules, too many ports or rules), a good body passes on to KVM (503);
# a host port something on the host holds (a real TCP listener and UDP
# socket on 127.0.0.1) is a 409 port_in_use before KVM. The config file's
# "network" and "egress" (checked strictly) are the defaults, and one that
# denies by default without allow_override refuses a loosening (403) but
# not a tightening. With a stand-in VMM (its probe says yes; as a worker it
# only sleeps, so its VM stays "starting" and nothing boots), a VM holds
# its published port: a second VM asking for it is a 409 naming the first,
# the VM shows its network, ports and effective egress (the config's rules
# merged with the request's), the CLI's `port`, `ps` and `inspect` print
# them, and a restarted daemon still shows them for the gone VM. A
# restore from a snapshot is checked alike. The CLI refuses bad -p syntax
# before any request.
. "$(dirname "$0")/lib.sh"

layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$layout/index.json" ] || fail "no bundled image at $layout"
import() {
	req POST /v1/images/import -d "{\"path\": \"$layout\"}"
	tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
}
# free_port: a port nothing on 127.0.0.1 uses now (TCP and UDP).
free_port() {
	python3 -c 'import socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p)); print(p)'
}
# BODY: POST /v1/vms; at most 60 s, so a create that should have been
# refused but starts a stand-in VM (below) fails the test instead of hanging.
create() { req POST /v1/vms -m 60 -d "$1"; }
bad() { # BODY MESSAGE_PART: a 400 invalid_field
	create "$1"
	expect_status 400 invalid_field "$2"
}
port() { # HOST [GUEST [EXTRA]]: one "ports" item
	printf '{"host_port":%s,"guest_port":%s%s}' "$1" "${2:-80}" "${3:-}"
}

start_daemon
import
note "the built-in defaults"
req GET /v1/info
jb -e '.network == {"default": "outbound", "egress": {"default": "allow", "deny": [],
	"allow": [], "allow_override": true}}' > /dev/null || fail "info: $(jb -c .network)"

note "refused bodies"
bad '{"image":"busybox","network":"bridge"}' 'field "network" must be "outbound" or "none"'
bad '{"image":"busybox","network":""}' '"network"'
bad '{"image":"busybox","ports":{}}' '"ports"'
bad "{\"image\":\"busybox\",\"ports\":[$(port 0)]}" 'field "ports"[0]: "host_port" must be a port number from 1 to 65535'
bad "{\"image\":\"busybox\",\"ports\":[$(port 65536)]}" '"host_port" must be a port number'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 0)]}" '"guest_port" must be a port number'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 65536)]}" '"guest_port" must be a port number'
bad "{\"image\":\"busybox\",\"ports\":[$(port '"8080"')]}" '"host_port" must be a port number'
bad '{"image":"busybox","ports":[{"guest_port":80}]}' 'field "ports"[0]: missing "host_port"'
bad '{"image":"busybox","ports":[{"host_port":80}]}' 'missing "guest_port"'
bad '{"image":"busybox","ports":[8080]}' 'field "ports"[0]: expected an object'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"proto":"tcp"')]}" 'unknown field "proto"'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"protocol":"sctp"')]}" '"protocol" must be "tcp" or "udp"'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"protocol":"TCP"')]}" '"protocol" must be'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"host_ip":"localhost"')]}" '"host_ip" must be an IPv4 or IPv6 address'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"host_ip":"10.0.0.0/8"')]}" '"host_ip" must be'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"host_ip":""')]}" '"host_ip" must be'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80),$(port 8080 81)]}" 'field "ports"[1]: host port 127.0.0.1:8080/tcp is given twice ("ports"[0])'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80),$(port 8080 81 ',"host_ip":"0.0.0.0"')]}" 'host port 0.0.0.0:8080/tcp overlaps "ports"[0] (127.0.0.1:8080/tcp)'
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080 80 ',"host_ip":"::"'),$(port 8080 81)]}" 'overlaps "ports"[0] ([::]:8080/tcp)'
many=$(for i in $(seq 1 33); do port $((20000 + i)); echo; done | paste -sd,)
bad "{\"image\":\"busybox\",\"ports\":[$many]}" 'field "ports": at most 32 published ports, not 33'
bad "{\"image\":\"busybox\",\"network\":\"none\",\"ports\":[$(port 8080)]}" 'field "ports": a VM with network "none" cannot publish ports'
bad '{"image":"busybox","network":"none","egress":{"deny":["10.0.0.0/8"]}}' 'field "egress": a VM with network "none" has no egress to set'
bad '{"image":"busybox","egress":[]}' '"egress"'
bad '{"image":"busybox","egress":{"allowed":[]}}' 'field "egress": unknown field "allowed"'
bad '{"image":"busybox","egress":{"allow_override":true}}' 'unknown field "allow_override"'
bad '{"image":"busybox","egress":{"default":"reject"}}' 'field "egress".default must be "allow" or "deny"'
bad '{"image":"busybox","egress":{"allow":"10.0.0.0/8"}}' 'field "egress".allow must be an array of rules'
bad '{"image":"busybox","egress":{"deny":[10]}}' 'field "egress".deny[0] must be a rule string'
bad '{"image":"busybox","egress":{"deny":["10.0.0.0/8","10.0.0.1/8"]}}' 'field "egress".deny[1]: rule "10.0.0.1/8": address has bits set past its /8 prefix'
bad '{"image":"busybox","egress":{"allow":["example.com:443"]}}' 'field "egress".allow[0]: rule "example.com:443"'
bad '{"image":"busybox","egress":{"allow":["1.2.3.4:70000"]}}' 'rule "1.2.3.4:70000"'
bad '{"image":"busybox","egress":{"allow":["1.2.3.4/sctp"]}}' 'rule "1.2.3.4/sctp"'
rules=$(for i in $(seq 1 65); do echo "\"10.$i.0.0/16\""; done | paste -sd,)
bad "{\"image\":\"busybox\",\"egress\":{\"deny\":[$rules]}}" 'field "egress": at most 64 rules (allow and deny together)'
note "a restore from a snapshot has the same checks, before the snapshot's"
bad "{\"from_snapshot\":\"nosuch\",\"ports\":[$(port 0)]}" '"host_port" must be a port number'
bad '{"from_snapshot":"nosuch","network":"none","egress":{}}' 'has no egress to set'
create '{"from_snapshot":"nosuch","network":"none"}'
expect_status 404 not_found "no such snapshot: nosuch"
req GET /v1/vms
[ "$(jbody '.vms | length')" = 0 ] || fail "a refused create left a VM: $(body)"

note "good bodies pass on to KVM (503: this daemon has no VMM)"
for b in '"network":"none"' '"network":"outbound"' "\"ports\":[$(port 8080),$(port 8080 53 ',"protocol":"udp"')]" \
	"\"ports\":[$(port 8080 80 ',"host_ip":"127.0.0.2"'),$(port 8080 80 ',"host_ip":"::1"')]" \
	'"egress":{"allow":["10.0.0.0/8:443","any:53/udp","[2001:db8::]/32"],"deny":["0.0.0.0/0:25/tcp"],"default":"deny"}' \
	'"egress":{}'; do
	create "{\"image\":\"busybox\",$b}"
	expect_status 503 kvm_unavailable
done
many=$(for i in $(seq 1 32); do port $((20000 + i)); echo; done | paste -sd,)
create "{\"image\":\"busybox\",\"ports\":[$many]}"
expect_status 503 kvm_unavailable
rules=$(for i in $(seq 1 64); do echo "\"10.$i.0.0/16\""; done | paste -sd,)
create "{\"image\":\"busybox\",\"egress\":{\"deny\":[$rules]}}"
expect_status 503 kvm_unavailable

note "a host port held on the host: 409 before KVM"
held=$(free_port)
python3 -c 'import socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", int(sys.argv[1]))); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("ready"); time.sleep(300)' "$held" "$WORK/held" &
HOLDER=$!
PIDS="$PIDS $HOLDER"
for _ in $(seq 1 100); do [ -s "$WORK/held" ] && break; sleep 0.05; done
[ -s "$WORK/held" ] || fail "the listener did not start"
create "{\"image\":\"busybox\",\"ports\":[$(port "$held")]}"
expect_status 409 port_in_use "host port $held/tcp on 127.0.0.1 is in use"
create "{\"image\":\"busybox\",\"ports\":[$(port "$held" 53 ',"protocol":"udp"')]}"
expect_status 409 port_in_use "host port $held/udp on 127.0.0.1 is in use"
create "{\"image\":\"busybox\",\"ports\":[$(port "$held" 80 ',"host_ip":"0.0.0.0"')]}"
expect_status 409 port_in_use "host port $held/tcp on 0.0.0.0 is in use"
create "{\"image\":\"busybox\",\"ports\":[$(port "$held" 80 ',"host_ip":"127.0.0.2"')]}"
expect_status 503 kvm_unavailable   # another address: free
create '{"image":"local/nope:v1","ports":[{"host_port":'"$held"',"guest_port":80}]}'
expect_status 404 not_found         # the image comes first
export SUPERMACHINE_SOCKET="$SOCK"
st=0; "$CLI" run -p "$held:80" busybox -- true > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -qF "host port $held/tcp on 127.0.0.1 is in use" "$WORK/out" ||
	fail "cli run -p on a held port: $st $(cat "$WORK/out")"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
PIDS=$(echo "$PIDS" | sed "s/\b$HOLDER\b//")
create "{\"image\":\"busybox\",\"ports\":[$(port "$held")]}"
expect_status 503 kvm_unavailable   # free again
still_alive
stop_daemon

note "the CLI: bad -p and network options are refused before any request"
nosock="$WORK/no-such.sock"
for a in "-p 8080" "-p 8080:80/sctp" "-p 0:80" "-p 8080:65536" "-p 1.2.3:8080:80" \
	"-p ::1:8080:80" "-p [::1:8080:80" "-p a:b" "-p 8080-8081:80-81" "-p localhost:8080:80" \
	"--network bridge" "--egress-default maybe" "--network none -p 8080:80" \
	"--network none --egress-deny 10.0.0.0/8"; do
	for c in run create; do
		st=0; "$CLI" --socket "$nosock" $c $a busybox > "$WORK/out" 2>&1 || st=$?
		[ "$st" = 2 ] && ! grep -q "cannot reach" "$WORK/out" ||
			fail "cli $c $a: exit $st: $(cat "$WORK/out")"
	done
done
"$CLI" --socket "$nosock" run -p 8080 busybox 2>&1 | grep -qF -- '-p 8080: expected [IP:]HOST_PORT:GUEST_PORT[/tcp|/udp]' ||
	fail "cli -p message"
for o in '-p, --publish [IP:]HOST:GUEST' '--network outbound|none' '--egress-allow RULE' \
	'--egress-deny RULE' '--egress-default allow|deny'; do
	"$CLI" run --help | grep -qF -- "$o" || fail "run --help lacks $o"
	"$CLI" create --help | grep -qF -- "$o" || fail "create --help lacks $o"
done
"$CLI" port --help | grep -qF '80/tcp -> 127.0.0.1:18080' || fail "port --help"
"$CLI" --help | grep -q '^  inspect VM' || fail "--help lacks inspect"

note "config: strict \"network\" and \"egress\""
for c in '{"network": "bridge"}' '{"network": 1}' '{"egress": []}' '{"egress": {"default": "x"}}' \
	'{"egress": {"deny": ["10.0.0.1/8"]}}' '{"egress": {"allow_override": 1}}' \
	'{"egress": {"bogus": 1}}' "{\"egress\": {\"deny\": [$(for i in $(seq 1 129); do
		echo "\"10.$((i / 200)).$((i % 200)).0/24\""; done | paste -sd,)]}}"; do
	echo "$c" > "$WORK/bad.json"
	st=0; "$DAEMON" --config "$WORK/bad.json" --socket "$SOCK" --data-dir "$WORK/data" \
		--vmm "$NOVMM" > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 2 ] && grep -q 'bad.json: .*\(network\|egress\)' "$WORK/out" ||
		fail "config $c: exit $st: $(cat "$WORK/out")"
done
grep -q 'at most 128 rules' "$WORK/out" || fail "129 rules: $(cat "$WORK/out")"

note "config: network none by default"
echo '{"network": "none"}' > "$WORK/none.json"
start_daemon_config "$WORK/none.json"
req GET /v1/info
[ "$(jbody .network.default)" = none ] || fail "info: $(jb -c .network)"
bad "{\"image\":\"busybox\",\"ports\":[$(port 8080)]}" "cannot publish ports (the daemon's default network is \"none\": give \"network\": \"outbound\")"
bad '{"image":"busybox","egress":{"default":"deny"}}' 'has no egress to set (the daemon'
create "{\"image\":\"busybox\",\"network\":\"outbound\",\"ports\":[$(port 8080)]}"
expect_status 503 kvm_unavailable
st=0; "$CLI" run -p 8080:80 busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q 'cannot publish ports (the daemon' "$WORK/out" || fail "cli -p: $(cat "$WORK/out")"
st=0; "$CLI" run --network outbound -p 8080:80 busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q 'KVM cannot run guests' "$WORK/out" || fail "cli --network: $(cat "$WORK/out")"
stop_daemon

note "config: deny by default, no override: loosening is 403, tightening passes"
cat > "$WORK/strict.json" <<'JSON'
{"egress": {"default": "deny", "deny": ["10.0.0.0/8"], "allow": ["192.168.0.0/16", "any:53/udp"],
            "allow_override": false}}
JSON
start_daemon_config "$WORK/strict.json"
req GET /v1/info
jb -e '.network.egress == {"default": "deny", "deny": ["10.0.0.0/8"],
	"allow": ["192.168.0.0/16", "any:53/udp"], "allow_override": false}' > /dev/null ||
	fail "info: $(jb -c .network)"
create '{"image":"busybox","egress":{"allow":["1.1.1.1:443"]}}'
expect_status 403 forbidden 'field "egress".allow: rule "1.1.1.1/32:443" is refused: the daemon'"'"'s egress policy denies by default'
create '{"image":"busybox","egress":{"default":"allow"}}'
expect_status 403 forbidden 'field "egress".default: "allow" is refused'
create '{"from_snapshot":"nosuch","egress":{"allow":["any:443"]}}'
expect_status 403 forbidden 'rule "any:443" is refused'
for e in '{"deny":["192.168.1.0/24"]}' '{"default":"deny"}' '{}'; do
	create "{\"image\":\"busybox\",\"egress\":$e}"
	expect_status 503 kvm_unavailable
done
st=0; "$CLI" run --egress-allow 1.1.1.1 busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q 'is refused' "$WORK/out" || fail "cli --egress-allow: $st $(cat "$WORK/out")"
st=0; "$CLI" create --egress-default allow busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q '"allow" is refused' "$WORK/out" || fail "cli --egress-default: $(cat "$WORK/out")"
st=0; "$CLI" create --egress-deny 10.0.0.1/8 --egress-default deny busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q 'field "egress".deny\[0\]: rule "10.0.0.1/8"' "$WORK/out" ||
	fail "cli --egress-deny: $(cat "$WORK/out")"
stop_daemon

note "a VM holds its published port (a stand-in VMM keeps it starting)"
cat > "$WORK/vmm" <<EOF
#!/bin/sh
if [ "\$1" = --probe ]; then echo '{"kvm": "stand-in"}'; exit 0; fi
echo \$\$ >> "$WORK/stand-ins"
exec sleep 300
EOF
chmod +x "$WORK/vmm"
# A failed check leaves VMs starting, and a daemon waits for its creates:
# end the stand-ins first.
trap 'kill $(cat "$WORK/stand-ins" 2>/dev/null) 2>/dev/null || true; api_cleanup' EXIT
cat > "$WORK/merge.json" <<'JSON'
{"egress": {"deny": ["10.0.0.0/8"], "allow": ["192.168.0.0/16"]}}
JSON
"$DAEMON" --config "$WORK/merge.json" --socket "$SOCK" --data-dir "$WORK/data" \
	--vmm "$WORK/vmm" --no-bake > "$WORK/daemon.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
wait_daemon "$SOCK"
p1=$(free_port)
body1="{\"image\":\"busybox\",\"ports\":[$(port "$p1"),$(port "$p1" 5353 ',"protocol":"udp","host_ip":"::1"')],
	\"egress\":{\"allow\":[\"10.1.2.3:443/tcp\"],\"deny\":[\"192.168.7.0/24\"],\"default\":\"deny\"}}"
curl -s --unix-socket "$SOCK" -X POST -d "$body1" -o "$WORK/first" http://sm/v1/vms &
FIRST=$!
PIDS="$PIDS $FIRST"
vm=""
for _ in $(seq 1 200); do
	req GET /v1/vms
	vm=$(jbody '.vms[0].id // empty')
	[ -n "$vm" ] && break
	sleep 0.1
done
[ -n "$vm" ] || fail "the first VM never showed: $(body) $(cat "$WORK/daemon.log")"
[ "$(jbody '.vms[0].state')" = starting ] || fail "state: $(body)"
jb -e '.vms[0] | .network == "outbound" and .ports == [
	{"host_ip": "127.0.0.1", "host_port": '"$p1"', "guest_port": 80, "protocol": "tcp"},
	{"host_ip": "::1", "host_port": '"$p1"', "guest_port": 5353, "protocol": "udp"}] and
	.egress == {"default": "deny", "deny": ["10.0.0.0/8", "192.168.7.0/24"],
		    "allow": ["10.1.2.3/32:443/tcp", "192.168.0.0/16"]}' > /dev/null ||
	fail "the VM's network fields: $(jb -c '.vms[0] | {network, ports, egress}')"
create "{\"image\":\"busybox\",\"ports\":[$(port "$p1" 8080)]}"
expect_status 409 port_in_use "host port 127.0.0.1:$p1/tcp is published by VM $vm"
create "{\"image\":\"busybox\",\"ports\":[$(port "$p1" 8080 ',"host_ip":"0.0.0.0"')]}"
expect_status 409 port_in_use "host port 0.0.0.0:$p1/tcp overlaps 127.0.0.1:$p1/tcp, published by VM $vm"
create "{\"image\":\"busybox\",\"ports\":[$(port "$p1" 53 ',"protocol":"udp","host_ip":"::1"')]}"
expect_status 409 port_in_use "host port [::1]:$p1/udp is published by VM $vm"
st=0; timeout 60 "$CLI" create -p "$p1:80" busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -qF "is published by VM $vm" "$WORK/out" || fail "cli create -p: $st $(cat "$WORK/out")"
st=0; timeout 60 "$CLI" create -p "[::1]:$p1:53/udp" busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -qF "host port [::1]:$p1/udp is published by VM $vm" "$WORK/out" ||
	fail "cli create -p [::1]:$p1:53/udp: $st $(cat "$WORK/out")"
[ "$("$CLI" port "$vm")" = "80/tcp -> 127.0.0.1:$p1
5353/udp -> [::1]:$p1" ] || fail "port: $("$CLI" port "$vm")"
[ "$("$CLI" port "$vm" 80)" = "127.0.0.1:$p1" ] || fail "port VM 80: $("$CLI" port "$vm" 80)"
[ "$("$CLI" port "$vm" 5353/udp)" = "[::1]:$p1" ] || fail "port VM 5353/udp"
st=0; "$CLI" port "$vm" 5353 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "publishes no host port for 5353/tcp" "$WORK/out" || fail "port 5353/tcp: $st"
st=0; "$CLI" port "$vm" 80/sctp > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "port 80/sctp: $st $(cat "$WORK/out")"
"$CLI" --json port "$vm" | jq -e 'length == 2 and .[0].guest_port == 80' > /dev/null ||
	fail "port --json: $("$CLI" --json port "$vm")"
"$CLI" ps -a | grep -F "$vm" | grep -qF "127.0.0.1:$p1->80/tcp, [::1]:$p1->5353/udp" ||
	fail "ps -a: $("$CLI" ps -a)"
"$CLI" inspect "$vm" | jq -e --arg id "$vm" '.id == $id and .network == "outbound" and
	(.ports | length) == 2 and .egress.default == "deny"' > /dev/null ||
	fail "inspect: $("$CLI" inspect "$vm")"
note "another port passes the port checks (and its VM starts too)"
curl -s --unix-socket "$SOCK" -X POST -d "{\"image\":\"busybox\",\"network\":\"none\"}" \
	-o "$WORK/third" http://sm/v1/vms &
THIRD=$!
PIDS="$PIDS $THIRD"
req DELETE "/v1/vms/$vm?force=1"
expect_status 200
wait "$FIRST" || true
jq -e '.error.code == "vm_start_failed"' "$WORK/first" > /dev/null || fail "first: $(cat "$WORK/first")"
note "once that VM is gone its port is free again"
curl -s --unix-socket "$SOCK" -X POST -d "{\"image\":\"busybox\",\"ports\":[$(port "$p1" 8080)]}" \
	-o "$WORK/second" http://sm/v1/vms &
SECOND=$!
PIDS="$PIDS $SECOND"
for _ in $(seq 1 200); do
	req GET '/v1/vms?state=starting'
	[ "$(jbody '[.vms[] | select(.ports != [])] | length')" = 1 ] && break
	sleep 0.1
done
jb -e --argjson p "$p1" '[.vms[] | select(.ports != [])][0].ports[0].host_port == $p' > /dev/null ||
	fail "the second VM with the freed port: $(body)"
[ "$(jbody '[.vms[] | select(.network == "none")][0].egress')" = null ] || fail "none's egress: $(body)"
# Stopped (not removed), they stay listed as exited with their rows. (A
# daemon stopping waits for the creates that still run: stop them first.)
for id in $(jbody '.vms[].id'); do
	req POST "/v1/vms/$id/stop"
	expect_status 200
done
wait "$SECOND" "$THIRD" || true
jq -e '.error.code == "vm_start_failed"' "$WORK/second" > /dev/null || fail "second: $(cat "$WORK/second")"
stop_daemon
note "a restarted daemon shows the gone VMs' network settings"
start_daemon
req GET /v1/vms
jb -e '[.vms[] | select(.network == "outbound")][0] | .state == "gone" and
	.ports[0].guest_port == 8080 and .egress == {"default": "allow", "deny": ["10.0.0.0/8"],
	"allow": ["192.168.0.0/16"]}' > /dev/null || fail "gone VM: $(body)"
jb -e '[.vms[] | select(.network == "none")] | length == 1' > /dev/null || fail "none VM: $(body)"
still_alive
stop_daemon
