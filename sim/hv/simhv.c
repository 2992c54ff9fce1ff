/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simulated hypervisor: see simhv.h for the model.
 *
 * The shared `state` file has a fixed layout (struct sstate):
 *
 *   hdr       magic, layout size, handle-id counter, global counters
 *   meta[]    per domain: life state, generation, pages, high-water marks
 *   handles[] per event-channel handle: id, doorbell, ready-port bitmap
 *   tables[]  per domain: grant entries and ports, page-aligned so that a
 *             destroyed domain's tables go back to holes in the file
 *
 * The file is sized with ftruncate and never written as a whole, so only
 * the pages of domains, grants and ports in use take memory.
 *
 * Every field another process may change at the same time is a C11
 * atomic. There are no locks in the shared state: a slot (grant entry,
 * port, handle, domain) is claimed by a CAS from its free value to an
 * owned or transitional value, and nobody ever waits for a transitional
 * value to go away, so a process that dies half-way leaves at worst one
 * unusable slot, never a held lock.
 *
 * Per process, a domain's memory file is mapped whole the first time a
 * copy touches it; the mapping is tagged with the domain's generation,
 * bumped at create and destroy, so a re-created domain is mapped afresh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "simhv.h"

#define SIMHV_MAGIC 0x32305f56484d4953ull /* "SIMHV_02", little-endian */
#define SIMHV_MAX_HANDLES 1024u
/* Grant refs mapped at once, all processes together (Xen's maptrack). */
#define SIMHV_MAX_MAPRECS 65536u
/* Linux keeps grant refs 0..7 for the toolstack (GNTTAB_NR_RESERVED). */
#define SIMHV_FIRST_REF 8u
/* Most pages one simhv_map_grants() call maps (gntdev's default limit
 * is far higher; rings need at most a few). */
#define SIMHV_MAP_MAX 1024u

/*
 * A grant entry is one 64-bit word so that granting, ending and mapping
 * are single CASes: ending cannot slip between a mapper's check and its
 * map-count increment.
 *   bits  0..31  frame (page number in the granter's memory)
 *   bits 32..47  grantee domid
 *   bit  48      in use
 *   bit  49      read-only
 *   bits 52..63  map count
 */
#define G_INUSE (1ull << 48)
#define G_RO (1ull << 49)
#define G_MAP_SHIFT 52
#define G_MAP_ONE (1ull << G_MAP_SHIFT)
#define G_MAP_MAX 4095u
#define G_FRAME(e) ((uint32_t)(e))
#define G_DOM(e) ((uint16_t)((e) >> 32))
#define G_MAPS(e) ((uint32_t)((e) >> G_MAP_SHIFT))

/* Life of a domain slot; D_BUSY while being created or destroyed. */
enum { D_NONE = 0, D_LIVE, D_BUSY };

/* Port states; P_BUSY is held by whoever is changing the port. */
enum { P_FREE = 0, P_UNBOUND, P_INTER, P_BUSY };

/* Port event bits, changed together by CAS. */
#define PB_PENDING 1u /* notified while masked */
#define PB_MASKED 2u  /* delivered, not yet unmasked */

struct sport {
	_Atomic uint32_t state;
	_Atomic uint32_t bits;
	_Atomic uint32_t handle; /* owning handle's id, 0 when free */
	_Atomic uint32_t hslot;  /* owning handle's slot in handles[] */
	_Atomic uint32_t rdom;   /* unbound: who may bind; inter: peer */
	_Atomic uint32_t rport;  /* inter: peer's port */
	uint32_t pad[2];
};

struct stables {
	_Atomic uint64_t grants[SIMHV_MAX_GRANTS];
	struct sport ports[SIMHV_MAX_PORTS];
};

struct smeta {
	_Atomic uint32_t state;
	_Atomic uint32_t gen;      /* bumped at create and destroy */
	_Atomic uint32_t pages;
	_Atomic uint32_t grant_hw; /* no entry at or above is in use */
	_Atomic uint32_t port_hw;  /* no port at or above is allocated */
	uint32_t pad[3];
};

/*
 * An event-channel handle as the other processes see it. Delivering a
 * port sets its bit in `ready` and rings the doorbell: the first ring
 * after the owner has gone quiet sends one datagram to the handle's
 * socket. The socket is only a doorbell: a unix datagram socket queues
 * at most net.unix.max_dgram_qlen (10) datagrams, fewer than a handle's
 * ports, so one datagram per delivered port could be refused and the
 * wake-up lost.
 */
struct shandle {
	_Atomic uint32_t id;   /* 0 when the slot is free */
	_Atomic uint32_t bell; /* 1: a datagram is queued or on its way */
	_Atomic uint32_t dom;
	_Atomic uint32_t pid;  /* the process holding it */
	_Atomic uint64_t ready[SIMHV_MAX_PORTS / 64];
};

/*
 * Who holds which grant mapped: one record per mapped ref, so that the
 * map counts of a process that died without unmapping (SIGKILL) can be
 * dropped, as Xen does when a dead process's gntdev file is released.
 * `pid` is 0 when the record is free, REC_BUSY while being filled or
 * reaped.
 */
struct smaprec {
	_Atomic uint32_t pid;
	uint16_t granter;
	uint16_t pad;
	uint32_t gen; /* granter's generation when mapped */
	uint32_t ref;
};
#define REC_BUSY UINT32_MAX

struct shdr {
	uint64_t magic;
	uint64_t layout; /* sizeof(struct sstate): catches a stale build */
	_Atomic uint32_t next_handle;
	_Atomic uint32_t handle_hw; /* no slot at or above is in use */
	_Atomic uint32_t maprec_hw; /* no map record at or above is in use */
	_Atomic uint32_t maprec_next; /* where the next claim starts */
	/* Written on every copy call: a line of their own. */
	alignas(64) _Atomic uint64_t copy_calls;
	_Atomic uint64_t copy_segs;
	_Atomic uint64_t copy_errors;
	_Atomic uint64_t copy_both;
	_Atomic uint64_t notifies;
	_Atomic uint64_t deliveries;
};

struct sstate {
	struct shdr hdr;
	struct smeta meta[SIMHV_MAX_DOMAINS];
	struct shandle handles[SIMHV_MAX_HANDLES];
	struct smaprec maprecs[SIMHV_MAX_MAPRECS];
	alignas(4096) struct stables tables[SIMHV_MAX_DOMAINS];
};

