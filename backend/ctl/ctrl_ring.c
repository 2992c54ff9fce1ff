/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vif's control ring (feature-ctrl-ring): mapped and bound by the
 * control thread, which also answers its requests (they are rare: a
 * frontend configures hashing once, and hands its static grants once;
 * one that asks more often spends its budget and then waits, see
 * CTRL_BUDGET_PER_S).
 *
 * What workers read, and how it changes under them:
 *  - the RX hash configuration: the control thread keeps its own copy
 *    (ctrl_handle() changes it in place) and publishes it into
 *    v->dp.hash_pub under a sequence count; a worker copies what it needs
 *    and retries if a publication ran meanwhile;
 *  - the pre-mapped grants (ADD/DEL_GREF_MAPPING): an open-addressing
 *    table of (gref, address) in v->dp.grefs. An entry is written address
 *    first, gref last; a deleted entry is unpublished, and its page is
 *    unmapped only after an RCU grace period (one per request), so a
 *    worker that found it has finished copying by then. A table worn by
 *    deletions is replaced by a fresh copy, published the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "ctrl.h"
#include "ctl.h"


/*
 * What a guest's control ring may make the control thread do, which
 * serves every vif's: in units of one grant mapped or unmapped, a
 * request costing CTRL_REQ_COST more (reading and answering it), and
 * CTRL_SYNC_COST more if it made the control thread wait for a grace
 * period (a deletion, an add undone, a table copy): at most 32 such
 * waits a second. A frontend hands all its grants in a few
 * requests (CTRL_GREF_MAX in four), well within the burst; one that
 * adds and deletes in a loop has its requests wait in its ring until
 * the budget comes back (netif.h lets a backend answer when it will).
 */
#define CTRL_BUDGET_PER_S (4 * CTRL_GREF_MAX)
#define CTRL_BUDGET_BURST (4 * CTRL_GREF_MAX)
#define CTRL_REQ_COST 64
#define CTRL_SYNC_COST 256

/*
 * A frontend's control-ring events cost the control thread, which
 * serves every vif's xenstore and netbackctl: requests are served
 * CTL_CTRL_BURST at a time (the rest at the next loop), and, as in the
 * data path (dp.h, DP_EVT_*), a ring whose events outnumber its
 * requests CTL_EVT_STORM_RATIO to one (CTL_EVT_STORM_MIN events or more
 * in CTL_EVT_WINDOW_MS) has its port left masked, 1 ms then twice as
 * long each time up to CTL_EVT_HOLD_MAX_MS, and is served when the
 * hold ends. A frontend sends a request and waits for its answer.
 */
#define CTL_CTRL_BURST 64u
#define CTL_EVT_WINDOW_MS 100u
#define CTL_EVT_STORM_MIN 16u
#define CTL_EVT_STORM_RATIO 4u
#define CTL_EVT_HOLD_MAX_MS 1000u

struct ctl_ctrl {
	void *page;
	struct ctrl_ring ring;
	uint32_t rport;
	int port;
	struct ctrl_hash cfg; /* the control thread's copy */
	/* Unpublished by the request being served, freed after one grace
	 * period once it is done: the pages of deleted grants, and a
	 * table replaced by a fresh copy. */
	void *unmap[CTRL_GREF_TABLE_MAX];
	unsigned nunmap;
	struct dp_gref_table *old;
	/* The budget: credit in units (may go below 0 by one request),
	 * as of credit_ms; waiting: requests left in the ring for it. */
	int64_t credit;
	uint64_t credit_ms;
	bool waiting;
	bool told; /* the log heard of it (once a connection) */
	bool more; /* requests left after a burst */
	/* Event storms: the window's start and the hold's end (ms),
	 * events and requests in the window, the next hold's length. */
	/* Its events against the requests they brought (ms, CTL_EVT_*);
	 * while held, its port is left masked until storm.until. */
	struct dp_storm storm;
};

/* ---- the hash configuration, published to workers ---- */

static void
hash_publish(struct ctl_vif *v, const struct ctrl_hash *h)
{
	struct dp_hash_pub *p = &v->dp.hash_pub;
	uint32_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);

	atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&p->h, h, sizeof(*h));
	atomic_store_explicit(&p->h_alg, h->algorithm, memory_order_relaxed);
	atomic_store_explicit(&p->seq, s + 2, memory_order_release);
}

/* Back to no hashing of the frontend's (a new connection). */
static void
hash_publish_reset(struct ctl_vif *v)
{
	struct ctrl_hash h;

	ctrl_hash_init(&h);
	hash_publish(v, &h);
}

/* ---- pre-mapped grants ---- */

