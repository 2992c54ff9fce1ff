/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simulated hypervisor: see simhv.h for the model.
 *
 * The shared `state` file is a fixed array of domains, each with its
 * grant table and event-channel ports. Every field another process may
 * change at the same time is a C11 atomic; slots are claimed with a CAS,
 * so a process that dies mid-way leaves at worst one slot in a
 * transitional state, never a held lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "simhv.h"

#define SIMHV_MAGIC 0x53494d48565f3031ull /* "SIMHV_01" */

/* Grant entry word: frame | grantee << 32 | flags << 48. */
#define G_INUSE (1ull << 48)
#define G_RO (1ull << 49)
#define G_FRAME(e) ((uint32_t)(e))
#define G_DOM(e) ((uint16_t)((e) >> 32))

struct sgrant {
	_Atomic uint64_t e;
	_Atomic uint32_t maps;
	uint32_t pad;
};

enum { P_FREE = 0, P_UNBOUND, P_INTER, P_BUSY };
#define PB_PENDING 1u
#define PB_MASKED 2u

struct sport {
	_Atomic uint32_t state;
	_Atomic uint32_t bits;
	_Atomic uint32_t handle;  /* owning handle id */
	_Atomic uint32_t rdom;    /* unbound: who may bind; inter: peer */
	_Atomic uint32_t rport;
	uint32_t pad;
};

struct sdom {
	_Atomic uint32_t exists;
	_Atomic uint32_t gen; /* bumped at create and destroy */
	uint32_t pages;
	uint32_t pad;
	struct sgrant grants[SIMHV_MAX_GRANTS];
	struct sport ports[SIMHV_MAX_PORTS];
};

struct sstate {
	uint64_t magic;
	_Atomic uint32_t next_handle;
	uint32_t pad;
	_Atomic uint64_t copy_calls, copy_segs, copy_errors;
	_Atomic uint64_t notifies, deliveries;
	struct sdom doms[SIMHV_MAX_DOMAINS];
};

struct memmap {
	_Atomic(char *) base;
	size_t len;
	uint32_t gen;
};

struct mapping {
	struct mapping *next;
	void *addr;
	uint16_t granter;
	uint32_t count;
	uint32_t refs[];
};

/* Short enough for unix socket paths under it (sun_path is 108). */
#define SIMHV_DIR_MAX 80

struct simhv {
	char dir[SIMHV_DIR_MAX];
	struct mapping *mappings; /* this process's grant maps */
	struct sstate *st;
	size_t st_len;
	int sock; /* unbound datagram socket for sending wake-ups */
	pthread_mutex_t lock; /* slow path of the memory-map cache */
	struct memmap mem[SIMHV_MAX_DOMAINS];
};

struct simhv_evtchn {
	struct simhv *hv;
	uint16_t self;
	uint32_t id;
	int fd;
	char path[PATH_MAX];
};

/* ---- setup ---- */

struct simhv *
simhv_open(const char *dir, bool create)
{
	struct simhv *hv = calloc(1, sizeof(*hv));
	char path[PATH_MAX + 16];
	int fd = -1, err;

	if (!hv)
		return NULL;
	if (strlen(dir) >= sizeof(hv->dir)) {
		err = ENAMETOOLONG;
		goto fail;
	}
	snprintf(hv->dir, sizeof(hv->dir), "%s", dir);
	pthread_mutex_init(&hv->lock, NULL);
	hv->st_len = sizeof(struct sstate);
	snprintf(path, sizeof(path), "%s/state", dir);
	if (create) {
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			err = errno;
			goto fail;
		}
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)hv->st_len) < 0) {
			err = errno;
			goto fail;
		}
	} else {
		struct stat sb;

		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb) < 0) {
			err = errno;
			goto fail;
		}
		if ((size_t)sb.st_size != hv->st_len) {
			err = EINVAL;
			goto fail;
		}
	}
	hv->st = mmap(NULL, hv->st_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	if (hv->st == MAP_FAILED) {
		hv->st = NULL;
		err = errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (create) {
		hv->st->magic = SIMHV_MAGIC;
		atomic_store(&hv->st->next_handle, 1);
		atomic_store(&hv->st->doms[0].exists, 1);
		atomic_fetch_add(&hv->st->doms[0].gen, 1);
	} else if (hv->st->magic != SIMHV_MAGIC) {
		err = EINVAL;
		goto fail;
	}
	hv->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0);
	if (hv->sock < 0) {
		err = errno;
		goto fail;
	}
	return hv;
fail:
	if (fd >= 0)
		close(fd);
	if (hv->st)
		munmap(hv->st, hv->st_len);
	free(hv);
	errno = err;
	return NULL;
}

