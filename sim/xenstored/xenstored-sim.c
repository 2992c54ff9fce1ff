/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenstored-sim: a xenstore daemon for the simulated hypervisor.
 *
 * It speaks the xenstore wire protocol (xen/io/xs_wire.h, described in
 * Xen's docs/misc/xenstore.txt) on a unix stream socket, so the real
 * libxenstore (XENSTORED_PATH=<socket>) and Debian's xenstore-* tools
 * work against it. The tree and transactions are the store (store.h);
 * this file is the wire, the connections and the watches.
 *
 * Model:
 * - Every socket client is privileged, as a client of xenstored's socket
 *   is: dom0. Permissions are stored, inherited by new nodes and
 *   returned, never enforced. Relative paths are dom0's
 *   (/local/domain/0/...).
 * - INTRODUCE and RELEASE only keep the set of introduced domains and
 *   fire @introduceDomain and @releaseDomain: there are no guest rings
 *   here (simulated guests use the socket as well).
 * - One thread and epoll: non-blocking sockets, and an output buffer per
 *   connection, so a client that does not read blocks nobody. A client
 *   that leaves OUT_PAUSE bytes unread is not read from until it reads
 *   (its requests wait in the socket); one that lets OUT_MAX bytes of
 *   watch events pile up is dropped.
 * - Scale (a thousand simulated guests, each a client with watches):
 *   work per request does not grow with the number of clients. Only
 *   clients that had something happen are flushed and re-armed (the
 *   dirty list); watches are found through a hash table on their path,
 *   one lookup per component of the changed path; the tree indexes big
 *   directories and transactions copy only what they touch (store.h).
 * - A message longer than XENSTORE_PAYLOAD_MAX is a protocol violation:
 *   the client gets an E2BIG error and is disconnected, as xenstored
 *   disconnects it. A malformed request (bad arguments) gets an error
 *   reply like xenstored's (EINVAL, ENOSYS for an unknown type).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "store.h"
#include "tree.h"

#define MAX_CONNS	8192
#define MAX_WATCHES	8192		/* per connection, as a quota */
#define MAX_TXNS	64		/* open per connection */
#define OUT_PAUSE	(64 * 1024)	/* bytes unread: stop reading */
#define MAX_BATCH	64		/* requests per client per poll */
#define OUT_MAX		(16 * 1024 * 1024) /* bytes unread: drop */
#define MAX_DOMID	0x7fef		/* below DOMID_FIRST_RESERVED */
#define HOME		"/local/domain/0"
#define PATH_BUF	(XENSTORE_ABS_PATH_MAX + 1)

struct conn;

struct watch {
	LIST_ENTRY(watch) link;
	char *path;		/* absolute, or a special "@..." */
	char *token;
	bool relative;		/* events name paths relative to HOME */
	struct conn *c;
	uint64_t seq;		/* creation order */
	struct watch *hnext;	/* in the server's bucket of its path */
};

struct ctxn {
	LIST_ENTRY(ctxn) link;
	uint32_t id;
	struct store_txn *t;
};

struct conn {
	TAILQ_ENTRY(conn) link;
	int fd;
	unsigned id;		/* for the log */
	struct xsd_sockmsg hdr;
	char in[XENSTORE_PAYLOAD_MAX + 1];
	unsigned have;		/* bytes of header and payload read */
	char *out;
	size_t ohead, otail, ocap; /* unsent bytes are out[ohead..otail) */
	LIST_HEAD(, watch) watches;
	unsigned nwatches;
	LIST_HEAD(, ctxn) txns;
	unsigned ntxns;
	bool closing;		/* close once the output is sent */
	bool dead;		/* close now */
	uint32_t armed;		/* epoll events asked for */
	bool dirty;		/* on the server's dirty list */
	TAILQ_ENTRY(conn) dlink;
};

struct server {
	struct store *store;
	TAILQ_HEAD(, conn) conns;
	unsigned nconns;
	unsigned next_conn_id;
	uint32_t next_txn;
	bool introduced[MAX_DOMID + 1];
	int ep;			/* epoll */
	/* Clients to flush, re-arm or close after this round. */
	TAILQ_HEAD(, conn) dirty;
	/* Every watch, by path: wcap (a power of two) chained buckets. */
	struct watch **wh;
	unsigned wcap, nw;
	uint64_t next_watch;
	/* Scratch for the watches one change fires. */
	struct watch **hits;
	unsigned hcap;
};

/* The server, for out_append's dirty list. */
static struct server *server;

static volatile sig_atomic_t stopping;

static void
logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xenstored-sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- output ---- */

static size_t
pending(const struct conn *c)
{
	return c->otail - c->ohead;
}

/* c is flushed, re-armed or closed at the end of this round. */
static void
mark_dirty(struct conn *c)
{
	if (!c->dirty) {
		c->dirty = true;
		TAILQ_INSERT_TAIL(&server->dirty, c, dlink);
	}
}

static void
out_append(struct conn *c, const void *p, size_t n)
{
	mark_dirty(c);
	if (c->dead)
		return;
	if (pending(c) + n > OUT_MAX) {
		logmsg("client %u: %zu bytes unread, dropping it", c->id,
		    pending(c));
		c->dead = true;
		return;
	}
	if (c->otail + n > c->ocap && c->ohead > 0) {
		memmove(c->out, c->out + c->ohead, pending(c));
		c->otail -= c->ohead;
		c->ohead = 0;
	}
	if (c->otail + n > c->ocap) {
		size_t cap = c->ocap ? c->ocap : 4096;
		char *o;

		while (cap < c->otail + n)
			cap *= 2;
		if ((o = realloc(c->out, cap)) == NULL) {
			logmsg("client %u: out of memory, dropping it", c->id);
			c->dead = true;
			return;
		}
		c->out = o;
		c->ocap = cap;
	}
	if (n) /* p may be NULL for an empty payload */
		memcpy(c->out + c->otail, p, n);
	c->otail += n;
}

/* A reply to the request in c->hdr: same req_id and tx_id. */
static void
reply2(struct conn *c, uint32_t type, const void *a, size_t alen,
    const void *b, size_t blen)
{
	struct xsd_sockmsg h = c->hdr;

	h.type = type;
	h.len = (uint32_t)(alen + blen);
	out_append(c, &h, sizeof(h));
	out_append(c, a, alen);
	out_append(c, b, blen);
}

static void
reply(struct conn *c, const void *p, size_t len)
{
	reply2(c, c->hdr.type, p, len, NULL, 0);
}

static void
reply_str(struct conn *c, const char *s)
{
	reply(c, s, strlen(s) + 1);
}

static void
reply_err(struct conn *c, int err)
{
	const char *name = "EIO";

	/* The names clients know, from the table in xs_wire.h. */
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			name = xsd_errors[i].errstring;
	reply2(c, XS_ERROR, name, strlen(name) + 1, NULL, 0);
}

static void
send_event(struct conn *c, const char *path, const char *token)
{
	struct xsd_sockmsg h = { .type = XS_WATCH_EVENT };
	size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;

	h.len = (uint32_t)(plen + tlen);
	out_append(c, &h, sizeof(h));
	out_append(c, path, plen);
	out_append(c, token, tlen);
}

/* ---- watches ---- */

static struct watch **
watch_bucket(struct server *sv, const char *path, size_t len)
{
	return &sv->wh[tree_hash(path, len) & (sv->wcap - 1)];
}

/* Put w in the table: 0 or -ENOMEM. */
static int
watch_index(struct server *sv, struct watch *w)
{
	struct watch **b;

	if (sv->nw + 1 > sv->wcap) {
		unsigned cap = sv->wcap ? 2 * sv->wcap : 256;
		struct watch **t = calloc(cap, sizeof(*t)), **old = sv->wh;
		unsigned ocap = sv->wcap;

		if (t == NULL)
			return -ENOMEM;
		sv->wh = t;
		sv->wcap = cap;
		for (unsigned i = 0; i < ocap; i++) {
			struct watch *x, *next;

			for (x = old[i]; x != NULL; x = next) {
				next = x->hnext;
				b = watch_bucket(sv, x->path, strlen(x->path));
				x->hnext = *b;
				*b = x;
			}
		}
		free(old);
	}
	b = watch_bucket(sv, w->path, strlen(w->path));
	w->hnext = *b;
	*b = w;
	sv->nw++;
	return 0;
}

static void
watch_unindex(struct server *sv, struct watch *w)
{
	struct watch **b = watch_bucket(sv, w->path, strlen(w->path));

	while (*b != w)
		b = &(*b)->hnext;
	*b = w->hnext;
	sv->nw--;
}

static void
watch_event(struct conn *c, const struct watch *w, const char *path)
{
	if (w->relative)
		path += strlen(HOME "/");
	send_event(c, path, w->token);
}

/* Note the watches on the first len bytes of path (or on "/"). */
static void
hits_on(struct server *sv, const char *path, size_t len, unsigned *n)
{
	struct watch *w;

	if (sv->wcap == 0)
		return;
	for (w = *watch_bucket(sv, path, len); w != NULL; w = w->hnext) {
		if (strncmp(w->path, path, len) != 0 || w->path[len] != '\0')
			continue;
		if (*n == sv->hcap) {
			unsigned cap = sv->hcap ? 2 * sv->hcap : 64;
			struct watch **h = realloc(sv->hits,
			    cap * sizeof(*h));

			if (h == NULL) {
				logmsg("out of memory: a watch event lost");
				return;
			}
			sv->hits = h;
			sv->hcap = cap;
		}
		sv->hits[(*n)++] = w;
	}
}

/* Clients in connection order, each one's newest watch first. */
static int
hit_order(const void *a, const void *b)
{
	const struct watch *x = *(struct watch *const *)a;
	const struct watch *y = *(struct watch *const *)b;

	if (x->c->id != y->c->id)
		return x->c->id < y->c->id ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/*
 * The store's callback, and special events: queue to every watcher of
 * path or (unless exact) of one of its ancestors, in the order a scan
 * of every client's watches would find them.
 */
static void
fire(void *arg, const char *path, bool exact)
{
	struct server *sv = arg;
	size_t len = strlen(path);
	unsigned n = 0;

	hits_on(sv, path, len, &n);
	if (!exact && path[0] == '/' && len > 1) {
		hits_on(sv, "/", 1, &n);
		for (size_t i = 1; i < len; i++)
			if (path[i] == '/')
				hits_on(sv, path, i, &n);
	}
	if (n > 1)
		qsort(sv->hits, n, sizeof(*sv->hits), hit_order);
	for (unsigned i = 0; i < n; i++)
		watch_event(sv->hits[i]->c, sv->hits[i], path);
}

static void
watch_free(struct watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

static void
conn_reset(struct server *sv, struct conn *c)
{
	struct watch *w;
	struct ctxn *x;

	while ((w = LIST_FIRST(&c->watches)) != NULL) {
		LIST_REMOVE(w, link);
		watch_unindex(sv, w);
		watch_free(w);
	}
	c->nwatches = 0;
	while ((x = LIST_FIRST(&c->txns)) != NULL) {
		LIST_REMOVE(x, link);
		store_txn_end(sv->store, x->t, false);
		free(x);
	}
	c->ntxns = 0;
}

/* ---- requests ---- */

/* The payload as exactly one NUL-terminated string, or NULL. */
static const char *
onearg(const struct conn *c)
{
	if (c->hdr.len == 0 ||
	    memchr(c->in, '\0', c->hdr.len) != c->in + c->hdr.len - 1)
		return NULL;
	return c->in;
}

/*
 * The first max NUL-terminated strings of the payload into v: how many
 * there are, or -1 if a string (one of the first max) lacks its NUL.
 */
static int
args(const struct conn *c, const char **v, int max)
{
	const char *p = c->in, *end = c->in + c->hdr.len;
	int n = 0;

	while (p < end && n < max) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (nul == NULL)
			return -1;
		v[n++] = p;
		p = nul + 1;
	}
	return n;
}

/* A client's path as the store names it. */
static int
resolve(const char *in, char *out)
{
	size_t len = strlen(in);

	/* "@..." names a special watch, never a node. */
	if (in[0] == '@')
		return -EINVAL;
	if (in[0] == '/') {
		if (len >= PATH_BUF)
			return -EINVAL;
		memcpy(out, in, len + 1);
	} else {
		if (len > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		snprintf(out, PATH_BUF, HOME "/%s", in);
	}
	return store_path_check(out);
}

static int
parse_domid(const char *s, unsigned *id)
{
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -EINVAL;
	*id = (unsigned)strtoul(s, NULL, 10);
	return *id <= 65535 ? 0 : -EINVAL;
}

static int
do_read(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *arg = onearg(c), *val;
	char path[PATH_BUF];
	unsigned len;
	int r;

	if (arg == NULL)
		return -EINVAL;
	if ((r = resolve(arg, path)) < 0 ||
	    (r = store_read(sv->store, t, path, &val, &len)) < 0)
		return r;
	reply(c, val, len);
	return 0;
}

static int
do_get_perms(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *arg = onearg(c), *perms;
	char path[PATH_BUF];
	unsigned len;
	int r;

	if (arg == NULL)
		return -EINVAL;
	if ((r = resolve(arg, path)) < 0 ||
	    (r = store_get_perms(sv->store, t, path, &perms, &len)) < 0)
		return r;
	reply(c, perms, len);
	return 0;
}

/* WRITE and SET_PERMS: a path, then bytes. */
static int
do_set(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *v[1];
	char path[PATH_BUF];
	size_t plen;
	int r;

	if (args(c, v, 1) != 1)
		return -EINVAL;
	plen = strlen(v[0]) + 1;
	if ((r = resolve(v[0], path)) < 0)
		return r;
	if (c->hdr.type == XS_WRITE)
		r = store_write(sv->store, t, path, c->in + plen,
		    c->hdr.len - (unsigned)plen);
	else
		r = store_set_perms(sv->store, t, path, c->in + plen,
		    c->hdr.len - (unsigned)plen);
	if (r < 0)
		return r;
	reply_str(c, "OK");
	return 0;
}

/* MKDIR and RM. */
static int
do_mkdir_rm(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *arg = onearg(c);
	char path[PATH_BUF];
	int r;

	if (arg == NULL)
		return -EINVAL;
	if ((r = resolve(arg, path)) < 0)
		return r;
	if (c->hdr.type == XS_MKDIR)
		r = store_mkdir(sv->store, t, path);
	else
		r = store_rm(sv->store, t, path);
	if (r < 0)
		return r;
	reply_str(c, "OK");
	return 0;
}

static int
do_directory(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *arg = onearg(c);
	char path[PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	unsigned len;
	bool complete;
	int r;

	if (arg == NULL)
		return -EINVAL;
	if ((r = resolve(arg, path)) < 0 ||
	    (r = store_directory(sv->store, t, path, 0, buf, sizeof(buf),
	    &len, &complete, NULL)) < 0)
		return r;
	/* Too long for one reply: libxenstore goes on with _PART. */
	if (!complete)
		return -E2BIG;
	reply(c, buf, len);
	return 0;
}

/*
 * DIRECTORY_PART <path>|<offset>| answers <gen>|<names from offset>,
 * and one more NUL once the list is complete: libxenstore reads parts
 * until one ends in two NULs, and starts over if the generation moved.
 */
static int
do_directory_part(struct server *sv, struct conn *c, struct store_txn *t)
{
	const char *v[3];
	char path[PATH_BUF], gen[24], buf[XENSTORE_PAYLOAD_MAX];
	unsigned len;
	uint64_t g;
	bool complete;
	size_t olen;
	int r;

	if (args(c, v, 3) != 2)
		return -EINVAL;
	olen = strlen(v[1]);
	if (olen == 0 || olen > 9 || strspn(v[1], "0123456789") != olen)
		return -EINVAL;
	/* Room for the longest generation, its NUL and the final NUL. */
	if ((r = resolve(v[0], path)) < 0 ||
	    (r = store_directory(sv->store, t, path,
	    (unsigned)strtoul(v[1], NULL, 10), buf, sizeof(buf) - 22, &len,
	    &complete, &g)) < 0)
		return r;
	if (complete)
		buf[len++] = '\0';
	snprintf(gen, sizeof(gen), "%" PRIu64, g);
	reply2(c, XS_DIRECTORY_PART, gen, strlen(gen) + 1, buf, len);
	return 0;
}

static int
do_watch(struct server *sv, struct conn *c)
{
	const char *v[2];
	char path[PATH_BUF];
	struct watch *w;
	int r;

	if (args(c, v, 2) != 2)
		return -EINVAL;
	if (v[0][0] == '@') {
		if (strlen(v[0]) > XENSTORE_REL_PATH_MAX)
			return -EINVAL;
		strcpy(path, v[0]);
	} else if ((r = resolve(v[0], path)) < 0) {
		return r;
	}
	w = sv->wcap ? *watch_bucket(sv, path, strlen(path)) : NULL;
	for (; w != NULL; w = w->hnext)
		if (w->c == c && strcmp(w->path, path) == 0 &&
		    strcmp(w->token, v[1]) == 0)
			break;
	if (c->hdr.type == XS_UNWATCH) {
		if (w == NULL)
			return -ENOENT;
		LIST_REMOVE(w, link);
		watch_unindex(sv, w);
		watch_free(w);
		c->nwatches--;
		reply_str(c, "OK");
		return 0;
	}
	if (w != NULL)
		return -EEXIST;
	if (c->nwatches >= MAX_WATCHES)
		return -E2BIG;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL ||
	    (w->token = strdup(v[1])) == NULL) {
		if (w != NULL)
			watch_free(w);
		return -ENOMEM;
	}
	w->relative = v[0][0] != '/' && v[0][0] != '@';
	w->c = c;
	w->seq = ++sv->next_watch;
	if (watch_index(sv, w) < 0) {
		watch_free(w);
		return -ENOMEM;
	}
	LIST_INSERT_HEAD(&c->watches, w, link);
	c->nwatches++;
	reply_str(c, "OK");
	/* A new watch fires once at once, as xenstored's does. */
	send_event(c, v[0], w->token);
	return 0;
}

static int
do_transaction_start(struct server *sv, struct conn *c)
{
	struct ctxn *x;
	char id[16];

	if (c->hdr.tx_id != 0)
		return -EBUSY;
	if (c->ntxns >= MAX_TXNS)
		return -ENOSPC;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -ENOMEM;
	if ((x->t = store_txn_start(sv->store)) == NULL) {
		free(x);
		return -ENOMEM;
	}
	/* Unique while alive: ids wrap after 2^32 - 1 transactions. */
	if (++sv->next_txn == 0)
		sv->next_txn = 1;
	x->id = sv->next_txn;
	LIST_INSERT_HEAD(&c->txns, x, link);
	c->ntxns++;
	snprintf(id, sizeof(id), "%" PRIu32, x->id);
	reply_str(c, id);
	return 0;
}

static int
do_transaction_end(struct server *sv, struct conn *c, struct ctxn *x)
{
	const char *arg = onearg(c);
	int r;

	if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -EINVAL;
	LIST_REMOVE(x, link);
	c->ntxns--;
	/* Watch events of the commit are queued before this reply. */
	r = store_txn_end(sv->store, x->t, arg[0] == 'T');
	free(x);
	if (r < 0)
		return r;
	reply_str(c, "OK");
	return 0;
}

static int
do_domain(struct server *sv, struct conn *c)
{
	const char *v[3];
	char path[32];
	unsigned id;
	int n = args(c, v, 3), r;

	if (n < 1 || (r = parse_domid(v[0], &id)) < 0)
		return -EINVAL;
	switch (c->hdr.type) {
	case XS_GET_DOMAIN_PATH:
		snprintf(path, sizeof(path), "/local/domain/%u", id);
		reply_str(c, path);
		return 0;
	case XS_IS_DOMAIN_INTRODUCED:
		reply_str(c, id == 0 ||
		    (id <= MAX_DOMID && sv->introduced[id]) ? "T" : "F");
		return 0;
	case XS_INTRODUCE:
		/* <domid>|<mfn>|<evtchn>|: no ring to map here. */
		if (n < 3 || id == 0 || id > MAX_DOMID)
			return -EINVAL;
		reply_str(c, "OK");
		if (!sv->introduced[id]) {
			sv->introduced[id] = true;
			fire(sv, "@introduceDomain", true);
		}
		return 0;
	case XS_RELEASE:
		if (id == 0 || id > MAX_DOMID)
			return -EINVAL;
		if (!sv->introduced[id])
			return -ENOENT;
		sv->introduced[id] = false;
		reply_str(c, "OK");
		fire(sv, "@releaseDomain", true);
		return 0;
	}
	return -ENOSYS;
}

static struct ctxn *
ctxn_find(struct conn *c, uint32_t id)
{
	struct ctxn *x;

	LIST_FOREACH(x, &c->txns, link)
		if (x->id == id)
			return x;
	return NULL;
}

/* One whole request in c->hdr and c->in. */
static void
handle(struct server *sv, struct conn *c)
{
	struct ctxn *x = NULL;
	struct store_txn *t = NULL;
	int r;

	c->in[c->hdr.len] = '\0';
	switch (c->hdr.type) {
	case XS_READ:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_SET_PERMS:
	case XS_TRANSACTION_END:
		/* The tx_id of other requests is ignored, as xenstored's. */
		if (c->hdr.tx_id != 0 || c->hdr.type == XS_TRANSACTION_END) {
			if ((x = ctxn_find(c, c->hdr.tx_id)) == NULL) {
				reply_err(c, ENOENT);
				return;
			}
			t = x->t;
		}
		break;
	default:
		break;
	}

	switch (c->hdr.type) {
	case XS_READ:
		r = do_read(sv, c, t);
		break;
	case XS_GET_PERMS:
		r = do_get_perms(sv, c, t);
		break;
	case XS_WRITE:
	case XS_SET_PERMS:
		r = do_set(sv, c, t);
		break;
	case XS_MKDIR:
	case XS_RM:
		r = do_mkdir_rm(sv, c, t);
		break;
	case XS_DIRECTORY:
		r = do_directory(sv, c, t);
		break;
	case XS_DIRECTORY_PART:
		r = do_directory_part(sv, c, t);
		break;
	case XS_WATCH:
	case XS_UNWATCH:
		r = do_watch(sv, c);
		break;
	case XS_TRANSACTION_START:
		r = do_transaction_start(sv, c);
		break;
	case XS_TRANSACTION_END:
		r = do_transaction_end(sv, c, x);
		break;
	case XS_INTRODUCE:
	case XS_RELEASE:
	case XS_IS_DOMAIN_INTRODUCED:
	case XS_GET_DOMAIN_PATH:
		r = do_domain(sv, c);
		break;
	case XS_RESET_WATCHES:
		/* Watches and transactions both, as xenstored does. */
		conn_reset(sv, c);
		reply_str(c, "OK");
		r = 0;
		break;
	default:
		/* CONTROL, RESUME, SET_TARGET, replies, unknown types. */
		r = -ENOSYS;
		break;
	}
	if (r < 0)
		reply_err(c, -r);
}

/* ---- connections ---- */

static void
conn_close(struct server *sv, struct conn *c)
{
	TAILQ_REMOVE(&sv->conns, c, link);
	if (c->dirty)
		TAILQ_REMOVE(&sv->dirty, c, dlink);
	sv->nconns--;
	conn_reset(sv, c);
	close(c->fd);
	free(c->out);
	free(c);
}

/*
 * Read and handle whole requests while the client reads its replies, a
 * batch at a time so that a busy client does not starve the others.
 */
static void
conn_read(struct server *sv, struct conn *c)
{
	const size_t hl = sizeof(c->hdr);
	unsigned handled = 0;

	while (!c->dead && !c->closing && pending(c) <= OUT_PAUSE &&
	    handled < MAX_BATCH) {
		size_t want;
		char *dst;
		ssize_t n;

		if (c->have >= hl) {
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
				logmsg("client %u: message of %" PRIu32
				    " bytes, more than %u: dropping it",
				    c->id, c->hdr.len, XENSTORE_PAYLOAD_MAX);
				reply_err(c, E2BIG);
				c->closing = true;
				return;
			}
			if (c->have == hl + c->hdr.len) {
				handle(sv, c);
				c->have = 0;
				handled++;
				continue;
			}
			dst = c->in + (c->have - hl);
			want = hl + c->hdr.len - c->have;
		} else {
			dst = (char *)&c->hdr + c->have;
			want = hl - c->have;
		}
		n = read(c->fd, dst, want);
		if (n == 0) {
			c->dead = true;
		} else if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		} else {
			c->have += (unsigned)n;
		}
	}
}

static void
conn_flush(struct conn *c)
{
	while (!c->dead && pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->ohead, pending(c),
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			return;
		}
		c->ohead += (size_t)n;
	}
	c->ohead = c->otail = 0;
}

