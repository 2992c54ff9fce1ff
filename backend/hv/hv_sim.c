/* SPDX-License-Identifier: GPL-2.0-only */
/* The seam on the simulated hypervisor (sim/hv). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "hv.h"
#include "simhv.h"

struct hv_sim {
	struct hv hv;
	struct simhv *sim;
	uint16_t self;
};

struct hv_sim_evtchn {
	struct hv_evtchn h;
	struct simhv_evtchn *e;
};

static inline struct hv_sim *
to_sim(struct hv *hv)
{
	return (struct hv_sim *)hv;
}

static inline struct simhv_evtchn *
to_e(struct hv_evtchn *h)
{
	return ((struct hv_sim_evtchn *)h)->e;
}

static void *
sim_map(struct hv *hv, uint16_t domid, uint32_t count, const uint32_t *refs,
	bool writable)
{
	struct hv_sim *s = to_sim(hv);

	return simhv_map_grants(s->sim, s->self, domid, count, refs, writable);
}

static int
sim_unmap(struct hv *hv, void *addr, uint32_t count)
{
	return simhv_unmap_grants(to_sim(hv)->sim, addr, count);
}

static int
sim_copy(struct hv *hv, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	struct hv_sim *s = to_sim(hv);

	return simhv_grant_copy(s->sim, s->self, count, segs);
}

static int
sim_domain_alive(struct hv *hv, uint16_t domid)
{
	return simhv_domain_exists(to_sim(hv)->sim, domid) ? 1 : 0;
}

static struct hv_evtchn *
sim_evtchn_open(struct hv *hv, bool wait)
{
	struct hv_sim *s = to_sim(hv);
	struct hv_sim_evtchn *e = calloc(1, sizeof(*e));

	(void)wait; /* the simulator's fd is a doorbell: wait() polls it */
	if (!e)
		return NULL;
	e->e = simhv_evtchn_open(s->sim, s->self);
	if (!e->e) {
		int err = errno;

		free(e);
		errno = err;
		return NULL;
	}
	return &e->h;
}

static void
sim_evtchn_close(struct hv_evtchn *h)
{
	struct hv_sim_evtchn *e = (struct hv_sim_evtchn *)h;

	simhv_evtchn_close(e->e);
	free(e);
}

static int
sim_evtchn_fd(struct hv_evtchn *h)
{
	return simhv_evtchn_fd(to_e(h));
}

static int
sim_evtchn_bind(struct hv_evtchn *h, uint16_t domid, uint32_t rport)
{
	return simhv_evtchn_bind_interdomain(to_e(h), domid, rport);
}

static int
sim_evtchn_unbind(struct hv_evtchn *h, uint32_t port)
{
	return simhv_evtchn_unbind(to_e(h), port);
}

static int
sim_evtchn_notify(struct hv_evtchn *h, uint32_t port)
{
	return simhv_evtchn_notify(to_e(h), port);
}

/* The simulator's calls are one port each; counted as one call a
 * burst, as on Xen. */
static int
sim_evtchn_pending(struct hv_evtchn *h, uint32_t *ports, unsigned max)
{
	unsigned n = 0;
	int p;

	while (n < max && (p = simhv_evtchn_pending(to_e(h))) >= 0)
		ports[n++] = (uint32_t)p;
	return (int)n;
}

static int
sim_evtchn_unmask(struct hv_evtchn *h, const uint32_t *ports, unsigned n)
{
	int r = 0;

	for (unsigned i = 0; i < n; i++) {
		int e = simhv_evtchn_unmask(to_e(h), ports[i]);

		if (e < 0 && r == 0)
			r = e;
	}
	return r;
}

/* The doorbell polled, then the ports taken: 0 if it rang for none. */
static int
sim_evtchn_wait(struct hv_evtchn *h, uint32_t *ports, unsigned max)
{
	struct pollfd p = { .fd = simhv_evtchn_fd(to_e(h)), .events = POLLIN };

	if (poll(&p, 1, -1) < 0)
		return errno == EINTR ? 0 : -errno;
	return sim_evtchn_pending(h, ports, max);
}

static int
sim_evtchn_loop(struct hv_evtchn *to, struct hv_evtchn *from,
		uint32_t *from_port)
{
	uint16_t self = to_sim(to->hv)->self;
	int p = simhv_evtchn_alloc_unbound(to_e(to), self);

	if (p < 0)
		return p;
	int f = simhv_evtchn_bind_interdomain(to_e(from), self, (uint32_t)p);
	if (f < 0) {
		simhv_evtchn_unbind(to_e(to), (uint32_t)p);
		return f;
	}
	*from_port = (uint32_t)f;
	return p;
}

static void
sim_close(struct hv *hv)
{
	struct hv_sim *s = to_sim(hv);

	simhv_close(s->sim);
	free(s);
}

static const struct hv_ops sim_ops = {
	.name = "sim",
	.map = sim_map,
	.unmap = sim_unmap,
	.copy = sim_copy,
	.domain_alive = sim_domain_alive,
	.evtchn_open = sim_evtchn_open,
	.evtchn_close = sim_evtchn_close,
	.evtchn_fd = sim_evtchn_fd,
	.evtchn_bind = sim_evtchn_bind,
	.evtchn_unbind = sim_evtchn_unbind,
	.evtchn_notify = sim_evtchn_notify,
	.evtchn_pending = sim_evtchn_pending,
	.evtchn_unmask = sim_evtchn_unmask,
	.evtchn_wait = sim_evtchn_wait,
	.evtchn_loop = sim_evtchn_loop,
	.close = sim_close,
};

struct hv *
hv_open_sim(const char *dir, uint16_t self)
{
	struct hv_sim *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->hv.ops = &sim_ops;
	s->self = self;
	s->sim = simhv_open(dir, false);
	if (!s->sim) {
		int err = errno;

		free(s);
		errno = err;
		return NULL;
	}
	return &s->hv;
}
