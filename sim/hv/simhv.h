/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simhv: a simulated Xen hypervisor shared between processes.
 *
 * A simulated hypervisor lives in one directory (normally on /dev/shm):
 *   state      - one shared file: per-domain grant tables, event-channel
 *                ports and counters, all updated with atomics so that any
 *                number of processes (netbackd, guests, tests) can use it;
 *   mem-<domid> - one file per domain: that domain's "RAM", page-addressed.
 *                A guest maps its own file; the backend side reaches it
 *                only through grants (map or copy), which are checked here
 *                the way Xen checks them.
 *   evtchn-<n>.sock - one unix datagram socket per event-channel handle,
 *                n its id: a doorbell. A delivered port is recorded in the
 *                shared state and the handle's socket gets one datagram
 *                (the port number) unless one is already queued, so the
 *                fd is readable while ports wait, as with /dev/xen/evtchn.
 *                (A datagram per port would not do: a unix socket queues
 *                at most net.unix.max_dgram_qlen, 10, datagrams.)
 *
 * Event channels follow Xen's semantics as seen through the Linux evtchn
 * driver: a notification sets the remote port pending; a port that is
 * pending and unmasked is delivered once to its handle (readable fd,
 * simhv_evtchn_pending() returns it) and is then masked until the owner
 * calls simhv_evtchn_unmask(); notifications made while masked coalesce
 * into one pending bit, delivered at unmask. Nothing is lost: every
 * notify of a bound port is followed by a delivery, now or at unmask.
 *
 * Grant copies follow GNTTABOP_copy: per segment status in
 * xengnttab_grant_copy_segment_t.status, GNTST_* codes from
 * xen/grant_table.h:
 *   GNTST_bad_domain         granting domain does not exist
 *   GNTST_bad_gntref         ref out of range or entry not in use
 *   GNTST_permission_denied  entry granted to another domain, or a
 *                            read-only grant used as copy destination
 *   GNTST_bad_copy_arg       offset + len beyond the page
 *   GNTST_general_error      the granter's memory could not be mapped
 *                            in this process (or vanished meanwhile)
 * checked in Xen's order: source domain, dest domain, source entry, dest
 * entry, page bounds. A segment's failure does not stop the others.
 * (Real Linux gntdev refuses a whole batch with EINVAL for a foreign
 * offset + len beyond the page before Xen sees it, and any local to
 * local segment; here those are per-segment statuses / a memcpy.)
 *
 * All functions return 0 or a non-negative value on success and a
 * negative errno on failure; constructors return NULL with errno set.
 * Nothing here logs.
 */
#ifndef NETBACKD_SIMHV_H
#define NETBACKD_SIMHV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xengnttab.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>

#define SIMHV_PAGE_SIZE 4096u
#define SIMHV_MAX_DOMAINS 1024u /* domids 0 .. 1023 */
#define SIMHV_MAX_GRANTS 16384u /* grant entries per domain */
#define SIMHV_MAX_PORTS 4096u   /* event-channel ports per domain */
/* Also fixed: 1024 event-channel handles in all, refs from 8 (0..7 are
 * reserved, as in Linux), 1024 pages per simhv_map_grants() call. */

struct simhv;
struct simhv_evtchn;

/* Counters kept in the shared state, summed over all domains. */
struct simhv_stats {
	uint64_t copy_calls;    /* simhv_grant_copy() calls */
	uint64_t copy_segs;     /* segments copied (any status) */
	uint64_t copy_errors;   /* segments with status != GNTST_okay */
	/* Calls with a segment from a grant into the caller's memory and
	 * another from the caller's memory into a grant: a netback that
	 * read one guest's packets and filled another's buffers at once. */
	uint64_t copy_both;
	uint64_t notifies;      /* simhv_evtchn_notify() calls */
	uint64_t deliveries;    /* wake-ups sent to handles */
	uint64_t maps;          /* grant mappings now (sum of map counts) */
	uint64_t grants_active; /* grant entries currently in use */
	uint64_t ports_bound;   /* ports currently allocated */
};

