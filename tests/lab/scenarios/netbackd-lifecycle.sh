# Issue scenario 5: network-detach and -attach at run time, a guest
# reboot, and xl destroy in the middle of traffic, while a second guest
# keeps its network; netbackd's mapped grants and bound ports come back
# to what one guest holds.
scenario() {
	netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	vif=",bridge=xenbr0,script=vif-netbackd"
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 "$vif" || return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 90 || return 1
	one=$(nb_held)
	echo "lab: one guest holds (pages ports): $one"
	guest_create guest2 00:16:3e:00:00:02 10.0.0.3/24 10.0.0.1 "$vif" || return 1
	guest_wait guest2 "ping 10.0.0.1 ok" 90 || return 1
	d2=$(xl domid guest2)
	echo "lab: two guests hold: $(nb_held)"

	# Detach guest2's vif and attach a new one.
	xl network-detach guest2 0 || { why "xl network-detach failed"; return 1; }
	for i in $(seq 50); do
		xenstore-exists /local/domain/0/backend/vif/$d2/0 || break
		sleep 0.2
	done
	xenstore-exists /local/domain/0/backend/vif/$d2/0 &&
		{ why "the detached vif's backend dir stayed"; return 1; }
	[ "$(nb_held)" = "$one" ] || { why "detach left $(nb_held)"; return 1; }
	ping -c 2 -W 5 10.0.0.2 || { why "guest1 lost its network"; return 1; }
	xl network-attach guest2 mac=00:16:3e:00:00:02 bridge=xenbr0 \
		script=vif-netbackd || { why "xl network-attach failed"; return 1; }
	for i in $(seq 100); do
		[ "$(xenstore-read /local/domain/0/backend/vif/$d2/0/state 2>/dev/null)" = 4 ] && break
		sleep 0.2
	done
	[ "$(xenstore-read /local/domain/0/backend/vif/$d2/0/state)" = 4 ] ||
		{ why "the re-attached vif did not connect"; return 1; }
	echo "lab: re-attached as vif$d2.0"

	# Reboot guest2: a new domain, a new vif, the old one gone.
	xl reboot guest2 || { why "xl reboot failed"; return 1; }
	for i in $(seq 300); do
		[ "$(guest_count guest2 'ping 10.0.0.1 ok')" -ge 2 ] && break
		sleep 0.2
	done
	[ "$(guest_count guest2 'ping 10.0.0.1 ok')" -ge 2 ] ||
		{ why "guest2 did not ping after its reboot"; return 1; }
	echo "lab: guest2 rebooted as domain $(xl domid guest2)"

	# Destroy guest2 while dom0 floods it with pings.
	ping -f -c 100000 10.0.0.3 >/dev/null 2>&1 &
	sleep 2
	xl destroy guest2 || { why "xl destroy failed"; return 1; }
	kill %1 2>/dev/null
	sleep 2
	[ "$(nb_held)" = "$one" ] || { why "destroy left $(nb_held)"; return 1; }
	ping -c 3 -W 5 10.0.0.2 || { why "guest1 lost its network"; return 1; }
	return 0
}