struct ctrl_ctx {
	struct nb_daemon *d;
	struct ctl_vif *v;
};

static struct dp_gref_table *
grefs_new(void)
{
	struct dp_gref_table *t = rte_zmalloc("nb_grefs", sizeof(*t),
					      RTE_CACHE_LINE_SIZE);

	/* The seed keeps a guest from choosing grefs that share a slot. */
	if (t)
		dp_gref_init(t, (uint32_t)rte_rand());
	return t;
}

static int
gref_add(void *arg, uint32_t gref, bool readonly)
{
	struct ctrl_ctx *c = arg;
	struct dp_gref_table *t = c->v->dp.grefs;
	void *addr;
	int slot;

	if (t->n == CTRL_GREF_MAX)
		return -ENOSPC;
	slot = dp_gref_place(t, gref);
	if (slot < 0)
		return slot;
	addr = hv_map(c->d->dp.hv, c->v->dp.domid, 1, &gref, !readonly);
	if (!addr)
		return -errno;
	dp_gref_fill(t, (unsigned)slot, gref, readonly, addr);
	return 0;
}

static bool grefs_commit(struct nb_daemon *d, struct ctl_vif *v);

static int
gref_del(void *arg, uint32_t gref)
{
	struct ctrl_ctx *c = arg;
	struct ctl_ctrl *cc = c->v->ctrl;
	void *addr;

	/* One request deletes at most a page of entries; should one ever
	 * delete more, its unmaps so far go first. */
	if (cc->nunmap == CTRL_GREF_TABLE_MAX)
		(void)grefs_commit(c->d, c->v);
	addr = dp_gref_unpublish(c->v->dp.grefs, gref);
	if (!addr)
		return -ENOENT;
	/* Unmapped after the request, one grace period for all of them:
	 * workers that found it finish first. */
	cc->unmap[cc->nunmap++] = addr;
	return 0;
}

/*
 * After each request: a table worn by deletions is replaced by a fresh
 * copy, then one grace period covers what the request unpublished
 * before the pages and the old table go. Slots freed by the request are
 * not filled again before this (a request either adds or deletes, and
 * an add undone is not retried in the same request). True if it waited
 * for a grace period.
 */
static bool
grefs_commit(struct nb_daemon *d, struct ctl_vif *v)
{
	struct ctl_ctrl *c = v->ctrl;
	struct dp_gref_table *t = v->dp.grefs;

	if (t && dp_gref_worn(t)) {
		struct dp_gref_table *nt = grefs_new();

		if (nt && dp_gref_copy(nt, t) == 0) {
			atomic_store_explicit(&v->dp.grefs, nt,
					      memory_order_release);
			c->old = t;
		} else {
			/* Kept as it is; the next request tries again. */
			rte_free(nt);
		}
	}
	if (!c->nunmap && !c->old)
		return false;
	if (d->dp.rcu)
		rte_rcu_qsbr_synchronize(d->dp.rcu, RTE_QSBR_THRID_INVALID);
	for (unsigned i = 0; i < c->nunmap; i++)
		hv_unmap(d->dp.hv, c->unmap[i], 1);
	c->nunmap = 0;
	rte_free(c->old);
	c->old = NULL;
	return true;
}

static void
grefs_clear(struct nb_daemon *d, struct ctl_vif *v)
{
	struct dp_gref_table *t = atomic_load(&v->dp.grefs);

	if (!t)
		return;
	/*
	 * Unpublished before it goes: a worker that still had one of the
	 * vif's queues would read the table on its next pass. Normally
	 * none has (every queue stopped, or none handed out yet); the
	 * grace period makes sure of it before the pages and the table go.
	 */
	atomic_store_explicit(&v->dp.grefs, NULL, memory_order_release);
	if (d->dp.rcu)
		rte_rcu_qsbr_synchronize(d->dp.rcu, RTE_QSBR_THRID_INVALID);
	for (unsigned s = 0; s < DP_GREF_SLOTS; s++) {
		uint32_t g = atomic_load(&t->e[s].gref);

		if (g != DP_GREF_FREE && g != DP_GREF_GONE)
			hv_unmap(d->dp.hv, atomic_load(&t->e[s].addr), 1);
	}
	rte_free(t);
}

/* ---- grant copies for the control thread's own reads and writes ---- */