/*
 * Open the hypervisor in dir. With create, dir is made (if needed) and the
 * state is initialised, discarding any earlier one (a new state file, so
 * processes still holding the old one are not disturbed, and the old
 * domains' memory files are removed); without, it must exist.
 * errno: ENAMETOOLONG dir of 80 characters or more (socket paths must fit
 * under it), EINVAL a state of another size or version, else from the
 * file system.
 */
struct simhv *simhv_open(const char *dir, bool create);
void simhv_close(struct simhv *hv);
const char *simhv_dir(const struct simhv *hv);

/*
 * Domains. domid 0 exists from creation (the driver domain / dom0, whose
 * memory is never accessed through the simulator). Creating a domain gives
 * it `pages` pages of zeroed memory: -EINVAL domid 0 or out of range or
 * no pages, -EEXIST exists (or is being created or destroyed).
 * Destroying it revokes its grants, even mapped ones (their mappers keep
 * the pages until they unmap, as Xen keeps a dying domain's page), closes
 * its ports (the peers' ports become unbound), frees its event-channel
 * handles and removes its memory: -ESRCH no such domain, -EPERM dom0.
 * Re-creating a domid later gives a new domain that shares nothing with
 * the old one.
 */
int simhv_domain_create(struct simhv *hv, uint16_t domid, uint32_t pages);
int simhv_domain_destroy(struct simhv *hv, uint16_t domid);
bool simhv_domain_exists(struct simhv *hv, uint16_t domid);
/* Number of pages of a domain's memory, or negative errno. */
long simhv_domain_pages(struct simhv *hv, uint16_t domid);

/*
 * The guest's own view of its memory: a mapping of all its pages, valid
 * until simhv_close(). Page n is at (char *)base + n * SIMHV_PAGE_SIZE.
 * Once the domain is destroyed the range stays accessible but is no
 * longer its memory. NULL with errno ESRCH (no such domain, or dom0).
 */
void *simhv_guest_memory(struct simhv *hv, uint16_t domid);

/* ---- Guest side of the grant table ---- */

/*
 * Grant `grantee` access to page `page` of `granter`; returns the ref
 * (the lowest free one). -ESRCH no such granter, -EINVAL page or grantee
 * out of range, -ENOSPC table full.
 */
int simhv_grant_access(struct simhv *hv, uint16_t granter, uint16_t grantee,
		       uint32_t page, bool readonly);
/*
 * End a grant. -EBUSY while the grantee still has it mapped (the entry
 * stays valid, as gnttab_end_foreign_access_ref fails in Linux); -ESRCH
 * no such granter, -EINVAL ref out of range or not in use. Ending and
 * mapping are one atomic step each: an end never slips in between a
 * mapper's check and its map.
 */
int simhv_grant_end(struct simhv *hv, uint16_t granter, uint32_t ref);
/*
 * Re-point an entry already in use to another page or make it read-only,
 * without ending it. Used to simulate a guest rewriting grants under the
 * backend's feet. Existing mappings keep the page they mapped (Xen's
 * pinned frame); copies see the change at once. -ESRCH no such granter,
 * -EINVAL ref not in use or page out of range.
 */
int simhv_grant_update(struct simhv *hv, uint16_t granter, uint32_t ref,
		       uint32_t page, bool readonly);

/* ---- Backend side: what libxengnttab offers ---- */

/*
 * Map `count` grants of domain `granter`, granted to `self`, contiguously.
 * writable=false maps read-only. Each entry's map count is raised; the
 * mapping stays valid even if the guest ends its grants.
 * Returns NULL with errno: ESRCH no such domain (or dom0), EINVAL bad ref
 * or ref not in use or count 0 or above 1024, EPERM not granted to self or
 * writable on a read-only grant, EBUSY an entry already mapped 4095 times.
 * A read-only mapping is PROT_READ: writing to it faults.
 */
void *simhv_map_grants(struct simhv *hv, uint16_t self, uint16_t granter,
		       uint32_t count, const uint32_t *refs, bool writable);
/*
 * Unmap what simhv_map_grants() returned; count must match (-EINVAL if
 * not, or not a mapping of this open). The map counts drop, unless the
 * granter was destroyed meanwhile (its table is gone with it).
 * simhv_close() unmaps whatever is left, as a process exit would.
 */
