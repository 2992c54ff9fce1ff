# Scenario 4 with a virtio-user uplink over vhost-net (DPDK's exception
# path): large TCP packets go to and come from the kernel whole (TSO,
# LRO), where net_tap moves wire-size frames one system call each.
# dom0 (through the tap uplink) with the guest's default offloads, then
# with SG, TSO and TX checksum offload off. TCP's own checksums on both
# ends tell whether the data arrived intact.
scenario() {
	modprobe vhost_net || { why "modprobe vhost_net failed"; return 1; }
	netbackd_start "[network xenbr0]
pif = net_virtio_user0,path=/dev/vhost-net,queue_size=1024,iface=dtap0" ||
		return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	iperf3 -s -D >/dev/null 2>&1
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" "" 10.0.0.1 || return 1
	guest_wait guest1 "iperf offloads-on ok" 240 || return 1
	guest_wait guest1 "udp64 ok" 120 || return 1
	guest_wait guest1 "iperf offloads-off ok" 240 || return 1
	grep -a "GUEST guest1: \(iperf\|udp64\)" /var/log/xen/console/guest-guest1.log
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0( queue|:)|totals|pif" /var/log/netbackd.log | tail -4
	return 0
}
