# Issue scenario 6: on one internal network, guests on access VLAN 10 with
# MTU 9000 ping each other with 8000-byte payloads (multi-slot frames both
# ways); a guest in the same subnet on VLAN 20 cannot see them; a trunk
# guest (bridge=vl:10:20) sees both, each through its own 802.1Q
# interface. (DPDK 22.11's net_tap takes no frame over 1522 bytes, so
# jumbo frames to dom0 need another uplink, e.g. net_af_packet.)
# lab-timeout: 400
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
	# The trunk: eth0 itself is on no VLAN (no native VLAN), eth0.10
	# and eth0.20 reach guest1 and guest3.
	LAB_GUEST_EXTRA="lab_vlans=10:10.2.0.9/24,20:10.2.0.19/24 lab_vping=eth0.10:10.2.0.1,eth0.20:10.2.0.3" \
		guest_create guest4 00:16:3e:00:00:04 10.9.0.4/24 "" \
		",bridge=vl:10:20,script=vif-netbackd" || return 1
	guest_wait guest4 "vping eth0.10 10.2.0.1 ok" 90 || return 1
	guest_wait guest4 "vping eth0.20 10.2.0.3 ok" 90 || return 1
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0 queue" /var/log/netbackd.log | tail -4
	return 0
}