void
simhv_close(struct simhv *hv)
{
	if (!hv)
		return;
	for (unsigned i = 0; i < SIMHV_MAX_DOMAINS; i++)
		if (hv->mem[i].base)
			munmap(hv->mem[i].base, hv->mem[i].len);
	close(hv->sock);
	munmap(hv->st, hv->st_len);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
}

const char *
simhv_dir(const struct simhv *hv)
{
	return hv->dir;
}

static struct sdom *
dom(struct simhv *hv, uint16_t domid)
{
	if (domid >= SIMHV_MAX_DOMAINS)
		return NULL;
	struct sdom *d = &hv->st->doms[domid];
	return atomic_load_explicit(&d->exists, memory_order_acquire) ? d
								      : NULL;
}

/* ---- domains and their memory ---- */

int
simhv_domain_create(struct simhv *hv, uint16_t domid, uint32_t pages)
{
	char path[PATH_MAX + 16];
	struct sdom *d;
	int fd;

	if (domid == 0 || domid >= SIMHV_MAX_DOMAINS || pages == 0)
		return -EINVAL;
	d = &hv->st->doms[domid];
	if (atomic_load(&d->exists))
		return -EEXIST;
	snprintf(path, sizeof(path), "%s/mem-%u", hv->dir, domid);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)pages * SIMHV_PAGE_SIZE) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	for (unsigned i = 0; i < SIMHV_MAX_GRANTS; i++) {
		atomic_store(&d->grants[i].e, 0);
		atomic_store(&d->grants[i].maps, 0);
	}
	for (unsigned i = 0; i < SIMHV_MAX_PORTS; i++)
		atomic_store(&d->ports[i].state, P_FREE);
	d->pages = pages;
	atomic_fetch_add(&d->gen, 1);
	atomic_store_explicit(&d->exists, 1, memory_order_release);
	return 0;
}

bool
simhv_domain_exists(struct simhv *hv, uint16_t domid)
{
	return dom(hv, domid) != NULL;
}

long
simhv_domain_pages(struct simhv *hv, uint16_t domid)
{
	struct sdom *d = dom(hv, domid);

	return d ? (long)d->pages : -ESRCH;
}

/* Map (or find mapped) all memory of a domain in this process. */
static char *
dom_mem(struct simhv *hv, uint16_t domid, struct sdom *d)
{
	struct memmap *m = &hv->mem[domid];
	uint32_t gen = atomic_load_explicit(&d->gen, memory_order_acquire);
	char *base = atomic_load_explicit(&m->base, memory_order_acquire);

	if (base && m->gen == gen)
		return base;

	pthread_mutex_lock(&hv->lock);
	base = atomic_load(&m->base);
	if (!base || m->gen != gen) {
		char path[PATH_MAX + 16];
		int fd;

		/* An old mapping of a destroyed domain stays valid memory
		 * until close: a racing copy reads stale bytes, no fault. */
		snprintf(path, sizeof(path), "%s/mem-%u", hv->dir, domid);
		fd = open(path, O_RDWR | O_CLOEXEC);
		base = NULL;
		if (fd >= 0) {
			size_t len = (size_t)d->pages * SIMHV_PAGE_SIZE;
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);

			close(fd);
			if (p != MAP_FAILED) {
				base = p;
				m->len = len;
				m->gen = gen;
				atomic_store_explicit(&m->base, base,
						      memory_order_release);
			}
		}
	}
	pthread_mutex_unlock(&hv->lock);
	return base;
}

