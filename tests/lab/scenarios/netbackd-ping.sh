# Issue scenario 1: one guest on an external network (uplink: a DPDK tap
# towards dom0's stack), ping both ways, the vif's state in xenstore;
# netbackctl's view of it and a pcapng capture of the ping.
scenario() {
	netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" || return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 90 || return 1
	ping -c 3 -W 5 10.0.0.2 || { why "dom0 cannot ping guest1"; return 1; }
	domid=$(xl domid guest1)
	be=/local/domain/0/backend/vif/$domid/0
	xenstore-ls "$be"
	[ "$(xenstore-read $be/vifname)" = "vif$domid.0" ] ||
		{ why "backend vifname is not vif$domid.0"; return 1; }
	[ "$(xenstore-read $be/state)" = 4 ] ||
		{ why "backend state is not 4"; return 1; }
	[ "$(xenstore-read $be/hotplug-status)" = connected ] ||
		{ why "hotplug-status is not connected"; return 1; }
	# The switch's table: the guest's MAC on its vif, dom0's on the PIF.
	pkill -HUP netbackd
	sleep 1
	grep "network xenbr0:" /var/log/netbackd.log | tail -4
	grep -q "00:16:3e:00:00:01 vlan 0 -> vif$domid.0" /var/log/netbackd.log ||
		{ why "the guest's MAC is not in the switch's table"; return 1; }
	# The operator's view (netbackd runs as nobody in its sandbox):
	# netbackctl over the control socket, and a capture of the vif
	# while dom0 pings the guest, left with the logs for tshark
	# (run.sh reads every *.pcapng back).
	ctl=/lab/netbackctl
	$ctl vifs || { why "netbackctl vifs failed"; return 1; }
	$ctl vifs | grep -q "name: vif$domid.0" ||
		{ why "netbackctl vifs does not list vif$domid.0"; return 1; }
	$ctl --json fdb xenbr0 |
		grep -q "\"mac\": \"00:16:3e:00:00:01\", \"vlan\": 0, \"port\": \"vif$domid.0\"" ||
		{ why "netbackctl fdb lacks the guest's MAC"; return 1; }
	$ctl stats net_tap0 | grep -q "link: up" ||
		{ why "netbackctl stats net_tap0: link not up"; return 1; }
	mkdir -p /tmp/lablogs
	$ctl capture vif$domid.0 -w /tmp/lablogs/vif-ping.pcapng -c 6 \
		2>/tmp/capture.err &
	cap=$!
	sleep 1
	ping -c 3 -W 5 10.0.0.2 >/dev/null
	wait $cap || { why "netbackctl capture: $(cat /tmp/capture.err)"; return 1; }
	cat /tmp/capture.err
	grep -q "6 packets written" /tmp/capture.err ||
		{ why "capture: $(tail -1 /tmp/capture.err)"; return 1; }
	return 0
}
