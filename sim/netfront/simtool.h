/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simtool: the toolstack's part for a simulated guest, what libxl does
 * to a vif (see /work/shared/LAB.md, "What libxl does to a vif
 * backend"), and the xenstore waits the simulated guest needs.
 *
 * Layout written, for backend domain B, guest domain D and device N:
 *   /local/domain/D                      name, domid; owned by dom0,
 *                                        readable by D; D introduced
 *   /local/domain/D/device               owned by D
 *   /local/domain/B/backend/vif/D/N      bridge, frontend, frontend-id,
 *                                        handle, hotplug-status (""),
 *                                        mac, online (1), script,
 *                                        state (1), type (vif) and the
 *                                        optional ip, rate, mtu, vifname;
 *                                        owned by B, readable by D
 *   /local/domain/D/device/vif/N         backend, backend-id, handle,
 *                                        mac, mtu, state (1), trusted;
 *                                        owned by D, readable by B
 *
 * Waits use a xenstore watch on the key (the first one on a handle makes
 * libxenstore start its reader thread) and re-read the key on every
 * event and at least every 100 ms, so an event taken by another waiter
 * on the same handle costs latency, never correctness.
 *
 * Errors: negative errno. Nothing here logs.
 */
#ifndef NETBACKD_SIMTOOL_H
#define NETBACKD_SIMTOOL_H

#include <stdbool.h>
#include <stdint.h>

struct simhv;
struct xs_handle;

/*
 * Create domain `domid` with `pages` pages of memory in the hypervisor and
 * in xenstore (name "guest<domid>", domid), and introduce it to xenstored.
 * -EEXIST if the hypervisor has it already, else simhv's or xenstore's
 * errno.
 */
int simtool_domain_create(struct xs_handle *xs, struct simhv *hv,
			  uint16_t domid, uint32_t pages);
/*
 * Release the domain in xenstored, destroy it in the hypervisor and
 * remove /local/domain/<domid> and the backend's vif/<domid> directory.
 * Safe on a domain half created or already gone; returns simhv's result.
 */
int simtool_domain_destroy(struct xs_handle *xs, struct simhv *hv,
			   uint16_t domid, uint16_t backend_domid);

struct simtool_vif {
	uint16_t backend_domid, domid, devid;
	uint8_t mac[6];
	const char *bridge;  /* NULL: no key */
	const char *script;  /* NULL: /etc/xen/scripts/vif-netbackd */
	const char *ip;      /* NULL: no key (else "a.b.c.d [v6 ...]") */
	const char *rate;    /* NULL: no key (xl syntax, "10Mb/s") */
	const char *vifname; /* NULL: no key */
	unsigned mtu;        /* frontend mtu (0: 1500); backend key if set */
	bool untrusted;      /* frontend trusted = 0 instead of 1 */
	int initwait_ms;     /* how long the backend has (0: libxl's 10 s) */
	/*
	 * The backend is in a driver domain and nothing runs hotplug
	 * scripts there (no xl devd): dom0's libxl writes no hotplug-status
	 * and, on removal, waits for the backend domain to remove the
	 * backend directory instead of removing it.
	 */
	bool driver_domain;
	const char *extra_be[8]; /* more backend keys, "key=value" */
};

/*
 * Write the backend and frontend directories in one transaction (retried
 * on EAGAIN), wait for the backend's InitWait, then do the hotplug
 * script's part: hotplug-status = connected.
 * -ETIMEDOUT if the backend never reached InitWait (the directories stay,
 * as libxl leaves them until it tears the device down).
 */
int simtool_vif_add(struct xs_handle *xs, const struct simtool_vif *v);
/*
 * As `xl network-detach`: online = 0 and state = Closing (5) unless the
 * backend is Closed already, wait up to timeout_ms for Closed (6), then
 * remove both directories (also after a timeout, as libxl does once it
 * gives up). -ETIMEDOUT if the backend never reached Closed.
 * With driver_domain, the backend directory is the backend's to remove:
 * wait up to timeout_ms more for it to go (-ETIMEDOUT if it stays, and
 * it is left), then remove the frontend directory.
 */
int simtool_vif_remove(struct xs_handle *xs, const struct simtool_vif *v,
		       int timeout_ms);

/* Read a key as a decimal int; -1 if missing or not a number. */
int simtool_read_int(struct xs_handle *xs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wait up to timeout_ms until a key reads exactly `value`. */
bool simtool_wait(struct xs_handle *xs, int timeout_ms, const char *value,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * Wait up to timeout_ms until a xenbus state key holds one of the states
 * in `mask` (bit 1 << XenbusState*; a missing key reads as Unknown, 0).
 * Returns the state reached or -ETIMEDOUT.
 */
int simtool_wait_state(struct xs_handle *xs, int timeout_ms, unsigned mask,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
