# Reference: kernel netback + Linux bridge (xl's standard vif-bridge
# script), one guest, ping both ways.
scenario() {
	modprobe xen-netback || { why "modprobe xen-netback failed"; return 1; }
	ip link add xenbr0 type bridge
	ip addr add 10.0.0.1/24 dev xenbr0
	ip link set xenbr0 up
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 "" || return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 60 || return 1
	ping -c 3 -W 5 10.0.0.2 || { why "dom0 cannot ping guest1"; return 1; }
	return 0
}
