# Issue 15, point 1, with the stock netfront: a guest that stops taking
# RX costs only its own traffic. victim (10.0.0.2) runs an iperf3
# server; flooder (10.0.0.3) sends it 8 parallel TCP flows (GSO packets
# of up to 64 KiB) and the victim is paused (xl pause: its netfront takes
# nothing more) while the flows go on; a third pair, pa (10.0.0.4, iperf3
# server) and pb (10.0.0.5), runs ping and TCP before the flood and with
# the victim paused. Printed: LAB-ISOLATION lines, the pair's figures
# side by side, and netbackd's counters. Asserted: the pair's traffic
# gets through while the victim is paused (every ping answered, the TCP
# run completes) and nothing the pair sent was dropped for want of mbufs
# (tx_drop_no_mbuf). The rates are printed, not asserted: under TCG
# they measure the lab's CPU as much as netbackd.
# lab-timeout: 480
iso_run() { # GUEST TAG COMMAND TIMEOUT: run COMMAND, print its result line
	guest_say $1 "$3"
	cost_wait $1 "cost $2 \(done\|FAILED\)" $4 || return 1
	grep -a "GUEST $1: cost $2 " /var/log/xen/console/guest-$1.log |
		tail -1 | tr -d '\r' | sed 's/.*: cost /LAB-ISOLATION /'
}

scenario() {
	local vif
	netbackd_start "[network lan]" || return 1
	LAB_GUEST_EXTRA="lab_iperfd=1" guest_create victim \
		00:16:3e:00:00:02 10.0.0.2/24 "" \
		",bridge=lan,script=vif-netbackd" || return 1
	LAB_GUEST_EXTRA="lab_cmds=1" guest_create flooder \
		00:16:3e:00:00:03 10.0.0.3/24 10.0.0.2 \
		",bridge=lan,script=vif-netbackd" || return 1
	LAB_GUEST_EXTRA="lab_iperfd=1" guest_create pa \
		00:16:3e:00:00:04 10.0.0.4/24 "" \
		",bridge=lan,script=vif-netbackd" || return 1
	LAB_GUEST_EXTRA="lab_cmds=1" guest_create pb \
		00:16:3e:00:00:05 10.0.0.5/24 10.0.0.4 \
		",bridge=lan,script=vif-netbackd" || return 1
	guest_wait flooder "ping 10.0.0.2 ok" 120 || return 1
	guest_wait pb "ping 10.0.0.4 ok" 120 || return 1
	guest_wait flooder "commands" 60 || return 1
	guest_wait pb "commands" 60 || return 1
	sleep 3
	# The pair alone.
	iso_run pb ping-alone "ping ping-alone 10.0.0.4 20" 120 || return 1
	iso_run pb tcp-alone "tcp tcp-alone 10.0.0.4 8" 120 || return 1
	# The flood, then the victim paused while it goes on.
	guest_say flooder "flood flood 10.0.0.2 90 8"
	sleep 6
	xl pause victim || { why "xl pause victim failed"; return 1; }
	echo "lab: victim paused"
	sleep 4
	iso_run pb ping-flood "ping ping-flood 10.0.0.4 20" 120 || return 1
	iso_run pb tcp-flood "tcp tcp-flood 10.0.0.4 8" 120 || return 1
	pkill -HUP netbackd
	sleep 2
	grep -E "vif[0-9]+\.0 queue" /var/log/netbackd.log | tail -8
	xl unpause victim
	cost_wait flooder "cost flood \(done\|FAILED\)" 150 || return 1
	# Every ping of the pair answered while the victim was paused, and
	# its TCP run complete (iso_run failed otherwise).
	grep -a "GUEST pb: cost ping-flood done sent 20 received 20 " \
		/var/log/xen/console/guest-pb.log >/dev/null ||
		{ why "the pair lost pings while the victim was paused"; return 1; }
	grep -a "GUEST pb: cost tcp-flood done" \
		/var/log/xen/console/guest-pb.log >/dev/null ||
		{ why "the pair's TCP failed while the victim was paused"; return 1; }
	for g in pa pb; do
		vif=vif$(xl domid $g).0
		if grep -E "$vif queue .*tx_drop_no_mbuf=[1-9]" \
			/var/log/netbackd.log; then
			why "$vif dropped TX for want of mbufs"
			return 1
		fi
	done
	vif=vif$(xl domid victim).0
	grep -E "$vif queue" /var/log/netbackd.log | tail -1 |
		grep -o "rx_drop_[a-z_]*=[0-9]*" | sed 's/^/LAB-ISOLATION victim /'
	return 0
}
