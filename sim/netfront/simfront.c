/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "simfront.h"
#include "simhv.h"

#define PAGE 4096u
#define NSLOTS 256u /* both netif rings on one page */
#define PAGES_PER_Q (2u + 2u * NSLOTS)

struct fq {
	unsigned id;
	uint32_t tx_ring_pg, rx_ring_pg;
	int tx_ring_ref, rx_ring_ref;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	int tx_port, rx_port; /* equal when not split */
	uint32_t tx_pg0, rx_pg0;   /* first buffer page numbers */
	int tx_ref[NSLOTS], rx_ref[NSLOTS];
	uint16_t free_ids[NSLOTS];
	unsigned nfree;
	struct simfront_stats st;
};

struct simfront {
	struct simfront_conf c;
	struct xs_handle *xs;
	struct simhv_evtchn *evh;
	char *mem;
	char fe[96], be[96];
	unsigned nq;
	bool split, be_sg;
	struct fq q[SIMFRONT_MAX_QUEUES];
};

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *
xread(struct xs_handle *xs, const char *fmt, va_list ap)
{
	char path[256];
	unsigned len;

	vsnprintf(path, sizeof(path), fmt, ap);
	return xs_read(xs, XBT_NULL, path, &len);
}

int
simtool_read_int(struct xs_handle *xs, const char *fmt, ...)
{
	va_list ap;
	char *s, *end;
	long v;

	va_start(ap, fmt);
	s = xread(xs, fmt, ap);
	va_end(ap);
	if (!s)
		return -1;
	v = strtol(s, &end, 10);
	if (end == s)
		v = -1;
	free(s);
	return (int)v;
}

bool
simtool_wait(struct xs_handle *xs, int timeout_ms, const char *value,
	     const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (int t = 0; t <= timeout_ms; t += 5) {
		unsigned len;
		char *s = xs_read(xs, XBT_NULL, path, &len);
		bool ok = s && strcmp(s, value) == 0;

		free(s);
		if (ok)
			return true;
		msleep(5);
	}
	return false;
}

static int
xwrite(struct xs_handle *xs, xs_transaction_t t, const char *path,
       const char *fmt, ...)
{
	char val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return xs_write(xs, t, path, val, (unsigned)strlen(val)) ? 0 : -errno;
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
	return queues * PAGES_PER_Q + 16;
}

struct simfront *
simfront_new(const struct simfront_conf *c, struct xs_handle *xs)
{
	struct simfront *f;

	if (c->queues == 0 || c->queues > SIMFRONT_MAX_QUEUES ||
	    c->rx_fill > NSLOTS) {
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
	snprintf(f->fe, sizeof(f->fe), "/local/domain/%u/device/vif/%u",
		 c->domid, c->devid);
	snprintf(f->be, sizeof(f->be), "/local/domain/%u/backend/vif/%u/%u",
		 c->backend_domid, c->domid, c->devid);
	f->mem = simhv_guest_memory(c->hv, c->domid);
	if (!f->mem || simhv_domain_pages(c->hv, c->domid) <
			   (long)simfront_pages(c->queues)) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->evh = simhv_evtchn_open(c->hv, c->domid);
	if (!f->evh) {
		free(f);
		return NULL;
	}
	return f;
}

static void *
pg(struct simfront *f, uint32_t page)
{
	return f->mem + (size_t)page * PAGE;
}

/* Grant rings and buffers and allocate ports for queue i. */
static int
queue_setup(struct simfront *f, unsigned i)
{
	struct fq *q = &f->q[i];
	uint16_t b = f->c.backend_domid;
	uint32_t base = i * PAGES_PER_Q;

	memset(q, 0, sizeof(*q));
	q->id = i;
	q->tx_ring_pg = base;
	q->rx_ring_pg = base + 1;
	q->tx_pg0 = base + 2;
	q->rx_pg0 = base + 2 + NSLOTS;
	memset(pg(f, q->tx_ring_pg), 0, PAGE);
	memset(pg(f, q->rx_ring_pg), 0, PAGE);
	SHARED_RING_INIT((netif_tx_sring_t *)pg(f, q->tx_ring_pg));
	FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)pg(f, q->tx_ring_pg), PAGE);
	SHARED_RING_INIT((netif_rx_sring_t *)pg(f, q->rx_ring_pg));
	FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)pg(f, q->rx_ring_pg), PAGE);
	q->tx_ring_ref = simhv_grant_access(f->c.hv, f->c.domid, b,
					    q->tx_ring_pg, false);
	q->rx_ring_ref = simhv_grant_access(f->c.hv, f->c.domid, b,
					    q->rx_ring_pg, false);
	if (q->tx_ring_ref < 0 || q->rx_ring_ref < 0)
		return -ENOSPC;
	for (unsigned k = 0; k < NSLOTS; k++) {
		q->tx_ref[k] = simhv_grant_access(f->c.hv, f->c.domid, b,
						  q->tx_pg0 + k, true);
		q->rx_ref[k] = simhv_grant_access(f->c.hv, f->c.domid, b,
						  q->rx_pg0 + k, false);
		if (q->tx_ref[k] < 0 || q->rx_ref[k] < 0)
			return -ENOSPC;
		q->free_ids[q->nfree++] = (uint16_t)(NSLOTS - 1 - k);
	}
	q->tx_port = simhv_evtchn_alloc_unbound(f->evh, b);
	if (q->tx_port < 0)
		return q->tx_port;
	q->rx_port = q->tx_port;
	if (f->split) {
		q->rx_port = simhv_evtchn_alloc_unbound(f->evh, b);
		if (q->rx_port < 0)
			return q->rx_port;
	}
	/* Post RX buffers: request at ring position p uses buffer p. */
	for (unsigned k = 0; k < f->c.rx_fill; k++) {
		netif_rx_request_t *r =
		    RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);

		r->id = (uint16_t)(q->rx.req_prod_pvt & (NSLOTS - 1));
		r->gref = (grant_ref_t)q->rx_ref[r->id];
		q->rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&q->rx);
	return 0;
}

