#!/bin/bash
# The lab's side-by-side figure (issue scenario 7): the same guest traffic
# through netbackd (uplink to dom0: virtio-user over vhost-net, and
# net_tap) and through kernel netback + a Linux bridge, each in its own
# boot of the lab (Xen 4.17 under QEMU TCG):
# iperf3 TCP guest -> dom0 and dom0 -> guest with the guest's offloads on
# and off, and a 64-byte UDP packet rate guest -> dom0. Then dom0's CPU
# cost (issue #6), three more boots (kernel-cpu-cost, netbackd-cpu-cost,
# netbackd-dd-cpu-cost: netbackd in a driver domain, whose CPU time is
# added to dom0's): two guests on the same backend, three rounds of TCP
# and 18-byte UDP guest -> guest (medians reported), with Xen's own CPU
# time of Domain-0 (`xl list`, read in dom0 before and after each phase;
# not /proc/stat, which undercounts in a PV dom0 under emulation) less
# an idle baseline (the same phases without traffic, at the start and
# the end, as CPU-seconds per second times the phase's length), per GB
# and per thousand packets the guests received. Prints one JSON object
# per figure and the netbackd / kernel ratio beside each (for costs,
# below 1 means netbackd spends less; the rounds go to stderr); nothing
# is asserted (TCG makes absolute figures meaningless, ratios less so).
#   usage: bench/lab-side-by-side.sh [BUILD_DIR]     (~12-15 min, 6 boots)
#   env:   LAB_BENCH_KEEP=DIR  keep every boot's logs in DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
# LAB_BENCH_KEEP=DIR keeps every boot's logs there (default: removed).
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
# boot SCENARIO: one lab boot, its logs in $work/SCENARIO.
boot() {
	if ! LAB_LOGDIR=$work/$1 "$top/tests/lab/run.sh" "$1" "$build" \
		>"$work/$1.out" 2>&1; then
		echo "lab-side-by-side: $1 failed; see $work/$1" >&2
		tail -20 "$work/$1.out" >&2
		return 1
	fi
}
# figures SCENARIO: "up_on down_on up_off down_off udp_pps" from the
# guest's console, or nothing if the run failed.
figures() {
	local dir=$work/$1
	boot "$1" || return 1
	awk '
	function mbit(v, u) { return u ~ /^G/ ? v * 1000 : u ~ /^K/ ? v / 1000 : v }
	/GUEST guest1: iperf offloads-on ok/  { on_up = mbit($7, $8); on_dn = mbit($10, $11) }
	/GUEST guest1: iperf offloads-off ok/ { off_up = mbit($7, $8); off_dn = mbit($10, $11) }
	/GUEST guest1: udp64 ok pps/          { pps = $6 }
	END { print on_up + 0, on_dn + 0, off_up + 0, off_dn + 0, pps + 0 }
	' "$dir/guest-guest1.log"
}
# (Not in $(...): a subshell must not run the EXIT trap and remove $work.)
figures netbackd-iperf-vhost >"$work/vh.fig" || exit 1
figures netbackd-iperf >"$work/tap.fig" || exit 1
figures kernel-iperf >"$work/kn.fig" || exit 1
read -r -a vh <"$work/vh.fig"
read -r -a tap <"$work/tap.fig"
read -r -a kn <"$work/kn.fig"
names=(tcp_guest_to_dom0_offloads_on tcp_dom0_to_guest_offloads_on
       tcp_guest_to_dom0_offloads_off tcp_dom0_to_guest_offloads_off
       udp64_guest_to_dom0)
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'
}
for i in 0 1 2 3 4; do
	unit="Mbit/s"
	[ $i -eq 4 ] && unit="packets/s"
	json "kernel_${names[$i]}" "${kn[$i]}" "$unit"
	json "netbackd_vhost_${names[$i]}" "${vh[$i]}" "$unit"
	json "ratio_vhost_${names[$i]}" "$(ratio "${vh[$i]}" "${kn[$i]}")" \
		"netbackd/kernel"
	json "netbackd_tap_${names[$i]}" "${tap[$i]}" "$unit"
	json "ratio_tap_${names[$i]}" "$(ratio "${tap[$i]}" "${kn[$i]}")" \
		"netbackd/kernel"
done

