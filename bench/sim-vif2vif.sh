#!/bin/bash
# Guest A -> netbackd's switch -> guest B on the simulated hypervisor, one
# worker core busy-polling, for 64, 512 and 1514 B frames. Prints JSON
# lines: the receive rate, grant-copy calls and notifications per packet,
# and beside them the published kernel-netback figure they answer
# (0.68 Mpps guest TX per queue, Xen's netif-staging-grants.pandoc; not
# measured here: no Xen runs on these machines). Each size runs twice:
# with grant copies (as every netfront does) and with static grants
# (both guests hand their buffer grants over the control ring, netif.h's
# ADD_GREF_MAPPING), the saving printed side by side. Then guest ->
# DPDK null port. Cycles per packet: the worker's TSC cycles spent in
# loop passes that moved packets (netbackctl status), per packet. System
# calls and grant-copy hypercalls per packet: what the
# same work would cost on Xen (each seam call is a system call there).
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
	$g --domid 2 --mac 00:16:3e:00:00:02 --recv "$frames" --timeout 60 --announce \
		$extra >"$dir/rx" 2>/dev/null &
	rx=$!
	sleep 1
	# Teach the switch where B is, then send open loop.
	$g --domid 1 --mac 00:16:3e:00:00:01 --dst 00:16:3e:00:00:02 \
		--send "$((frames + frames / 2))" --size "$size" --timeout 60 \
		$extra >"$dir/tx" 2>/dev/null
	wait $rx
	stats=$("$build/sim/hv/simhv-tool" stats "$dir")
	status=$("$build/backend/netbackctl" -s "$dir/netbackd.sock" --json status)
	kill $nb; wait $nb 2>/dev/null
	python3 - "$tag$size" "$dir/rx" "$dir/tx" "$stats" "$status" <<'PY'
import json, sys
size, rxf, txf, stats = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
status = json.loads(sys.argv[5])
rx = json.loads(open(rxf).read().strip().splitlines()[-1])
tx = json.loads(open(txf).read().strip().splitlines()[-1])
pkts = rx["received"] + tx["tx_ok"]          # copies: RX side + TX side
def out(m, v, u):
    print(json.dumps({"bench": "sim-vif2vif", "metric": m, "value": round(v, 4), "unit": u}))
out(f"vif2vif_{size}B_rx_rate", rx["rx_mpps"], "Mpps")
out(f"vif2vif_{size}B_copy_calls_per_packet", stats["copy_calls"] / max(pkts, 1), "calls/packet")
out(f"vif2vif_{size}B_grant_ops_per_packet", stats["copy_segs"] / max(pkts, 1), "grant copy segments/packet")
out(f"vif2vif_{size}B_notifies_per_packet", stats["notifies"] / max(pkts, 1), "notifications/packet")
# what the same work costs on Xen in system calls and hypercalls
ws = status["workers"]
# (per packet only: the worker polls always here, so it never sleeps)
sysc = sum(w["system_calls"] for w in ws)
out(f"vif2vif_{size}B_system_calls_per_packet", sysc / max(pkts, 1), "calls/packet")
out(f"vif2vif_{size}B_copy_hypercalls_per_packet", sum(w["grant_copy_hypercalls"] for w in ws) / max(pkts, 1), "hypercalls/packet")
# the worker's cycles in loop passes that moved packets, per frame forwarded
busy = sum(w["busy_cycles"] for w in status["workers"])
out(f"vif2vif_{size}B_worker_cycles_per_packet", busy / max(rx["received"], 1), "cycles/packet")
out(f"vif2vif_{size}B_worker_ceiling", status["tsc_hz"] / max(busy / max(rx["received"], 1), 1) / 1e6, "Mpps (TSC Hz / cycles per packet)")
PY
	sim_down
done
done
# Guest -> switch -> DPDK null port (the network's uplink, net_null
# dropping what it is given): the guest's TX rate and the worker's cost.
for size in 64 512 1514; do
	sim_up "$build" nbbench
	"$build/backend/netbackd" --sim "$dir" --domid 0 --poll always \
		--network "xenbr0=net_null0,no-rx=1" \
		--log-file "$dir/nb.log" >/dev/null 2>&1 &
	nb=$!
	sleep 1
	# To a host never seen: flooded, and the uplink is the only port.
	"$build/sim/netfront/simguest" --hv "$dir" --domid 1 \
		--mac 00:16:3e:00:00:01 --dst 02:00:00:00:00:99 \
		--send "$frames" --size "$size" --timeout 60 >"$dir/tx" 2>/dev/null
	status=$("$build/backend/netbackctl" -s "$dir/netbackd.sock" --json status)
	port=$("$build/backend/netbackctl" -s "$dir/netbackd.sock" --json stats net_null0)
	kill $nb; wait $nb 2>/dev/null
	python3 - "$size" "$dir/tx" "$status" "$port" <<'PY'
import json, sys
size, txf, status, port = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
tx = json.loads(open(txf).read().strip().splitlines()[-1])
sent = port["counters"]["tx_packets"]
busy = sum(w["busy_cycles"] for w in status["workers"])
def out(m, v, u):
    print(json.dumps({"bench": "sim-vif2port", "metric": m, "value": round(v, 4), "unit": u}))
out(f"vif2port_{size}B_tx_rate", tx["tx_ok"] / max(tx["seconds"], 1e-9) / 1e6, "Mpps")
out(f"vif2port_{size}B_port_tx_packets", sent, "packets")
out(f"vif2port_{size}B_worker_cycles_per_packet", busy / max(sent, 1), "cycles/packet")
PY
	sim_down
done
json anchor_kernel_netback_guest_tx_64B 0.68 Mpps