static int
write_queue_keys(struct simfront *f, xs_transaction_t t, unsigned i)
{
	struct fq *q = &f->q[i];
	char dir[128], path[160];
	int r = 0;

	if (f->nq == 1)
		snprintf(dir, sizeof(dir), "%s", f->fe);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", f->fe, i);
	snprintf(path, sizeof(path), "%s/tx-ring-ref", dir);
	r |= xwrite(f->xs, t, path, "%d", q->tx_ring_ref);
	snprintf(path, sizeof(path), "%s/rx-ring-ref", dir);
	r |= xwrite(f->xs, t, path, "%d", q->rx_ring_ref);
	if (f->split) {
		snprintf(path, sizeof(path), "%s/event-channel-tx", dir);
		r |= xwrite(f->xs, t, path, "%d", q->tx_port);
		snprintf(path, sizeof(path), "%s/event-channel-rx", dir);
		r |= xwrite(f->xs, t, path, "%d", q->rx_port);
	} else {
		snprintf(path, sizeof(path), "%s/event-channel", dir);
		r |= xwrite(f->xs, t, path, "%d", q->tx_port);
	}
	return r ? -EIO : 0;
}

static int
be_int(struct simfront *f, const char *key)
{
	return simtool_read_int(f->xs, "%s/%s", f->be, key);
}