_Static_assert(SIMHV_PAGE_SIZE == 4096, "page size");
_Static_assert(sizeof(struct stables) % 4096 == 0,
	       "domain tables must be whole pages to be punched out");
_Static_assert(offsetof(struct sstate, tables) % 4096 == 0,
	       "domain tables must start on a page");
_Static_assert(SIMHV_MAX_PORTS % 64 == 0, "ready bitmap words");
_Static_assert(SIMHV_MAX_DOMAINS <= 65536, "domid is 16 bits");

/* This process's mapping of a domain's memory; immutable once published. */
struct memmap {
	struct memmap *next; /* on the retired list */
	char *base;
	uint32_t pages;
	uint32_t gen;
};

/* One simhv_map_grants() mapping, to drop its map counts at unmap. */
struct gmap {
	struct gmap *next;
	void *addr;
	uint32_t count;
	uint32_t gen; /* granter's generation when mapped */
	uint16_t granter;
	uint32_t *recs; /* map record of each ref */
	uint32_t refs[];
};

/* Short enough for socket paths under it (sun_path holds 108). */
#define SIMHV_DIR_MAX 80

struct simhv {
	char dir[SIMHV_DIR_MAX];
	struct sstate *st;
	int sock; /* unbound datagram socket that rings doorbells */
	pthread_mutex_t lock; /* slow paths: memory maps, grant-map list */
	struct gmap *gmaps;
	struct memmap *retired;
	_Atomic(struct memmap *) mem[SIMHV_MAX_DOMAINS];
};