void *
simhv_guest_memory(struct simhv *hv, uint16_t domid)
{
	struct sdom *d = dom(hv, domid);

	if (!d || domid == 0) {
		errno = ESRCH;
		return NULL;
	}
	return dom_mem(hv, domid, d);
}

static void close_port(struct simhv *hv, uint16_t domid, uint32_t port);

int
simhv_domain_destroy(struct simhv *hv, uint16_t domid)
{
	char path[PATH_MAX + 16];
	struct sdom *d = dom(hv, domid);

	if (!d || domid == 0)
		return -ESRCH;
	atomic_store(&d->exists, 0);
	atomic_fetch_add(&d->gen, 1);
	for (unsigned i = 0; i < SIMHV_MAX_PORTS; i++)
		if (atomic_load(&d->ports[i].state) != P_FREE)
			close_port(hv, domid, i);
	for (unsigned i = 0; i < SIMHV_MAX_GRANTS; i++)
		atomic_store(&d->grants[i].e, 0);
	snprintf(path, sizeof(path), "%s/mem-%u", hv->dir, domid);
	unlink(path);
	return 0;
}

/* ---- grant table, guest side ---- */

int
simhv_grant_access(struct simhv *hv, uint16_t granter, uint16_t grantee,
		   uint32_t page, bool readonly)
{
	struct sdom *d = dom(hv, granter);
	uint64_t v;

	if (!d)
		return -ESRCH;
	if (page >= d->pages || grantee >= SIMHV_MAX_DOMAINS)
		return -EINVAL;
	v = page | (uint64_t)grantee << 32 | G_INUSE | (readonly ? G_RO : 0);
	/* Refs below 8 are reserved, as in Linux. */
	for (unsigned i = 8; i < SIMHV_MAX_GRANTS; i++) {
		uint64_t zero = 0;

		if (atomic_load_explicit(&d->grants[i].e,
					 memory_order_relaxed) == 0 &&
		    atomic_load(&d->grants[i].maps) == 0 &&
		    atomic_compare_exchange_strong(&d->grants[i].e, &zero, v))
			return (int)i;
	}
	return -ENOSPC;
}

int
simhv_grant_end(struct simhv *hv, uint16_t granter, uint32_t ref)
{
	struct sdom *d = dom(hv, granter);

	if (!d)
		return -ESRCH;
	if (ref >= SIMHV_MAX_GRANTS ||
	    !(atomic_load(&d->grants[ref].e) & G_INUSE))
		return -EINVAL;
	if (atomic_load(&d->grants[ref].maps))
		return -EBUSY;
	atomic_store(&d->grants[ref].e, 0);
	return 0;
}

int
simhv_grant_update(struct simhv *hv, uint16_t granter, uint32_t ref,
		   uint32_t page, bool readonly)
{
	struct sdom *d = dom(hv, granter);
	uint64_t e;

	if (!d)
		return -ESRCH;
	if (ref >= SIMHV_MAX_GRANTS || page >= d->pages)
		return -EINVAL;
	e = atomic_load(&d->grants[ref].e);
	if (!(e & G_INUSE))
		return -EINVAL;
	atomic_store(&d->grants[ref].e, page | (uint64_t)G_DOM(e) << 32 |
						G_INUSE | (readonly ? G_RO : 0));
	return 0;
}

/* ---- grant table, backend side ---- */

