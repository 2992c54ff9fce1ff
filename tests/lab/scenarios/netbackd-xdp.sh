# XDP headroom with the stock netfront: the guest attaches an XDP_PASS
# program, netfront writes xdp-headroom and goes Reconfiguring; netbackd
# must answer Reconfigured and from then on place every RX frame after the
# headroom with an XDP extra. Pings of 56 and 3000 bytes (multi-slot)
# both ways prove the guest's stack still gets whole, correct frames;
# then XDP is detached (headroom 0) and the ping repeated.
scenario() {
	netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	LAB_GUEST_EXTRA="lab_xdp=1 lab_psize=3000" guest_create guest1 \
		00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" || return 1
	guest_wait guest1 "xdp attached" 90 || return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 90 || return 1
	grep "xdp-headroom" /var/log/netbackd.log
	grep -q "reconfigured, xdp-headroom [1-9]" /var/log/netbackd.log ||
		{ why "netbackd saw no xdp-headroom"; return 1; }
	ping -c 3 -W 5 10.0.0.2 || { why "dom0 cannot ping guest1"; return 1; }
	ping -c 3 -W 5 -s 3000 10.0.0.2 ||
		{ why "dom0 cannot ping guest1 with 3000 bytes"; return 1; }
	pkill -HUP netbackd
	sleep 1
	grep "vif[0-9]*.0 queue 0" /var/log/netbackd.log | tail -1
	return 0
}