int
simfront_connect(struct simfront *f, int timeout_ms)
{
	int t, st = -1, r;

	for (t = 0; t <= timeout_ms; t += 5) {
		st = be_int(f, "state");
		if (st == XenbusStateInitWait)
			break;
		msleep(5);
	}
	if (st != XenbusStateInitWait)
		return -ETIMEDOUT;

	int maxq = be_int(f, "multi-queue-max-queues");
	f->nq = f->c.queues;
	if (maxq < 1)
		f->nq = 1;
	else if ((int)f->nq > maxq)
		f->nq = (unsigned)maxq;
	f->split = !f->c.no_split && be_int(f, "feature-split-event-channels") == 1;
	f->be_sg = be_int(f, "feature-sg") == 1 && f->c.sg;

	for (unsigned i = 0; i < f->nq; i++) {
		r = queue_setup(f, i);
		if (r < 0)
			return r;
	}
	for (;;) {
		xs_transaction_t x = xs_transaction_start(f->xs);
		char path[160];

		if (x == XBT_NULL)
			return -errno;
		r = 0;
		for (unsigned i = 0; i < f->nq; i++)
			r |= write_queue_keys(f, x, i);
		if (f->nq > 1) {
			snprintf(path, sizeof(path),
				 "%s/multi-queue-num-queues", f->fe);
			r |= xwrite(f->xs, x, path, "%u", f->nq);
		}
#define FEAT(cond, key)                                                 \
	if (cond) {                                                     \
		snprintf(path, sizeof(path), "%s/" key, f->fe);         \
		r |= xwrite(f->xs, x, path, "1");                       \
	}
		FEAT(!f->c.no_rx_copy, "request-rx-copy");
		FEAT(f->c.rx_notify, "feature-rx-notify");
		FEAT(f->c.sg, "feature-sg");
		FEAT(f->c.gso_tcpv4, "feature-gso-tcpv4");
		FEAT(f->c.gso_tcpv6, "feature-gso-tcpv6");
		FEAT(f->c.ipv6_csum, "feature-ipv6-csum-offload");
		FEAT(f->c.no_csum, "feature-no-csum-offload");
#undef FEAT
		if (r) {
			xs_transaction_end(f->xs, x, true);
			return -EIO;
		}
		if (xs_transaction_end(f->xs, x, false))
			break;
		if (errno != EAGAIN)
			return -errno;
	}
	/* Linux netfront goes straight to Connected after its keys. */
	snprintf(f->be, sizeof(f->be), "/local/domain/%u/backend/vif/%u/%u",
		 f->c.backend_domid, f->c.domid, f->c.devid);
	{
		char path[160];

		snprintf(path, sizeof(path), "%s/state", f->fe);
		xwrite(f->xs, XBT_NULL, path, "%d", XenbusStateConnected);
	}
	for (; t <= timeout_ms; t += 5) {
		st = be_int(f, "state");
		if (st == XenbusStateConnected)
			return 0;
		if (st == XenbusStateClosing || st == XenbusStateClosed)
			return -ECONNREFUSED;
		msleep(5);
	}
	return -ETIMEDOUT;
}

int
simfront_close(struct simfront *f, int timeout_ms)
{
	char path[160];
	int leaked = 0;

	snprintf(path, sizeof(path), "%s/state", f->fe);
	xwrite(f->xs, XBT_NULL, path, "%d", XenbusStateClosing);
	for (int t = 0; t <= timeout_ms; t += 5) {
		int st = be_int(f, "state");

		if (st == XenbusStateClosing || st == XenbusStateClosed ||
		    st < 0)
			break;
		msleep(5);
	}
	xwrite(f->xs, XBT_NULL, path, "%d", XenbusStateClosed);
	for (int t = 0; t <= timeout_ms; t += 5) {
		int st = be_int(f, "state");

		if (st == XenbusStateClosed || st < 0)
			break;
		msleep(5);
	}
	for (unsigned i = 0; i < f->nq; i++) {
		struct fq *q = &f->q[i];
		int refs[2] = { q->tx_ring_ref, q->rx_ring_ref };

		for (int k = 0; k < 2; k++)
			if (refs[k] > 0 &&
			    simhv_grant_end(f->c.hv, f->c.domid,
					    (uint32_t)refs[k]) == -EBUSY)
				leaked++;
		for (unsigned k = 0; k < NSLOTS; k++) {
			if (q->tx_ref[k] > 0 &&
			    simhv_grant_end(f->c.hv, f->c.domid,
					    (uint32_t)q->tx_ref[k]) == -EBUSY)
				leaked++;
			if (q->rx_ref[k] > 0 &&
			    simhv_grant_end(f->c.hv, f->c.domid,
					    (uint32_t)q->rx_ref[k]) == -EBUSY)
				leaked++;
		}
		simhv_evtchn_unbind(f->evh, (uint32_t)q->tx_port);
		if (q->rx_port != q->tx_port)
			simhv_evtchn_unbind(f->evh, (uint32_t)q->rx_port);
	}
	f->nq = 0;
	return leaked;
}

