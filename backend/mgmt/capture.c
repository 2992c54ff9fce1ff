/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture sessions: netbackctl capture VIF|PORT. A session holds one of
 * the data path's taps, follows the name to its switch port (a vif
 * reconnects on another one), and turns the tap's copies into pcapng
 * blocks on the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "mgmt_priv.h"
#include "pcapng.h"
#include "sw.h"
#include "xsval.h"

/* ------------------------------------------------------------- capture */

uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}



void
cap_write(struct conn *c, const void *p, size_t n)
{
	if (!out_room(c, n))
		return;
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* The first part of an answer, then the pcapng header blocks. */
int
cap_start(struct nb_daemon *d, struct req *r)
{
	struct conn *c = r->c;
	uint8_t blk[512];
	size_t n;
	int t;

	if (r->argc != 2)
		return usage_err(r, "capture PORT (netbackctl writes the file)");
	if (!ctl_vif_by_name(d, r->argv[1]) && !ctl_eth_find(d, r->argv[1]))
		return refuse(r, "no vif or DPDK port '%s'", r->argv[1]);
	t = dp_tap_open(&d->dp, NB_CAP_SNAPLEN);
	if (t == -ENOMEM)
		return refuse(r, "capture: no buffers (the pool could not be "
				 "made at start)");
	if (t < 0)
		return refuse(r, "capture: %u already running", DP_MAX_TAPS);
	c->cap = t;
	c->cap_port = -1;
	c->cap_recv = 0;
	c->cap_dropped = 0;
	snprintf(c->cap_name, sizeof(c->cap_name), "%s", r->argv[1]);
	cap_write(c, "0", 1);
	n = nb_pcapng_shb(blk, sizeof(blk), "netbackd " NB_VERSION);
	cap_write(c, blk, n);
	n = nb_pcapng_idb(blk, sizeof(blk), NB_CAP_SNAPLEN, r->argv[1]);
	cap_write(c, blk, n);
	nb_info("capture of %s started", r->argv[1]);
	return -1; /* answered: the stream goes on */
}

/* Follow the captured name to its switch port (a vif reconnects on
 * another one); false when it is gone. */
bool
cap_follow(struct nb_daemon *d, struct conn *c)
{
	bool exists = ctl_vif_by_name(d, c->cap_name) || ctl_eth_find(d, c->cap_name);
	int port = exists ? name_port(d, c->cap_name) : -1;

	if (port == c->cap_port)
		return exists;
	dp_tap_watch(&d->dp, (unsigned)c->cap, c->cap_port, false);
	c->cap_port = port;
	dp_tap_watch(&d->dp, (unsigned)c->cap, port, true);
	return exists;
}

/* Copies waiting in the tap become blocks for the reader. */
void
cap_drain(struct nb_daemon *d, struct conn *c)
{
	struct mgmt *m = d->mgmt;
	struct rte_mbuf *mb[64];
	struct dp_tap_hdr h[64];
	/* the block, and a chained frame made contiguous apart */
	static uint8_t blk[NB_CAP_SNAPLEN + 256], lin[NB_CAP_SNAPLEN];
	unsigned n;
	uint64_t hz = rte_get_tsc_hz();

	while ((n = dp_tap_dequeue(&d->dp, (unsigned)c->cap, mb, h, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const void *data;
			uint32_t len = mb[i]->pkt_len;
			uint64_t dt = h[i].tsc - m->tsc0;
			uint64_t ns = m->ns0 + dt / hz * 1000000000ull +
				      dt % hz * 1000000000ull / hz;
			size_t bl;

			/* contiguous data for the block */
			if (len > sizeof(lin))
				len = sizeof(lin);
			data = rte_pktmbuf_read(mb[i], 0, len, lin);
			bl = nb_pcapng_epb(blk, sizeof(blk), 0, ns, data, len,
					   h[i].orig_len, h[i].out);
			if (c->outlen - c->outoff > NB_CAP_OUT_MAX || !bl) {
				c->cap_dropped++;
			} else {
				cap_write(c, blk, bl);
				c->cap_recv++;
			}
			rte_pktmbuf_free(mb[i]);
		}
	}
}

/* The reader has had enough: statistics, then close. */
void
cap_stop(struct nb_daemon *d, struct conn *c)
{
	uint8_t blk[128];
	uint64_t dropped;
	size_t n;

	if (c->cap < 0 || c->cap_stopping)
		return;
	c->cap_port = -1;
	dp_tap_stop(&d->dp, (unsigned)c->cap);
	cap_drain(d, c);
	dropped = dp_tap_dropped(&d->dp, (unsigned)c->cap) + c->cap_dropped;
	n = nb_pcapng_isb(blk, sizeof(blk), 0, wall_ns(), c->cap_recv,
			  dropped);
	cap_write(c, blk, n);
	nb_info("capture of %s ended: %" PRIu64 " packets, %" PRIu64
		" dropped", c->cap_name, c->cap_recv, dropped);
	c->cap_stopping = true;
}
