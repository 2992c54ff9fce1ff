/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simfront: the netif frontend half, written from xen/io/netif.h and
 * xen/io/ring.h and the behaviour of Linux 6.1 xen-netfront (see
 * simfront.h for what is mirrored).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
/* ring.h's barriers: the peer is another process on this machine. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "simfront.h"
#include "simhv.h"

/* Linux 5.9+ XDP headroom; Xen 4.17's netif.h predates it. */
#ifndef XEN_NETIF_EXTRA_TYPE_XDP
#define XEN_NETIF_EXTRA_TYPE_XDP 5
#endif
#ifndef XEN_NETIF_MAX_XDP_HEADROOM
#define XEN_NETIF_MAX_XDP_HEADROOM 0x7FFF
#endif
/* One past the last extra type known here (the header's
 * XEN_NETIF_EXTRA_TYPE_MAX may not count XDP). */
#define EXTRA_TYPE_END (XEN_NETIF_EXTRA_TYPE_XDP + 1)

/* The XDP extra, spelt out: an older netif_extra_info has no u.xdp. */
struct xdp_extra {
	uint8_t type, flags;
	uint16_t headroom;
	uint16_t pad[2];
};
_Static_assert(sizeof(struct xdp_extra) == sizeof(netif_extra_info_t),
	       "XDP extra is one extra slot");

#define PAGE SIMHV_PAGE_SIZE
#define NSLOTS SIMFRONT_RING_SIZE
#define PAGES_PER_Q (2u + 2u * NSLOTS)
/* After the queues: the control ring page and its scratch pages,
 * reserved whether used or not so that the layout never moves. */
#define CTRL_SCRATCH 2u
#define CTRL_PAGES (1u + CTRL_SCRATCH)
#define ETH_HLEN 14u
/* Slots a TX frame can take: 65535 bytes from an offset (netfront's
 * MAX_XEN_SKB_FRAGS + 1). */
#define MAX_TX_SLOTS (65536u / PAGE + 2u)
/* netfront accepts XEN_NETIF_NR_SLOTS_MIN RX data slots, one more when
 * the first is at most this long. */
#define RX_COPY_THRESHOLD 256
/* Refill the RX ring during a batch once this many buffers are used. */
#define RX_REFILL_BATCH 32u

/* A shared index, read once: the other end writes it at any time. */
#define READ_IDX(x) (*(volatile RING_IDX *)&(x))

struct fq {
	unsigned id;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint32_t tx_ring_pg, rx_ring_pg, tx_pg0, rx_pg0;
	uint32_t tx_ring_ref, rx_ring_ref; /* 0: none (refs < 8 reserved) */
	uint32_t tx_port, rx_port;         /* equal when not split; 0: none */
	uint32_t tx_ref[NSLOTS], rx_ref[NSLOTS];
	/*
	 * TX ids: requests in flight per id (a raw push may put an id in
	 * flight twice) and a stack of free ids. An id leaves the stack
	 * when popped, returns when its count drops to zero.
	 */
	uint8_t tx_pend[NSLOTS];
	bool tx_infree[NSLOTS];
	uint16_t tx_free[NSLOTS];
	unsigned ntxfree;
	RING_IDX rx_prod_seen; /* the RX rsp_prod seen last */
};

struct simfront {
	struct simfront_conf c;
	struct simhv *hv;
	bool own_hv;
	struct xs_handle *xs;
	struct simhv_evtchn *evh;
	char *mem;
	char fe[96], be[96];
	unsigned nq;
	bool connected;
	/* what the backend offered */
	bool split, be_sg, be_gso4, be_gso6;
	bool be_mcast, be_dyn_mcast, be_xdp;
	const char *broken;
	/*
	 * The control ring. Its port lives on a handle of its own, so that
	 * waiting for a control response never takes (and hides) a data
	 * ring's event from simfront_poll() and simfront_fd().
	 */
	bool ctrl;
	struct simhv_evtchn *cevh;
	xen_netif_ctrl_front_ring_t cr;
	uint32_t ctrl_pg; /* ring page; scratch pages follow */
	uint32_t ctrl_ring_ref, ctrl_scratch_ref[CTRL_SCRATCH];
	uint32_t ctrl_port;
	uint16_t ctrl_id; /* id of the next request */
	struct fq q[SIMFRONT_MAX_QUEUES];
	struct simfront_stats st[SIMFRONT_MAX_QUEUES];
};

/* Page `page` of this vif's memory (counted from conf.first_page). */
static void *
pg(struct simfront *f, uint32_t page)
{
	return f->mem + ((size_t)f->c.first_page + page) * PAGE;
}

void
simfront_conf_default(struct simfront_conf *c, struct simhv *hv,
		      uint16_t domid, uint16_t devid)
{
	memset(c, 0, sizeof(*c));
	c->hv = hv;
	c->domid = domid;
	c->devid = devid;
	c->queues = 1;
	c->sg = c->gso_tcpv4 = c->gso_tcpv6 = c->ipv6_csum = true;
	c->rx_notify = true;
	c->rx_fill = NSLOTS;
}

uint32_t
simfront_pages(unsigned queues)
{
	return queues * PAGES_PER_Q + CTRL_PAGES;
}

struct simfront *
simfront_new(const struct simfront_conf *c, struct xs_handle *xs)
{
	struct simfront *f;
	long pages;
	int err;

	if (!c || !xs || (!c->hv && !c->hv_dir) || c->queues == 0 ||
	    c->queues > SIMFRONT_MAX_QUEUES || c->rx_fill > NSLOTS ||
	    c->domid == c->backend_domid ||
	    c->xdp_headroom > XEN_NETIF_MAX_XDP_HEADROOM) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->c = *c;
	if (!f->c.rx_fill)
		f->c.rx_fill = NSLOTS;
	f->xs = xs;
	f->hv = c->hv;
	if (!f->hv) {
		f->hv = simhv_open(c->hv_dir, false);
		if (!f->hv)
			goto fail;
		f->own_hv = true;
	}
	f->c.hv = f->hv;
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vif/%u",
		 c->domid, c->devid);
	snprintf(f->be, sizeof(f->be), "/local/domain/%u/backend/vif/%u/%u",
		 c->backend_domid, c->domid, c->devid);
	pages = simhv_domain_pages(f->hv, c->domid);
	if (pages < 0) {
		errno = (int)-pages;
		goto fail;
	}
	if ((uint64_t)pages < (uint64_t)c->first_page +
				  simfront_pages(c->queues)) {
		errno = ENOMEM;
		goto fail;
	}
	f->mem = simhv_guest_memory(f->hv, c->domid);
	if (!f->mem)
		goto fail;
	f->evh = simhv_evtchn_open(f->hv, c->domid);
	if (!f->evh)
		goto fail;
	return f;
