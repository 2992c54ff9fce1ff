# lab-dom0-vcpus: 2
# Issue scenario 3: dom0 with 2 vCPUs and two netbackd workers offers 2
# queues; a 2-vCPU guest negotiates both, with split event channels, and
# 4 parallel TCP flows each way leave packets on both queues.
scenario() {
	NB_WORKERS=2 NB_LCORES="0@0,1@0,2@1" netbackd_start "[network xenbr0]
pif = net_tap0,iface=dtap0" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	iperf3 -s -D >/dev/null 2>&1
	GUEST_VCPUS=2 LAB_GUEST_EXTRA="lab_flows=4" guest_create guest1 \
		00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" "" 10.0.0.1 || return 1
	guest_wait guest1 "iperf offloads-on ok" 300 || return 1
	domid=$(xl domid guest1)
	fe=/local/domain/$domid/device/vif/0
	xenstore-ls "$fe"
	[ "$(xenstore-read $fe/multi-queue-num-queues)" = 2 ] ||
		{ why "the guest did not negotiate 2 queues"; return 1; }
	xenstore-read $fe/queue-1/event-channel-rx ||
		{ why "queue 1 has no split event channels"; return 1; }
	pkill -HUP netbackd
	sleep 2
	grep "queue" /var/log/netbackd.log
	for q in 0 1; do
		grep -q "vif$domid.0 queue $q (worker [0-9]*):.*tx_packets=.*rx_packets=" \
			/var/log/netbackd.log ||
			{ why "no counters of queue $q in netbackd's log"; return 1; }
	done
	return 0
}
