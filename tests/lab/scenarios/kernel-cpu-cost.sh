# Reference for netbackd-cpu-cost: dom0's CPU cost of guest-to-guest
# traffic through kernel netback and a Linux bridge (dom0 10.0.0.1 on the
# bridge): idle, TCP and 18-byte UDP guest2 -> guest1, pings, TCP
# guest2 <-> dom0 both ways, idle again, with Xen's CPU time of Domain-0
# read before and after each phase (cpu_cost in dom0-init.sh;
# bench/lab-side-by-side.sh turns the LAB-COST lines into CPU time per GB
# and per thousand packets, rates and latency). Nothing is asserted on
# the figures.
# lab-timeout: 720
scenario() {
	modprobe xen-netback || { why "modprobe xen-netback failed"; return 1; }
	ip link add xenbr0 type bridge
	ip addr add 10.0.0.1/24 dev xenbr0
	ip link set xenbr0 up
	cpu_cost "" || return 1
	ip -s link show master xenbr0
	return 0
}