static void
accept_all(struct server *sv, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				logmsg("accept: %s", strerror(errno));
			return;
		}
		if (sv->nconns >= MAX_CONNS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			logmsg("refusing a client: %u connected", sv->nconns);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++sv->next_conn_id;
		LIST_INIT(&c->watches);
		LIST_INIT(&c->txns);
		c->armed = EPOLLIN;
		if (epoll_ctl(sv->ep, EPOLL_CTL_ADD, fd, &(struct epoll_event){
		    .events = c->armed, .data.ptr = c }) < 0) {
			logmsg("epoll: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		TAILQ_INSERT_TAIL(&sv->conns, c, link);
		sv->nconns++;
	}
}

/* Ask epoll for what c can do now: read unless paused, write if owed. */
static void
conn_arm(struct server *sv, struct conn *c)
{
	uint32_t ev = 0;

	if (!c->closing && pending(c) <= OUT_PAUSE)
		ev |= EPOLLIN;
	if (pending(c) > 0)
		ev |= EPOLLOUT;
	if (ev == c->armed)
		return;
	if (epoll_ctl(sv->ep, EPOLL_CTL_MOD, c->fd, &(struct epoll_event){
	    .events = ev, .data.ptr = c }) < 0) {
		logmsg("client %u: epoll: %s", c->id, strerror(errno));
		c->dead = true;
		return;
	}
	c->armed = ev;
}

static int
serve(struct server *sv, int lfd, const sigset_t *waitmask)
{
	struct epoll_event ev[64];

	if (epoll_ctl(sv->ep, EPOLL_CTL_ADD, lfd, &(struct epoll_event){
	    .events = EPOLLIN, .data.ptr = NULL }) < 0)
		return -errno;
	while (!stopping) {
		struct conn *c;
		bool listener = false;
		int n = epoll_pwait(sv->ep, ev, 64, -1, waitmask);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			if ((c = ev[i].data.ptr) == NULL) {
				listener = true;
				continue;
			}
			mark_dirty(c);
			if (ev[i].events & EPOLLOUT)
				conn_flush(c);
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(sv, c);
		}
		if (listener)
			accept_all(sv, lfd);
		/*
		 * Replies and the events they caused go out at once: every
		 * client that was read, written or given an event is here.
		 */
		while ((c = TAILQ_FIRST(&sv->dirty)) != NULL) {
			TAILQ_REMOVE(&sv->dirty, c, dlink);
			c->dirty = false;
			conn_flush(c);
			if (!c->dead && !(c->closing && pending(c) == 0))
				conn_arm(sv, c);
			if (c->dead || (c->closing && pending(c) == 0))
				conn_close(sv, c);
		}
	}
	return 0;
}

