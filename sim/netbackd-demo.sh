#!/bin/bash
# The main job on its embedded default: netbackd serving simulated guests.
# Starts xenstored-sim and a simulated hypervisor in a fresh directory,
# netbackd on it, and four simulated guests on one network: two echo
# every frame back, two send test frames to them and check every echoed
# byte. netbackd prints its per-vif counters each second; netbackctl
# captures one vif meanwhile and shows the switch's table at the end.
# Ends by itself after the traffic (or on Ctrl-C) and removes everything.
#   usage: netbackd-demo [FRAMES] [SIZE]
set -u
bin=$(cd "$(dirname "$0")" && pwd)
frames=${1:-50000}
size=${2:-512}
dir=$(mktemp -d /dev/shm/netbackd-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

"$bin/xenstored/xenstored-sim" --socket "$dir/xs.sock" 2>/dev/null &
pids+=($!)
export XENSTORED_PATH=$dir/xs.sock
for _ in $(seq 100); do [ -S "$dir/xs.sock" ] && break; sleep 0.05; done
"$bin/hv/simhv-tool" create "$dir" || exit 1

echo "demo: netbackd serving simulated guests in $dir"
"$bin/../backend/netbackd" --sim "$dir" --domid 0 --network xenbr0 \
	--stats-interval 1 2>&1 | sed -u 's/^/  /' &
pids+=($!)
sleep 1
g="$bin/netfront/simguest --hv $dir"
$g --domid 1 --mac 00:16:3e:00:00:01 --echo --timeout 60 >"$dir/g1" 2>&1 &
pids+=($!)
$g --domid 2 --mac 00:16:3e:00:00:02 --echo --timeout 60 >"$dir/g2" 2>&1 &
pids+=($!)
sleep 1
ctl="$bin/../backend/netbackctl -s $dir/netbackd.sock"
# A capture of guest 1's vif while the traffic runs, as tcpdump would.
$ctl capture vif1.0 -w "$dir/vif1.pcapng" -c 1000 2>"$dir/cap.err" &
cap=$!
sleep 0.5
$g --domid 3 --mac 00:16:3e:00:00:03 --dst 00:16:3e:00:00:01 \
	--send "$frames" --recv "$frames" --window 256 --size "$size" --timeout 30 >"$dir/g3" 2>&1 &
s1=$!
$g --domid 4 --mac 00:16:3e:00:00:04 --dst 00:16:3e:00:00:02 \
	--send "$frames" --recv "$frames" --window 256 --size "$size" --timeout 30 >"$dir/g4" 2>&1 &
s2=$!
rc=0
wait $s1 || rc=1
wait $s2 || rc=1
echo "demo: senders (each frame sent, echoed back, every byte checked):"
grep -h '^{' "$dir/g3" "$dir/g4" | sed 's/^/  /'
echo "demo: what netbackd learnt, asked as an operator would (netbackctl fdb xenbr0):"
$ctl fdb xenbr0 | sed 's/^/  /' || rc=1
kill -INT $cap 2>/dev/null
wait $cap || rc=1
echo "demo: netbackctl capture vif1.0 -w vif1.pcapng -c 1000: $(tail -1 "$dir/cap.err" | sed 's/^netbackctl: //')"
if command -v tshark >/dev/null; then
	echo "demo: its first packets, as tshark reads them:"
	tshark -r "$dir/vif1.pcapng" -c 4 2>/dev/null | sed 's/^/  /'
fi
sleep 1.5
exit $rc