void *
simhv_map_grants(struct simhv *hv, uint16_t self, uint16_t granter,
		 uint32_t count, const uint32_t *refs, bool writable)
{
	struct sdom *d = dom(hv, granter);
	char path[PATH_MAX + 16];
	char *area;
	int fd, err = 0;
	uint32_t i;

	if (!d || granter == 0) {
		errno = ESRCH;
		return NULL;
	}
	if (count == 0 || count > 1024) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < count; i++) {
		uint64_t e;

		if (refs[i] >= SIMHV_MAX_GRANTS) {
			err = EINVAL;
			goto unref;
		}
		e = atomic_load(&d->grants[refs[i]].e);
		if (!(e & G_INUSE) || G_FRAME(e) >= d->pages)
			err = EINVAL;
		else if (G_DOM(e) != self || (writable && (e & G_RO)))
			err = EPERM;
		if (err)
			goto unref;
		atomic_fetch_add(&d->grants[refs[i]].maps, 1);
	}
	snprintf(path, sizeof(path), "%s/mem-%u", hv->dir, granter);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto unref;
	}
	area = mmap(NULL, (size_t)count * SIMHV_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		err = errno;
		close(fd);
		goto unref;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint64_t e = atomic_load(&d->grants[refs[k]].e);
		void *p = mmap(area + (size_t)k * SIMHV_PAGE_SIZE,
			       SIMHV_PAGE_SIZE,
			       PROT_READ | (writable ? PROT_WRITE : 0),
			       MAP_SHARED | MAP_FIXED, fd,
			       (off_t)G_FRAME(e) * SIMHV_PAGE_SIZE);

		if (p == MAP_FAILED) {
			err = errno;
			munmap(area, (size_t)count * SIMHV_PAGE_SIZE);
			close(fd);
			goto unref;
		}
	}
	close(fd);
	/* Remember which refs back this mapping, so unmap can drop them. */
	struct mapping *m = malloc(sizeof(*m) + count * sizeof(uint32_t));
	if (!m) {
		munmap(area, (size_t)count * SIMHV_PAGE_SIZE);
		err = ENOMEM;
		goto unref;
	}
	m->addr = area;
	m->granter = granter;
	m->count = count;
	memcpy(m->refs, refs, count * sizeof(uint32_t));
	pthread_mutex_lock(&hv->lock);
	m->next = hv->mappings;
	hv->mappings = m;
	pthread_mutex_unlock(&hv->lock);
	return area;
unref:
	while (i-- > 0)
		atomic_fetch_sub(&d->grants[refs[i]].maps, 1);
	errno = err;
	return NULL;
}

int
simhv_unmap_grants(struct simhv *hv, void *addr, uint32_t count)
{
	struct mapping **pp, *m = NULL;

	pthread_mutex_lock(&hv->lock);
	for (pp = &hv->mappings; *pp; pp = &(*pp)->next) {
		if ((*pp)->addr == addr && (*pp)->count == count) {
			m = *pp;
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&hv->lock);
	if (!m)
		return -EINVAL;
	munmap(addr, (size_t)count * SIMHV_PAGE_SIZE);
	/* The domain may be gone (its table wiped): counts still drop. */
	struct sdom *d = &hv->st->doms[m->granter];
	for (uint32_t i = 0; i < count; i++)
		atomic_fetch_sub(&d->grants[m->refs[i]].maps, 1);
	free(m);
	return 0;
}

/*
 * Resolve one side of a copy segment to a pointer, or a GNTST_* error.
 * `dest` is the side written to.
 */
static int16_t
resolve(struct simhv *hv, uint16_t self, const union xengnttab_copy_ptr *p,
	bool foreign, bool dest, uint16_t len, char **out)
{
	struct sdom *d;
	uint64_t e;
	char *base;

	if (!foreign) {
		*out = p->virt;
		return GNTST_okay;
	}
	if ((uint32_t)p->foreign.offset + len > SIMHV_PAGE_SIZE)
		return GNTST_bad_copy_arg;
	d = dom(hv, p->foreign.domid);
	if (!d || p->foreign.domid == 0)
		return GNTST_bad_domain;
	if (p->foreign.ref >= SIMHV_MAX_GRANTS)
		return GNTST_bad_gntref;
	e = atomic_load_explicit(&d->grants[p->foreign.ref].e,
				 memory_order_acquire);
	if (!(e & G_INUSE) || G_FRAME(e) >= d->pages)
		return GNTST_bad_gntref;
	if (G_DOM(e) != self || (dest && (e & G_RO)))
		return GNTST_permission_denied;
	base = dom_mem(hv, p->foreign.domid, d);
	if (!base)
		return GNTST_general_error;
	*out = base + (size_t)G_FRAME(e) * SIMHV_PAGE_SIZE + p->foreign.offset;
	return GNTST_okay;
}

int
simhv_grant_copy(struct simhv *hv, uint16_t self, uint32_t count,
		 xengnttab_grant_copy_segment_t *segs)
{
	uint64_t errors = 0;

	if (!segs && count)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *s = &segs[i];
		char *src, *dst;
		int16_t st;

		st = resolve(hv, self, &s->source,
			     s->flags & GNTCOPY_source_gref, false, s->len,
			     &src);
		if (st == GNTST_okay)
			st = resolve(hv, self, &s->dest,
				     s->flags & GNTCOPY_dest_gref, true, s->len,
				     &dst);
		if (st == GNTST_okay)
			memcpy(dst, src, s->len);
		else
			errors++;
		s->status = st;
	}
	atomic_fetch_add_explicit(&hv->st->copy_calls, 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&hv->st->copy_segs, count,
				  memory_order_relaxed);
	if (errors)
		atomic_fetch_add(&hv->st->copy_errors, errors);
	return 0;
}

