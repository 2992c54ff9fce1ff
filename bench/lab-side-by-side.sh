#!/bin/bash
# The lab's side-by-side figures (issues #6 and #16): the same guest
# traffic through kernel netback + a Linux bridge, netbackd in dom0
# (dom0 on the network through a netfront of its own, netbackd-host-vif,
# README's recommendation) and netbackd in a driver domain (the network
# stub domain, its uplink af_packet on its own netfront; dom0 on its
# network through a netfront of dom0's, xl network-attach backend=dd),
# Xen 4.17 under QEMU TCG. Rounds are interleaved: each round boots the
# three backends once (kernel-cpu-cost, netbackd-cpu-cost,
# netbackd-dd-cpu-cost, the first of them rotating from round to round),
# and every figure is the median over the rounds, so that the host's
# load drifting over the run falls on all three alike.
#
# In each boot two guests share the backend (one queue each, default
# offloads) and dom0 is 10.0.0.1 on their network; phases of 10 s
# (cpu_cost in tests/lab/dom0-init.sh): idle; TCP and 18-byte UDP
# guest2 -> guest1; 20 pings guest2 -> guest1, 0.5 s apart; TCP
# guest2 -> dom0 and dom0 -> guest2; idle again. CPU time is Xen's own
# per-domain accounting (`xl list`, read in dom0 before and after each
# phase; not /proc/stat, which undercounts in a PV dom0 under
# emulation), of Domain-0, and of the driver domain too when netbackd
# runs there. "net" figures subtract the idle baseline (CPU-s per
# second, idle phases at both ends, times the phase's length), "gross"
# ones do not. Per GB and per thousand packets the guests received
# (packets from the UDP phase only: in TCP the guests count GSO/GRO
# packets). netbackd's own counts (system calls, grant-copy hypercalls,
# wake-ups): netbackctl status in dom0, the totals netbackd logs on
# SIGHUP in the driver domain; the kernel has no such counter.
#
# Prints one JSON object per figure and the netbackd / kernel ratio
# beside each (costs: below 1 means netbackd spends less); each boot's
# figures go to stderr. Nothing is asserted (TCG makes absolute figures
# meaningless, ratios less so).
#   usage: bench/lab-side-by-side.sh [BUILD_DIR]   (~35 min with 3 rounds)
#   env:   LAB_BENCH_ROUNDS=N  rounds (default 3)
#          LAB_BENCH_KEEP=DIR  keep every boot's logs in DIR
#          LAB_BENCH_ENV="NAME=VALUE ..."  more for the boots' dom0 (e.g.
#                              COST_HOSTPORT=vhost or tap for dom0 on a
#                              virtio-user/vhost-net or net_tap host port)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
rounds=${LAB_BENCH_ROUNDS:-3}
if [ -n "${LAB_BENCH_KEEP:-}" ]; then
	mkdir -p "$LAB_BENCH_KEEP"
	work=$(cd "$LAB_BENCH_KEEP" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
json() {
	printf '{"bench": "lab-side-by-side", "metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'
}

# figures LOGDIR: one boot's figures from its LAB-COST lines, one line:
#   idle tcp_mbit tcp_s_per_gb_net tcp_s_per_gb_gross udp_pps
#   udp_ms_per_kpkt_net udp_ms_per_kpkt_gross ping_median_ms up_mbit
#   down_mbit syscalls_per_pkt hypercalls_per_pkt pkts_per_wake
#   syscalls_per_wake, then the UDP phase's gross CPU per 1000 packets
#   split: dom0's user, system and irq time by its own count, the rest
#   of Xen's figure (Xen's time on dom0's behalf), netbackd's user and
#   system time; and its copy calls per packet; then, from the TCP
#   phases, netbackd's copy segments per 4 KiB page the guests received
# (each the median over the boot's own rounds; the counts from the UDP
# phases, 0 where netbackd does not run in dom0).
figures() {
	tr -d '\r' <"$1/console.log" | awk '
	/LAB-COST [a-z0-9]+ cpu_s / {
		sub(/.*LAB-COST /, "LAB-COST ")
		t = $2
		for (i = 3; i < NF; i += 2) {
			if ($i == "result") break
			v[t, $i] = $(i + 1)
		}
		for (i = 1; i < NF; i++) {
			if ($i == "mbit") v[t, "mbit"] = $(i + 1)
			if ($i == "pps") v[t, "pps"] = $(i + 1)
			if ($i == "median_ms") v[t, "median_ms"] = $(i + 1)
		}
		k = t; sub(/[0-9]+$/, "", k); n[k]++; tag[k, n[k]] = t
	}
	function net(p) { return v[p, "cpu_s"] - idle * v[p, "wall_s"] }
	function med(a, m,   i, j, x) {
		for (i = 2; i <= m; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
			}
		return m == 0 ? 0 : m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	function per(a, b) { return b > 0 ? a / b : 0 }
	END {
		w = v["idle1", "wall_s"] + v["idle2", "wall_s"]
		idle = per(v["idle1", "cpu_s"] + v["idle2", "cpu_s"], w)
		for (i = 1; i <= n["tcp"]; i++) {
			t = tag["tcp", i]; gb = v[t, "rx_bytes"] / 1e9
			tm[i] = v[t, "mbit"]; tg[i] = per(net(t), gb)
			tgg[i] = per(v[t, "cpu_s"], gb)
			tsp[i] = per(v[t, "nb_copy_segs"], v[t, "rx_bytes"] / 4096)
		}
		for (i = 1; i <= n["udp"]; i++) {
			t = tag["udp", i]; kp = v[t, "rx_packets"] / 1e3
			p = v[t, "rx_packets"]; wk = v[t, "nb_wakeups"]
			up[i] = v[t, "pps"]; uk[i] = per(net(t) * 1e3, kp)
			ukg[i] = per(v[t, "cpu_s"] * 1e3, kp)
			sp[i] = per(v[t, "nb_syscalls"], p)
			hp[i] = per(v[t, "nb_hypercalls"], p)
			pw[i] = per(p, wk); sw[i] = per(v[t, "nb_syscalls"], wk)
			du[i] = per(v[t, "d0_user_s"] * 1e3, kp)
			ds[i] = per(v[t, "d0_sys_s"] * 1e3, kp)
			di[i] = per(v[t, "d0_irq_s"] * 1e3, kp)
			d0 = v[t, "d0_user_s"] + v[t, "d0_sys_s"] + v[t, "d0_irq_s"]
			dx[i] = per((v[t, "cpu_s"] - d0) * 1e3, kp)
			nu[i] = per(v[t, "nb_user_s"] * 1e3, kp)
			ns[i] = per(v[t, "nb_sys_s"] * 1e3, kp)
			cc[i] = per(v[t, "nb_copy_calls"], p)
		}
		for (i = 1; i <= n["ping"]; i++) pm[i] = v[tag["ping", i], "median_ms"]
		for (i = 1; i <= n["up"]; i++) um[i] = v[tag["up", i], "mbit"]
		for (i = 1; i <= n["down"]; i++) dm[i] = v[tag["down", i], "mbit"]
		printf "%.4f %s %.2f %.2f %s %.1f %.1f %.3f %s %s %.3f %.3f %.2f %.2f",
			idle, med(tm, n["tcp"]), med(tg, n["tcp"]), med(tgg, n["tcp"]),
			med(up, n["udp"]), med(uk, n["udp"]), med(ukg, n["udp"]),
			med(pm, n["ping"]), med(um, n["up"]), med(dm, n["down"]),
			med(sp, n["udp"]), med(hp, n["udp"]), med(pw, n["udp"]),
			med(sw, n["udp"])
		printf " %.1f %.1f %.1f %.1f %.1f %.1f %.3f %.2f\n",
			med(du, n["udp"]), med(ds, n["udp"]), med(di, n["udp"]),
			med(dx, n["udp"]), med(nu, n["udp"]), med(ns, n["udp"]),
			med(cc, n["udp"]), med(tsp, n["tcp"])
	}'
}

backends=(kernel-cpu-cost netbackd-cpu-cost netbackd-dd-cpu-cost)
keys=(kc nc dc)
for k in "${keys[@]}"; do : >"$work/$k.fig"; done
for r in $(seq "$rounds"); do
	for i in 0 1 2; do
		j=$(( (i + r - 1) % 3 ))
		s=${backends[$j]}
		dir=$work/$s.$r
		echo "lab-side-by-side: round $r: $s" >&2
		if ! LAB_LOGDIR=$dir LAB_ENV="COST_ROUNDS=1 ${LAB_BENCH_ENV:-}" \
			"$top/tests/lab/run.sh" "$s" "$build" >"$dir.out" 2>&1; then
			echo "lab-side-by-side: round $r: $s failed; see $dir" >&2
			tail -5 "$dir.out" >&2
			continue
		fi
		f=$(figures "$dir")
		echo "lab-side-by-side: round $r: $s: $f" >&2
		echo "$f" >>"$work/${keys[$j]}.fig"
	done
done
# The median of each column over the rounds that ran.
for k in "${keys[@]}"; do
	if ! [ -s "$work/$k.fig" ]; then
		echo "lab-side-by-side: no round of ${backends[0]}/${backends[1]}/${backends[2]} ($k) ran" >&2
		exit 1
	fi
	awk '{ for (i = 1; i <= NF; i++) c[i, NR] = $i; nf = NF }
	END {
		for (i = 1; i <= nf; i++) {
			for (r = 1; r <= NR; r++) a[r] = c[i, r]
			for (r = 2; r <= NR; r++)
				for (j = r; j > 1 && a[j - 1] > a[j]; j--) {
					x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
				}
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%s%s", m, i < nf ? " " : "\n"
		}
		printf "%d\n", NR > "/dev/stderr"
	}' "$work/$k.fig" >"$work/$k.med" 2>"$work/$k.n"
done
read -r -a kc <"$work/kc.med"
read -r -a nc <"$work/nc.med"
read -r -a dc <"$work/dc.med"
json rounds_kernel "$(cat "$work/kc.n")" "boots"
json rounds_netbackd "$(cat "$work/nc.n")" "boots"
json rounds_netbackd_dd "$(cat "$work/dc.n")" "boots"
names=(cpu_idle tcp_guest_to_guest cpu_per_gb_tcp_guest_to_guest_net
	cpu_per_gb_tcp_guest_to_guest_gross udp18_guest_to_guest
	cpu_per_kpkt_udp18_guest_to_guest_net
	cpu_per_kpkt_udp18_guest_to_guest_gross ping_guest_to_guest_median
	tcp_guest_to_dom0 tcp_dom0_to_guest)
units=("CPU-s/s" "Mbit/s" "CPU-s/GB" "CPU-s/GB" "packets/s"
	"CPU-ms/1000 packets" "CPU-ms/1000 packets" "ms" "Mbit/s" "Mbit/s")
# kernel_* and netbackd_*: Domain-0's CPU; netbackd_dd_*: Domain-0's and
# the driver domain's together.
for i in "${!names[@]}"; do
	c=${names[$i]}
	json "kernel_$c" "${kc[$i]}" "${units[$i]}"
	json "netbackd_$c" "${nc[$i]}" "${units[$i]}"
	json "ratio_$c" "$(ratio "${nc[$i]}" "${kc[$i]}")" "netbackd/kernel"
	json "netbackd_dd_$c" "${dc[$i]}" "${units[$i]}"
	json "ratio_dd_$c" "$(ratio "${dc[$i]}" "${kc[$i]}")" "netbackd/kernel"
done
# netbackd's own counts in the UDP phase (in dom0: netbackctl status; in
# dd: its SIGHUP totals). Kernel netback has none.
cnames=(system_calls_per_packet_udp18 copy_hypercalls_per_packet_udp18
	packets_per_wakeup_udp18 system_calls_per_wakeup_udp18)
cunits=("calls/packet" "hypercalls/packet" "packets/wake-up"
	"calls/wake-up")
for i in "${!cnames[@]}"; do
	json "netbackd_${cnames[$i]}" "${nc[$((10 + i))]}" "${cunits[$i]}"
	json "netbackd_dd_${cnames[$i]}" "${dc[$((10 + i))]}" "${cunits[$i]}"
done
# Where dom0's CPU per UDP packet goes (gross): dom0's kernel's own
# split of its time (tick-sampled), and what Xen counts beyond it (its
# time on dom0's behalf: traps of dom0's system calls, hypercalls; and
# what the ticks miss, see above); netbackd's own user and kernel time. dom0 only: in the driver domain set-up these
# are dom0's alone, netbackd's not among them.
snames=(dom0_user dom0_system dom0_irq xen_for_dom0)
for i in "${!snames[@]}"; do
	c="cpu_per_kpkt_udp18_${snames[$i]}"
	json "kernel_$c" "${kc[$((14 + i))]}" "CPU-ms/1000 packets"
	json "netbackd_$c" "${nc[$((14 + i))]}" "CPU-ms/1000 packets"
	json "ratio_$c" "$(ratio "${nc[$((14 + i))]}" "${kc[$((14 + i))]}")" \
		"netbackd/kernel"
done
json "netbackd_cpu_per_kpkt_udp18_netbackd_user" "${nc[18]}" \
	"CPU-ms/1000 packets"
json "netbackd_cpu_per_kpkt_udp18_netbackd_system" "${nc[19]}" \
	"CPU-ms/1000 packets"
json "netbackd_copy_calls_per_packet_udp18" "${nc[20]}" "calls/packet"
# Copy segments (one grant operation each) per 4 KiB page of TCP
# guest -> guest data received: what a long packet's bytes cost in Xen.
json "netbackd_copy_segments_per_page_tcp" "${nc[21]}" "segments/page"
