# Scenario 4 with a virtio-user uplink over vhost-net (DPDK's exception
# path): large TCP packets go to and come from the kernel whole (the
# port's TSO), where net_tap moves wire-size frames one system call each.
scenario() {
	modprobe vhost_net || { why "modprobe vhost_net failed"; return 1; }
	iperf_through \
		net_virtio_user0,path=/dev/vhost-net,queue_size=1024,iface=dtap0
}