/* ---- event channels ---- */

static void
handle_path(const struct simhv *hv, uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/evtchn-%u.sock", hv->dir, id);
}

struct simhv_evtchn *
simhv_evtchn_open(struct simhv *hv, uint16_t self)
{
	struct simhv_evtchn *h = calloc(1, sizeof(*h));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	if (!h)
		return NULL;
	h->hv = hv;
	h->self = self;
	h->id = atomic_fetch_add(&hv->st->next_handle, 1);
	handle_path(hv, h->id, h->path, sizeof(h->path));
	if (strlen(h->path) >= sizeof(sa.sun_path)) {
		free(h);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, h->path);
	unlink(h->path);
	h->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		errno = err;
		return NULL;
	}
	return h;
}

int
simhv_evtchn_fd(struct simhv_evtchn *h)
{
	return h->fd;
}

static struct sport *
port_of(struct simhv *hv, uint16_t domid, uint32_t port)
{
	if (domid >= SIMHV_MAX_DOMAINS || port == 0 || port >= SIMHV_MAX_PORTS)
		return NULL;
	return &hv->st->doms[domid].ports[port];
}

/* Claim a free port of domid (port 0 is never used, as in Xen). */
static int
claim_port(struct simhv *hv, uint16_t domid)
{
	struct sdom *d = &hv->st->doms[domid];

	for (uint32_t i = 1; i < SIMHV_MAX_PORTS; i++) {
		uint32_t f = P_FREE;

		if (atomic_load_explicit(&d->ports[i].state,
					 memory_order_relaxed) == P_FREE &&
		    atomic_compare_exchange_strong(&d->ports[i].state, &f,
						   P_BUSY)) {
			atomic_store(&d->ports[i].bits, 0);
			return (int)i;
		}
	}
	return -ENOSPC;
}

int
simhv_evtchn_alloc_unbound(struct simhv_evtchn *h, uint16_t remote)
{
	struct simhv *hv = h->hv;
	int p;

	if (!dom(hv, h->self))
		return -ESRCH;
	if (remote >= SIMHV_MAX_DOMAINS)
		return -EINVAL;
	p = claim_port(hv, h->self);
	if (p < 0)
		return p;
	struct sport *sp = &hv->st->doms[h->self].ports[p];
	atomic_store(&sp->handle, h->id);
	atomic_store(&sp->rdom, remote);
	atomic_store(&sp->rport, 0);
	atomic_store_explicit(&sp->state, P_UNBOUND, memory_order_release);
	return p;
}