int simhv_unmap_grants(struct simhv *hv, void *addr, uint32_t count);

/*
 * Batched grant copy made by domain `self`, GNTTABOP_copy semantics.
 * A local side (no GNTCOPY_*_gref flag) is a pointer in this process.
 * Returns 0 when the batch was processed (check each status) or -EINVAL
 * for a NULL segs with count > 0.
 */
int simhv_grant_copy(struct simhv *hv, uint16_t self, uint32_t count,
		     xengnttab_grant_copy_segment_t *segs);

/* ---- Event channels: what libxenevtchn offers ---- */

/*
 * A handle of domain `self`, like one open of /dev/xen/evtchn. NULL with
 * errno EINVAL self out of range, EMFILE all 1024 handles in use, or a
 * socket error.
 */
struct simhv_evtchn *simhv_evtchn_open(struct simhv *hv, uint16_t self);
/* Closes every port it owns (peers' ports become unbound). */
void simhv_evtchn_close(struct simhv_evtchn *h);
/*
 * Readable when at least one port has been delivered and not yet taken
 * by simhv_evtchn_pending(). Rarely it is readable with nothing to take
 * (a doorbell that raced with the last take): pending() then returns
 * -EAGAIN and leaves the fd quiet. Poll it, then call pending() until
 * -EAGAIN.
 */
int simhv_evtchn_fd(struct simhv_evtchn *h);

/*
 * Allocate a port that `remote` may bind to. Returns the port (never 0).
 * -ESRCH own domain gone, -EINVAL remote out of range, -ENOSPC no port.
 */
int simhv_evtchn_alloc_unbound(struct simhv_evtchn *h, uint16_t remote);
/*
 * Bind a new local port to (remote, rport), which must be unbound and
 * allocated for self. Returns the local port. -ESRCH no such domain,
 * -EINVAL bad port or not allocated, -EBUSY already bound (or being
 * changed), -EPERM allocated for another domain, -ENOSPC no local port.
 * A port whose peer went away is unbound again and may be bound anew.
 */
int simhv_evtchn_bind_interdomain(struct simhv_evtchn *h, uint16_t remote,
				  uint32_t rport);
/*
 * Close a local port; the peer's port goes back to unbound. A delivery
 * of it not yet taken is withdrawn. -EINVAL not a port of this handle.
 */
int simhv_evtchn_unbind(struct simhv_evtchn *h, uint32_t port);
/*
 * Notify the peer of a local port. -ENOTCONN if the port is not bound
 * (unbound, or its peer closed it), -EINVAL not a port of this handle.
 */
int simhv_evtchn_notify(struct simhv_evtchn *h, uint32_t port);
/*
 * Next delivered port (now masked), or -EAGAIN if none. Never blocks.
 * Leaves the fd readable while more ports wait, quiet otherwise.
 */
int simhv_evtchn_pending(struct simhv_evtchn *h);
/*
 * Unmask a port; if it became pending meanwhile it is delivered again
 * (and stays masked). -EINVAL not a port of this handle.
 */
int simhv_evtchn_unmask(struct simhv_evtchn *h, uint32_t port);

/* ---- Introspection for tests and benchmarks ---- */
void simhv_get_stats(struct simhv *hv, struct simhv_stats *st);
/*
 * Release what processes that died without cleaning up (SIGKILL) still
 * held: their grant maps' counts and their event-channel handles (ports
 * closed, peers' ports unbound), as Xen does when a dead process's
 * gntdev and evtchn files are released. simhv_open() of an existing
 * hypervisor does it first; returns the number of records released.
 */
int simhv_reap(struct simhv *hv);
/* Map counts of `granter`'s grants summed (mapped by anyone) / in use. */
uint32_t simhv_domain_mapped(struct simhv *hv, uint16_t granter);
uint32_t simhv_domain_grants(struct simhv *hv, uint16_t granter);
/* Ports of `domid` currently allocated (unbound or interdomain). */
uint32_t simhv_domain_ports(struct simhv *hv, uint16_t domid);

#endif
