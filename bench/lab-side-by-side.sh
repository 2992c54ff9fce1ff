#!/bin/bash
# The lab's side-by-side figure (issue scenario 7): the same guest traffic
# through netbackd (uplink to dom0: virtio-user over vhost-net, and
# net_tap) and through kernel netback + a Linux bridge, each in its own
# boot of the lab (Xen 4.17 under QEMU TCG):
# iperf3 TCP guest -> dom0 and dom0 -> guest with the guest's offloads on
# and off, and a 64-byte UDP packet rate guest -> dom0. Prints one JSON
# object per figure and the netbackd / kernel ratio beside each; nothing
# is asserted (TCG makes absolute figures meaningless, ratios less so).
#   usage: bench/lab-side-by-side.sh [BUILD_DIR]     (~5 min, 3 boots)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
json() {
	printf '{"bench": "lab-side-by-side", "metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"
}
# figures SCENARIO: "up_on down_on up_off down_off udp_pps" from the
# guest's console, or nothing if the run failed.
figures() {
	local dir=$work/$1
	if ! LAB_LOGDIR=$dir "$top/tests/lab/run.sh" "$1" "$build" \
		>"$work/$1.out" 2>&1; then
		echo "lab-side-by-side: $1 failed; see $dir" >&2
		tail -20 "$work/$1.out" >&2
		return 1
	fi
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