void
simfront_free(struct simfront *f)
{
	if (!f)
		return;
	simhv_evtchn_close(f->evh);
	free(f);
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

/* Take TX responses: free the slots' ids, count statuses. */
static void
tx_reap(struct fq *q)
{
	RING_IDX prod, cons;

	do {
		prod = q->tx.sring->rsp_prod;
		xen_rmb();
		for (cons = q->tx.rsp_cons; cons != prod; cons++) {
			netif_tx_response_t r;

			r = *(volatile netif_tx_response_t *)
				RING_GET_RESPONSE(&q->tx, cons);
			if (r.status == NETIF_RSP_NULL)
				continue;
			if (r.status == NETIF_RSP_OKAY)
				q->st.tx_ok++;
			else if (r.status == NETIF_RSP_DROPPED)
				q->st.tx_dropped++;
			else
				q->st.tx_error++;
			if (r.id < NSLOTS && q->nfree < NSLOTS)
				q->free_ids[q->nfree++] = r.id;
		}
		q->tx.rsp_cons = cons;
		/* Ask for an event when more responses come. */
		q->tx.sring->rsp_event = cons + 1;
		xen_mb();
	} while (q->tx.sring->rsp_prod != prod);
}

int
simfront_send(struct simfront *f, unsigned qi, const void *frame, size_t len,
	      const struct simfront_txopt *opt)
{
	struct fq *q = &f->q[qi];
	unsigned slots = len == 0 ? 1 : (unsigned)((len + PAGE - 1) / PAGE);
	unsigned need = slots + (opt && opt->gso_size ? 1 : 0);
	const char *p = frame;

	if (qi >= f->nq || len > 0xffff)
		return -EINVAL;
	if (slots > 1 && !f->be_sg)
		return -EMSGSIZE;
	if (q->nfree < slots || RING_FREE_REQUESTS(&q->tx) < need)
		tx_reap(q);
	if (q->nfree < slots || RING_FREE_REQUESTS(&q->tx) < need)
		return -ENOSPC;
	for (unsigned s = 0; s < slots; s++) {
		uint16_t id = q->free_ids[--q->nfree];
		size_t chunk = len - (size_t)s * PAGE;
		netif_tx_request_t *r =
		    RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

		if (chunk > PAGE)
			chunk = PAGE;
		memcpy(pg(f, q->tx_pg0 + id), p + (size_t)s * PAGE, chunk);
		r->id = id;
		r->gref = (grant_ref_t)q->tx_ref[id];
		r->offset = 0;
		/* The first slot's size is the whole packet's. */
		r->size = (uint16_t)(s == 0 ? len : chunk);
		r->flags = (uint16_t)((s + 1 < slots ? NETTXF_more_data : 0) |
				      (s == 0 && opt ? opt->flags : 0));
		if (s == 0 && opt && opt->gso_size) {
			netif_extra_info_t *x = (netif_extra_info_t *)
			    RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

			r->flags |= NETTXF_extra_info;
			memset(x, 0, sizeof(netif_tx_request_t));
			x->type = XEN_NETIF_EXTRA_TYPE_GSO;
			x->u.gso.size = opt->gso_size;
			x->u.gso.type = opt->gso_type;
		}
	}
	q->st.tx_packets++;
	q->st.tx_bytes += len;
	return 0;
}

void
simfront_flush(struct simfront *f, unsigned qi)
{
	struct fq *q = &f->q[qi];
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify) {
		simhv_evtchn_notify(f->evh, (uint32_t)q->tx_port);
		q->st.notify_sent++;
	}
}

/* Post buffers for the ring positions the backend answered. */
static void
rx_refill(struct simfront *f, struct fq *q)
{
	int notify;

	while (q->rx.req_prod_pvt - q->rx.rsp_cons < f->c.rx_fill) {
		netif_rx_request_t *r =
		    RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);

		r->id = (uint16_t)(q->rx.req_prod_pvt & (NSLOTS - 1));
		r->gref = (grant_ref_t)q->rx_ref[r->id];
		q->rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify) {
		simhv_evtchn_notify(f->evh, (uint32_t)q->rx_port);
		q->st.notify_sent++;
	}
}

int
simfront_recv(struct simfront *f, unsigned qi, void *buf, size_t cap,
	      struct simfront_rxinfo *info)
{
	struct fq *q = &f->q[qi];
	RING_IDX prod = q->rx.sring->rsp_prod, cons = q->rx.rsp_cons;
	struct simfront_rxinfo in = { 0 };
	size_t total = 0;
	bool first = true, more = true, err = false, big = false;