fail:
	err = errno;
	if (f->own_hv)
		simhv_close(f->hv);
	free(f);
	errno = err;
	return NULL;
}

/* End one grant; count it if the backend still has it mapped. */
static void
end_grant(struct simfront *f, uint32_t *ref, int *leaked)
{
	if (*ref == 0)
		return;
	/* -EBUSY: the entry stays valid, as gnttab_end_foreign_access_ref
	 * refuses in Linux while the backend maps it. */
	if (simhv_grant_end(f->hv, f->c.domid, *ref) == -EBUSY)
		(*leaked)++;
	*ref = 0;
}

/*
 * End every grant and free every port of the connection; returns how
 * many grants the backend still maps. Safe to call twice and on a
 * half-made connection.
 */
static int
teardown(struct simfront *f)
{
	int leaked = 0;

	for (unsigned i = 0; i < SIMFRONT_MAX_QUEUES; i++) {
		struct fq *q = &f->q[i];

		end_grant(f, &q->tx_ring_ref, &leaked);
		end_grant(f, &q->rx_ring_ref, &leaked);
		for (unsigned k = 0; k < NSLOTS; k++) {
			end_grant(f, &q->tx_ref[k], &leaked);
			end_grant(f, &q->rx_ref[k], &leaked);
		}
		if (q->rx_port && q->rx_port != q->tx_port)
			simhv_evtchn_unbind(f->evh, q->rx_port);
		if (q->tx_port)
			simhv_evtchn_unbind(f->evh, q->tx_port);
		q->tx_port = q->rx_port = 0;
	}
	end_grant(f, &f->ctrl_ring_ref, &leaked);
	for (unsigned k = 0; k < CTRL_SCRATCH; k++)
		end_grant(f, &f->ctrl_scratch_ref[k], &leaked);
	if (f->cevh) {
		if (f->ctrl_port)
			simhv_evtchn_unbind(f->cevh, f->ctrl_port);
		simhv_evtchn_close(f->cevh);
		f->cevh = NULL;
	}
	f->ctrl_port = 0;
	f->ctrl = false;
	f->nq = 0;
	f->connected = false;
	return leaked;
}

void
simfront_free(struct simfront *f)
{
	if (!f)
		return;
	teardown(f);
	simhv_evtchn_close(f->evh);
	if (f->own_hv)
		simhv_close(f->hv);
	free(f);
}

static int
grant(struct simfront *f, uint32_t page, bool readonly, uint32_t *ref)
{
	int r = simhv_grant_access(f->hv, f->c.domid, f->c.backend_domid,
				   f->c.first_page + page, readonly);

	if (r < 0)
		return r;
	*ref = (uint32_t)r;
	return 0;
}

static int
alloc_port(struct simfront *f, uint32_t *port)
{
	int r = simhv_evtchn_alloc_unbound(f->evh, f->c.backend_domid);

	if (r < 0)
		return r;
	*port = (uint32_t)r;
	return 0;
}

/* Rings, buffers and ports of queue i: what netfront's setup_netfront
 * and init_queue make. */
static int
queue_setup(struct simfront *f, unsigned i)
{
	struct fq *q = &f->q[i];
	uint32_t base = i * PAGES_PER_Q;
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	int r;

	memset(q, 0, sizeof(*q));
	q->id = i;
	q->tx_ring_pg = base;
	q->rx_ring_pg = base + 1;
	q->tx_pg0 = base + 2;
	q->rx_pg0 = base + 2 + NSLOTS;
	txs = pg(f, q->tx_ring_pg);
	rxs = pg(f, q->rx_ring_pg);
	memset(txs, 0, PAGE);
	memset(rxs, 0, PAGE);
	SHARED_RING_INIT(txs);
	FRONT_RING_INIT(&q->tx, txs, PAGE);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&q->rx, rxs, PAGE);
	if ((r = grant(f, q->tx_ring_pg, false, &q->tx_ring_ref)) < 0 ||
	    (r = grant(f, q->rx_ring_pg, false, &q->rx_ring_ref)) < 0)
		return r;
	for (unsigned k = 0; k < NSLOTS; k++) {
		if ((r = grant(f, q->tx_pg0 + k, true, &q->tx_ref[k])) < 0 ||
		    (r = grant(f, q->rx_pg0 + k, false, &q->rx_ref[k])) < 0)
			return r;
		/* Lowest ids on top, as netfront's free list starts. */
		q->tx_free[q->ntxfree++] = (uint16_t)(NSLOTS - 1 - k);
		q->tx_infree[k] = true;
	}
	if ((r = alloc_port(f, &q->tx_port)) < 0)
		return r;
	q->rx_port = q->tx_port;
	if (f->split && (r = alloc_port(f, &q->rx_port)) < 0)
		return r;
	return 0;
}

/* The control ring (netif.h "Control ring"): one page, writable to the
 * backend, its own port, and the scratch pages requests point at. */
