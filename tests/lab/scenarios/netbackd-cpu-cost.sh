# dom0's CPU cost of guest-to-guest traffic through netbackd (one worker,
# adaptive polling), with dom0 10.0.0.1 on the same network, as on
# kernel-cpu-cost's bridge: through a netfront of its own
# (netbackd-host-vif, COST_HOSTPORT=netfront, the default), or a host
# port, virtio-user over vhost-net (COST_HOSTPORT=vhost) or net_tap
# (COST_HOSTPORT=tap). Phases (cpu_cost in dom0-init.sh): idle,
# TCP and 18-byte UDP guest2 -> guest1, pings, TCP guest2 <-> dom0 both
# ways, idle again, with Xen's CPU time of Domain-0 read before and
# after each; bench/lab-side-by-side.sh turns the LAB-COST lines into
# CPU time per GB and per thousand packets, rates and latency. Nothing
# is asserted on the figures.
# lab-timeout: 720
scenario() {
	case ${COST_HOSTPORT:-netfront} in
	vhost)
		modprobe vhost_net || { why "modprobe vhost_net failed"; return 1; }
		pif=net_virtio_user0,path=/dev/vhost-net,queue_size=1024,iface=dtap0,mac=02:00:00:00:00:01 ;;
	tap)
		pif=net_tap0,iface=dtap0 ;;
	netfront)
		pif= ;;
	*)
		why "COST_HOSTPORT=$COST_HOSTPORT: vhost, tap or netfront"
		return 1 ;;
	esac
	netbackd_start "[network xenbr0]
${pif:+pif = $pif}" || return 1
	if [ -z "$pif" ]; then
		/lab/netbackd-host-vif add xenbr0 mac=02:00:00:00:00:01 \
			name=dtap0 || { why "netbackd-host-vif add failed"; return 1; }
	fi
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	cpu_cost ",bridge=xenbr0,script=vif-netbackd" || return 1
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0( queue|:)|totals|pif" /var/log/netbackd.log | tail -8
	return 0
}