struct simhv_evtchn {
	struct simhv *hv;
	struct shandle *hs;
	uint16_t self;
	uint32_t id;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void close_port(struct simhv *, uint16_t, uint32_t, uint32_t);

/* ---- helpers ---- */

static struct smeta *
live(struct simhv *hv, uint16_t domid)
{
	struct smeta *m;

	if (domid >= SIMHV_MAX_DOMAINS)
		return NULL;
	m = &hv->st->meta[domid];
	return atomic_load_explicit(&m->state, memory_order_acquire) ==
		       D_LIVE ? m : NULL;
}

/* Raise a high-water mark to at least v. */
static void
raise_hw(_Atomic uint32_t *hw, uint32_t v)
{
	uint32_t cur = atomic_load_explicit(hw, memory_order_relaxed);

	while (cur < v && !atomic_compare_exchange_weak(hw, &cur, v))
		;
}

static void
mem_path(const struct simhv *hv, uint16_t domid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/mem-%u", hv->dir, domid);
}

static void
sock_path(const struct simhv *hv, uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/evtchn-%u.sock", hv->dir, id);
}

/* Remove the memory files an earlier hypervisor in dir left behind. */
static void
remove_stale_files(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "mem-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* ---- setup ---- */

static int
state_create(const char *dir, const char *path, size_t len)
{
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	remove_stale_files(dir);
	/* A new file, not a truncated one: a process still holding the old
	 * state keeps its own copy instead of seeing it zeroed under it. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

struct simhv *
simhv_open(const char *dir, bool create)
{
	struct simhv *hv;
	char path[PATH_MAX];
	size_t len = sizeof(struct sstate);
	int fd = -1, err, sndbuf = 1 << 20;
	struct stat sb;

	if (!dir) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(dir) >= SIMHV_DIR_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return NULL;
	snprintf(hv->dir, sizeof(hv->dir), "%s", dir);
	hv->sock = -1;
	snprintf(path, sizeof(path), "%s/state", dir);
	if (create)
		fd = state_create(dir, path, len);
	else
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err = errno;
		goto fail;
	}
	if ((size_t)sb.st_size != len) {
		err = EINVAL;
		goto fail;
	}
	hv->st = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (hv->st == MAP_FAILED) {
		hv->st = NULL;
		err = errno;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (create) {
		hv->st->hdr.layout = len;
		atomic_store(&hv->st->hdr.next_handle, 1);
		atomic_store(&hv->st->meta[0].gen, 1);
		atomic_store(&hv->st->meta[0].state, D_LIVE);
		/* Last, so an opener never sees a half-made state as valid. */
		atomic_thread_fence(memory_order_release);
		hv->st->hdr.magic = SIMHV_MAGIC;
	} else if (hv->st->hdr.magic != SIMHV_MAGIC ||
		   hv->st->hdr.layout != len) {
		err = EINVAL;
		goto fail;
	}
	hv->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0);
	if (hv->sock < 0) {
		err = errno;
		goto fail;
	}
	/* Every queued doorbell holds about 1 KiB of this socket's send
	 * buffer until read: leave room for many sleeping handles. Best
	 * effort; the kernel caps it at net.core.wmem_max. */
	setsockopt(hv->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	pthread_mutex_init(&hv->lock, NULL);
	/* What a killed process left behind goes before we take anything,
	 * as a restarted backend finds it in Xen. */
	if (!create)
		simhv_reap(hv);
	return hv;
fail:
	if (fd >= 0)
		close(fd);
	if (hv->st)
		munmap(hv->st, len);
	free(hv);
	errno = err;
	return NULL;
}

static void drop_maps(struct simhv *, const struct gmap *);

void
simhv_close(struct simhv *hv)
{
	struct memmap *m, *mn;
	struct gmap *g, *gn;

	if (!hv)
		return;
	/* Like a process exit: what is still mapped gets unmapped. */
	for (g = hv->gmaps; g; g = gn) {
		gn = g->next;
		munmap(g->addr, (size_t)g->count * SIMHV_PAGE_SIZE);
		drop_maps(hv, g);
		free(g);
	}
	for (unsigned i = 0; i < SIMHV_MAX_DOMAINS; i++) {
		m = atomic_load(&hv->mem[i]);
		if (m) {
			munmap(m->base, (size_t)m->pages * SIMHV_PAGE_SIZE);
			free(m);
		}
	}
	for (m = hv->retired; m; m = mn) {
		mn = m->next;
		munmap(m->base, (size_t)m->pages * SIMHV_PAGE_SIZE);
		free(m);
	}
	close(hv->sock);
	munmap(hv->st, sizeof(*hv->st));
	pthread_mutex_destroy(&hv->lock);
	free(hv);
}

const char *
simhv_dir(const struct simhv *hv)
{
	return hv->dir;
}

/* ---- domains and their memory ---- */

/*
 * Drop a mapping of a dead generation of a domain's memory; hv->lock held.
 * Another thread may still be copying through it: swap its pages for
 * anonymous ones instead of unmapping (no fault, and the dead domain's
 * memory is freed), and keep the range until simhv_close().
 */
static void
retire(struct simhv *hv, struct memmap *m)
{
	mmap(m->base, (size_t)m->pages * SIMHV_PAGE_SIZE,
	     PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	m->next = hv->retired;
	hv->retired = m;
}

/*
 * Called where a domain is found gone: let go of this process's mapping
 * of its memory, the last thing keeping the unlinked file's pages.
 */
static void
forget_dead(struct simhv *hv, uint16_t domid)
{
	struct memmap *m;

	if (domid >= SIMHV_MAX_DOMAINS ||
	    !atomic_load_explicit(&hv->mem[domid], memory_order_relaxed))
		return;
	pthread_mutex_lock(&hv->lock);
	m = atomic_load(&hv->mem[domid]);
	if (m && m->gen != atomic_load(&hv->st->meta[domid].gen)) {
		atomic_store(&hv->mem[domid], NULL);
		retire(hv, m);
	}
	pthread_mutex_unlock(&hv->lock);
}

/* Map a domain's memory file in this process; the slow path of dom_mem. */
static struct memmap *
dom_mem_map(struct simhv *hv, uint16_t domid, uint32_t gen)
{
	struct memmap *old, *m = NULL;
	char path[PATH_MAX];
	struct stat sb;
	void *p;
	int fd;

	pthread_mutex_lock(&hv->lock);
	old = atomic_load(&hv->mem[domid]);
	if (old && old->gen == gen) {
		m = old;
		goto out;
	}
	mem_path(hv, domid, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto out;
	/* The file's own size, not the shared page count: a racing
	 * re-create may have changed the latter, and mapping beyond the
	 * end of a file faults. */
	if (fstat(fd, &sb) < 0 || sb.st_size < SIMHV_PAGE_SIZE ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		close(fd);
		goto out;
	}
	m->pages = (uint32_t)(sb.st_size / SIMHV_PAGE_SIZE);
	m->gen = gen;
	p = mmap(NULL, (size_t)m->pages * SIMHV_PAGE_SIZE,
		 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		free(m);
		m = NULL;
		goto out;
	}
	m->base = p;
	if (old)
		retire(hv, old);
	atomic_store_explicit(&hv->mem[domid], m, memory_order_release);
out:
	pthread_mutex_unlock(&hv->lock);
	return m;
}

/* This process's mapping of a live domain's memory, or NULL. */
static inline struct memmap *
dom_mem(struct simhv *hv, uint16_t domid, struct smeta *meta)
{
	uint32_t gen = atomic_load_explicit(&meta->gen, memory_order_acquire);
	struct memmap *m = atomic_load_explicit(&hv->mem[domid],
						memory_order_acquire);

	if (m && m->gen == gen)
		return m;
	return dom_mem_map(hv, domid, gen);
}

int
simhv_domain_create(struct simhv *hv, uint16_t domid, uint32_t pages)
{
	struct smeta *m;
	char path[PATH_MAX];
	uint32_t s = D_NONE;
	int fd, err;

	if (domid == 0 || domid >= SIMHV_MAX_DOMAINS || pages == 0)
		return -EINVAL;
	m = &hv->st->meta[domid];
	if (!atomic_compare_exchange_strong(&m->state, &s, D_BUSY))
		return -EEXIST;
	/* A new file: a process still mapping the old domain's memory
	 * keeps it, and the new domain starts zeroed. */
	mem_path(hv, domid, path, sizeof(path));
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	if (ftruncate(fd, (off_t)pages * SIMHV_PAGE_SIZE) < 0) {
		err = errno;
		close(fd);
		unlink(path);
		goto fail;
	}
	close(fd);
	/* The tables are zero: fresh from ftruncate or wiped at destroy. */
	atomic_store(&m->pages, pages);
	atomic_fetch_add(&m->gen, 1);
	atomic_store_explicit(&m->state, D_LIVE, memory_order_release);
	return 0;
fail:
	atomic_store(&m->state, D_NONE);
	return -err;
}

bool
simhv_domain_exists(struct simhv *hv, uint16_t domid)
{
	if (live(hv, domid))
		return true;
	forget_dead(hv, domid);
	return false;
}

long
simhv_domain_pages(struct simhv *hv, uint16_t domid)
{
	struct smeta *m = live(hv, domid);

	return m ? (long)atomic_load(&m->pages) : -ESRCH;
}

void *
simhv_guest_memory(struct simhv *hv, uint16_t domid)
{
	struct smeta *meta = live(hv, domid);
	struct memmap *m;

	if (!meta || domid == 0) {
		errno = ESRCH;
		return NULL;
	}
	m = dom_mem(hv, domid, meta);
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	return m->base;
}

/* Give a domain's tables back to the file as holes (they read as zero). */
static void
wipe_tables(struct simhv *hv, uint16_t domid, struct smeta *m)
{
	struct stables *t = &hv->st->tables[domid];
	uint32_t ghw = atomic_load(&m->grant_hw);
	uint32_t phw = atomic_load(&m->port_hw);

	if (madvise(t, sizeof(*t), MADV_REMOVE) == 0)
		return;
	/* A file system that cannot punch holes: zero what was used. */
	for (uint32_t i = 0; i < ghw && i < SIMHV_MAX_GRANTS; i++)
		atomic_store(&t->grants[i], 0);
	for (uint32_t i = 0; i < phw && i < SIMHV_MAX_PORTS; i++) {
		atomic_store(&t->ports[i].bits, 0);
		atomic_store(&t->ports[i].handle, 0);
		atomic_store(&t->ports[i].state, P_FREE);
	}
}

int
simhv_domain_destroy(struct simhv *hv, uint16_t domid)
{
	struct smeta *m;
	char path[PATH_MAX];
	uint32_t s = D_LIVE, phw, hhw;

	if (domid == 0)
		return -EPERM;
	if (domid >= SIMHV_MAX_DOMAINS)
		return -ESRCH;
	m = &hv->st->meta[domid];
	if (!atomic_compare_exchange_strong(&m->state, &s, D_BUSY))
		return -ESRCH;
	/* From here copies see GNTST_bad_domain and maps ESRCH; the new
	 * generation tells every process its mapping is stale. */
	atomic_fetch_add(&m->gen, 1);
	phw = atomic_load(&m->port_hw);
	for (uint32_t i = 1; i < phw && i < SIMHV_MAX_PORTS; i++)
		close_port(hv, domid, i, 0);
	/* The domain's kernel is gone, and with it its handles: free their
	 * slots, or guests that were killed would leak them. */
	hhw = atomic_load(&hv->st->hdr.handle_hw);
	for (uint32_t i = 0; i < hhw && i < SIMHV_MAX_HANDLES; i++) {
		struct shandle *hs = &hv->st->handles[i];
		uint32_t id = atomic_load(&hs->id);

		if (id == 0 || atomic_load(&hs->dom) != domid)
			continue;
		if (atomic_compare_exchange_strong(&hs->id, &id, 0)) {
			sock_path(hv, id, path, sizeof(path));
			unlink(path);
		}
	}
	/* Revoke every grant, mapped or not: mappers keep their pages (the
	 * unlinked file lives on in their mappings), as Xen keeps a page
	 * until its last mapping goes. */
	wipe_tables(hv, domid, m);
	atomic_store(&m->grant_hw, 0);
	atomic_store(&m->port_hw, 0);
	atomic_store(&m->pages, 0);
	mem_path(hv, domid, path, sizeof(path));
	unlink(path);
	atomic_store_explicit(&m->state, D_NONE, memory_order_release);
	return 0;
}

/* ---- grant table, guest side ---- */

int
simhv_grant_access(struct simhv *hv, uint16_t granter, uint16_t grantee,
		   uint32_t page, bool readonly)
{
	struct smeta *m = live(hv, granter);
	_Atomic uint64_t *g;
	uint64_t v;

	if (!m)
		return -ESRCH;
	if (page >= atomic_load(&m->pages) || grantee >= SIMHV_MAX_DOMAINS)
		return -EINVAL;
	g = hv->st->tables[granter].grants;
	v = page | (uint64_t)grantee << 32 | G_INUSE | (readonly ? G_RO : 0);
	for (uint32_t i = SIMHV_FIRST_REF; i < SIMHV_MAX_GRANTS; i++) {
		uint64_t zero = 0;

		if (atomic_load_explicit(&g[i], memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&g[i], &zero, v)) {
			raise_hw(&m->grant_hw, i + 1);
			return (int)i;
		}
	}
	return -ENOSPC;
}

int
simhv_grant_end(struct simhv *hv, uint16_t granter, uint32_t ref)
{
	struct smeta *m = live(hv, granter);
	_Atomic uint64_t *g;
	uint64_t e;

	if (!m)
		return -ESRCH;
	if (ref >= SIMHV_MAX_GRANTS)
		return -EINVAL;
	g = &hv->st->tables[granter].grants[ref];
	e = atomic_load(g);
	do {
		if (!(e & G_INUSE))
			return -EINVAL;
		if (G_MAPS(e))
			return -EBUSY;
	} while (!atomic_compare_exchange_weak(g, &e, 0));
	return 0;
}

int
simhv_grant_update(struct simhv *hv, uint16_t granter, uint32_t ref,
		   uint32_t page, bool readonly)
{
	struct smeta *m = live(hv, granter);
	_Atomic uint64_t *g;
	uint64_t e, ne;

	if (!m)
		return -ESRCH;
	if (ref >= SIMHV_MAX_GRANTS || page >= atomic_load(&m->pages))
		return -EINVAL;
	g = &hv->st->tables[granter].grants[ref];
	e = atomic_load(g);
	do {
		if (!(e & G_INUSE))
			return -EINVAL;
		/* Grantee and map count stay: existing mappings keep the
		 * page they mapped, as Xen's pinned frame does. */
		ne = (e & ~(G_RO | 0xffffffffull)) | page |
		     (readonly ? G_RO : 0);
	} while (!atomic_compare_exchange_weak(g, &e, ne));
	return 0;
}

/* ---- backend side: mapping ---- */

/* Take one map reference on an entry; returns its frame or -errno. */
static long
take_map(_Atomic uint64_t *g, uint16_t self, bool writable)
{
	uint64_t e = atomic_load(g);

	do {
		if (!(e & G_INUSE))
			return -EINVAL;
		if (G_DOM(e) != self || (writable && (e & G_RO)))
			return -EPERM;
		if (G_MAPS(e) == G_MAP_MAX)
			return -EBUSY;
	} while (!atomic_compare_exchange_weak(g, &e, e + G_MAP_ONE));
	return (long)G_FRAME(e);
}

static void
put_map(_Atomic uint64_t *g)
{
	uint64_t e = atomic_load(g);

	/* A wiped (destroyed) entry has no count to drop. */
	while (G_MAPS(e) &&
	       !atomic_compare_exchange_weak(g, &e, e - G_MAP_ONE))
		;
}

/* Claim a free map record for (granter, gen, ref); its index, or
 * UINT32_MAX when all are taken. */
static uint32_t
rec_claim(struct simhv *hv, uint16_t granter, uint32_t gen, uint32_t ref)
{
	uint32_t start = atomic_fetch_add(&hv->st->hdr.maprec_next, 1);

	for (uint32_t k = 0; k < SIMHV_MAX_MAPRECS; k++) {
		uint32_t i = (start + k) % SIMHV_MAX_MAPRECS, zero = 0;
		struct smaprec *r = &hv->st->maprecs[i];

		if (atomic_load_explicit(&r->pid, memory_order_relaxed) != 0 ||
		    !atomic_compare_exchange_strong(&r->pid, &zero, REC_BUSY))
			continue;
		r->granter = granter;
		r->gen = gen;
		r->ref = ref;
		raise_hw(&hv->st->hdr.maprec_hw, i + 1);
		atomic_store_explicit(&r->pid, (uint32_t)getpid(),
				      memory_order_release);
		return i;
	}
	return UINT32_MAX;
}

static void
rec_free(struct simhv *hv, uint32_t i)
{
	if (i < SIMHV_MAX_MAPRECS)
		atomic_store(&hv->st->maprecs[i].pid, 0);
}

/* Drop the map counts a mapping holds, unless its domain was destroyed. */
static void
drop_maps(struct simhv *hv, const struct gmap *gm)
{
	struct smeta *m = &hv->st->meta[gm->granter];
	_Atomic uint64_t *g = hv->st->tables[gm->granter].grants;

	bool same = atomic_load(&m->gen) == gm->gen;

	for (uint32_t i = 0; i < gm->count; i++) {
		if (same)
			put_map(&g[gm->refs[i]]);
		rec_free(hv, gm->recs[i]);
	}
}

void *
simhv_map_grants(struct simhv *hv, uint16_t self, uint16_t granter,
		 uint32_t count, const uint32_t *refs, bool writable)
{
	struct smeta *m = live(hv, granter);
	_Atomic uint64_t *g;
	struct gmap *gm;
	uint32_t *frames, i = 0;
	char path[PATH_MAX];
	char *area = MAP_FAILED;
	size_t len;
	int fd = -1, err;

	if (!m || granter == 0) {
		forget_dead(hv, granter);
		errno = ESRCH;
		return NULL;
	}
	if (count == 0 || count > SIMHV_MAP_MAX || !refs) {
		errno = EINVAL;
		return NULL;
	}
	len = (size_t)count * SIMHV_PAGE_SIZE;
	/* refs[] kept for unmap, frames[] only while mapping. */
	gm = malloc(sizeof(*gm) + 3 * (size_t)count * sizeof(uint32_t));
	if (!gm)
		return NULL;
	frames = gm->refs + count;
	gm->recs = gm->refs + 2 * (size_t)count;
	gm->gen = atomic_load(&m->gen);
	g = hv->st->tables[granter].grants;
	for (i = 0; i < count; i++) {
		long f = refs[i] < SIMHV_MAX_GRANTS ?
				 take_map(&g[refs[i]], self, writable) :
				 -EINVAL;

		if (f < 0) {
			err = (int)-f;
			goto fail;
		}
		frames[i] = (uint32_t)f;
		gm->refs[i] = refs[i];
		gm->recs[i] = rec_claim(hv, granter, gm->gen, refs[i]);
		if (gm->recs[i] == UINT32_MAX) {
			put_map(&g[refs[i]]);
			err = ENOSPC;
			goto fail;
		}
	}
	mem_path(hv, granter, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? ESRCH : errno;
		goto fail;
	}
	/* Reserve the whole range first so the pages land contiguously. */
	area = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		err = errno;
		goto fail;
	}
	for (uint32_t k = 0; k < count; k++) {
		void *p = mmap(area + (size_t)k * SIMHV_PAGE_SIZE,
			       SIMHV_PAGE_SIZE,
			       PROT_READ | (writable ? PROT_WRITE : 0),
			       MAP_SHARED | MAP_FIXED, fd,
			       (off_t)frames[k] * SIMHV_PAGE_SIZE);

		if (p == MAP_FAILED) {
			err = errno;
			goto fail;
		}
	}
	close(fd);
	gm->addr = area;
	gm->count = count;
	gm->granter = granter;
	pthread_mutex_lock(&hv->lock);
	gm->next = hv->gmaps;
	hv->gmaps = gm;
	pthread_mutex_unlock(&hv->lock);
	return area;
fail:
	if (area != MAP_FAILED)
		munmap(area, len);
	if (fd >= 0)
		close(fd);
	while (i-- > 0) {
		if (atomic_load(&m->gen) == gm->gen)
			put_map(&g[refs[i]]);
		rec_free(hv, gm->recs[i]);
	}
	free(gm);
	errno = err;
	return NULL;
}

int
simhv_unmap_grants(struct simhv *hv, void *addr, uint32_t count)
{
	struct gmap **pp, *gm = NULL;

	pthread_mutex_lock(&hv->lock);
	for (pp = &hv->gmaps; *pp; pp = &(*pp)->next) {
		if ((*pp)->addr == addr && (*pp)->count == count) {
			gm = *pp;
			*pp = gm->next;
			break;
		}
	}
	pthread_mutex_unlock(&hv->lock);
	if (!gm)
		return -EINVAL;
	munmap(addr, (size_t)count * SIMHV_PAGE_SIZE);
	drop_maps(hv, gm);
	/* Rings are unmapped when a guest goes: a good time to let go of
	 * its memory if it is gone. */
	forget_dead(hv, gm->granter);
	free(gm);
	return 0;
}

/* ---- backend side: copying ---- */

/*
 * Check one grant side of a copy (its domain is known live) and resolve
 * it to an address in this process. `dest` is the side written to.
 */
static inline int16_t
copy_gref(struct simhv *hv, uint16_t self, uint16_t domid, struct smeta *meta,
	  uint32_t ref, uint16_t off, bool dest, char **out)
{
	struct memmap *mm;
	uint64_t e;

	if (ref >= SIMHV_MAX_GRANTS)
		return GNTST_bad_gntref;
	e = atomic_load_explicit(&hv->st->tables[domid].grants[ref],
				 memory_order_acquire);
	if (!(e & G_INUSE))
		return GNTST_bad_gntref;
	if (G_DOM(e) != self || (dest && (e & G_RO)))
		return GNTST_permission_denied;
	mm = dom_mem(hv, domid, meta);
	/* Only a destroy and re-create racing this copy gets here. */
	if (!mm || G_FRAME(e) >= mm->pages)
		return GNTST_general_error;
	*out = mm->base + (size_t)G_FRAME(e) * SIMHV_PAGE_SIZE + off;
	return GNTST_okay;
}

/* A granting domain for a copy: dom0's memory is not simulated. */
static inline struct smeta *
copy_dom(struct simhv *hv, uint16_t domid)
{
	return domid ? live(hv, domid) : NULL;
}

/*
 * One segment, checked in the order Xen 4.17's gnttab_copy_one() does:
 * both domains (source first), then the source entry, then the dest
 * entry, and only then the page bounds.
 */
static inline int16_t
copy_one(struct simhv *hv, uint16_t self, xengnttab_grant_copy_segment_t *s)
{
	const bool sg = s->flags & GNTCOPY_source_gref;
	const bool dg = s->flags & GNTCOPY_dest_gref;
	struct smeta *sm = NULL, *dm = NULL;
	char *src = s->source.virt, *dst = s->dest.virt;
	int16_t st;

	if (sg && !(sm = copy_dom(hv, s->source.foreign.domid))) {
		forget_dead(hv, s->source.foreign.domid);
		return GNTST_bad_domain;
	}
	if (dg && !(dm = copy_dom(hv, s->dest.foreign.domid))) {
		forget_dead(hv, s->dest.foreign.domid);
		return GNTST_bad_domain;
	}
	if (sg && (st = copy_gref(hv, self, s->source.foreign.domid, sm,
				  s->source.foreign.ref,
				  s->source.foreign.offset, false, &src)))
		return st;
	if (dg && (st = copy_gref(hv, self, s->dest.foreign.domid, dm,
				  s->dest.foreign.ref, s->dest.foreign.offset,
				  true, &dst)))
		return st;
	if ((sg && s->source.foreign.offset + s->len > SIMHV_PAGE_SIZE) ||
	    (dg && s->dest.foreign.offset + s->len > SIMHV_PAGE_SIZE))
		return GNTST_bad_copy_arg;
	memcpy(dst, src, s->len);
	return GNTST_okay;
}

int
simhv_grant_copy(struct simhv *hv, uint16_t self, uint32_t count,
		 xengnttab_grant_copy_segment_t *segs)
{
	struct shdr *h = &hv->st->hdr;
	uint64_t errors = 0;
	unsigned kinds = 0;

	if (!segs && count)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		unsigned gref = segs[i].flags &
				(GNTCOPY_source_gref | GNTCOPY_dest_gref);

		segs[i].status = copy_one(hv, self, &segs[i]);
		errors += segs[i].status != GNTST_okay;
		kinds |= gref == GNTCOPY_source_gref ? 1u
			 : gref == GNTCOPY_dest_gref ? 2u
						     : 0u;
	}
	if (kinds == 3)
		atomic_fetch_add_explicit(&h->copy_both, 1,
					  memory_order_relaxed);
	/* One add per call, not per segment: these lines are shared by
	 * every process copying. */
	atomic_fetch_add_explicit(&h->copy_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->copy_segs, count, memory_order_relaxed);
	if (errors)
		atomic_fetch_add_explicit(&h->copy_errors, errors,
					  memory_order_relaxed);
	return 0;
}

/* ---- event channels ---- */

static struct sport *
port_of(struct simhv *hv, uint16_t domid, uint32_t port)
{
	if (domid >= SIMHV_MAX_DOMAINS || port == 0 || port >= SIMHV_MAX_PORTS)
		return NULL;
	return &hv->st->tables[domid].ports[port];
}

/* The port of h's domain, if h owns it. */
static struct sport *
own_port(struct simhv_evtchn *h, uint32_t port)
{
	struct sport *p = port_of(h->hv, h->self, port);

	if (!p || atomic_load_explicit(&p->handle, memory_order_acquire) !=
			  h->id)
		return NULL;
	return p;
}

/*
 * Ring a handle's doorbell: one datagram unless one is already queued.
 * A failed send clears the bell so that the next delivery tries again.
 * The send fails when the handle's queue is full (the fd is then
 * readable: nothing is lost), when its socket is gone (nobody to wake),
 * or when this process's send buffer is full: hundreds of doorbells
 * unread at once, the one case where a wake-up waits for the next.
 */
static void
ring(struct simhv *hv, struct shandle *hs, uint32_t id, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (atomic_exchange(&hs->bell, 1))
		return;
	sock_path(hv, id, sa.sun_path, sizeof(sa.sun_path));
	if (sendto(hv->sock, &port, sizeof(port), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0)
		atomic_store(&hs->bell, 0);
}

/* Hand a port to its owning handle. */
static void
deliver(struct simhv *hv, struct sport *p, uint32_t port)
{
	uint32_t id = atomic_load(&p->handle);
	uint32_t slot = atomic_load(&p->hslot);
	struct shandle *hs;

	if (id == 0 || slot >= SIMHV_MAX_HANDLES)
		return;
	hs = &hv->st->handles[slot];
	if (atomic_load(&hs->id) != id)
		return; /* owner gone */
	/* The bit before the bell, both seq_cst: the owner clears the bell
	 * before it looks at the bits, so either it sees this bit or this
	 * ring sees its cleared bell and sends. */
	atomic_fetch_or(&hs->ready[port / 64], 1ull << (port % 64));
	atomic_fetch_add_explicit(&hv->st->hdr.deliveries, 1,
				  memory_order_relaxed);
	ring(hv, hs, id, port);
}

/* Raise a port pending; deliver it if it was unmasked. */
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
			return; /* coalesced with an earlier notify */
		/* Unmasked: deliver and mask, as the evtchn driver does;
		 * masked: remember it for unmask. */
		nb = b | ((b & PB_MASKED) ? PB_PENDING : PB_MASKED);
	} while (!atomic_compare_exchange_weak(&p->bits, &b, nb));
	if (!(b & PB_MASKED))
		deliver(hv, p, port);
}