static int
ctrl_setup(struct simfront *f)
{
	xen_netif_ctrl_sring_t *s;
	int r;

	f->ctrl_pg = f->c.queues * PAGES_PER_Q;
	s = pg(f, f->ctrl_pg);
	memset(s, 0, PAGE);
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f->cr, s, PAGE);
	f->ctrl_id = 0;
	if ((r = grant(f, f->ctrl_pg, false, &f->ctrl_ring_ref)) < 0)
		return r;
	for (unsigned k = 0; k < CTRL_SCRATCH; k++) {
		memset(pg(f, f->ctrl_pg + 1 + k), 0, PAGE);
		r = grant(f, f->ctrl_pg + 1 + k, false,
			  &f->ctrl_scratch_ref[k]);
		if (r < 0)
			return r;
	}
	f->cevh = simhv_evtchn_open(f->hv, f->c.domid);
	if (!f->cevh)
		return -errno;
	r = simhv_evtchn_alloc_unbound(f->cevh, f->c.backend_domid);
	if (r < 0)
		return r;
	f->ctrl_port = (uint32_t)r;
	f->ctrl = true;
	if (f->c.ctrl_prod_early) {
		xen_wmb();
		s->req_prod = f->c.ctrl_prod_early;
	}
	return 0;
}

static int
xwrite(struct simfront *f, xs_transaction_t t, const char *dir,
       const char *key, unsigned val)
{
	char path[192], v[16];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	snprintf(v, sizeof(v), "%u", val);
	return xs_write(f->xs, t, path, v, (unsigned)strlen(v)) ? 0 : -errno;
}

/* Flat for one queue, under queue-N/ for several (netfront's
 * write_queue_xenstore_keys). */
static int
write_queue_keys(struct simfront *f, xs_transaction_t t, unsigned i)
{
	struct fq *q = &f->q[i];
	char dir[128];
	int r;

	if (f->nq == 1)
		snprintf(dir, sizeof(dir), "%s", f->fe);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", f->fe, i);
	if ((r = xwrite(f, t, dir, "tx-ring-ref", q->tx_ring_ref)) < 0 ||
	    (r = xwrite(f, t, dir, "rx-ring-ref", q->rx_ring_ref)) < 0)
		return r;
	if (q->tx_port == q->rx_port)
		return xwrite(f, t, dir, "event-channel", q->tx_port);
	if ((r = xwrite(f, t, dir, "event-channel-tx", q->tx_port)) < 0)
		return r;
	return xwrite(f, t, dir, "event-channel-rx", q->rx_port);
}

static int
write_keys(struct simfront *f, bool num_queues)
{
	const struct {
		bool on;
		const char *key;
	} feat[] = {
		{ !f->c.no_rx_copy, "request-rx-copy" },
		{ f->c.rx_notify, "feature-rx-notify" },
		{ f->c.sg, "feature-sg" },
		{ f->c.gso_tcpv4, "feature-gso-tcpv4" },
		{ f->c.gso_tcpv6, "feature-gso-tcpv6" },
		{ f->c.ipv6_csum, "feature-ipv6-csum-offload" },
		{ f->c.no_csum, "feature-no-csum-offload" },
		/* netif.h: set before Connected unless the backend also
		 * offers the dynamic variant. */
		{ f->c.mcast_control && f->be_mcast,
		  "request-multicast-control" },
	};

	for (;;) {
		xs_transaction_t t = xs_transaction_start(f->xs);
		int r = 0;

		if (t == XBT_NULL)
			return -errno;
		if (num_queues)
			r = xwrite(f, t, f->fe, "multi-queue-num-queues",
				   f->nq);
		for (unsigned i = 0; r == 0 && i < f->nq; i++)
			r = write_queue_keys(f, t, i);
		if (r == 0 && f->ctrl)
			r = xwrite(f, t, f->fe, "ctrl-ring-ref",
				   f->c.ctrl_ref_forged ? f->c.ctrl_ref_forged
							: f->ctrl_ring_ref);
		if (r == 0 && f->ctrl) {
			uint32_t port = f->c.ctrl_port_forged ?
			    f->c.ctrl_port_forged : f->ctrl_port;

			if (f->c.ctrl_port_shared)
				port = f->q[0].tx_port;
			r = xwrite(f, t, f->fe, "event-channel-ctrl", port);
		}
		for (size_t k = 0; r == 0 && k < sizeof(feat) / sizeof(feat[0]);
		     k++)
			if (feat[k].on)
				r = xwrite(f, t, f->fe, feat[k].key, 1);
		if (r < 0) {
			xs_transaction_end(f->xs, t, true);
			return r;
		}
		if (xs_transaction_end(f->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
}

static void
notify(struct simfront *f, unsigned qi, uint32_t port)
{
	/* -ENOTCONN before the backend binds: Xen drops a notification
	 * on an unbound port silently. */
	if (simhv_evtchn_notify(f->evh, port) == 0)
		f->st[qi].notify_sent++;
}

/* Post buffers up to the fill level; buffer i answers at ring position
 * i (mod 256), as netfront's xennet_rxidx() places them. */
static void
rx_refill(struct simfront *f, unsigned qi)
{
	struct fq *q = &f->q[qi];
	int kick;

	if (q->rx.req_prod_pvt - q->rx.rsp_cons >= f->c.rx_fill)
		return;
	while (q->rx.req_prod_pvt - q->rx.rsp_cons < f->c.rx_fill) {
		netif_rx_request_t *r =
		    RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);
		uint16_t id = (uint16_t)(q->rx.req_prod_pvt & (NSLOTS - 1));

		r->id = id;
		r->gref = q->rx_ref[id];
		q->rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, kick);
	/* Without feature-rx-notify the backend must poll for buffers. */
	if (kick && f->c.rx_notify)
		notify(f, qi, q->rx_port);
}

static int
be_int(struct simfront *f, const char *key, int dflt)
{
	int v = simtool_read_int(f->xs, "%s/%s", f->be, key);

	return v < 0 ? dflt : v;
}

static int
left_ms(const struct timespec *t0, int timeout_ms)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - t0->tv_sec) * 1000 +
	     (now.tv_nsec - t0->tv_nsec) / 1000000;
	return ms >= timeout_ms ? 0 : (int)(timeout_ms - ms);
}