static int
ctrl_copy(struct ctrl_ctx *c, uint32_t gref, uint32_t off, void *buf,
	  uint32_t len, bool to_guest)
{
	xengnttab_grant_copy_segment_t seg = { 0 };

	if (off > RING_PAGE_SIZE || len > RING_PAGE_SIZE - off)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (to_guest) {
		seg.source.virt = buf;
		seg.dest.foreign.ref = gref;
		seg.dest.foreign.offset = (uint16_t)off;
		seg.dest.foreign.domid = c->v->dp.domid;
		seg.flags = GNTCOPY_dest_gref;
	} else {
		seg.source.foreign.ref = gref;
		seg.source.foreign.offset = (uint16_t)off;
		seg.source.foreign.domid = c->v->dp.domid;
		seg.dest.virt = buf;
		seg.flags = GNTCOPY_source_gref;
	}
	seg.len = (uint16_t)len;
	if (hv_copy(c->d->dp.hv, 1, &seg) < 0 || seg.status != GNTST_okay)
		return -EFAULT;
	return 0;
}

static int
op_read(void *arg, uint32_t gref, uint32_t off, void *buf, uint32_t len)
{
	return ctrl_copy(arg, gref, off, buf, len, false);
}

static int
op_write(void *arg, uint32_t gref, uint32_t off, const void *buf,
	 uint32_t len)
{
	return ctrl_copy(arg, gref, off, (void *)buf, len, true);
}

/* ---- connect, serve, disconnect ---- */