/* ---- setup ---- */

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Listen on path, taking the place of a stale socket left by a server
 * that died, but never of a live one or of anything not a socket.
 */
static int
listen_on(const char *path, ino_t *ino)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return -EADDRINUSE;
		}
		close(fd);
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0 || stat(path, &st) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	*ino = st.st_ino;
	return fd;
}

/* The tree a fresh xenstored has once dom0 is up. */
static int
init_tree(struct store *s)
{
	int r;

	if ((r = store_mkdir(s, NULL, HOME)) < 0 ||
	    (r = store_write(s, NULL, HOME "/name", "Domain-0", 8)) < 0 ||
	    (r = store_write(s, NULL, HOME "/domid", "0", 1)) < 0 ||
	    (r = store_mkdir(s, NULL, "/tool")) < 0)
		return r;
	return 0;
}

static int
write_pid_file(const char *file)
{
	FILE *f = fopen(file, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* Room for MAX_CONNS clients, as far as the hard limit lets us. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= MAX_CONNS + 16)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > MAX_CONNS + 16 ? MAX_CONNS + 16 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: xenstored-sim --socket PATH [--pid-file FILE] "
	    "[--foreground]\n"
	    "A xenstore daemon on a unix socket; point libxenstore at it "
	    "with\nXENSTORED_PATH=PATH. It always runs in the foreground "
	    "and stops on\nSIGTERM or SIGINT, removing its socket.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server sv = { .next_txn = 0 };
	const char *sock = NULL, *pidfile = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	struct conn *c;
	struct stat st;
	ino_t ino = 0;
	int o, lfd, r, rc = 1;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'f':
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (sock == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	/*
	 * The stop signals are blocked but inside ppoll: one arriving
	 * anywhere else is seen at the next wait, none is lost.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	TAILQ_INIT(&sv.conns);
	TAILQ_INIT(&sv.dirty);
	server = &sv;
	raise_fd_limit();
	if ((sv.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		logmsg("epoll: %s", strerror(errno));
		return 1;
	}
	if ((sv.store = store_new(fire, &sv)) == NULL ||
	    init_tree(sv.store) < 0) {
		logmsg("out of memory");
		goto out_store;
	}
	if ((lfd = listen_on(sock, &ino)) < 0) {
		logmsg("%s: %s", sock, lfd == -EADDRINUSE ?
		    "another server is listening there" : strerror(-lfd));
		goto out_store;
	}
	if (pidfile != NULL && (r = write_pid_file(pidfile)) < 0) {
		logmsg("%s: %s", pidfile, strerror(-r));
		goto out_sock;
	}
	logmsg("listening on %s", sock);

	if ((r = serve(&sv, lfd, &waitmask)) < 0)
		logmsg("poll: %s", strerror(-r));
	else
		rc = 0;

	while ((c = TAILQ_FIRST(&sv.conns)) != NULL)
		conn_close(&sv, c);
	if (pidfile != NULL)
		unlink(pidfile);
out_sock:
	close(lfd);
	/* Unless another server has taken the path meanwhile. */
	if (stat(sock, &st) == 0 && st.st_ino == ino)
		unlink(sock);
out_store:
	store_free(sv.store);
	free(sv.wh);
	free(sv.hits);
	close(sv.ep);
	return rc;
}