int
simfront_connect(struct simfront *f, int timeout_ms)
{
	const unsigned initwait = 1u << XenbusStateInitWait,
		       closing = 1u << XenbusStateClosing,
		       closed = 1u << XenbusStateClosed,
		       connected = 1u << XenbusStateConnected;
	struct timespec t0;
	bool has_maxq;
	int st, r, maxq;

	if (f->connected || f->nq)
		return -EALREADY;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = simtool_wait_state(f->xs, timeout_ms, initwait | closing,
				"%s/state", f->be);
	if (st < 0)
		return st;
	if (st != XenbusStateInitWait)
		return -ECONNREFUSED;

	/* netfront's xennet_connect() and talk_to_netback(). */
	if (!f->c.no_rx_copy && be_int(f, "feature-rx-copy", 0) != 1)
		return -ENODEV;
	maxq = simtool_read_int(f->xs, "%s/multi-queue-max-queues", f->be);
	has_maxq = maxq >= 0;
	f->nq = f->c.queues;
	if ((int)f->nq > (maxq < 1 ? 1 : maxq))
		f->nq = maxq < 1 ? 1 : (unsigned)maxq;
	f->split = !f->c.no_split &&
		   be_int(f, "feature-split-event-channels", 0) == 1;
	f->be_sg = be_int(f, "feature-sg", 0) == 1;
	f->be_gso4 = be_int(f, "feature-gso-tcpv4", 0) == 1;
	f->be_gso6 = be_int(f, "feature-gso-tcpv6", 0) == 1;
	f->be_mcast = be_int(f, "feature-multicast-control", 0) == 1;
	f->be_dyn_mcast =
	    be_int(f, "feature-dynamic-multicast-control", 0) == 1;
	f->be_xdp = be_int(f, "feature-xdp-headroom", 0) == 1;
	f->broken = NULL;
	if (f->be_xdp) {
		/* XDP off: netfront says headroom 0 (the key's absence
		 * would do too, but netfront writes it). */
		r = xwrite(f, XBT_NULL, f->fe, "xdp-headroom",
			   f->c.xdp_headroom);
		if (r < 0)
			goto fail;
	}
	for (unsigned i = 0; i < f->nq; i++) {
		r = queue_setup(f, i);
		if (r < 0)
			goto fail;
	}
	if (f->c.ctrl_ring && be_int(f, "feature-ctrl-ring", 0) == 1) {
		r = ctrl_setup(f);
		if (r < 0)
			goto fail;
	}
	r = write_keys(f, has_maxq);
	if (r < 0)
		goto fail;
	/* Kick both ports (dropped: not bound yet), post the buffers. */
	for (unsigned i = 0; i < f->nq; i++) {
		notify(f, i, f->q[i].tx_port);
		if (f->q[i].rx_port != f->q[i].tx_port)
			notify(f, i, f->q[i].rx_port);
		rx_refill(f, i);
	}
	f->connected = true;
	/* Linux 6.1 netfront goes from Initialising straight to Connected
	 * once its keys are written; it never writes Initialised. */
	r = xwrite(f, XBT_NULL, f->fe, "state", XenbusStateConnected);
	if (r < 0)
		return r;
	st = simtool_wait_state(f->xs, left_ms(&t0, timeout_ms),
				connected | closing | closed, "%s/state",
				f->be);
	if (st < 0)
		return st;
	return st == XenbusStateConnected ? 0 : -ECONNREFUSED;
fail:
	teardown(f);
	return r;
}

int
simfront_close(struct simfront *f, int timeout_ms)
{
	const unsigned closing = 1u << XenbusStateClosing,
		       closed = 1u << XenbusStateClosed,
		       unknown = 1u << XenbusStateUnknown;

	/* netfront's xennet_bus_close(): nothing to say to a backend that
	 * is Closed already. */
	if (be_int(f, "state", XenbusStateUnknown) != XenbusStateClosed) {
		xwrite(f, XBT_NULL, f->fe, "state", XenbusStateClosing);
		if (simtool_wait_state(f->xs, timeout_ms,
				       closing | closed | unknown, "%s/state",
				       f->be) != XenbusStateClosed) {
			xwrite(f, XBT_NULL, f->fe, "state", XenbusStateClosed);
			simtool_wait_state(f->xs, timeout_ms, closed | unknown,
					   "%s/state", f->be);
		}
	}
	return teardown(f);
}

unsigned
simfront_queues(const struct simfront *f)
{
	return f->nq;
}

bool
simfront_split(const struct simfront *f)
{
	return f->split;
}

int
simfront_fd(const struct simfront *f)
{
	return simhv_evtchn_fd(f->evh);
}

const char *
simfront_broken(const struct simfront *f)
{
	return f->broken;
}

/* A backend protocol violation: netfront disables the device. */
static void
set_broken(struct simfront *f, const char *why)
{
	if (!f->broken)
		f->broken = why;
}

static void
tx_id_put(struct fq *q, uint16_t id)
{
	if (q->tx_pend[id] == 0 && !q->tx_infree[id]) {
		q->tx_infree[id] = true;
		q->tx_free[q->ntxfree++] = id;
	}
}

static void
tx_id_done(struct fq *q, uint16_t id)
{
	q->tx_pend[id]--;
	tx_id_put(q, id);
}

static int
tx_id_get(struct fq *q)
{
	while (q->ntxfree) {
		uint16_t id = q->tx_free[--q->ntxfree];

		q->tx_infree[id] = false;
		/* Put in flight by a raw push meanwhile: it comes back to
		 * the stack when its response does. */
		if (q->tx_pend[id] == 0)
			return id;
	}
	return -ENOSPC;
}

