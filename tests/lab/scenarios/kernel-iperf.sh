# Reference for netbackd-iperf: the same iperf3 runs (TCP both ways, the
# guest's offloads on, then off) through kernel netback and a Linux
# bridge, dom0 holding 10.0.0.1 on the bridge.
scenario() {
	modprobe xen-netback || { why "modprobe xen-netback failed"; return 1; }
	ip link add xenbr0 type bridge
	ip addr add 10.0.0.1/24 dev xenbr0
	ip link set xenbr0 up
	iperf3 -s -D >/dev/null 2>&1
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 "" "" \
		10.0.0.1 || return 1
	iperf_wait guest1 || return 1
	return 0
}
