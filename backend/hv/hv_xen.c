/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seam on real Xen: libxengnttab for grant maps and copies,
 * libxenevtchn for event channels, libxenctrl for domain facts.
 *
 * libxenctrl needs a privileged domain (domctl); in a driver domain it is
 * not available and domain_alive() answers -ENOSYS, so the caller falls
 * back on xenstore (@releaseDomain and the domain's directory). It is
 * closed before the sandbox (hv_drop_privileges()): the same fallback
 * then serves dom0 too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "hv.h"

/*
 * A vif queue maps 2 ring pages (+ a ctrl ring), and a frontend may map
 * static grants (CTRL_GREF_MAX per vif): room for 4096 busy vifs and
 * static grants of a few hundred. Beyond, a map fails and is refused.
 */
#define HV_XEN_MAX_GRANTS (1u << 20)

struct hv_xen {
	struct hv hv;
	xengnttab_handle *gnt;
	xc_interface *xc; /* NULL in an unprivileged driver domain */
};

struct hv_xen_evtchn {
	struct hv_evtchn h;
	xenevtchn_handle *xce;
};

static inline struct hv_xen *
to_xen(struct hv *hv)
{
	return (struct hv_xen *)hv;
}

static inline xenevtchn_handle *
to_xce(struct hv_evtchn *h)
{
	return ((struct hv_xen_evtchn *)h)->xce;
}

static void *
xen_map(struct hv *hv, uint16_t domid, uint32_t count, const uint32_t *refs,
	bool writable)
{
	return xengnttab_map_domain_grant_refs(to_xen(hv)->gnt, count, domid,
	    (uint32_t *)refs, writable ? PROT_READ | PROT_WRITE : PROT_READ);
}

static int
xen_unmap(struct hv *hv, void *addr, uint32_t count)
{
	return xengnttab_unmap(to_xen(hv)->gnt, addr, count) < 0 ? -errno : 0;
}

static int
xen_copy(struct hv *hv, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	if (xengnttab_grant_copy(to_xen(hv)->gnt, count, segs) < 0) {
		int e = errno;

		for (uint32_t i = 0; i < count; i++)
			segs[i].status = GNTST_general_error;
		return -e;
	}
	return 0;
}

static int
xen_domain_alive(struct hv *hv, uint16_t domid)
{
	struct hv_xen *x = to_xen(hv);
	xc_domaininfo_t info;

	if (!x->xc)
		return -ENOSYS;
	int n = xc_domain_getinfolist(x->xc, domid, 1, &info);

	/* privcmd open but no domctl (a driver domain): EPERM, not dead. */
	if (n < 0)
		return errno ? -errno : -EIO;
	if (n != 1 || info.domain != domid)
		return 0;
	return (info.flags & XEN_DOMINF_dying) ? 0 : 1;
}

static void
xen_drop_privileges(struct hv *hv)
{
	struct hv_xen *x = to_xen(hv);

	if (x->xc)
		xc_interface_close(x->xc);
	x->xc = NULL;
}

static struct hv_evtchn *
xen_evtchn_open(struct hv *hv, bool wait)
{
	struct hv_xen_evtchn *e = calloc(1, sizeof(*e));

	(void)hv;
	if (!e)
		return NULL;
	e->xce = xenevtchn_open(NULL, 0);
	if (!e->xce)
		goto fail;
	if (wait)
		return &e->h; /* the device's read() blocks: wait() is one */
	/* pending() must never block: control drains until -EAGAIN. */
	int fd = xenevtchn_fd(e->xce);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		xenevtchn_close(e->xce);
		goto fail;
	}
	return &e->h;
fail:;
	int err = errno;

	free(e);
	errno = err;
	return NULL;
}

static void
xen_evtchn_close(struct hv_evtchn *h)
{
	struct hv_xen_evtchn *e = (struct hv_xen_evtchn *)h;

	xenevtchn_close(e->xce);
	free(e);
}

static int
xen_evtchn_fd(struct hv_evtchn *h)
{
	return xenevtchn_fd(to_xce(h));
}