int
simhv_evtchn_bind_interdomain(struct simhv_evtchn *h, uint16_t remote,
			      uint32_t rport)
{
	struct simhv *hv = h->hv;
	struct sport *rp, *lp;
	uint32_t st = P_UNBOUND;
	int p;

	if (!dom(hv, remote) || !dom(hv, h->self))
		return -ESRCH;
	rp = port_of(hv, remote, rport);
	if (!rp)
		return -EINVAL;
	if (atomic_load(&rp->state) != P_UNBOUND)
		return atomic_load(&rp->state) == P_INTER ? -EBUSY : -EINVAL;
	if (atomic_load(&rp->rdom) != h->self)
		return -EPERM;
	p = claim_port(hv, h->self);
	if (p < 0)
		return p;
	if (!atomic_compare_exchange_strong(&rp->state, &st, P_BUSY)) {
		atomic_store(&hv->st->doms[h->self].ports[p].state, P_FREE);
		return -EBUSY;
	}
	lp = &hv->st->doms[h->self].ports[p];
	atomic_store(&lp->handle, h->id);
	atomic_store(&lp->rdom, remote);
	atomic_store(&lp->rport, rport);
	atomic_store(&rp->rport, (uint32_t)p);
	atomic_store_explicit(&rp->state, P_INTER, memory_order_release);
	atomic_store_explicit(&lp->state, P_INTER, memory_order_release);
	return p;
}

/* Close a port; an interdomain peer goes back to unbound (as in Xen). */
static void
close_port(struct simhv *hv, uint16_t domid, uint32_t port)
{
	struct sport *p = port_of(hv, domid, port);

	if (!p)
		return;
	if (atomic_load(&p->state) == P_INTER) {
		struct sport *r = port_of(hv, (uint16_t)atomic_load(&p->rdom),
					  atomic_load(&p->rport));

		if (r && atomic_load(&r->state) == P_INTER &&
		    atomic_load(&r->rdom) == domid &&
		    atomic_load(&r->rport) == port) {
			atomic_store(&r->rport, 0);
			atomic_store(&r->state, P_UNBOUND);
		}
	}
	atomic_store(&p->state, P_FREE);
}

int
simhv_evtchn_unbind(struct simhv_evtchn *h, uint32_t port)
{
	struct sport *p = port_of(h->hv, h->self, port);

	if (!p || atomic_load(&p->state) == P_FREE ||
	    atomic_load(&p->handle) != h->id)
		return -EINVAL;
	close_port(h->hv, h->self, port);
	return 0;
}

void
simhv_evtchn_close(struct simhv_evtchn *h)
{
	struct sdom *d;

	if (!h)
		return;
	d = &h->hv->st->doms[h->self];
	for (uint32_t i = 1; i < SIMHV_MAX_PORTS; i++)
		if (atomic_load(&d->ports[i].state) != P_FREE &&
		    atomic_load(&d->ports[i].handle) == h->id)
			close_port(h->hv, h->self, i);
	close(h->fd);
	unlink(h->path);
	free(h);
}

static void
deliver(struct simhv *hv, struct sport *p, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	handle_path(hv, atomic_load(&p->handle), sa.sun_path,
		    sizeof(sa.sun_path));
	/* At most one datagram per port per mask cycle: the socket cannot
	 * overflow with fewer than SIMHV_MAX_PORTS ports per handle. */
	sendto(hv->sock, &port, sizeof(port), MSG_DONTWAIT,
	       (struct sockaddr *)&sa, sizeof(sa));
	atomic_fetch_add_explicit(&hv->st->deliveries, 1,
				  memory_order_relaxed);
}

/* Raise `port` of domid pending; deliver if it was unmasked. */
static void
raise_port(struct simhv *hv, uint16_t domid, uint32_t port)
{
	struct sport *p = port_of(hv, domid, port);
	uint32_t b, nb;

	if (!p)
		return;
	b = atomic_load(&p->bits);
	do {
		if (b & PB_PENDING)
			return; /* coalesced */
		/* Unmasked: deliver now and mask (the evtchn driver does);
		 * masked: remember it for unmask. */
		nb = (b & PB_MASKED) ? (b | PB_PENDING) : (b | PB_MASKED);
	} while (!atomic_compare_exchange_weak(&p->bits, &b, nb));
	if (!(b & PB_MASKED))
		deliver(hv, p, port);
}