/* Take TX responses (netfront's xennet_tx_buf_gc). */
static void
tx_reap(struct simfront *f, unsigned qi)
{
	struct fq *q = &f->q[qi];
	struct simfront_stats *st = &f->st[qi];
	RING_IDX prod, cons;
	int more;

	if (f->broken)
		return;
	do {
		prod = READ_IDX(q->tx.sring->rsp_prod);
		if (RING_RESPONSE_PROD_OVERFLOW(&q->tx, prod)) {
			set_broken(f, "TX response producer beyond the ring");
			return;
		}
		xen_rmb(); /* responses up to prod are written */
		for (cons = q->tx.rsp_cons; cons != prod; cons++) {
			netif_tx_response_t r;

			RING_COPY_RESPONSE(&q->tx, cons, &r);
			if (r.status == NETIF_RSP_NULL)
				continue;
			if (r.id >= NSLOTS) {
				set_broken(f, "TX response id out of range");
				return;
			}
			if (q->tx_pend[r.id] == 0) {
				set_broken(f, "TX response for an inactive "
					      "request");
				return;
			}
			tx_id_done(q, r.id);
			if (r.status == NETIF_RSP_OKAY)
				st->tx_ok++;
			else if (r.status == NETIF_RSP_DROPPED)
				st->tx_dropped++;
			else
				st->tx_error++;
		}
		q->tx.rsp_cons = prod;
		RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
	} while (more);
}

int
simfront_send(struct simfront *f, unsigned qi, const void *frame, size_t len,
	      const struct simfront_txopt *opt)
{
	struct fq *q;
	const uint8_t *p = frame;
	unsigned off = opt ? opt->offset : 0, slots, need, n;
	uint16_t ids[MAX_TX_SLOTS];
	netif_tx_request_t *prev = NULL;
	size_t first, done;
	bool gso = opt && opt->gso_size;

	if (qi >= f->nq || !f->connected || len == 0 ||
	    len > XEN_NETIF_MAX_TX_SIZE || off >= PAGE)
		return -EINVAL;
	if (f->broken)
		return -ENODEV;
	q = &f->q[qi];
	/* netfront bounces a frame whose first page cannot hold the
	 * Ethernet header: the backend drops a shorter first slot. */
	if (PAGE - off < ETH_HLEN)
		off = 0;
	first = len < PAGE - off ? len : PAGE - off;
	slots = 1 + (unsigned)((len - first + PAGE - 1) / PAGE);
	if (slots > 1 && !f->be_sg)
		return -EMSGSIZE;
	if (gso &&
	    !((opt->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && f->be_gso4) ||
	      (opt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && f->be_gso6)))
		return -EOPNOTSUPP;
	need = slots + (gso ? 1u : 0u);
	if (RING_FREE_REQUESTS(&q->tx) < need || q->ntxfree < slots)
		tx_reap(f, qi);
	if (RING_FREE_REQUESTS(&q->tx) < need)
		return -ENOSPC;
	/* Take every id first: nothing is written unless all fit. */
	for (n = 0; n < slots; n++) {
		int id = tx_id_get(q);

		if (id < 0) {
			while (n--)
				tx_id_put(q, ids[n]);
			return -ENOSPC;
		}
		ids[n] = (uint16_t)id;
	}

	done = 0;
	for (n = 0; n < slots; n++) {
		size_t chunk = n == 0 ? first
				      : (len - done < PAGE ? len - done : PAGE);
		unsigned o = n == 0 ? off : 0;
		netif_tx_request_t *r;

		q->tx_pend[ids[n]] = 1;
		memcpy((uint8_t *)pg(f, q->tx_pg0 + ids[n]) + o, p + done,
		       chunk);
		if (prev)
			prev->flags |= NETTXF_more_data;
		r = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);
		r->gref = q->tx_ref[ids[n]];
		r->offset = (uint16_t)o;
		r->id = ids[n];
		r->flags = 0;
		/* The first slot says the whole length. */
		r->size = (uint16_t)(n == 0 ? len : chunk);
		if (n == 0 && opt)
			r->flags = opt->flags &
				   (NETTXF_csum_blank | NETTXF_data_validated);
		if (n == 0 && gso) {
			/* The GSO extra follows the first slot. */
			netif_extra_info_t *x = (netif_extra_info_t *)
			    RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

			r->flags |= NETTXF_extra_info;
			memset(x, 0, sizeof(netif_tx_request_t));
			x->type = XEN_NETIF_EXTRA_TYPE_GSO;
			x->u.gso.size = opt->gso_size;
			x->u.gso.type = opt->gso_type;
		}
		prev = r;
		done += chunk;
	}
	f->st[qi].tx_packets++;
	f->st[qi].tx_bytes += len;
	return 0;
}

int
simfront_send_burst(struct simfront *f, unsigned q,
		    const struct simfront_frame *fr, unsigned n)
{
	unsigned i;
	int r = 0;

	for (i = 0; i < n; i++) {
		r = simfront_send(f, q, fr[i].data, fr[i].len, fr[i].opt);
		if (r < 0)
			break;
	}
	if (i > 0)
		simfront_flush(f, q);
	return i > 0 || n == 0 ? (int)i : r;
}

void
simfront_flush(struct simfront *f, unsigned qi)
{
	struct fq *q;
	int kick;

	if (qi >= f->nq)
		return;
	q = &f->q[qi];
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, kick);
	if (kick)
		notify(f, qi, q->tx_port);
	/* netfront collects TX responses after every transmit. */
	tx_reap(f, qi);
}

struct rxpkt {
	struct simfront_rxinfo in;
	size_t total;
	bool err, big, unasked;
};

/* Check and copy one data slot at ring position pos. */
static void
rx_slot(struct simfront *f, struct fq *q, RING_IDX pos,
	const netif_rx_response_t *r, void *buf, size_t cap, struct rxpkt *k)
{
	if (r->id != (pos & (NSLOTS - 1))) {
		/* Responses answer the request at their position, whose
		 * id is the position: anything else is a backend bug. */
		k->err = true;
	} else if (r->status < 0) {
		k->err = true;
		if (!k->in.status)
			k->in.status = r->status;
	} else if ((unsigned)r->offset + (unsigned)r->status > PAGE ||
		   (unsigned)r->status < k->in.xdp_headroom) {
		k->err = true;
	} else if (k->err || k->big) {
		/* dropped anyway: the slot is only checked */
	} else {
		/* With an XDP extra, each data slot holds the headroom
		 * first and `status` counts it (kernel netback's layout). */
		size_t hr = k->in.xdp_headroom, len = (size_t)r->status - hr;

		if (k->total + len > cap) {
			k->big = true;
			return;
		}
		memcpy((uint8_t *)buf + k->total,
		       (const uint8_t *)pg(f, q->rx_pg0 + r->id) + r->offset +
			   hr, len);
		k->total += len;
	}
}

