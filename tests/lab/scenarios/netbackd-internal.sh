# Issue scenario 2: two guests on an internal network ping each other;
# neither reaches dom0.
scenario() {
	netbackd_start "[network internal]" || return 1
	guest_create guest1 00:16:3e:00:00:01 10.1.0.1/24 "" \
		",bridge=internal,script=vif-netbackd" || return 1
	guest_wait guest1 "ready" 60 || return 1
	guest_create guest2 00:16:3e:00:00:02 10.1.0.2/24 10.1.0.1 \
		",bridge=internal,script=vif-netbackd" || return 1
	guest_wait guest2 "ping 10.1.0.1 ok" 90 || return 1
	# dom0 has no port on "internal": nothing of it leaves netbackd.
	ip -o link | grep -q dtap && return 1
	return 0
}
