# Reference for netbackd-external: the same NIC towards the outside
# (run.sh's "# lab-outside: yes") in a Linux bridge with kernel netback,
# dom0's address moved onto the bridge as a host has it; guest1's
# iperf3 to the outside both ways, and dom0's own before and after the
# bridge ("LAB-HOST" lines).
# lab-outside: yes
# lab-outside-reaches: 192.0.2.21
# lab-timeout: 420
scenario() {
	nic=$(outside_nic) || return 1
	host_iperf before || return 1
	modprobe xen-netback || { why "modprobe xen-netback failed"; return 1; }
	ip link add xenbr0 type bridge
	ip addr del 192.0.2.10/24 dev "$nic"
	ip link set "$nic" master xenbr0
	ip addr add 192.0.2.10/24 dev xenbr0
	ip link set xenbr0 up
	guest_create guest1 00:16:3e:00:00:01 192.0.2.21/24 192.0.2.100 "" "" \
		192.0.2.100 || return 1
	iperf_wait guest1 || return 1
	host_iperf with-bridge || return 1
	sleep 5
	return 0
}