struct simhv_evtchn *
simhv_evtchn_open(struct simhv *hv, uint16_t self)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct simhv_evtchn *h;
	struct shandle *hs = NULL;
	int err;

	if (self >= SIMHV_MAX_DOMAINS) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->hv = hv;
	h->self = self;
	h->fd = -1;
	do {
		h->id = atomic_fetch_add(&hv->st->hdr.next_handle, 1);
	} while (h->id == 0);
	for (uint32_t i = 0; i < SIMHV_MAX_HANDLES && !hs; i++) {
		uint32_t zero = 0;

		if (atomic_load_explicit(&hv->st->handles[i].id,
					 memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&hv->st->handles[i].id,
						   &zero, h->id)) {
			hs = &hv->st->handles[i];
			raise_hw(&hv->st->hdr.handle_hw, i + 1);
		}
	}
	if (!hs) {
		err = EMFILE;
		goto fail;
	}
	h->hs = hs;
	atomic_store(&hs->dom, self);
	atomic_store(&hs->pid, (uint32_t)getpid());
	atomic_store(&hs->bell, 0);
	for (unsigned w = 0; w < SIMHV_MAX_PORTS / 64; w++)
		atomic_store(&hs->ready[w], 0);
	sock_path(hv, h->id, h->path, sizeof(h->path));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->path);
	unlink(h->path);
	h->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0 ||
	    bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		goto fail;
	}
	return h;
