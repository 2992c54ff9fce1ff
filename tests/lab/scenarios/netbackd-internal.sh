# Issue scenario 2: two guests on an internal network ping each other;
# neither reaches dom0, which sits on another netbackd network (with a
# tap uplink) in the same IP subnet.
scenario() {
	netbackd_start "[network internal]
[network ext]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.1.0.254/24 dev dtap0
	ip link set dtap0 up
	guest_create guest1 00:16:3e:00:00:01 10.1.0.1/24 "" \
		",bridge=internal,script=vif-netbackd" || return 1
	guest_wait guest1 "ready" 60 || return 1
	guest_create guest2 00:16:3e:00:00:02 10.1.0.2/24 10.1.0.1 \
		",bridge=internal,script=vif-netbackd" 10.1.0.254 || return 1
	guest_wait guest2 "ping 10.1.0.1 ok" 90 || return 1
	guest_wait guest2 "noping 10.1.0.254 ok" 60 || return 1
	# ... and dom0 cannot reach them.
	if ping -c 2 -W 2 10.1.0.1; then
		why "dom0 reached a guest on the internal network"
		return 1
	fi
	return 0
}