# cost SCENARIO: dom0's CPU cost from the scenario's LAB-COST lines
# (dom0-init.sh, cost_phase): "idle tcp_mbit tcp_s_per_gb udp_pps
# udp_ms_per_kpkt tcp_cpu udp_cpu", each the median over the rounds
# (tcp1 udp1 tcp2 ...). idle: the baseline, CPU-s per s (idle1 and
# idle2 together); *_cpu: a phase's CPU-s less the baseline times the
# phase's length; GB and packets: what the two guests' eth0 counted
# received in the phase (bytes from the IP header on: netfront counts
# after the Ethernet header is pulled). Packets only from UDP: in the
# TCP phases the guests count GSO/GRO packets, not frames. The rounds
# themselves go to stderr.
cost() {
	local dir=$work/$1
	boot "$1" || return 1
	tr -d '\r' <"$dir/console.log" | awk -v name="$1" '
	/LAB-COST [a-z0-9]+ cpu_s / {
		sub(/.*LAB-COST /, "LAB-COST ")
		t = $2
		for (i = 3; i < NF; i += 2) v[t, $i] = $(i + 1)
		if (t ~ /^tcp[0-9]+$/) { nt++; tcp[nt] = t; mbit[t] = $NF }
		if (t ~ /^udp[0-9]+$/) {
			nu++; udp[nu] = t
			for (i = 1; i < NF; i++) if ($i == "pps") pps[t] = $(i + 1)
		}
	}
	function net(p) { return v[p, "cpu_s"] - idle * v[p, "wall_s"] }
	function med(a, n,   i, j, x) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
			}
		return n == 0 ? 0 : n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		w = v["idle1", "wall_s"] + v["idle2", "wall_s"]
		idle = w > 0 ? (v["idle1", "cpu_s"] + v["idle2", "cpu_s"]) / w : 0
		for (i = 1; i <= nt; i++) {
			t = tcp[i]; gb = v[t, "rx_bytes"] / 1e9
			tm[i] = mbit[t]; tg[i] = (gb > 0) ? net(t) / gb : 0; tc[i] = net(t)
			rounds = rounds sprintf(" %s %s Mbit/s %.2f CPU-s/GB;", t, tm[i], tg[i])
		}
		for (i = 1; i <= nu; i++) {
			t = udp[i]; kp = v[t, "rx_packets"] / 1e3
			up[i] = pps[t]; uk[i] = (kp > 0) ? net(t) * 1e3 / kp : 0; uc[i] = net(t)
			p = v[t, "rx_packets"]; wk = v[t, "nb_wakeups"]
			sp[i] = p > 0 ? v[t, "nb_syscalls"] / p : 0
			hp[i] = p > 0 ? v[t, "nb_hypercalls"] / p : 0
			pw[i] = wk > 0 ? p / wk : 0
			sw[i] = wk > 0 ? v[t, "nb_syscalls"] / wk : 0
			rounds = rounds sprintf(" %s %s pkt/s %.1f CPU-ms/kpkt;", t, up[i], uk[i])
		}
		printf "lab-side-by-side: %s: idle %.4f CPU-s/s;%s\n", name, idle, rounds > "/dev/stderr"
		printf "%.4f %s %.2f %s %.1f %.2f %.2f %.3f %.3f %.2f %.2f\n", idle,
			med(tm, nt), med(tg, nt), med(up, nu), med(uk, nu),
			med(tc, nt), med(uc, nu), med(sp, nu), med(hp, nu),
			med(pw, nu), med(sw, nu)
	}'
}
cost kernel-cpu-cost >"$work/kc.fig" || exit 1
cost netbackd-cpu-cost >"$work/nc.fig" || exit 1
cost netbackd-dd-cpu-cost >"$work/dc.fig" || exit 1
read -r -a kc <"$work/kc.fig"
read -r -a nc <"$work/nc.fig"
read -r -a dc <"$work/dc.fig"
cnames=(dom0_cpu_idle tcp_guest_to_guest dom0_cpu_per_gb_tcp_guest_to_guest
	udp18_guest_to_guest dom0_cpu_per_kpkt_udp18_guest_to_guest
	dom0_cpu_tcp_guest_to_guest dom0_cpu_udp18_guest_to_guest)
cunits=("CPU-s/s" "Mbit/s" "CPU-s/GB" "packets/s" "CPU-ms/1000 packets"
	"CPU-s" "CPU-s")
# netbackd's own counts in the UDP phases (netbackctl status in dom0;
# none for the kernel, nor for netbackd in the driver domain, out of
# dom0's reach): worker system calls and grant-copy hypercalls per
# packet the guests received, packets and system calls per wake-up.
nnames=(system_calls_per_packet_udp18 copy_hypercalls_per_packet_udp18
	packets_per_wakeup_udp18 system_calls_per_wakeup_udp18)
nunits=("calls/packet" "hypercalls/packet" "packets/wake-up"
	"calls/wake-up")
for i in "${!nnames[@]}"; do
	json "netbackd_${nnames[$i]}" "${nc[$((7 + i))]}" "${nunits[$i]}"
done
# netbackd_dd_*: netbackd in a driver domain; its CPU figures are
# Domain-0's and the driver domain's together (dom0_dd_cpu).
for i in "${!cnames[@]}"; do
	c=${cnames[$i]}
	json "kernel_$c" "${kc[$i]}" "${cunits[$i]}"
	json "netbackd_$c" "${nc[$i]}" "${cunits[$i]}"
	json "ratio_$c" "$(ratio "${nc[$i]}" "${kc[$i]}")" "netbackd/kernel"
	json "netbackd_dd_${c/dom0_cpu/dom0_dd_cpu}" "${dc[$i]}" "${cunits[$i]}"
	json "ratio_dd_${c/dom0_cpu/dom0_dd_cpu}" "$(ratio "${dc[$i]}" "${kc[$i]}")" \
		"netbackd/kernel"
done