fail:
	if (h->fd >= 0)
		close(h->fd);
	if (hs)
		atomic_store(&hs->id, 0);
	free(h);
	errno = err;
	return NULL;
}

void
simhv_evtchn_close(struct simhv_evtchn *h)
{
	struct smeta *m;
	uint32_t phw, id;

	if (!h)
		return;
	m = &h->hv->st->meta[h->self];
	phw = atomic_load(&m->port_hw);
	for (uint32_t i = 1; i < phw && i < SIMHV_MAX_PORTS; i++)
		close_port(h->hv, h->self, i, h->id);
	/* The slot may already be gone with a destroyed domain. */
	id = h->id;
	atomic_compare_exchange_strong(&h->hs->id, &id, 0);
	close(h->fd);
	unlink(h->path);
	free(h);
}

int
simhv_evtchn_fd(struct simhv_evtchn *h)
{
	return h->fd;
}

/* Claim a free port of domid (port 0 is never used, as in Xen). */
static int
claim_port(struct simhv *hv, uint16_t domid)
{
	struct stables *t = &hv->st->tables[domid];

	for (uint32_t i = 1; i < SIMHV_MAX_PORTS; i++) {
		uint32_t f = P_FREE;

		if (atomic_load_explicit(&t->ports[i].state,
					 memory_order_relaxed) == P_FREE &&
		    atomic_compare_exchange_strong(&t->ports[i].state, &f,
						   P_BUSY)) {
			atomic_store(&t->ports[i].bits, 0);
			raise_hw(&hv->st->meta[domid].port_hw, i + 1);
			return (int)i;
		}
	}
	return -ENOSPC;
}

