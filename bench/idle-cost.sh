#!/bin/sh
# Idle cost (issue #6): CPU time netbackd uses with 16 connected, silent
# vifs over 10 s on the simulated hypervisor, in adaptive mode (workers
# sleep on their event channels) and, as the contrast, with
# `poll = always`. From /proc/PID/stat (utime + stime). JSON lines.
# usage: bench/idle-cost.sh [BUILD-DIR] [VIFS] [SECONDS]
set -eu
. "$(dirname "$0")/sim-lib.sh"
build=$(cd "${1:-build}" && pwd)
vifs=${2:-16}
secs=${3:-10}
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
for mode in adaptive always; do
	sim_up "$build" nbidle
	"$build/backend/netbackd" --sim "$dir" --domid 0 --poll "$mode" \
		--log-file "$dir/nb.log" >/dev/null 2>&1 &
	nb=$!
	sleep 1
	pids=""
	i=1
	while [ $i -le "$vifs" ]; do
		"$build/sim/netfront/simguest" --hv "$dir" --domid $i \
			--mac "$(printf '00:16:3e:00:%02x:%02x' $((i >> 8)) $((i & 255)))" \
			--idle --timeout $((secs + 60)) >/dev/null 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	for _ in $(seq 300); do
		[ "$(grep -c ': connected' "$dir/nb.log")" -ge "$vifs" ] && break
		sleep 0.1
	done
	up=$(grep -c ': connected' "$dir/nb.log")
	sleep 1
	t0=$(cpu_ticks $nb)
	sleep "$secs"
	t1=$(cpu_ticks $nb)
	kill $pids 2>/dev/null || true
	wait $pids 2>/dev/null || true
	kill $nb; wait $nb 2>/dev/null || true
	sim_down
	awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$secs" -v m="$mode" \
	    -v n="$vifs" -v up="$up" 'BEGIN {
		if (up < n) { printf "idle-cost: only %d of %d vifs connected\n", up, n > "/dev/stderr"; exit 1 }
		printf "{\"bench\": \"idle-cost\", \"metric\": \"%s_%dvifs_cpu_seconds_per_%ds\", \"value\": %.3f, \"unit\": \"s\"}\n", m, n, s, (b - a) / hz
		printf "{\"bench\": \"idle-cost\", \"metric\": \"%s_%dvifs_cpu_share\", \"value\": %.2f, \"unit\": \"%% of one core\"}\n", m, n, 100 * (b - a) / hz / s }'
done
