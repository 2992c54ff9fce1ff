#!/bin/bash
# Guest A -> netbackd's switch -> guest B on the simulated hypervisor, one
# worker core busy-polling, for 64, 512 and 1514 B frames. Prints JSON
# lines: the receive rate, grant-copy calls and notifications per packet,
# and beside them the published kernel-netback figure they answer
# (0.68 Mpps guest TX per queue, Xen's netif-staging-grants.pandoc; not
# measured here: no Xen runs on these machines). Each size runs twice:
# with grant copies (as every netfront does) and with static grants
# (both guests hand their buffer grants over the control ring, netif.h's
# ADD_GREF_MAPPING), the saving printed side by side.
#   usage: bench/sim-vif2vif.sh [BUILD_DIR] [FRAMES]
set -u
. "$(dirname "$0")/sim-lib.sh"
build=$(cd "${1:-build}" && pwd)
frames=${2:-1000000}
json() { printf '{"bench": "sim-vif2vif", "metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"; }
for mode in copy static; do
for size in 64 512 1514; do
	extra=""
	tag=""
	if [ $mode = static ]; then
		extra="--static-grants"
		tag="static_"
	fi
	sim_up "$build" nbbench
	"$build/backend/netbackd" --sim "$dir" --domid 0 --poll always \
		--log-file "$dir/nb.log" >/dev/null 2>&1 &
	nb=$!
	sleep 1
	g="$build/sim/netfront/simguest --hv $dir"
	$g --domid 2 --mac 00:16:3e:00:00:02 --recv "$frames" --timeout 60 \
		$extra >"$dir/rx" 2>/dev/null &
	rx=$!
	sleep 1
	# Teach the switch where B is, then send open loop.
	$g --domid 1 --mac 00:16:3e:00:00:01 --dst 00:16:3e:00:00:02 \
		--send "$((frames + frames / 2))" --size "$size" --timeout 60 \
		$extra >"$dir/tx" 2>/dev/null
	wait $rx
	stats=$("$build/sim/hv/simhv-tool" stats "$dir")
	kill $nb; wait $nb 2>/dev/null
	python3 - "$tag$size" "$dir/rx" "$dir/tx" "$stats" <<'PY'
import json, sys
size, rxf, txf, stats = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
rx = json.loads(open(rxf).read().strip().splitlines()[-1])
tx = json.loads(open(txf).read().strip().splitlines()[-1])
pkts = rx["received"] + tx["tx_ok"]          # copies: RX side + TX side
def out(m, v, u):
    print(json.dumps({"bench": "sim-vif2vif", "metric": m, "value": round(v, 4), "unit": u}))
out(f"vif2vif_{size}B_rx_rate", rx["rx_mpps"], "Mpps")
out(f"vif2vif_{size}B_copy_calls_per_packet", stats["copy_calls"] / max(pkts, 1), "calls/packet")
out(f"vif2vif_{size}B_grant_ops_per_packet", stats["copy_segs"] / max(pkts, 1), "grant copy segments/packet")
out(f"vif2vif_{size}B_notifies_per_packet", stats["notifies"] / max(pkts, 1), "notifications/packet")
PY
	sim_down
done
done
json anchor_kernel_netback_guest_tx_64B 0.68 Mpps
