# Issue scenario 6, the parts netbackd serves today: on one internal
# network, guests on access VLAN 10 with MTU 9000 ping each other with
# 8000-byte payloads (multi-slot frames both ways), and a guest in the
# same subnet on VLAN 20 cannot see them. (Trunk ports, NAME:T1:T2, are
# not served yet; DPDK 22.11's net_tap takes no frame over 1522 bytes, so
# jumbo frames to dom0 need another uplink, e.g. net_af_packet.)
scenario() {
	netbackd_start "[network vl]" || return 1
	LAB_GUEST_EXTRA="lab_mtu=9000" guest_create guest1 \
		00:16:3e:00:00:01 10.2.0.1/24 "" \
		",bridge=vl.10,script=vif-netbackd" || return 1
	guest_wait guest1 "ready" 60 || return 1
	guest_create guest3 00:16:3e:00:00:03 10.2.0.3/24 "" \
		",bridge=vl.20,script=vif-netbackd" 10.2.0.1 || return 1
	LAB_GUEST_EXTRA="lab_mtu=9000 lab_psize=8000" guest_create guest2 \
		00:16:3e:00:00:02 10.2.0.2/24 10.2.0.1 \
		",bridge=vl.10,script=vif-netbackd" || return 1
	guest_wait guest2 "ping 10.2.0.1 ok" 90 || return 1
	guest_wait guest3 "noping 10.2.0.1 ok" 90 || return 1
	return 0
}