static int
xen_evtchn_bind(struct hv_evtchn *h, uint16_t domid, uint32_t rport)
{
	xenevtchn_port_or_error_t p =
	    xenevtchn_bind_interdomain(to_xce(h), domid, rport);

	return p < 0 ? -errno : p;
}

static int
xen_evtchn_unbind(struct hv_evtchn *h, uint32_t port)
{
	return xenevtchn_unbind(to_xce(h), port) < 0 ? -errno : 0;
}

static int
xen_evtchn_notify(struct hv_evtchn *h, uint32_t port)
{
	return xenevtchn_notify(to_xce(h), port) < 0 ? -errno : 0;
}

/*
 * The evtchn device, not libxenevtchn's one-port calls: a read returns
 * every pending port that fits the buffer, a write unmasks every port
 * in it; one system call (in a PV domain a trap through Xen) for a
 * burst instead of one per port. On a handle opened to wait (its fd
 * blocking) the same read() is wait(): it sleeps until a port is
 * delivered, and a signal ends it with nothing.
 */
static int
xen_evtchn_pending(struct hv_evtchn *h, uint32_t *ports, unsigned max)
{
	ssize_t r = read(xenevtchn_fd(to_xce(h)), ports,
			 (size_t)max * sizeof(*ports));

	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
			       errno == EINTR
			   ? 0
			   : -errno;
	return (int)((size_t)r / sizeof(*ports));
}

static int
xen_evtchn_unmask(struct hv_evtchn *h, const uint32_t *ports, unsigned n)
{
	ssize_t r = write(xenevtchn_fd(to_xce(h)), ports,
			  (size_t)n * sizeof(*ports));

	return r < 0 ? -errno : 0;
}

static int
xen_evtchn_loop(struct hv_evtchn *to, struct hv_evtchn *from,
		uint32_t *from_port)
{
	xenevtchn_port_or_error_t p =
	    xenevtchn_bind_unbound_port(to_xce(to), DOMID_SELF);

	if (p < 0)
		return -errno;
	xenevtchn_port_or_error_t f =
	    xenevtchn_bind_interdomain(to_xce(from), DOMID_SELF, (uint32_t)p);
	if (f < 0) {
		int err = -errno;

		xenevtchn_unbind(to_xce(to), (uint32_t)p);
		return err;
	}
	*from_port = (uint32_t)f;
	return p;
}

static void
xen_close(struct hv *hv)
{
	struct hv_xen *x = to_xen(hv);

	if (x->xc)
		xc_interface_close(x->xc);
	xengnttab_close(x->gnt);
	free(x);
}

static const struct hv_ops xen_ops = {
	.name = "xen",
	.map = xen_map,
	.unmap = xen_unmap,
	.copy = xen_copy,
	.domain_alive = xen_domain_alive,
	.drop_privileges = xen_drop_privileges,
	.evtchn_open = xen_evtchn_open,
	.evtchn_close = xen_evtchn_close,
	.evtchn_fd = xen_evtchn_fd,
	.evtchn_bind = xen_evtchn_bind,
	.evtchn_unbind = xen_evtchn_unbind,
	.evtchn_notify = xen_evtchn_notify,
	.evtchn_pending = xen_evtchn_pending,
	.evtchn_unmask = xen_evtchn_unmask,
	.evtchn_wait = xen_evtchn_pending,
	.evtchn_loop = xen_evtchn_loop,
	.close = xen_close,
};

struct hv *
hv_open_xen(void)
{
	struct hv_xen *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return NULL;
	x->hv.ops = &xen_ops;
	x->gnt = xengnttab_open(NULL, 0);
	if (!x->gnt)
		goto fail;
	/* Best effort: older gntdev ignores it and has its own limit. */
	(void)xengnttab_set_max_grants(x->gnt, HV_XEN_MAX_GRANTS);
	/*
	 * No privcmd (a driver domain without xen-privcmd): no domctl to
	 * ask, and libxencall would print an error for nothing.
	 */
	if (access("/dev/xen/privcmd", F_OK) == 0 ||
	    access("/proc/xen/privcmd", F_OK) == 0)
		x->xc = xc_interface_open(NULL, NULL, 0);
	return &x->hv;
fail:
	err = errno;
	free(x);
	errno = err;
	return NULL;
}
