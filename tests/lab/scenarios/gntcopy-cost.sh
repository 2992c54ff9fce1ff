# What one grant-copy call costs in this PV dom0, three ways: gntdev's
# copy ioctl with a user address (netbackd today), the same with grant
# refs on both sides, and GNTTABOP_copy straight through privcmd; beside
# a system call that does nothing (bench/gntcopy-cost.c, on pages dom0
# grants to itself). Fails when a copy fails or its bytes are wrong;
# the figures are printed as LAB-GNTCOPY lines, nothing is asserted on
# them.
# lab-timeout: 240
scenario() {
	[ -x /lab/gntcopy-cost ] ||
		{ why "no gntcopy-cost on /lab (ninja -C BUILD first)"; return 1; }
	/lab/gntcopy-cost ${GNTCOPY_SECS:-0.3} >/tmp/gntcopy.json ||
		{ why "gntcopy-cost failed"; sed 's/^/LAB-GNTCOPY /' /tmp/gntcopy.json; return 1; }
	sed 's/^/LAB-GNTCOPY /' /tmp/gntcopy.json
	return 0
}
