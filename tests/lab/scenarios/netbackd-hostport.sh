# lab-dom0-vcpus: 2
# README's "Replacing kernel netback on a Xen host" as written, with
# workers = 2: the NIC (towards run.sh's outside) is netbackd's uplink
# through net_af_packet, and dom0's address moves to the host port
# README recommends for much host traffic, net_virtio_user over
# vhost-net with mac= (one queue pair per worker, netbackd's own
# choice). dom0 reaches the outside and the guest through netbackd, the
# guest reaches dom0 and the outside, the outside reaches the guest;
# dom0's own iperf3 to the outside crosses netbackd ("LAB-HOST").
# lab-outside: yes
# lab-outside-reaches: 192.0.2.21 192.0.2.10
# lab-timeout: 420
scenario() {
	modprobe vhost_net || { why "modprobe vhost_net failed"; return 1; }
	nic=$(outside_nic) || return 1
	ip addr del 192.0.2.10/24 dev "$nic"
	NB_WORKERS=2 NB_LCORES="0@0,1@0,2@1" netbackd_start "[network xenbr0]
pif = net_af_packet0,iface=$nic
port = net_virtio_user0,path=/dev/vhost-net,queue_size=1024,iface=nbhost0,mac=02:00:c0:00:02:0a" ||
		return 1
	grep -E "net_virtio_user0|queue" /var/log/netbackd.log | head -5
	ip link show nbhost0 | grep -q "02:00:c0:00:02:0a" ||
		{ why "nbhost0 does not have the mac= of its devargs"; return 1; }
	ip addr add 192.0.2.10/24 dev nbhost0
	ip link set nbhost0 up
	ping -c 3 -W 5 192.0.2.100 ||
		{ why "dom0 cannot reach the outside through its host port"; return 1; }
	host_iperf through-netbackd || return 1
	guest_create guest1 00:16:3e:00:00:01 192.0.2.21/24 192.0.2.10 \
		",bridge=xenbr0,script=vif-netbackd" || return 1
	guest_wait guest1 "ping 192.0.2.10 ok" 120 || return 1
	ping -c 3 -W 5 192.0.2.21 || { why "dom0 cannot reach the guest"; return 1; }
	# The outside's pinger (run.sh) reaches the guest and dom0.
	sleep 5
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0:|totals|pif|port" /var/log/netbackd.log | tail -6
	return 0
}
