/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The smallest XDP program: pass every frame. Attaching it in a lab
 * guest makes the stock netfront ask its backend for XDP headroom
 * (xdp-headroom, XenbusStateReconfiguring), which is what the
 * netbackd-xdp scenario checks. Built by run.sh: clang -target bpf.
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int
xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

__attribute__((section("license"), used)) char prog_license[] = "GPL";