int
ctl_ctrl_connect(struct nb_daemon *d, struct ctl_vif *v, char *err, size_t el)
{
	unsigned ref, port;
	int r1 = ctl_xs_read_uint(d, UINT32_MAX, &ref, "%s/ctrl-ring-ref",
				 v->fe);
	int r2 = ctl_xs_read_uint(d, UINT32_MAX, &port, "%s/event-channel-ctrl",
				 v->fe);
	struct ctl_ctrl *c;
	int r;

	hash_publish_reset(v);
	if (r1 == -ENOENT && r2 == -ENOENT)
		return 0; /* no control ring: hashing stays ours */
	if (r1 < 0 || r2 < 0) {
		snprintf(err, el, "bad or partial ctrl-ring-ref / "
			 "event-channel-ctrl");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	v->dp.grefs = grefs_new();
	if (!c || !v->dp.grefs) {
		free(c);
		snprintf(err, el, "out of memory for the control ring");
		return -ENOMEM;
	}
	c->port = -1;
	ctrl_hash_init(&c->cfg);
	c->credit = CTRL_BUDGET_BURST;
	c->credit_ms = nb_now_ms();
	uint32_t gref = ref;
	c->page = hv_map(d->dp.hv, v->dp.domid, 1, &gref, true);
	if (!c->page) {
		r = -errno;
		snprintf(err, el, "cannot map ctrl ring ref %u: %s", ref,
			 strerror(errno));
		goto fail;
	}
	ctrl_ring_init(&c->ring, c->page);
	c->rport = port;
	r = hv_evtchn_bind(d->ctl_evh, v->dp.domid, port);
	if (r < 0) {
		snprintf(err, el, "cannot bind ctrl event channel %u: %s",
			 port, strerror(-r));
		goto fail;
	}
	c->port = r;
	v->ctrl = c;
	/*
	 * Requests queued before we were bound: served now, and a bad
	 * producer acted on now, since no event may come to say it again.
	 */
	r = ctl_ctrl_serve(d, v);
	if (r < 0) {
		snprintf(err, el, "protocol violation, disconnected: control "
			 "ring request producer beyond the ring");
		ctl_ctrl_disconnect(d, v);
		return r;
	}
	return 0;
fail:
	if (c->page)
		hv_unmap(d->dp.hv, c->page, 1);
	free(c);
	grefs_clear(d, v);
	return r;
}

/* Called once the vif's queues are gone from their workers. */
void
ctl_ctrl_disconnect(struct nb_daemon *d, struct ctl_vif *v)
{
	struct ctl_ctrl *c = v->ctrl;

	grefs_clear(d, v);
	hash_publish_reset(v);
	if (!c)
		return;
	if (c->port >= 0)
		hv_evtchn_unbind(d->ctl_evh, (uint32_t)c->port);
	if (c->page)
		hv_unmap(d->dp.hv, c->page, 1);
	free(c);
	v->ctrl = NULL;
}

int
ctl_ctrl_evtchn(const struct ctl_vif *v)
{
	return v->ctrl ? v->ctrl->port : -1;
}

/* What req costs of the budget (see CTRL_BUDGET_PER_S). */
static int64_t
ctrl_cost(const struct xen_netif_ctrl_request *req)
{
	int64_t n = CTRL_REQ_COST;

	if (req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING ||
	    req->type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING)
		n += RTE_MIN(req->data[2], CTRL_GREF_TABLE_MAX);
	return n;
}

/* The credit now; true if it lets a request through. */
static bool
ctrl_budget(struct ctl_ctrl *c)
{
	uint64_t now = nb_now_ms();

	if (c->credit < CTRL_BUDGET_BURST) {
		c->credit += (int64_t)((now - c->credit_ms) *
				       CTRL_BUDGET_PER_S / 1000);
		c->credit = RTE_MIN(c->credit, (int64_t)CTRL_BUDGET_BURST);
	}
	c->credit_ms = now;
	return c->credit > 0;
}

int
ctl_ctrl_serve(struct nb_daemon *d, struct ctl_vif *v)
{
	struct ctl_ctrl *c = v->ctrl;
	struct xen_netif_ctrl_request req;
	struct ctrl_ctx cx = { .d = d, .v = v };
	const struct ctrl_ops ops = {
		.read = op_read, .write = op_write,
		.gref_add = gref_add, .gref_del = gref_del, .arg = &cx,
	};
	bool notify = false;
	unsigned served = 0;
	int n = 0;

	if (!c)
		return 0;
	c->waiting = false;
	c->more = false;
	do {
		if (served >= CTL_CTRL_BURST) {
			/* A frontend that keeps producing must not keep the
			 * control thread: the rest at the next loop. */
			c->more = true;
			break;
		}
		/* One at a time: each is paid for before the next. */
		while (served < CTL_CTRL_BURST && ctrl_budget(c) &&
		       (n = ctrl_ring_take(&c->ring, &req, 1)) > 0) {
			struct xen_netif_ctrl_response rsp;

			served++;
			c->credit -= ctrl_cost(&req);
			ctrl_handle(&c->cfg, v->dp.nqueues, &ops, &req, &rsp);
			if (grefs_commit(d, v))
				c->credit -= CTRL_SYNC_COST;
			if (ctrl_ring_respond(&c->ring, &rsp) < 0)
				return -EPROTO;
			nb_vif_debug(&v->dp, "ctrl request %u type %u: "
				     "status %u", req.id, req.type,
				     rsp.status);
			hash_publish(v, &c->cfg);
			notify |= ctrl_ring_push(&c->ring);
		}
		if (c->credit <= 0) {
			/* Spent by the last one, nothing else asked. */
			if (!ctrl_ring_more(&c->ring))
				break;
			/* Left in the ring; ctl_ctrl_tick() comes back. */
			c->waiting = true;
			/* Once: the per-vif rate limit would let the
			 * debug lines of its requests drown it. */
			if (!c->told)
				nb_info("%s: control ring over its budget "
					"(%u grant operations a second): "
					"requests wait", v->dp.name,
					CTRL_BUDGET_PER_S);
			c->told = true;
			break;
		}
		if (n < 0)
			return n;
	} while (ctrl_ring_more(&c->ring));
	if (notify)
		hv_evtchn_notify(d->ctl_evh, (uint32_t)c->port);
	return (int)served;
}

static const struct dp_storm_rule ctrl_storm_rule = {
	.window = CTL_EVT_WINDOW_MS, .min = CTL_EVT_STORM_MIN,
	.ratio = CTL_EVT_STORM_RATIO, .hold_first = 1,
	.hold_max = CTL_EVT_HOLD_MAX_MS,
};

bool
ctl_ctrl_storm(struct ctl_vif *v, unsigned served)
{
	struct ctl_ctrl *c = v->ctrl;
	bool first;

	if (!c)
		return false;
	first = c->storm.hold == 0;
	if (!dp_storm_event(&c->storm, &ctrl_storm_rule, nb_now_ms(), served))
		return false;
	if (first)
		nb_vif_warn(&v->dp, "control ring event storm (%u events, %u "
			    "requests): its event channel is held",
			    c->storm.events, c->storm.work);
	return true;
}

int
ctl_ctrl_due(struct nb_daemon *d, struct ctl_vif *v, uint64_t now)
{
	struct ctl_ctrl *c = v->ctrl;

	if (!c)
		return -1;
	if (c->storm.held) {
		if (now < c->storm.until)
			return (int)(c->storm.until - now);
		dp_storm_release(&c->storm, now);
		hv_evtchn_unmask1(d->ctl_evh, (uint32_t)c->port);
		/* What came while held is served without an event. */
		c->more = true;
	}
	return c->more ? 0 : -1;
}

int
ctl_ctrl_tick(struct nb_daemon *d, struct ctl_vif *v)
{
	struct ctl_ctrl *c = v->ctrl;

	if (!c || !c->waiting || !ctrl_budget(c))
		return 0;
	return ctl_ctrl_serve(d, v);
}