static void
own(struct simhv_evtchn *h, struct sport *p, uint32_t rdom, uint32_t rport)
{
	atomic_store(&p->hslot, (uint32_t)(h->hs - h->hv->st->handles));
	atomic_store(&p->handle, h->id);
	atomic_store(&p->rdom, rdom);
	atomic_store(&p->rport, rport);
}

int
simhv_evtchn_alloc_unbound(struct simhv_evtchn *h, uint16_t remote)
{
	struct sport *p;
	int port;

	if (!live(h->hv, h->self))
		return -ESRCH;
	if (remote >= SIMHV_MAX_DOMAINS)
		return -EINVAL;
	port = claim_port(h->hv, h->self);
	if (port < 0)
		return port;
	p = &h->hv->st->tables[h->self].ports[port];
	own(h, p, remote, 0);
	atomic_store_explicit(&p->state, P_UNBOUND, memory_order_release);
	return port;
}

int
simhv_evtchn_bind_interdomain(struct simhv_evtchn *h, uint16_t remote,
			      uint32_t rport)
{
	struct simhv *hv = h->hv;
	struct sport *rp, *lp;
	uint32_t s = P_UNBOUND;
	int port;

	if (!live(hv, remote) || !live(hv, h->self))
		return -ESRCH;
	rp = port_of(hv, remote, rport);
	if (!rp)
		return -EINVAL;
	/* Hold the remote port while checking it, so nobody frees and
	 * re-allocates it between the check and the bind. */
	if (!atomic_compare_exchange_strong(&rp->state, &s, P_BUSY))
		return s == P_FREE ? -EINVAL : -EBUSY;
	if (atomic_load(&rp->rdom) != h->self) {
		atomic_store(&rp->state, P_UNBOUND);
		return -EPERM;
	}
	port = claim_port(hv, h->self);
	if (port < 0) {
		atomic_store(&rp->state, P_UNBOUND);
		return port;
	}
	lp = &hv->st->tables[h->self].ports[port];
	own(h, lp, remote, rport);
	atomic_store(&rp->rport, (uint32_t)port);
	atomic_store_explicit(&rp->state, P_INTER, memory_order_release);
	atomic_store_explicit(&lp->state, P_INTER, memory_order_release);
	return port;
}

