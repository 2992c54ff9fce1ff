# Scenario 4 with a virtio-user uplink over vhost-net (DPDK's exception
# path): large TCP packets go to and come from the kernel whole (the
# port's TSO, and its LRO: dom0's TCP reaches the guest as GSO packets,
# counted as rx_coalesced), where net_tap moves wire-size frames one
# system call each.
scenario() {
	modprobe vhost_net || { why "modprobe vhost_net failed"; return 1; }
	iperf_through \
		net_virtio_user0,path=/dev/vhost-net,queue_size=1024,iface=dtap0 ||
		return 1
	grep -q "pif net_virtio_user0: .*, lro" /var/log/netbackd.log ||
		{ why "no LRO on the virtio-user port"; return 1; }
	n=$(/lab/netbackctl ports | awk '$1 == "rx_coalesced:" { print $2; exit }')
	echo "lab: net_virtio_user0 rx_coalesced ${n:-none}"
	[ "${n:-0}" -gt 0 ] ||
		{ why "dom0's TCP did not reach the guest coalesced"; return 1; }
}
