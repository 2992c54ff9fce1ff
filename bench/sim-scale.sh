#!/bin/sh
# How the cost grows with the number of vifs (issue #6, item 2): on the
# simulated hypervisor, one netbackd worker (busy-polling), N connected
# vifs of which two carry 64-byte frames guest A -> switch -> guest B and
# the rest sit connected and silent (posted RX buffers, event channels
# bound, switch ports present). One JSON line per figure. A->B needs
# two vifs: N below 2 runs with 2 (vifs_connected says so).
# The silent guests run as `simguest --count`, up to 100 per process,
# the processes side by side; the figures include how long they took to
# connect and the CPU time xenstored-sim spent (the bound before).
# usage: bench/sim-scale.sh [BUILD-DIR] [FRAMES] [N...]   (default N: 2 8 64 1000)
set -u
. "$(dirname "$0")/sim-lib.sh"
build=$(cd "${1:-build}" && pwd)
frames=${2:-500000}
shift 2 2>/dev/null || shift $#
counts=${*:-2 8 64 1000}
mac() { printf '00:16:3e:00:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }
# CPU seconds (user + system) of a process so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) / t }' "/proc/$1/stat"; }
for n in $counts; do
	sim_up "$build" nbscale
	"$build/backend/netbackd" --sim "$dir" --domid 0 --poll always \
		--log-file "$dir/nb.log" >/dev/null 2>&1 &
	nb=$!
	sleep 1
	rss0=$(ps -o rss= -p $nb)
	# The silent ones: domains 3..N, 100 to a simguest process.
	idle=""
	t0=$(date +%s.%N)
	i=3
	while [ $i -le "$n" ]; do
		c=$((n - i + 1))
		[ $c -le 100 ] || c=100
		"$build/sim/netfront/simguest" --hv "$dir" --domid $i \
			--count $c --mac "$(mac $i)" --idle --timeout 900 \
			>/dev/null 2>&1 &
		idle="$idle $!"
		i=$((i + c))
	done
	for _ in $(seq 3000); do
		[ "$(grep -c ': connected' "$dir/nb.log")" -ge $((n - 2)) ] && break
		sleep 0.2
	done
	t1=$(date +%s.%N)
	xscpu=$(cpu "$xs")
	g="$build/sim/netfront/simguest --hv $dir"
	$g --domid 2 --mac "$(mac 2)" --recv "$frames" --announce --timeout 120 \
		>"$dir/rx" 2>/dev/null &
	rx=$!
	sleep 1
	up=$(grep -c ': connected' "$dir/nb.log")
	rss1=$(ps -o rss= -p $nb)
	"$build/sim/hv/simhv-tool" stats "$dir" > "$dir/stats0"
	$g --domid 1 --mac "$(mac 1)" --dst "$(mac 2)" \
		--send "$((frames + frames / 2))" --size 64 --timeout 120 \
		>"$dir/tx" 2>/dev/null
	wait $rx
	"$build/sim/hv/simhv-tool" stats "$dir" > "$dir/stats1"
	if [ -n "$idle" ]; then
		kill $idle 2>/dev/null
		wait $idle 2>/dev/null
	fi
	kill $nb; wait $nb 2>/dev/null
	python3 - "$n" "$up" "$rss0" "$rss1" "$dir" "$t0" "$t1" "$xscpu" <<'PY'
import json, sys
n, up, rss0, rss1, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
t0, t1, xscpu = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
def last(f):
    return json.loads(open(f).read().strip().splitlines()[-1])
rx, tx = last(d + "/rx"), last(d + "/tx")
s0, s1 = json.load(open(d + "/stats0")), json.load(open(d + "/stats1"))
pkts = rx["received"] + tx["tx_ok"]
def out(m, v, u):
    print(json.dumps({"bench": "sim-scale", "metric": m, "value": round(v, 4), "unit": u}))
out(f"{n}vifs_connected", up + 1, "vifs")
out(f"{n}vifs_64B_rx_rate", rx["rx_mpps"], "Mpps")
out(f"{n}vifs_copy_calls_per_packet", (s1["copy_calls"] - s0["copy_calls"]) / max(pkts, 1), "calls/packet")
out(f"{n}vifs_notifies_per_packet", (s1["notifies"] - s0["notifies"]) / max(pkts, 1), "notifications/packet")
if n > 2:
    out(f"{n}vifs_rss_per_vif", (rss1 - rss0) / (up + 1), "KiB/vif")
    out(f"{n}vifs_silent_connect_time", t1 - t0, "s")
    out(f"{n}vifs_xenstored_cpu_at_connect", xscpu, "s")
PY
	sim_down
done