int
simhv_evtchn_notify(struct simhv_evtchn *h, uint32_t port)
{
	struct simhv *hv = h->hv;
	struct sport *p = port_of(hv, h->self, port);

	if (!p || atomic_load(&p->handle) != h->id)
		return -EINVAL;
	if (atomic_load_explicit(&p->state, memory_order_acquire) != P_INTER)
		return -ENOTCONN;
	atomic_fetch_add_explicit(&hv->st->notifies, 1, memory_order_relaxed);
	raise_port(hv, (uint16_t)atomic_load(&p->rdom), atomic_load(&p->rport));
	return 0;
}

int
simhv_evtchn_pending(struct simhv_evtchn *h)
{
	uint32_t port;
	ssize_t n = recv(h->fd, &port, sizeof(port), MSG_DONTWAIT);

	if (n != sizeof(port))
		return -EAGAIN;
	return (int)port;
}

int
simhv_evtchn_unmask(struct simhv_evtchn *h, uint32_t port)
{
	struct sport *p = port_of(h->hv, h->self, port);
	uint32_t b, nb;

	if (!p || atomic_load(&p->handle) != h->id)
		return -EINVAL;
	b = atomic_load(&p->bits);
	do {
		if (b & PB_PENDING)
			nb = (b & ~PB_PENDING) | PB_MASKED; /* redeliver */
		else
			nb = b & ~PB_MASKED;
	} while (!atomic_compare_exchange_weak(&p->bits, &b, nb));
	if (b & PB_PENDING)
		deliver(h->hv, p, port);
	return 0;
}

/* ---- introspection ---- */

void
simhv_get_stats(struct simhv *hv, struct simhv_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->copy_calls = atomic_load(&hv->st->copy_calls);
	st->copy_segs = atomic_load(&hv->st->copy_segs);
	st->copy_errors = atomic_load(&hv->st->copy_errors);
	st->notifies = atomic_load(&hv->st->notifies);
	st->deliveries = atomic_load(&hv->st->deliveries);
	for (unsigned d = 0; d < SIMHV_MAX_DOMAINS; d++) {
		if (!dom(hv, (uint16_t)d))
			continue;
		st->maps += simhv_domain_mapped(hv, (uint16_t)d);
		st->grants_active += simhv_domain_grants(hv, (uint16_t)d);
		st->ports_bound += simhv_domain_ports(hv, (uint16_t)d);
	}
}

uint32_t
simhv_domain_mapped(struct simhv *hv, uint16_t granter)
{
	uint32_t n = 0;

	if (granter >= SIMHV_MAX_DOMAINS)
		return 0;
	for (unsigned i = 0; i < SIMHV_MAX_GRANTS; i++)
		n += atomic_load(&hv->st->doms[granter].grants[i].maps);
	return n;
}

uint32_t
simhv_domain_grants(struct simhv *hv, uint16_t granter)
{
	uint32_t n = 0;

	if (granter >= SIMHV_MAX_DOMAINS)
		return 0;
	for (unsigned i = 0; i < SIMHV_MAX_GRANTS; i++)
		n += (atomic_load(&hv->st->doms[granter].grants[i].e) &
		      G_INUSE) != 0;
	return n;
}

uint32_t
simhv_domain_ports(struct simhv *hv, uint16_t domid)
{
	uint32_t n = 0;

	if (domid >= SIMHV_MAX_DOMAINS)
		return 0;
	for (unsigned i = 1; i < SIMHV_MAX_PORTS; i++)
		n += atomic_load(&hv->st->doms[domid].ports[i].state) !=
		     P_FREE;
	return n;
}
