#!/bin/sh
# Two hosts, one L2 segment per VLAN between them through Open vSwitch.
#
# Each host is a network namespace with its own simulated hypervisor
# and xenstored-sim, its own netbackd and its own Open vSwitch
# (ovsdb-server and ovs-vswitchd with the userspace datapath,
# datapath_type=netdev, so no kernel module is needed). A veth pair
# between the two namespaces is the underlay (192.0.2.1 and .2 on each
# host's br-phy). netbackd's uplink is net_af_packet on a veth whose
# peer is a port of br-int (all VLANs, tagged). How br-int carries
# VLAN 10 and VLAN 20 to the other host, as the README's "Several
# hosts: Open vSwitch tunnels" shows:
#   vxlan  one VXLAN port per VLAN (VNI 5010 and 5020), by hand;
#   ovn    OVN: northbound and southbound databases and ovn-northd on
#          host 1, ovn-controller on each (chassis host1, host2),
#          Geneve between them; logical switches vlan10 and vlan20,
#          each with a port per host whose parent is that host's
#          uplink and whose tag is the VLAN.
#
# Guests (simguest processes, every test frame checked byte for byte):
# A1 on host 1 and A2 on host 2 on VLAN 10, B1 and B2 on VLAN 20.
#   1. A1 sends to A2, which echoes every frame back: A1 must get each.
#   2. The same from A2 to A1.
#   B1 and B2, connected all along, must have received nothing.
#   3. B1 sends to B2 (echoing) likewise, while A1 and A2 sit idle and
#      must receive nothing.
# Each sender starts with a broadcast, so flooding across the tunnel is
# checked to stay in its VLAN too.
#
# Needs root (namespaces). Exit 77 only when Open vSwitch (or, for
# ovn, OVN) is not installed or the userspace datapath cannot have taps
# (no /dev/net/tun).
#
# usage: check-ovs.sh vxlan|ovn XENSTORED_SIM SIMHV_TOOL NETBACKD SIMGUEST
set -u
if [ $# -ne 5 ] || { [ "$1" != vxlan ] && [ "$1" != ovn ]; }; then
	echo "usage: $0 vxlan|ovn XENSTORED_SIM SIMHV_TOOL NETBACKD SIMGUEST" >&2
	exit 2
fi
mode=$1 xsd=$2 hvtool=$3 netbackd=$4 simguest=$5
N=2000 # frames each way and phase

for p in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl; do
	if ! command -v "$p" > /dev/null; then
		echo "SKIP: no $p (apt-get install openvswitch-switch)"
		exit 77
	fi
done
if [ "$mode" = ovn ]; then
	for p in ovn-northd ovn-controller ovn-nbctl; do
		if ! command -v "$p" > /dev/null; then
			echo "SKIP: no $p (apt-get install ovn-central" \
			     "ovn-host)"
			exit 77
		fi
	done
fi
if [ ! -c /dev/net/tun ]; then
	echo "SKIP: no /dev/net/tun: Open vSwitch's userspace datapath" \
	     "makes its bridges' own ports as taps"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL: needs root for network namespaces (CI runs as root)"
	exit 1
fi
schema=/usr/share/openvswitch/vswitch.ovsschema

dir=$(mktemp -d /dev/shm/nb-ovs.XXXXXX) || exit 1
tag=$$
pids=""        # every process started here, killed at the end
guests=""      # simguests still running

fail() {
	echo "FAIL: $*"
	exit 1
}

cleanup() {
	for p in $guests $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $guests $pids; do
		wait "$p" 2>/dev/null
	done
	# The OVS and OVN daemons detach: their pid files say who they are.
	for f in "$dir"/h?/*.pid "$dir"/central/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for h in 1 2; do
		ip netns del "nbovs$tag-$h" 2>/dev/null
	done
	if [ -n "${NB_KEEP_TEST_DIR:-}" ]; then
		echo "kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Show what each host's daemons said, then fail.
fail_logs() {
	for f in "$dir"/h?/*.log "$dir"/central/*.log "$dir"/*.err; do
		[ -s "$f" ] || continue
		echo "---- $f"
		tail -n 40 "$f"
	done
	for h in 1 2; do
		[ -S "$dir/h$h/ovs-vswitchd.ctl" ] || continue
		echo "---- host $h: datapath flows, br-int MAC table"
		ovs-appctl -t "$dir/h$h/ovs-vswitchd.ctl" dpctl/dump-flows
		ovs-appctl -t "$dir/h$h/ovs-vswitchd.ctl" fdb/show br-int
	done
	fail "$@"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 on timeout.
wait_for() {
	n=$(($1 * 20))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

ns() { echo "nbovs$tag-$1"; }
vsctl() {
	_h=$1
	shift
	ovs-vsctl --db="unix:$dir/h$_h/db.sock" --timeout=20 "$@"
}
appctl() {
	_h=$1
	shift
	ovs-appctl -t "$dir/h$_h/ovs-vswitchd.ctl" "$@"
}

# ---- the two hosts and the underlay between them
for h in 1 2; do
	mkdir -p "$dir/h$h"
	ip netns add "$(ns $h)" || fail "ip netns add"
	# No IPv6 chatter from the namespace's interfaces.
	ip netns exec "$(ns $h)" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || fail "sysctl"
	ip -n "$(ns $h)" link set lo up
done
ip link add ul0 netns "$(ns 1)" type veth peer name ul0 netns "$(ns 2)" ||
	fail "underlay veth"

if [ "$mode" = ovn ]; then
	# OVN's central part (northbound and southbound databases in one
	# ovsdb-server, ovn-northd) runs on host 1; each host's
	# ovn-controller reaches it over a unix socket.
	c=$dir/central
	mkdir -p "$c"
	for db in nb sb; do
		ovsdb-tool create "$c/$db.db" \
			"/usr/share/ovn/ovn-$db.ovsschema" ||
			fail "ovsdb-tool create $db.db"
	done
	ip netns exec "$(ns 1)" ovsdb-server "$c/nb.db" "$c/sb.db" \
		--remote="punix:$c/ovn.sock" --unixctl="$c/ovsdb-server.ctl" \
		--pidfile="$c/ovsdb-server.pid" \
		--log-file="$c/ovsdb-server.log" --detach --no-chdir \
		2>> "$c/ovn-start.log" || fail_logs "OVN's ovsdb-server"
	ip netns exec "$(ns 1)" ovn-northd --ovnnb-db="unix:$c/ovn.sock" \
		--ovnsb-db="unix:$c/ovn.sock" --unixctl="$c/ovn-northd.ctl" \
		--pidfile="$c/ovn-northd.pid" --log-file="$c/ovn-northd.log" \
		--detach --no-chdir 2>> "$c/ovn-start.log" ||
		fail_logs "ovn-northd"
fi
nbctl() { ovn-nbctl --db="unix:$dir/central/ovn.sock" --timeout=20 "$@"; }

for h in 1 2; do
	d=$dir/h$h
	other=$((3 - h))
	# Open vSwitch of this host: its own database, sockets, logs.
	export OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d"
	ovsdb-tool create "$d/conf.db" "$schema" || fail "ovsdb-tool create"
	ip netns exec "$(ns $h)" ovsdb-server "$d/conf.db" \
		--remote="punix:$d/db.sock" --unixctl="$d/ovsdb-server.ctl" \
		--pidfile="$d/ovsdb-server.pid" \
		--log-file="$d/ovsdb-server.log" --detach --no-chdir \
		2>> "$d/ovs-start.log" ||
		fail_logs "ovsdb-server of host $h did not start"
	vsctl $h --no-wait init || fail_logs "ovs-vsctl init"
	ip netns exec "$(ns $h)" ovs-vswitchd "unix:$d/db.sock" \
		--unixctl="$d/ovs-vswitchd.ctl" \
		--pidfile="$d/ovs-vswitchd.pid" \
		--log-file="$d/ovs-vswitchd.log" --detach --no-chdir \
		2>> "$d/ovs-start.log" ||
		fail_logs "ovs-vswitchd of host $h did not start"

	# br-phy: the underlay NIC and the host's tunnel address.
	vsctl $h add-br br-phy -- set bridge br-phy datapath_type=netdev \
		other_config:hwaddr=02:00:c0:00:02:0$h \
		-- add-port br-phy ul0 || fail_logs "br-phy"
	# MTU: a 1514-byte frame plus VXLAN's 50 bytes of headers.
	ip -n "$(ns $h)" link set ul0 mtu 1600 up
	ip -n "$(ns $h)" addr add 192.0.2.$h/24 dev br-phy
	ip -n "$(ns $h)" link set br-phy up mtu 1600

	ip -n "$(ns $h)" link add nb0 type veth peer name nb0-ovs ||
		fail "veth nb0"
	ip -n "$(ns $h)" link set nb0 up
	ip -n "$(ns $h)" link set nb0-ovs up
	if [ "$mode" = vxlan ]; then
		# br-int: netbackd's uplink (a trunk: no tag) and one VXLAN
		# port per VLAN, each an access port of its VLAN with a VNI
		# of its own.
		vsctl $h add-br br-int \
			-- set bridge br-int datapath_type=netdev \
			-- add-port br-int nb0-ovs \
			-- add-port br-int vx10 tag=10 \
			-- set interface vx10 type=vxlan \
			options:remote_ip=192.0.2.$other options:key=5010 \
			-- add-port br-int vx20 tag=20 \
			-- set interface vx20 type=vxlan \
			options:remote_ip=192.0.2.$other options:key=5020 ||
			fail_logs "br-int"
		continue
	fi
	# OVN: this host is chassis host$h, its Geneve tunnels end at
	# 192.0.2.$h; ovn-controller programs br-int, in which netbackd's
	# uplink is the logical port nb0-h$h.
	vsctl $h add-br br-int \
		-- set bridge br-int datapath_type=netdev fail-mode=secure \
		-- add-port br-int nb0-ovs \
		-- set interface nb0-ovs external_ids:iface-id=nb0-h$h \
		-- set open_vswitch . external_ids:system-id=host$h \
		external_ids:ovn-remote="unix:$dir/central/ovn.sock" \
		external_ids:ovn-encap-type=geneve \
		external_ids:ovn-encap-ip=192.0.2.$h \
		external_ids:ovn-bridge-datapath-type=netdev ||
		fail_logs "br-int"
	OVN_RUNDIR="$d" ip netns exec "$(ns $h)" ovn-controller \
		"unix:$d/db.sock" --pidfile="$d/ovn-controller.pid" \
		--log-file="$d/ovn-controller.log" --detach --no-chdir \
		2>> "$d/ovs-start.log" ||
		fail_logs "ovn-controller of host $h did not start"
done
if [ "$mode" = ovn ]; then
	# The logical network: xenbr0 (untagged) holds each host's uplink;
	# VLAN N of an uplink is a port of its own (OVN's parent port and
	# tag) on logical switch vlanN, with addresses "unknown": any MAC
	# of the guests behind it.
	nbctl ls-add xenbr0 -- ls-add vlan10 -- ls-add vlan20 ||
		fail_logs "ovn-nbctl ls-add"
	for h in 1 2; do
		nbctl lsp-add xenbr0 nb0-h$h \
			-- lsp-add vlan10 vlan10-h$h nb0-h$h 10 \
			-- lsp-set-addresses vlan10-h$h unknown \
			-- lsp-add vlan20 vlan20-h$h nb0-h$h 20 \
			-- lsp-set-addresses vlan20-h$h unknown ||
			fail_logs "ovn-nbctl lsp-add"
	done
	# Until both chassis run what the logical network asks.
	nbctl --wait=hv sync || fail_logs "OVN: the chassis did not catch up"
	for h in 1 2; do
		t=$(vsctl $h --bare --columns=type find interface \
			name=ovn-host$((3 - h))-0)
		[ "$t" = geneve ] ||
			fail_logs "host $h: no Geneve port to the other chassis"
	done
	echo "ok   OVN: chassis host1 and host2, a Geneve port each way"
fi
for h in 1 2; do
	other=$((3 - h))
	# The route to the other host, as OVS's own tunnel routing sees it
	# (taken from the namespace's kernel table), and the other br-phy's
	# MAC in OVS's neighbour table: set here, so that no test frame is
	# lost while OVS would resolve it by ARP.
	wait_for 10 sh -c "ovs-appctl -t $dir/h$h/ovs-vswitchd.ctl \
		ovs/route/show | grep -q '192.0.2.0/24 dev br-phy'" ||
		fail_logs "host $h: OVS has no route to 192.0.2.0/24"
	appctl $h tnl/neigh/set br-phy 192.0.2.$other 02:00:c0:00:02:0$other \
		> /dev/null || fail_logs "tnl/neigh/set"
	# The tunnel is terminated once OVS knows br-phy's address (with
	# OVN, once ovn-controller made the Geneve port).
	wait_for 10 sh -c "ovs-appctl -t $dir/h$h/ovs-vswitchd.ctl \
		tnl/ports/show -v | grep -q 'dst=192.0.2.$h,'" ||
		fail_logs "host $h: VXLAN not listening on 192.0.2.$h"
done

# ---- netbackd of each host, on its own simulated hypervisor
for h in 1 2; do
	d=$dir/h$h
	"$xsd" --socket "$d/xs.sock" 2> "$d/xenstored.log" &
	pids="$pids $!"
	wait_for 10 test -S "$d/xs.sock" || fail "xenstored-sim of host $h"
	XENSTORED_PATH=$d/xs.sock "$hvtool" create "$d" ||
		fail "simhv-tool create"
	printf '[network xenbr0]\npif = net_af_packet0,iface=nb0\n' \
		> "$d/netbackd.conf"
	XENSTORED_PATH=$d/xs.sock ip netns exec "$(ns $h)" "$netbackd" \
		--sim "$d" --domid 0 -c "$d/netbackd.conf" \
		--log-file "$d/netbackd.log" > "$d/netbackd.out" 2>&1 &
	eval "nbpid_$h=$!"
	pids="$pids $!"
done
for h in 1 2; do
	wait_for 20 grep -q "serving /local/domain/0/backend/vif" \
		"$dir/h$h/netbackd.log" ||
		fail_logs "netbackd of host $h is not serving"
done

# ---- guests
# guest NAME HOST DOMID MAC VLAN ARGS...: a simguest in the background;
# its JSON line goes to $dir/NAME.json, its messages to $dir/NAME.err.
guest() {
	name=$1 h=$2 domid=$3 mac=$4 vlan=$5
	shift 5
	XENSTORED_PATH=$dir/h$h/xs.sock "$simguest" --hv "$dir/h$h" \
		--domid "$domid" --mac "$mac" --bridge "xenbr0.$vlan" \
		--timeout 60 "$@" > "$dir/$name.json" 2> "$dir/$name.err" &
	eval "pid_$name=$!"
	guests="$guests $!"
}
connected() {
	for g in "$@"; do
		wait_for 20 grep -q " connected, " "$dir/$g.err" ||
			fail_logs "guest $g did not connect"
	done
}
# reap NAME: wait for the guest to end; its exit status.
reap() {
	eval "p=\$pid_$1"
	wait "$p"
	r=$?
	guests=$(echo "$guests" | sed "s/ $p\b//")
	return $r
}
# stop NAME: SIGTERM an idle or echoing guest, then reap it.
stop() {
	eval "kill -TERM \$pid_$1"
	reap "$1"
}
# field NAME KEY: a number from the guest's JSON line.
field() {
	sed -n "s/.*\"$2\": \\([0-9]*\\).*/\\1/p" "$dir/$1.json"
}
A1=00:16:3e:0a:00:01 A2=00:16:3e:0a:00:02
B1=00:16:3e:14:00:01 B2=00:16:3e:14:00:02
t0=$(date +%s)

# Phases 1 and 2: VLAN 10 both ways, VLAN 20 listening.
guest b1 1 2 $B1 20 --idle
guest b2 2 2 $B2 20 --idle
guest a2 2 1 $A2 10 --echo --recv "$N"
connected b1 b2 a2
guest a1 1 1 $A1 10 --send "$N" --size 1514 --dst $A2 --recv "$N" \
	--window 64 --announce --timeout 20
reap a1 || fail_logs "A1 -> A2 -> A1, 1514 bytes:" \
	"$(tail -n 1 "$dir/a1.err")"
stop a2 || fail_logs "A2 did not get every frame of A1 intact"
echo "ok   VLAN 10, host 1 to host 2 and back: $N frames of 1514 bytes"

guest a1e 1 1 $A1 10 --echo --recv "$N"
connected a1e
guest a2s 2 1 $A2 10 --send "$N" --size 60 --dst $A1 --recv "$N" \
	--window 64 --announce --timeout 20
reap a2s || fail_logs "A2 -> A1 -> A2, 60 bytes:" \
	"$(tail -n 1 "$dir/a2s.err")"
stop a1e || fail_logs "A1 did not get every frame of A2 intact"
echo "ok   VLAN 10, host 2 to host 1 and back: $N frames of 60 bytes"

for g in b1 b2; do
	stop $g || fail_logs "guest $g broke"
	n=$(field $g rx_packets)
	[ "$n" = 0 ] || fail_logs "$g on VLAN 20 received $n frames of VLAN 10"
done
echo "ok   VLAN 20 received none of VLAN 10's $((4 * N + 2)) frames"

# Phase 3: VLAN 20 across, VLAN 10 listening.
guest a1i 1 1 $A1 10 --idle
guest a2i 2 1 $A2 10 --idle
guest b2e 2 2 $B2 20 --echo --recv "$N"
connected a1i a2i b2e
guest b1s 1 2 $B1 20 --send "$N" --size 777 --dst $B2 --recv "$N" \
	--window 64 --announce --timeout 20
reap b1s || fail_logs "B1 -> B2 -> B1, 777 bytes:" \
	"$(tail -n 1 "$dir/b1s.err")"
stop b2e || fail_logs "B2 did not get every frame of B1 intact"
for g in a1i a2i; do
	stop $g || fail_logs "guest $g broke"
	n=$(field $g rx_packets)
	[ "$n" = 0 ] || fail_logs "$g on VLAN 10 received $n frames of VLAN 20"
done
echo "ok   VLAN 20, host 1 to host 2 and back: $N frames of 777 bytes;" \
     "VLAN 10 received none"

# What crossed the underlay, from OVS's own counters of ul0: every
# frame of the three phases and its echo, each in one VXLAN packet.
# (Not the VXLAN ports' own tx counters: with the userspace datapath of
# OVS 3.1 they came out at twice what was sent.)
for h in 1 2; do
	t=$(ovs-ofctl dump-ports "unix:$dir/h$h/br-phy.mgmt" ul0 |
		sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p')
	echo "     host $h: $t tunnel packets sent to the other host"
	[ "${t:-0}" -ge $((3 * N)) ] ||
		fail_logs "host $h: the traffic did not cross the underlay"
done
echo "ok   $(($(date +%s) - t0)) s of traffic"

# Each netbackd stops as it should: every grant and channel given back.
for h in 1 2; do
	eval "p=\$nbpid_$h"
	kill -TERM "$p"
	wait "$p"
	r=$?
	pids=$(echo "$pids" | sed "s/ $p\b//")
	[ "$r" = 0 ] || fail_logs "netbackd of host $h exited with $r"
done
echo "ok   both netbackds stopped with status 0"
