/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv: the one seam between netbackd and the hypervisor.
 *
 * Everything netbackd asks of Xen goes through here: mapping a guest's
 * ring pages, batched grant copies with a status per segment, event
 * channels, and the few domain facts it needs. Two implementations:
 * hv_xen.c (libxengnttab, libxenevtchn, libxenctrl) and hv_sim.c (the
 * simulated hypervisor in sim/hv). xenstore is not part of the seam: it is
 * always the real libxenstore, pointed at the simulated xenstored with
 * XENSTORED_PATH in the simulation.
 *
 * Thread model: one struct hv is shared by all threads; grant copy and
 * mapping may be called from any thread. An event-channel handle belongs
 * to one thread (a worker, or the control thread) and gives it one fd.
 *
 * Errors: negative errno; constructors return NULL with errno set.
 */
#ifndef NETBACKD_HV_H
#define NETBACKD_HV_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

struct hv;
struct hv_evtchn;

struct hv_ops {
	const char *name;
	void *(*map)(struct hv *hv, uint16_t domid, uint32_t count,
		     const uint32_t *refs, bool writable);
	int (*unmap)(struct hv *hv, void *addr, uint32_t count);
	int (*copy)(struct hv *hv, uint32_t count,
		    xengnttab_grant_copy_segment_t *segs);
	/* 1 running, 0 dying or gone, negative errno if unknown. */
	int (*domain_alive)(struct hv *hv, uint16_t domid);
	/* Close what only start-up needs (may be NULL: nothing to drop). */
	void (*drop_privileges)(struct hv *hv);
	struct hv_evtchn *(*evtchn_open)(struct hv *hv, bool wait);
	void (*evtchn_close)(struct hv_evtchn *h);
	int (*evtchn_fd)(struct hv_evtchn *h);
	int (*evtchn_bind)(struct hv_evtchn *h, uint16_t domid, uint32_t rport);
	int (*evtchn_unbind)(struct hv_evtchn *h, uint32_t port);
	int (*evtchn_notify)(struct hv_evtchn *h, uint32_t port);
	int (*evtchn_pending)(struct hv_evtchn *h, uint32_t *ports,
			      unsigned max);
	int (*evtchn_unmask)(struct hv_evtchn *h, const uint32_t *ports,
			     unsigned n);
	int (*evtchn_wait)(struct hv_evtchn *h, uint32_t *ports,
			   unsigned max);
	int (*evtchn_loop)(struct hv_evtchn *to, struct hv_evtchn *from,
			   uint32_t *from_port);
	void (*close)(struct hv *hv);
};

struct hv {
	const struct hv_ops *ops;
	/*
	 * Resources held through this seam, for leak checks: pages mapped
	 * and event-channel ports bound. (Copy counts are kept per worker.)
	 */
	uint64_t maps, ports;
};

/* Real Xen: needs /dev/xen/{gntdev,evtchn,privcmd}. */
struct hv *hv_open_xen(void);
/* The simulated hypervisor in dir (created by the test bed). */
struct hv *hv_open_sim(const char *dir, uint16_t self);

static inline void
hv_close(struct hv *hv)
{
	if (hv)
		hv->ops->close(hv);
}

/*
 * Map `count` grant refs of domain `domid` contiguously. NULL with errno
 * if any ref is bad, not granted to us, or read-only when writable.
 */
static inline void *
hv_map(struct hv *hv, uint16_t domid, uint32_t count, const uint32_t *refs,
       bool writable)
{
	void *p = hv->ops->map(hv, domid, count, refs, writable);

	if (p)
		__atomic_add_fetch(&hv->maps, count, __ATOMIC_RELAXED);
	return p;
}

static inline int
hv_unmap(struct hv *hv, void *addr, uint32_t count)
{
	int r = hv->ops->unmap(hv, addr, count);

	if (r == 0)
		__atomic_sub_fetch(&hv->maps, count, __ATOMIC_RELAXED);
	return r;
}

