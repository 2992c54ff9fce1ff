# dom0's CPU cost of guest-to-guest traffic through netbackd (one worker,
# adaptive polling; dom0 10.0.0.1 behind a net_tap uplink on the same
# network, as on kernel-cpu-cost's bridge): idle, TCP and 18-byte UDP
# guest2 -> guest1, idle again, with Xen's CPU time of Domain-0 read
# before and after each phase (cpu_cost in dom0-init.sh;
# bench/lab-side-by-side.sh turns the LAB-COST lines into CPU time per GB
# and per thousand packets). Nothing is asserted on the figures.
# lab-timeout: 420
scenario() {
	netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	cpu_cost ",bridge=xenbr0,script=vif-netbackd" || return 1
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0( queue|:)|totals|pif" /var/log/netbackd.log | tail -6
	return 0
}