	xen_rmb();
	if (cons == prod) {
		q->rx.sring->rsp_event = cons + 1;
		xen_mb();
		return -EAGAIN;
	}
	/* Is a whole packet there? Walk without consuming. */
	for (RING_IDX c = cons; more; ) {
		netif_rx_response_t r;

		if (c == prod)
			return -EAGAIN;
		r = *(volatile netif_rx_response_t *)RING_GET_RESPONSE(&q->rx, c);
		c++;
		if (r.flags & NETRXF_extra_info) {
			if (c == prod)
				return -EAGAIN;
			c++;
		}
		more = r.flags & NETRXF_more_data;
	}
	more = true;
	while (more) {
		netif_rx_response_t r;

		r = *(volatile netif_rx_response_t *)RING_GET_RESPONSE(&q->rx,
								       cons);
		cons++;
		in.slots++;
		if (first) {
			in.flags = r.flags;
			first = false;
		}
		if (r.status < 0) {
			err = true;
			in.status = r.status;
		} else if (r.id >= NSLOTS || (uint32_t)r.offset + (uint32_t)r.status > PAGE) {
			err = true;
		} else if (total + (size_t)r.status > cap) {
			big = true;
		} else {
			memcpy((char *)buf + total,
			       pg(f, q->rx_pg0 + r.id) + r.offset,
			       (size_t)r.status);
			total += (size_t)r.status;
		}
		if (r.flags & NETRXF_extra_info) {
			netif_extra_info_t x;

			/* An extra overlays a response slot. */
			memcpy(&x, (const void *)RING_GET_RESPONSE(&q->rx, cons),
			       sizeof(x));
			cons++;
			in.slots++;
			if (x.type == XEN_NETIF_EXTRA_TYPE_GSO) {
				in.gso_size = x.u.gso.size;
				in.gso_type = x.u.gso.type;
			}
		}
		more = r.flags & NETRXF_more_data;
	}
	q->rx.rsp_cons = cons;
	rx_refill(f, q);
	if (info)
		*info = in;
	if (err) {
		q->st.rx_errors++;
		return -EIO;
	}
	if (big) {
		q->st.rx_errors++;
		return -EMSGSIZE;
	}
	q->st.rx_packets++;
	q->st.rx_bytes += total;
	return (int)total;
}

int
simfront_poll(struct simfront *f, int timeout_ms)
{
	struct pollfd pfd = { .fd = simhv_evtchn_fd(f->evh), .events = POLLIN };
	int got = 0, p;

	if (timeout_ms && poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	while ((p = simhv_evtchn_pending(f->evh)) >= 0) {
		got = 1;
		for (unsigned i = 0; i < f->nq; i++)
			if (f->q[i].tx_port == p || f->q[i].rx_port == p)
				f->q[i].st.events++;
		simhv_evtchn_unmask(f->evh, (uint32_t)p);
	}
	for (unsigned i = 0; i < f->nq; i++)
		tx_reap(&f->q[i]);
	return got;
}

void
simfront_stats(const struct simfront *f, unsigned q, struct simfront_stats *st)
{
	*st = f->q[q].st;
}

void
simfront_raw_tx(struct simfront *f, unsigned qi,
		const struct netif_tx_request *req)
{
	struct fq *q = &f->q[qi];

	*RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++) = *req;
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
simfront_raw_tx_prod(struct simfront *f, unsigned qi, uint32_t prod)
{
	struct fq *q = &f->q[qi];

	xen_wmb();
	q->tx.sring->req_prod = prod;
	simhv_evtchn_notify(f->evh, (uint32_t)q->tx_port);
}

void
simfront_raw_rx_prod(struct simfront *f, unsigned qi, uint32_t prod)
{
	struct fq *q = &f->q[qi];

	xen_wmb();
	q->rx.sring->req_prod = prod;
	simhv_evtchn_notify(f->evh, (uint32_t)q->rx_port);
}

uint32_t
simfront_tx_gref(const struct simfront *f, unsigned q, unsigned id)
{
	return (uint32_t)f->q[q].tx_ref[id % NSLOTS];
}