/* Parse the extras after position *pos (netfront's xennet_get_extras). */
static void
rx_extras(struct simfront *f, struct fq *q, RING_IDX *pos, RING_IDX rp,
	  struct rxpkt *k)
{
	netif_extra_info_t x;
	unsigned seen = 0; /* types met so far, one bit each */

	do {
		if (*pos + 1 == rp) {
			k->err = true; /* extra info missing */
			return;
		}
		(*pos)++;
		k->in.slots++;
		/* An extra overlays a response slot. */
		memcpy(&x, (const void *)RING_GET_RESPONSE(&q->rx, *pos),
		       sizeof(x));
		if (x.type == XEN_NETIF_EXTRA_TYPE_NONE ||
		    x.type >= EXTRA_TYPE_END) {
			k->err = true;
			continue;
		}
		/* Extras come in any order, but each type once: a second
		 * would contradict the first. */
		if (seen & (1u << x.type)) {
			k->err = true;
			continue;
		}
		seen |= 1u << x.type;
		if (x.type == XEN_NETIF_EXTRA_TYPE_HASH) {
			/* htype is a bit number (_XEN_NETIF_CTRL_HASH_TYPE_*),
			 * value little-endian whatever the host. */
			if (x.u.hash.type > _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)
				k->err = true;
			k->in.hash_valid = true;
			k->in.hash_type = x.u.hash.type;
			k->in.hash_alg = x.u.hash.algorithm;
			k->in.hash = (uint32_t)x.u.hash.value[0] |
				     (uint32_t)x.u.hash.value[1] << 8 |
				     (uint32_t)x.u.hash.value[2] << 16 |
				     (uint32_t)x.u.hash.value[3] << 24;
		} else if (x.type == XEN_NETIF_EXTRA_TYPE_XDP) {
			struct xdp_extra xd;

			memcpy(&xd, &x, sizeof(xd));
			if (xd.headroom > XEN_NETIF_MAX_XDP_HEADROOM)
				k->err = true;
			k->in.xdp_headroom = xd.headroom;
		} else if (x.type == XEN_NETIF_EXTRA_TYPE_GSO) {
			if (x.u.gso.size == 0 ||
			    (x.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
			     x.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))
				k->err = true;
			k->in.gso_size = x.u.gso.size;
			k->in.gso_type = x.u.gso.type;
			if (!((x.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 &&
			       f->c.gso_tcpv4) ||
			      (x.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 &&
			       f->c.gso_tcpv6)))
				k->unasked = true;
		}
	} while (x.flags & XEN_NETIF_EXTRA_FLAG_MORE);
}

int
simfront_recv(struct simfront *f, unsigned qi, void *buf, size_t cap,
	      struct simfront_rxinfo *info)
{
	struct fq *q;
	struct simfront_stats *st;
	struct rxpkt k = { 0 };
	netif_rx_response_t r0, r;
	RING_IDX rp, cons, pos;
	unsigned data_slots = 1, max;
	int more;

	if (info)
		memset(info, 0, sizeof(*info));
	if (qi >= f->nq || !f->connected)
		return -EINVAL;
	if (f->broken)
		return -EAGAIN;
	q = &f->q[qi];
	st = &f->st[qi];
	rp = READ_IDX(q->rx.sring->rsp_prod);
	if ((int32_t)(rp - q->rx_prod_seen) < 0) {
		set_broken(f, "RX response producer going backwards");
		return -EAGAIN;
	}
	if (RING_RESPONSE_PROD_OVERFLOW(&q->rx, rp)) {
		set_broken(f, "RX response producer beyond the ring");
		return -EAGAIN;
	}
	q->rx_prod_seen = rp;
	cons = q->rx.rsp_cons;
	if (cons == rp) {
		/* End of a batch: refill, then ask for an event on the next
		 * response and look once more (RING_FINAL_CHECK). */
		rx_refill(f, qi);
		RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
		if (!more)
			return -EAGAIN;
		return simfront_recv(f, qi, buf, cap, info);
	}
	xen_rmb(); /* responses up to rp are written */

	RING_COPY_RESPONSE(&q->rx, cons, &r0);
	k.in.flags = r0.flags;
	k.in.offset = r0.offset;
	k.in.slots = 1;
	pos = cons;
	if (r0.flags & NETRXF_extra_info)
		rx_extras(f, q, &pos, rp, &k);
	rx_slot(f, q, cons, &r0, buf, cap, &k);
	r = r0;
	while (r.flags & NETRXF_more_data) {
		if (pos + 1 == rp) {
			k.err = true; /* slots missing */
			break;
		}
		pos++;
		k.in.slots++;
		data_slots++;
		RING_COPY_RESPONSE(&q->rx, pos, &r);
		rx_slot(f, q, pos, &r, buf, cap, &k);
	}
	max = XEN_NETIF_NR_SLOTS_MIN + (r0.status <= RX_COPY_THRESHOLD);
	if (data_slots > max)
		k.err = true;
	if ((data_slots > 1 && !f->c.sg) ||
	    ((r0.flags & NETRXF_csum_blank) && f->c.no_csum))
		k.unasked = true;
	q->rx.rsp_cons = pos + 1;
	if (q->rx.req_prod_pvt - q->rx.rsp_cons + RX_REFILL_BATCH <=
	    f->c.rx_fill)
		rx_refill(f, qi);

