#!/bin/sh
# The switch on one core, side by side in one run (issue #5, ../shared/
# BENCH.md): replayed pcap traffic (64 "A" hosts -> 64 "B" hosts) from a
# DPDK port through one network to a sink, forwarded by
#   - netbackd (no guests: its switch between two DPDK ports),
#   - dpdk-testpmd io forwarding (no switching: the limit of the method),
#   - Open vSwitch's DPDK datapath doing NORMAL learning.
# Cases: 64 B, 1514 B, 64 B over 8 VLANs. These machines are shared and
# a single window can be off by a third, so each case runs ROUNDS times,
# the three forwarders taking turns, and each figure is the median of
# its rounds (each round's figure is printed too, as *_roundN). One JSON
# line per figure, then the ratios of the medians. Uses 2 MiB hugepages
# when it can reserve them (and gives them back), else --no-huge; the
# `memory` line says which.
# usage: [SWITCH_CASES="64:0 1514:0 64:8"] bench/switch-pcap.sh [BUILD-DIR]
#        [WINDOW-SECONDS] [ROUNDS]   (a case: SIZE:VLANS)
set -eu
build=$(cd "${1:-build}" && pwd)
window=${2:-5}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sim-lib.sh"
need=""
command -v dpdk-testpmd >/dev/null || need="$need dpdk-dev"
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] ||
	need="$need openvswitch-switch-dpdk"
if [ -n "$need" ]; then
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
# Debian starts a system OVS with the package; it would take the cores.
systemctl stop openvswitch-switch 2>/dev/null || true
work=$(mktemp -d /tmp/swbench.XXXXXX)
old_huge=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
	echo "$old_huge" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mem=nohuge
# DPDK finds 2 MiB pages through a hugetlbfs mount.
if ! awk '$3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
if awk '$3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts &&
   echo 1024 > /proc/sys/vm/nr_hugepages 2>/dev/null &&
   [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 512 ]; then
	mem=huge
fi
json() { printf '{"bench": "switch", "metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"; }
printf '{"bench": "switch", "metric": "memory", "value": "%s", "unit": "%s"}\n' \
	"$mem" "$([ $mem = huge ] && echo '2 MiB hugepages' || echo 'no hugepages')"

# netbackd: the pcap port is the network's uplink; the sink is a second
# port, net_null dropping what it is given, with the 64 B hosts as static
# entries on it (netbackctl fdb-add), as in the OVS run. Its forwarded
# count is read from two statistics lines.
netbackd_rate() { # PCAP LABEL VLANS
	sim_up "$build" nbsw
	cat > "$dir/nb.conf" <<CONF
[netbackd]
workers = 1
poll = always
[network bench]
pif = net_pcap0,rx_pcap=$1,infinite_rx=1
port = net_null1,no-rx=1
CONF
	"$build/backend/netbackd" --sim "$dir" \
		--domid 0 -c "$dir/nb.conf" -s "$window" \
		--duration $((window * 2 + 3)) --log-file "$dir/nb.log" \
		>/dev/null 2>&1 &
	nb=$!
	for _ in $(seq 100); do [ -S "$dir/netbackd.sock" ] && break; sleep 0.05; done
	# The B hosts (gen-pcap.py: 02:00:0b:00:HH:LL) live behind the sink.
	j=0
	while [ $j -lt 64 ]; do
		vlan=0
		[ "$3" -gt 0 ] && vlan=$((10 + j % $3))
		"$build/backend/netbackctl" -s "$dir/netbackd.sock" fdb-add \
			bench "$(printf '02:00:0b:00:%02x:%02x' $((j >> 8)) $((j & 255)))" \
			net_null1 "vlan=$vlan" >/dev/null
		j=$((j + 1))
	done
	wait $nb || true
	awk -v w="$window" -v l="$2" '
		/port net_null1 \(port\)/ {
			for (i = 1; i <= NF; i++) if ($i == "tx") { t[++k] = $(i + 1); break }
		}
		END {
			if (k < 2) { print "switch-pcap: no netbackd counters" > "/dev/stderr"; exit 1 }
			printf "{\"bench\": \"switch\", \"metric\": \"netbackd_%s\", \"value\": %.2f, \"unit\": \"Mpps\"}\n", l, (t[2] - t[1]) / w / 1e6
		}' "$dir/nb.log"
	sim_down
}

out=$work/results
: > "$out"
printf '{"bench": "switch", "metric": "rounds", "value": %s, "unit": "medians of"}\n' "$rounds"
for c in ${SWITCH_CASES:-64:0 1514:0 64:8}; do
	size=${c%:*} vlans=${c#*:}
	label="${size}B"
	[ "$vlans" -gt 0 ] && label="${size}B_${vlans}vlans"
	python3 "$here/gen-pcap.py" "$work/t.pcap" --size "$size" \
		--vlans "$vlans" >/dev/null
	r=1
	while [ "$r" -le "$rounds" ]; do
		netbackd_rate "$work/t.pcap" "$label" "$vlans"
		"$here/testpmd-anchor.sh" "$work/t.pcap" "$label" "$window" $mem
		"$here/ovs-anchor.sh" "$work/t.pcap" "$label" "$window" 64 \
			"$vlans" "$mem" || echo "switch-pcap: OVS run failed" >&2
		r=$((r + 1))
	done > "$work/case"
	# Each round's figure, renamed; then the median of each.
	python3 - "$work/case" <<'PY' | tee -a "$out"
import json, sys
seen = {}
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    o = json.loads(line)
    seen.setdefault(o["metric"], []).append(o)
for metric, obs in seen.items():
    for i, o in enumerate(obs, 1):
        print(json.dumps(dict(o, metric=f"{metric}_round{i}")))
    vals = sorted(o["value"] for o in obs)
    print(json.dumps(dict(obs[0], value=vals[(len(vals) - 1) // 2])))
PY
done
python3 - "$out" <<'PY'
import json, sys
v = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "_round" not in o["metric"]:
        v[o["metric"]] = o["value"]
for label in ("64B", "1514B", "64B_8vlans"):
    nb = v.get("netbackd_" + label)
    for anchor, name in (("ovs_normal_", "vs_ovs_normal"),
                         ("testpmd_io_", "vs_testpmd_io")):
        a = v.get(anchor + label)
        if nb is not None and a:
            print(json.dumps({"bench": "switch", "metric": f"netbackd_{label}_{name}",
                              "value": round(nb / a, 2), "unit": "ratio"}))
PY
