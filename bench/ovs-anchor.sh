#!/bin/sh
# Open vSwitch's DPDK datapath doing NORMAL (learning) forwarding from a
# pcap replay port to a null port on one PMD core (../shared/BENCH.md).
# The B hosts are taught with static fdb entries. Prints one JSON line:
# Mpps forwarded over WINDOW seconds.
# usage: ovs-anchor.sh PCAP LABEL WINDOW HOSTS VLANS huge|nohuge
set -eu
pcap=$1 label=$2 window=$3 hosts=$4 vlans=$5 mem=$6
vswitchd=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
d=$(mktemp -d /tmp/ovsb.XXXXXX)
export OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d OVS_SYSCONFDIR=$d
db=unix:$d/db.sock
vs() { ovs-vsctl --db=$db --timeout=60 "$@"; }
cleanup() {
	[ -f "$d/ovs-vswitchd.pid" ] && kill "$(cat "$d/ovs-vswitchd.pid")" 2>/dev/null
	[ -f "$d/ovsdb-server.pid" ] && kill "$(cat "$d/ovsdb-server.pid")" 2>/dev/null
	sleep 1
	rm -rf "$d"
}
trap cleanup EXIT
ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote=punix:"$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
	--detach --log-file="$d/ovsdb.log" "$d/conf.db"
vs --no-wait init
if [ "$mem" = huge ]; then
	extra="--no-pci --file-prefix=ovsb$$"
else
	extra="--no-pci --file-prefix=ovsb$$ --no-huge --legacy-mem -m 1024"
fi
vs --no-wait set Open_vSwitch . other_config:dpdk-init=true \
	other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
	other_config:dpdk-extra="$extra"
"$vswitchd" "$db" --pidfile="$d/ovs-vswitchd.pid" --detach \
	--log-file="$d/vswitchd.log" >/dev/null 2>&1
vs add-br br0 -- set bridge br0 datapath_type=netdev
vs add-port br0 p0 -- set Interface p0 type=dpdk \
	"options:dpdk-devargs=net_pcap0,rx_pcap=$pcap,infinite_rx=1"
vs add-port br0 p1 -- set Interface p1 type=dpdk \
	options:dpdk-devargs=net_null0,no-rx=1
# The B hosts (gen-pcap.py: 02:00:0b:00:HH:LL) live behind p1.
j=0
while [ $j -lt "$hosts" ]; do
	vlan=0
	[ "$vlans" -gt 0 ] && vlan=$((10 + j % vlans))
	ovs-appctl -t "$(ls "$d"/ovs-vswitchd*.ctl)" fdb/add br0 p1 $vlan \
		"$(printf '02:00:0b:00:%02x:%02x' $((j >> 8)) $((j & 255)))" >/dev/null
	j=$((j + 1))
done
tx() { vs get interface p1 statistics:tx_packets; }
# PMD threads and the pcap replay take a few seconds to settle.
sleep 6
a=$(tx)
sleep "$window"
b=$(tx)
awk -v a="$a" -v b="$b" -v w="$window" -v l="$label" 'BEGIN {
	if (b <= a) { print "ovs-anchor: no packets forwarded" > "/dev/stderr"; exit 1 }
	printf "{\"bench\": \"switch\", \"metric\": \"ovs_normal_%s\", \"value\": %.2f, \"unit\": \"Mpps\"}\n", l, (b - a) / w / 1e6 }'
