/* SPDX-License-Identifier: GPL-2.0-only */
/* The seam's event-channel wrappers: dispatch and count bound ports. */
#include "hv.h"

struct hv_evtchn *
hv_evtchn_open(struct hv *hv, bool wait)
{
	struct hv_evtchn *h = hv->ops->evtchn_open(hv, wait);

	if (h)
		h->hv = hv;
	return h;
}

void
hv_evtchn_close(struct hv_evtchn *h)
{
	if (h)
		h->hv->ops->evtchn_close(h);
}

int
hv_evtchn_fd(struct hv_evtchn *h)
{
	return h->hv->ops->evtchn_fd(h);
}

int
hv_evtchn_bind(struct hv_evtchn *h, uint16_t domid, uint32_t rport)
{
	int r = h->hv->ops->evtchn_bind(h, domid, rport);

	if (r >= 0)
		__atomic_add_fetch(&h->hv->ports, 1, __ATOMIC_RELAXED);
	return r;
}

int
hv_evtchn_unbind(struct hv_evtchn *h, uint32_t port)
{
	int r = h->hv->ops->evtchn_unbind(h, port);

	if (r == 0)
		__atomic_sub_fetch(&h->hv->ports, 1, __ATOMIC_RELAXED);
	return r;
}

int
hv_evtchn_notify(struct hv_evtchn *h, uint32_t port)
{
	h->calls++;
	return h->hv->ops->evtchn_notify(h, port);
}

int
hv_evtchn_pending(struct hv_evtchn *h, uint32_t *ports, unsigned max)
{
	h->calls++;
	return h->hv->ops->evtchn_pending(h, ports, max);
}

int
hv_evtchn_unmask(struct hv_evtchn *h, const uint32_t *ports, unsigned n)
{
	if (n == 0)
		return 0;
	h->calls++;
	return h->hv->ops->evtchn_unmask(h, ports, n);
}

int
hv_evtchn_wait(struct hv_evtchn *h, uint32_t *ports, unsigned max)
{
	h->calls++;
	return h->hv->ops->evtchn_wait(h, ports, max);
}

int
hv_evtchn_loop(struct hv_evtchn *to, struct hv_evtchn *from,
	       uint32_t *from_port)
{
	return to->hv->ops->evtchn_loop(to, from, from_port);
}