/*
 * Free a port of domid owned by handle id (any owner when id is 0); an
 * interdomain peer goes back to unbound, as in Xen. Every change holds
 * the port P_BUSY; a peer found busy is being closed by its own side,
 * and is left alone rather than waited for.
 */
static void
close_port(struct simhv *hv, uint16_t domid, uint32_t port, uint32_t id)
{
	struct sport *p = port_of(hv, domid, port), *r;
	uint32_t s, owner, slot, rs = P_INTER;

	if (!p)
		return;
	s = atomic_load(&p->state);
	do {
		if (s == P_FREE || s == P_BUSY)
			return;
	} while (!atomic_compare_exchange_weak(&p->state, &s, P_BUSY));
	owner = atomic_load(&p->handle);
	if (id && owner != id) {
		atomic_store(&p->state, s);
		return;
	}
	if (s == P_INTER) {
		r = port_of(hv, (uint16_t)atomic_load(&p->rdom),
			    atomic_load(&p->rport));
		if (r && atomic_compare_exchange_strong(&r->state, &rs,
							P_BUSY)) {
			if (atomic_load(&r->rdom) == domid &&
			    atomic_load(&r->rport) == port) {
				atomic_store(&r->rport, 0);
				rs = P_UNBOUND;
			}
			atomic_store(&r->state, rs);
		}
	}
	/* A delivery not yet read is withdrawn with the port. */
	slot = atomic_load(&p->hslot);
	if (owner && slot < SIMHV_MAX_HANDLES &&
	    atomic_load(&hv->st->handles[slot].id) == owner)
		atomic_fetch_and(&hv->st->handles[slot].ready[port / 64],
				 ~(1ull << (port % 64)));
	atomic_store(&p->bits, 0);
	atomic_store(&p->handle, 0);
	atomic_store_explicit(&p->state, P_FREE, memory_order_release);
}