/*
 * One batch of grant copies. 0 when the batch was issued (each segment
 * then has its own GNTST_* status), negative errno when it was not (no
 * segment was copied; statuses are set to GNTST_general_error).
 */
static inline int
hv_copy(struct hv *hv, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	return hv->ops->copy(hv, count, segs);
}

static inline int
hv_domain_alive(struct hv *hv, uint16_t domid)
{
	return hv->ops->domain_alive(hv, domid);
}

/*
 * Before the sandbox: close the hypervisor handles the running daemon
 * must not keep. On Xen that is libxenctrl (privcmd and the hypercall
 * buffers): its only use, domain_alive(), is a sysctl issued through
 * IOCTL_PRIVCMD_HYPERCALL, whose argument (which hypercall) a seccomp
 * filter cannot read, so while privcmd is open a compromised netbackd
 * could make any hypercall as dom0. domain_alive() answers -ENOSYS
 * afterwards and liveness comes from xenstore, as in a driver domain.
 */
static inline void
hv_drop_privileges(struct hv *hv)
{
	if (hv->ops->drop_privileges)
		hv->ops->drop_privileges(hv);
}

/* ---- event channels: Linux evtchn-driver semantics ---- */
/*
 * A handle. wait: its thread may sleep in hv_evtchn_wait(); on Xen its
 * fd then blocks, so hv_evtchn_pending() on it is for when the fd polls
 * readable (only its own thread reads it: it stays readable).
 */
struct hv_evtchn *hv_evtchn_open(struct hv *hv, bool wait);
void hv_evtchn_close(struct hv_evtchn *h);
int hv_evtchn_fd(struct hv_evtchn *h);
/* Bind to the remote (domid, rport); returns the local port. */
int hv_evtchn_bind(struct hv_evtchn *h, uint16_t domid, uint32_t rport);
int hv_evtchn_unbind(struct hv_evtchn *h, uint32_t port);
int hv_evtchn_notify(struct hv_evtchn *h, uint32_t port);
/*
 * Up to max delivered (and now masked) ports into ports: how many, 0 if
 * none. Never blocks (on a handle opened with wait: when its fd is
 * readable). On Xen one read() of the evtchn device, however
 * many ports it returns (the device hands out every pending port it
 * has, up to the buffer's size).
 */
int hv_evtchn_pending(struct hv_evtchn *h, uint32_t *ports, unsigned max);
/* Unmask n ports; on Xen one write() of them all. */
int hv_evtchn_unmask(struct hv_evtchn *h, const uint32_t *ports, unsigned n);
/*
 * Sleep until a port is delivered, then as hv_evtchn_pending(): the
 * sleep and the read are one system call on Xen (a read() that blocks).
 * 0 when a signal or a spurious wake-up ended the sleep. Only on a
 * handle opened with wait.
 */
int hv_evtchn_wait(struct hv_evtchn *h, uint32_t *ports, unsigned max);
/*
 * A channel inside this domain, from handle `from` to handle `to`: a
 * notification of *from_port on `from` delivers the port returned on
 * `to`. On Xen a port allocated for DOMID_SELF and bound by it
 * (loopback, xen/event_channel.h). Lets another thread wake one that
 * sleeps in hv_evtchn_wait(). Both ports live as long as their handles
 * and are not counted in hv->ports.
 */
int hv_evtchn_loop(struct hv_evtchn *to, struct hv_evtchn *from,
		   uint32_t *from_port);
static inline int
hv_evtchn_unmask1(struct hv_evtchn *h, uint32_t port)
{
	return hv_evtchn_unmask(h, &port, 1);
}

/*
 * Every handle starts with its owning hv, so the wrappers can count;
 * `calls`: the system calls made through this handle on Xen (reads,
 * unmask writes, notify ioctls), for the figures per wake and per
 * packet. A handle is one thread's, so a plain count.
 */
struct hv_evtchn {
	struct hv *hv;
	uint64_t calls;
};

#endif