	if (info)
		*info = k.in;
	if (k.err) {
		st->rx_errors++;
		return -EIO;
	}
	if (k.big) {
		st->rx_errors++;
		return -EMSGSIZE;
	}
	if (k.unasked)
		st->rx_unasked++;
	st->rx_packets++;
	st->rx_bytes += k.total;
	return (int)k.total;
}

int
simfront_poll(struct simfront *f, int timeout_ms)
{
	struct pollfd pfd = { .fd = simhv_evtchn_fd(f->evh), .events = POLLIN };
	int got = 0, p;

	if (timeout_ms != 0)
		poll(&pfd, 1, timeout_ms);
	while ((p = simhv_evtchn_pending(f->evh)) >= 0) {
		got = 1;
		for (unsigned i = 0; i < f->nq; i++)
			if (f->q[i].tx_port == (uint32_t)p ||
			    f->q[i].rx_port == (uint32_t)p)
				f->st[i].events++;
		/* Unmasking before the work is fine: an event raised
		 * meanwhile is delivered again, never lost. */
		simhv_evtchn_unmask(f->evh, (uint32_t)p);
	}
	for (unsigned i = 0; i < f->nq; i++)
		tx_reap(f, i);
	return got;
}

void
simfront_stats(const struct simfront *f, unsigned q, struct simfront_stats *st)
{
	if (q < SIMFRONT_MAX_QUEUES)
		*st = f->st[q];
	else
		memset(st, 0, sizeof(*st));
}

void
simfront_raw_tx(struct simfront *f, unsigned qi,
		const struct netif_tx_request *req)
{
	struct fq *q = &f->q[qi];

	*RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++) = *req;
	/* Its response must not look like a backend bug. */
	if (req->id < NSLOTS && q->tx_pend[req->id] < UINT8_MAX)
		q->tx_pend[req->id]++;
}

volatile struct netif_tx_request *
simfront_raw_tx_ring(struct simfront *f, unsigned qi, unsigned *n)
{
	struct fq *q = &f->q[qi];

	*n = RING_SIZE(&q->tx);
	return &q->tx.sring->ring[0].req;
}

unsigned
simfront_raw_tx_space(const struct simfront *f, unsigned qi)
{
	const struct fq *q = &f->q[qi];
	RING_IDX rsp = READ_IDX(q->tx.sring->rsp_prod);

	return RING_SIZE(&q->tx) - (q->tx.req_prod_pvt - rsp);
}

void
simfront_raw_tx_extra(struct simfront *f, unsigned qi,
		      const struct netif_extra_info *x)
{
	struct fq *q = &f->q[qi];
	void *slot = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

	memset(slot, 0, sizeof(netif_tx_request_t));
	memcpy(slot, x, sizeof(*x));
}

void
simfront_raw_rx(struct simfront *f, unsigned qi,
		const struct netif_rx_request *req)
{
	struct fq *q = &f->q[qi];
	int kick;

	*RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt++) = *req;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, kick);
	if (kick)
		notify(f, qi, q->rx_port);
}

void
simfront_raw_tx_prod(struct simfront *f, unsigned qi, uint32_t prod)
{
	struct fq *q = &f->q[qi];

	xen_wmb();
	q->tx.sring->req_prod = prod;
	xen_mb();
	notify(f, qi, q->tx_port);
}

void
simfront_raw_rx_prod(struct simfront *f, unsigned qi, uint32_t prod)
{
	struct fq *q = &f->q[qi];

	xen_wmb();
	q->rx.sring->req_prod = prod;
	xen_mb();
	notify(f, qi, q->rx_port);
}

void
simfront_raw_notify(struct simfront *f, unsigned qi, bool rx)
{
	notify(f, qi, rx ? f->q[qi].rx_port : f->q[qi].tx_port);
}

uint32_t
simfront_tx_gref(const struct simfront *f, unsigned q, unsigned id)
{
	return f->q[q % SIMFRONT_MAX_QUEUES].tx_ref[id % NSLOTS];
}

void *
simfront_tx_page(struct simfront *f, unsigned q, unsigned id)
{
	return pg(f, f->q[q % SIMFRONT_MAX_QUEUES].tx_pg0 + id % NSLOTS);
}

uint32_t
simfront_rx_gref(const struct simfront *f, unsigned q, unsigned id)
{
	return f->q[q % SIMFRONT_MAX_QUEUES].rx_ref[id % NSLOTS];
}

/* ---- Control ring ---- */

bool
simfront_has_ctrl(const struct simfront *f)
{
	return f->ctrl;
}

void *
simfront_ctrl_scratch(struct simfront *f, unsigned i)
{
	if (!f->ctrl || i >= CTRL_SCRATCH)
		return NULL;
	return pg(f, f->ctrl_pg + 1 + i);
}

uint32_t
simfront_ctrl_scratch_gref(const struct simfront *f, unsigned i)
{
	return i < CTRL_SCRATCH ? f->ctrl_scratch_ref[i] : 0;
}

static void
ctrl_notify(struct simfront *f)
{
	/* Dropped silently before the backend binds, as notify(). */
	simhv_evtchn_notify(f->cevh, f->ctrl_port);
}

/* Take the ctrl port's deliveries and unmask it: the ring is looked at
 * after every wake-up, so the events themselves say nothing more. */
static void
ctrl_drain_events(struct simfront *f)
{
	int p;

	while ((p = simhv_evtchn_pending(f->cevh)) >= 0)
		simhv_evtchn_unmask(f->cevh, (uint32_t)p);
}

