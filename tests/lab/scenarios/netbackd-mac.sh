# A guest's MAC through xl with the stock netfront (README, "A guest's
# MAC address"): xl's mac= is the vif's; the guest takes another MAC
# inside (ip link set eth0 address): with anti-spoofing on (the default)
# its frames are refused (drop_spoofed_mac) and dom0 cannot reach it;
# with `netbackctl vif-set ... antispoof=off` it reaches dom0 from the
# new MAC, which the switch learns on its vif; back on, and back to xl's
# MAC, it works as before.
scenario() {
	netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	LAB_GUEST_EXTRA="lab_cmds=1" guest_create guest1 00:16:3e:00:00:01 \
		10.0.0.2/24 10.0.0.1 ",bridge=xenbr0,script=vif-netbackd" ||
		return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 90 || return 1
	guest_wait guest1 "commands" 60 || return 1
	domid=$(xl domid guest1)
	vif=vif$domid.0
	ctl=/lab/netbackctl
	[ "$(xenstore-read /local/domain/0/backend/vif/$domid/0/mac)" = \
		00:16:3e:00:00:01 ] || { why "the vif's mac key is not xl's"; return 1; }

	# Anti-spoofing on: another MAC inside the guest gets nowhere.
	guest_say guest1 "mac m1 00:16:3e:00:00:99"
	cost_wait guest1 "cost m1 \(done\|FAILED\)" 30 || return 1
	guest_count guest1 "cost m1 done" | grep -qx 1 ||
		{ why "the guest could not change its MAC"; return 1; }
	ip neigh flush dev dtap0
	if ping -c 3 -W 2 10.0.0.2 >/dev/null 2>&1; then
		why "dom0 reached the guest behind a MAC its vif was not given"
		return 1
	fi
	pkill -HUP netbackd
	sleep 1
	grep -E "$vif:.*refused by the switch" /var/log/netbackd.log | tail -1
	grep -E "$vif:.*refused by the switch [0-9]+ \(.*drop_spoofed_(mac|arp)=" \
		/var/log/netbackd.log >/dev/null ||
		{ why "no spoofed frames counted on $vif"; return 1; }

	# Anti-spoofing off: the new MAC is the guest's to use.
	$ctl vif-set $vif antispoof=off || { why "vif-set antispoof=off failed"; return 1; }
	ip neigh flush dev dtap0
	ping -c 3 -W 5 10.0.0.2 ||
		{ why "dom0 cannot reach the guest's new MAC with anti-spoofing off"; return 1; }
	ip neigh show dev dtap0 | grep -q "00:16:3e:00:00:99" ||
		{ why "dom0 did not learn the new MAC"; return 1; }
	$ctl --json fdb xenbr0 |
		grep -q "\"mac\": \"00:16:3e:00:00:99\", \"vlan\": 0, \"port\": \"$vif\"" ||
		{ why "the switch did not learn the new MAC on $vif"; return 1; }

	# Back: anti-spoofing on and xl's MAC, as it started.
	$ctl vif-set $vif antispoof=on || { why "vif-set antispoof=on failed"; return 1; }
	guest_say guest1 "mac m2 00:16:3e:00:00:01"
	cost_wait guest1 "cost m2 \(done\|FAILED\)" 30 || return 1
	ip neigh flush dev dtap0
	ping -c 3 -W 5 10.0.0.2 ||
		{ why "dom0 cannot reach the guest back on xl's MAC"; return 1; }
	return 0
}