static bool
pid_dead(uint32_t pid)
{
	return pid != 0 && pid != REC_BUSY && pid != (uint32_t)getpid() &&
	       kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int
simhv_reap(struct simhv *hv)
{
	struct sstate *st = hv->st;
	uint32_t hw = atomic_load(&st->hdr.maprec_hw);
	int n = 0;

	/* Grant maps of dead processes: their counts drop, unless the
	 * granter was destroyed since (a wiped entry has none). */
	for (uint32_t i = 0; i < hw && i < SIMHV_MAX_MAPRECS; i++) {
		struct smaprec *r = &st->maprecs[i];
		uint32_t pid = atomic_load(&r->pid);

		if (!pid_dead(pid) ||
		    !atomic_compare_exchange_strong(&r->pid, &pid, REC_BUSY))
			continue;
		if (r->granter < SIMHV_MAX_DOMAINS &&
		    r->ref < SIMHV_MAX_GRANTS &&
		    atomic_load(&st->meta[r->granter].gen) == r->gen)
			put_map(&st->tables[r->granter].grants[r->ref]);
		atomic_store(&r->pid, 0);
		n++;
	}
	/* Event-channel handles of dead processes: closed as the evtchn
	 * driver closes them when the file goes, peers' ports unbound. */
	hw = atomic_load(&st->hdr.handle_hw);
	for (uint32_t i = 0; i < hw && i < SIMHV_MAX_HANDLES; i++) {
		struct shandle *hs = &st->handles[i];
		uint32_t id = atomic_load(&hs->id);
		uint32_t dom = atomic_load(&hs->dom);
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

		if (id == 0 || !pid_dead(atomic_load(&hs->pid)) ||
		    dom >= SIMHV_MAX_DOMAINS)
			continue;
		uint32_t phw = atomic_load(&st->meta[dom].port_hw);

		for (uint32_t p = 1; p < phw && p < SIMHV_MAX_PORTS; p++)
			close_port(hv, (uint16_t)dom, p, id);
		if (atomic_compare_exchange_strong(&hs->id, &id, 0)) {
			sock_path(hv, id, path, sizeof(path));
			unlink(path);
			n++;
		}
	}
	return n;
}

int
simhv_evtchn_unbind(struct simhv_evtchn *h, uint32_t port)
{
	if (!own_port(h, port))
		return -EINVAL;
	close_port(h->hv, h->self, port, h->id);
	return 0;
}

int
simhv_evtchn_notify(struct simhv_evtchn *h, uint32_t port)
{
	struct simhv *hv = h->hv;
	struct sport *p = own_port(h, port);

	if (!p)
		return -EINVAL;
	if (atomic_load_explicit(&p->state, memory_order_acquire) != P_INTER)
		return -ENOTCONN;
	atomic_fetch_add_explicit(&hv->st->hdr.notifies, 1,
				  memory_order_relaxed);
	raise_port(hv, (uint16_t)atomic_load(&p->rdom), atomic_load(&p->rport));
	return 0;
}

/* Take one ready port off the handle's bitmap, or -1. */
static int
claim_ready(struct shandle *hs)
{
	for (unsigned w = 0; w < SIMHV_MAX_PORTS / 64; w++) {
		uint64_t v = atomic_load_explicit(&hs->ready[w],
						  memory_order_relaxed);

		while (v) {
			unsigned b = (unsigned)__builtin_ctzll(v);
			uint64_t bit = 1ull << b;

			/* close_port() may withdraw it meanwhile. */
			if (atomic_fetch_and(&hs->ready[w], ~bit) & bit)
				return (int)(w * 64 + b);
			v = atomic_load(&hs->ready[w]);
		}
	}
	return -1;
}

static bool
any_ready(struct shandle *hs)
{
	for (unsigned w = 0; w < SIMHV_MAX_PORTS / 64; w++)
		if (atomic_load(&hs->ready[w]))
			return true;
	return false;
}

int
simhv_evtchn_pending(struct simhv_evtchn *h)
{
	struct shandle *hs = h->hs;
	uint32_t buf;
	int port;

	if (atomic_load(&hs->id) != h->id) {
		/* The domain was destroyed and the slot freed: only quiet
		 * the fd, the bitmap is no longer ours. */
		while (recv(h->fd, &buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
		return -EAGAIN;
	}
	port = claim_ready(hs);
	if (port >= 0 && any_ready(hs))
		return port; /* more to come: the fd stays readable */
	/* Running dry: empty the socket so the fd stops being readable,
	 * clear the bell, then look again for a delivery that raced
	 * with that (it saw the bell still rung and sent nothing). */
	while (recv(h->fd, &buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	atomic_store(&hs->bell, 0);
	if (port < 0)
		port = claim_ready(hs);
	if (any_ready(hs))
		ring(h->hv, hs, h->id, 0);
	return port >= 0 ? port : -EAGAIN;
}

int
simhv_evtchn_unmask(struct simhv_evtchn *h, uint32_t port)
{
	struct sport *p = own_port(h, port);
	uint32_t b, nb;

	if (!p)
		return -EINVAL;
	b = atomic_load(&p->bits);
	do {
		/* Pending while masked: deliver again, still masked. */
		nb = (b & PB_PENDING) ? (b & ~PB_PENDING) | PB_MASKED
				      : b & ~PB_MASKED;
	} while (!atomic_compare_exchange_weak(&p->bits, &b, nb));
	if (b & PB_PENDING)
		deliver(h->hv, p, port);
	return 0;
}

/* ---- introspection ---- */

uint32_t
simhv_domain_mapped(struct simhv *hv, uint16_t granter)
{
	uint32_t n = 0, hw;

	if (granter >= SIMHV_MAX_DOMAINS)
		return 0;
	hw = atomic_load(&hv->st->meta[granter].grant_hw);
	for (uint32_t i = 0; i < hw && i < SIMHV_MAX_GRANTS; i++)
		n += G_MAPS(atomic_load(&hv->st->tables[granter].grants[i]));
	return n;
}

uint32_t
simhv_domain_grants(struct simhv *hv, uint16_t granter)
{
	uint32_t n = 0, hw;

	if (granter >= SIMHV_MAX_DOMAINS)
		return 0;
	hw = atomic_load(&hv->st->meta[granter].grant_hw);
	for (uint32_t i = 0; i < hw && i < SIMHV_MAX_GRANTS; i++)
		n += (atomic_load(&hv->st->tables[granter].grants[i]) &
		      G_INUSE) != 0;
	return n;
}

uint32_t
simhv_domain_ports(struct simhv *hv, uint16_t domid)
{
	uint32_t n = 0, hw;

	if (domid >= SIMHV_MAX_DOMAINS)
		return 0;
	hw = atomic_load(&hv->st->meta[domid].port_hw);
	for (uint32_t i = 1; i < hw && i < SIMHV_MAX_PORTS; i++)
		n += atomic_load(&hv->st->tables[domid].ports[i].state) !=
		     P_FREE;
	return n;
}

void
simhv_get_stats(struct simhv *hv, struct simhv_stats *st)
{
	struct shdr *h = &hv->st->hdr;

	memset(st, 0, sizeof(*st));
	st->copy_calls = atomic_load(&h->copy_calls);
	st->copy_segs = atomic_load(&h->copy_segs);
	st->copy_errors = atomic_load(&h->copy_errors);
	st->copy_both = atomic_load(&h->copy_both);
	st->notifies = atomic_load(&h->notifies);
	st->deliveries = atomic_load(&h->deliveries);
	for (uint32_t d = 0; d < SIMHV_MAX_DOMAINS; d++) {
		if (!live(hv, (uint16_t)d))
			continue;
		st->maps += simhv_domain_mapped(hv, (uint16_t)d);
		st->grants_active += simhv_domain_grants(hv, (uint16_t)d);
		st->ports_bound += simhv_domain_ports(hv, (uint16_t)d);
	}
}