int
simfront_ctrl(struct simfront *f, uint16_t type, uint32_t d0, uint32_t d1,
	      uint32_t d2, uint32_t *data_out, int timeout_ms)
{
	struct xen_netif_ctrl_request *req;
	struct timespec t0;
	RING_IDX mine, prod;
	uint16_t id;
	int kick, more;

	if (!f->ctrl || !f->connected)
		return -ENOTCONN;
	if (f->broken)
		return -ENODEV;
	if (timeout_ms < 0)
		timeout_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Full only if earlier requests went unanswered (timeouts, raw
	 * ones): nothing to wait for but the backend. */
	if (RING_FULL(&f->cr))
		return -ENOSPC;
	id = f->ctrl_id++;
	mine = f->cr.req_prod_pvt;
	req = RING_GET_REQUEST(&f->cr, f->cr.req_prod_pvt++);
	req->id = id;
	req->type = type;
	req->data[0] = d0;
	req->data[1] = d1;
	req->data[2] = d2;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->cr, kick);
	if (kick)
		ctrl_notify(f);

	for (;;) {
		struct pollfd pfd = { .fd = simhv_evtchn_fd(f->cevh),
				      .events = POLLIN };
		int left;

		prod = READ_IDX(f->cr.sring->rsp_prod);
		if (RING_RESPONSE_PROD_OVERFLOW(&f->cr, prod)) {
			set_broken(f, "ctrl response producer beyond the "
				      "ring");
			return -EPROTO;
		}
		xen_rmb(); /* responses up to prod are written */
		while (f->cr.rsp_cons != prod) {
			struct xen_netif_ctrl_response rsp;
			RING_IDX at = f->cr.rsp_cons;

			RING_COPY_RESPONSE(&f->cr, at, &rsp);
			f->cr.rsp_cons++;
			/* Responses sit at their request's position: one
			 * before ours answers a request given up on. */
			if ((int32_t)(at - mine) < 0)
				continue;
			if (rsp.id != id || rsp.type != type) {
				set_broken(f, "ctrl response with a wrong id "
					      "or type");
				return -EPROTO;
			}
			if (data_out)
				*data_out = rsp.data;
			/* Unknown statuses are the caller's to judge. */
			return rsp.status > INT32_MAX ? INT32_MAX
						      : (int)rsp.status;
		}
		RING_FINAL_CHECK_FOR_RESPONSES(&f->cr, more);
		if (more)
			continue;
		left = left_ms(&t0, timeout_ms);
		if (left == 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, left);
		ctrl_drain_events(f);
	}
}

void
simfront_raw_ctrl(struct simfront *f, const struct xen_netif_ctrl_request *req)
{
	*RING_GET_REQUEST(&f->cr, f->cr.req_prod_pvt++) = *req;
	xen_wmb();
	f->cr.sring->req_prod = f->cr.req_prod_pvt;
	xen_mb();
	ctrl_notify(f);
}

void
simfront_raw_ctrl_prod(struct simfront *f, uint32_t prod)
{
	xen_wmb();
	f->cr.sring->req_prod = prod;
	xen_mb();
	ctrl_notify(f);
}

/* ---- Multicast control ---- */

int
simfront_mcast(struct simfront *f, unsigned qi, bool add,
	       const uint8_t mac[6])
{
	struct fq *q;
	netif_tx_request_t *r;
	netif_extra_info_t *x;
	int id;

	if (qi >= f->nq || !f->connected || !mac)
		return -EINVAL;
	if (f->broken)
		return -ENODEV;
	if (!f->be_mcast)
		return -EOPNOTSUPP;
	q = &f->q[qi];
	if (RING_FREE_REQUESTS(&q->tx) < 2 || q->ntxfree < 1)
		tx_reap(f, qi);
	if (RING_FREE_REQUESTS(&q->tx) < 2)
		return -ENOSPC;
	id = tx_id_get(q);
	if (id < 0)
		return id;
	/*
	 * A dummy request that carries only the extra (netif.h): no data,
	 * but a grant the backend may check like any other, and an id it
	 * answers.
	 */
	q->tx_pend[id] = 1;
	r = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);
	r->gref = q->tx_ref[id];
	r->offset = 0;
	r->flags = NETTXF_extra_info;
	r->id = (uint16_t)id;
	r->size = 0;
	x = (netif_extra_info_t *)RING_GET_REQUEST(&q->tx,
						    q->tx.req_prod_pvt++);
	memset(x, 0, sizeof(netif_tx_request_t));
	x->type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD
		      : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(x->u.mcast.addr, mac, 6);
	f->st[qi].tx_mcast++;
	simfront_flush(f, qi);
	return 0;
}

int
simfront_set_mcast_control(struct simfront *f, bool on)
{
	/* Without the dynamic feature the backend sampled the key at
	 * Connected and would not look again. */
	if (!f->be_dyn_mcast)
		return -EOPNOTSUPP;
	return xwrite(f, XBT_NULL, f->fe, "request-multicast-control",
		      on ? 1 : 0);
}

/* ---- XDP headroom ---- */

int
simfront_xdp(struct simfront *f, unsigned headroom, int timeout_ms)
{
	const unsigned closing = 1u << XenbusStateClosing,
		       closed = 1u << XenbusStateClosed,
		       reconfigured = 1u << XenbusStateReconfigured,
		       connected = 1u << XenbusStateConnected;
	struct timespec t0;
	int st, r;

	if (!f->connected)
		return -ENOTCONN;
	if (!f->be_xdp)
		return -EOPNOTSUPP;
	if (headroom > XEN_NETIF_MAX_XDP_HEADROOM)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* netfront's XDP attach: new headroom, then a reconfiguration
	 * round trip for the backend to take it. */
	if ((r = xwrite(f, XBT_NULL, f->fe, "xdp-headroom", headroom)) < 0 ||
	    (r = xwrite(f, XBT_NULL, f->fe, "state",
			XenbusStateReconfiguring)) < 0)
		return r;
	st = simtool_wait_state(f->xs, timeout_ms,
				reconfigured | closing | closed, "%s/state",
				f->be);
	if (st < 0)
		return st;
	if (st != XenbusStateReconfigured)
		return -ECONNREFUSED;
	r = xwrite(f, XBT_NULL, f->fe, "state", XenbusStateConnected);
	if (r < 0)
		return r;
	st = simtool_wait_state(f->xs, left_ms(&t0, timeout_ms),
				connected | closing | closed, "%s/state",
				f->be);
	if (st < 0)
		return st;
	return st == XenbusStateConnected ? 0 : -ECONNREFUSED;
}
