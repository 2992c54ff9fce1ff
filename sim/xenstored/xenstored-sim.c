/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenstored-sim: a xenstore daemon for the simulated hypervisor.
 *
 * It speaks the xenstore wire protocol (xen/io/xs_wire.h) on a unix
 * stream socket, so the real libxenstore (XENSTORED_PATH=<socket>) and the
 * xenstore-* tools work against it. One thread, poll(), non-blocking I/O
 * with a growing output buffer per connection, so a slow watcher never
 * blocks the others; a malformed message drops only its connection.
 *
 * Model: every socket client is privileged (dom0): permissions are
 * stored, inherited and returned, not enforced. Transactions work on a
 * copy of the tree and commit only if no node they read or wrote was
 * changed meanwhile (else EAGAIN); watch events fire at commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define MAX_CONNS 1024
#define MAX_WATCHES_PER_CONN 4096

struct node {
	char *name;
	char *value;
	unsigned vlen;
	char *perms; /* NUL-separated list, plen bytes */
	unsigned plen;
	struct node *parent, *child, *next;
	uint64_t gen; /* last modification */
};

struct watch {
	struct watch *next;
	char *path, *token;
};

/* One recorded operation of a transaction, replayed at commit. */
struct op {
	struct op *next;
	uint32_t type;
	char *path;
	char *data;
	unsigned dlen;
};

struct pathlist {
	struct pathlist *next;
	char *path;
};

struct txn {
	struct txn *next;
	uint32_t id;
	uint64_t start;
	struct node *root; /* private copy */
	struct op *ops, **ops_tail;
	struct pathlist *touched;
};

struct conn {
	int fd;
	struct xsd_sockmsg hdr;
	char in[XENSTORE_PAYLOAD_MAX + 1];
	unsigned have; /* bytes of header + payload read */
	char *out;
	size_t olen, ocap;
	struct watch *watches;
	unsigned nwatches;
	struct txn *txns;
};

/* A modification log: path -> generation of its last change. */
struct modlog {
	struct modlog *next;
	char *path;
	uint64_t gen;
};

static struct node *root;
static uint64_t generation = 1;
static uint32_t next_txn = 1;
static struct conn *conns[MAX_CONNS];
static struct modlog *modlog;
static bool introduced[65536];
static volatile sig_atomic_t stop;

/* ---- tree ---- */

static void *
xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "xenstored-sim: out of memory\n");
		exit(1);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = xmalloc(strlen(s) + 1);

	strcpy(p, s);
	return p;
}

static struct node *
node_new(const char *name, struct node *parent)
{
	struct node *n = xmalloc(sizeof(*n));

	n->name = xstrdup(name);
	n->value = xmalloc(1);
	n->parent = parent;
	if (parent) {
		/* Children inherit the parent's permissions. */
		n->perms = xmalloc(parent->plen);
		memcpy(n->perms, parent->perms, parent->plen);
		n->plen = parent->plen;
		struct node **pp = &parent->child;
		while (*pp)
			pp = &(*pp)->next;
		*pp = n;
	} else {
		n->perms = xstrdup("n0");
		n->plen = 3;
	}
	return n;
}

static void
node_free(struct node *n)
{
	while (n->child) {
		struct node *c = n->child;

		n->child = c->next;
		node_free(c);
	}
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
}

static struct node *
node_copy(const struct node *n, struct node *parent)
{
	struct node *c = xmalloc(sizeof(*c));
	struct node **tail = &c->child;

	c->name = xstrdup(n->name);
	c->value = xmalloc(n->vlen + 1);
	memcpy(c->value, n->value, n->vlen);
	c->vlen = n->vlen;
	c->perms = xmalloc(n->plen);
	memcpy(c->perms, n->perms, n->plen);
	c->plen = n->plen;
	c->parent = parent;
	c->gen = n->gen;
	for (const struct node *k = n->child; k; k = k->next) {
		*tail = node_copy(k, c);
		tail = &(*tail)->next;
	}
	return c;
}

static void
node_unlink(struct node *n)
{
	struct node **pp = &n->parent->child;

	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->next = NULL;
}

/* Walk an absolute, canonical path; create missing nodes if asked. */
static struct node *
lookup(struct node *r, const char *path, bool create)
{
	struct node *n = r;
	const char *p = path + 1;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		struct node *c;

		for (c = n->child; c; c = c->next)
			if (strlen(c->name) == len && memcmp(c->name, p, len) == 0)
				break;
		if (!c) {
			if (!create)
				return NULL;
			char name[XENSTORE_ABS_PATH_MAX];
			memcpy(name, p, len);
			name[len] = '\0';
			c = node_new(name, n);
		}
		n = c;
		p += len + (slash ? 1 : 0);
	}
	return n;
}

static uint64_t
modlog_get(const char *path)
{
	for (struct modlog *m = modlog; m; m = m->next)
		if (strcmp(m->path, path) == 0)
			return m->gen;
	return 0;
}

static void modlog_one(const char *path, uint64_t gen);

/*
 * A change at path changes its parents' children lists too: a
 * transaction that listed a directory conflicts with a new child.
 */
static void
modlog_set(const char *path, uint64_t gen)
{
	char p[XENSTORE_ABS_PATH_MAX + 1];
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	modlog_one(p, gen);
	while ((slash = strrchr(p, '/')) != NULL && slash != p) {
		*slash = '\0';
		modlog_one(p, gen);
	}
	modlog_one("/", gen);
}

static void
modlog_one(const char *path, uint64_t gen)
{
	for (struct modlog *m = modlog; m; m = m->next) {
		if (strcmp(m->path, path) == 0) {
			m->gen = gen;
			return;
		}
	}
	struct modlog *m = xmalloc(sizeof(*m));
	m->path = xstrdup(path);
	m->gen = gen;
	m->next = modlog;
	modlog = m;
}

/* ---- output ---- */

static void
out_append(struct conn *c, const void *p, size_t n)
{
	if (c->olen + n > c->ocap) {
		size_t cap = c->ocap ? c->ocap * 2 : 8192;

		while (cap < c->olen + n)
			cap *= 2;
		c->out = realloc(c->out, cap);
		if (!c->out) {
			fprintf(stderr, "xenstored-sim: out of memory\n");
			exit(1);
		}
		c->ocap = cap;
	}
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
}

static void
reply(struct conn *c, uint32_t type, const void *data, unsigned len)
{
	struct xsd_sockmsg h = c->hdr;

	h.type = type;
	h.len = len;
	out_append(c, &h, sizeof(h));
	out_append(c, data, len);
}

static void
reply_str(struct conn *c, const char *s)
{
	reply(c, c->hdr.type, s, (unsigned)strlen(s) + 1);
}

static void
reply_err(struct conn *c, const char *err)
{
	reply(c, XS_ERROR, err, (unsigned)strlen(err) + 1);
}

static void
send_event(struct conn *c, const char *path, const char *token)
{
	struct xsd_sockmsg h = { .type = XS_WATCH_EVENT };
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;

	h.len = (uint32_t)(pl + tl);
	out_append(c, &h, sizeof(h));
	out_append(c, path, pl);
	out_append(c, token, tl);
}

static bool
is_under(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strcmp(top, "/") == 0)
		return path[0] == '/';
	return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A change at path: watches on it or an ancestor; on rm, descendants too. */
static void
fire(const char *path, bool removed)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = conns[i];

		if (!c)
			continue;
		for (struct watch *w = c->watches; w; w = w->next) {
			if (path[0] == '@') {
				if (strcmp(w->path, path) == 0)
					send_event(c, path, w->token);
			} else if (w->path[0] == '/' && is_under(path, w->path)) {
				send_event(c, path, w->token);
			} else if (removed && w->path[0] == '/' &&
				   is_under(w->path, path)) {
				send_event(c, w->path, w->token);
			}
		}
	}
}

/* ---- operations on a tree (the real one, or a transaction's copy) ---- */

static int
canonical(const char *in, char *out, size_t outlen)
{
	size_t n = strlen(in);

	if (in[0] == '@') {
		if (n >= outlen)
			return -E2BIG;
		strcpy(out, in);
		return 0;
	}
	if (in[0] != '/') {
		/* Relative to our (dom0's) home. */
		if (snprintf(out, outlen, "/local/domain/0/%s", in) >=
		    (int)outlen)
			return -E2BIG;
	} else {
		if (n >= outlen)
			return -E2BIG;
		strcpy(out, in);
	}
	n = strlen(out);
	if (n > XENSTORE_ABS_PATH_MAX)
		return -E2BIG;
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (strstr(out, "//"))
		return -EINVAL;
	for (const char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_-@", *p)))
			return -EINVAL;
	return 0;
}

/*
 * Node n at path changed: stamp it and, on the live tree (not a
 * transaction's copy), log the change for conflict checks and fire.
 */
static void
changed(struct node *n, const char *path, uint64_t gen, bool live)
{
	n->gen = gen;
	if (live) {
		modlog_set(path, gen);
		fire(path, false);
	}
}

/* Apply a write: creates parents; returns 0 or -errno. */
static int
do_write(struct node *r, const char *path, const char *val, unsigned len,
	 uint64_t gen, bool live)
{
	struct node *n = lookup(r, path, true);

	free(n->value);
	n->value = xmalloc(len + 1);
	memcpy(n->value, val, len);
	n->vlen = len;
	changed(n, path, gen, live);
	return 0;
}

static int
do_mkdir(struct node *r, const char *path, uint64_t gen, bool live)
{
	if (lookup(r, path, false))
		return 0;
	struct node *n = lookup(r, path, true);
	changed(n, path, gen, live);
	return 0;
}

static void
log_subtree(struct node *n, const char *path, uint64_t gen)
{
	char sub[XENSTORE_ABS_PATH_MAX + 256];

	modlog_set(path, gen);
	for (struct node *c = n->child; c; c = c->next) {
		snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "",
			 c->name);
		log_subtree(c, sub, gen);
	}
}

static int
do_rm(struct node *r, const char *path, uint64_t gen, bool live)
{
	struct node *n = lookup(r, path, false);

	if (!n) {
		/* Like xenstored: fine if the parent exists. */
		char parent[XENSTORE_ABS_PATH_MAX + 1];
		char *slash;

		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		return lookup(r, parent, false) ? 0 : -ENOENT;
	}
	if (n == r)
		return -EINVAL;
	if (live)
		log_subtree(n, path, gen);
	node_unlink(n);
	n->parent->gen = gen;
	node_free(n);
	if (live)
		fire(path, true);
	return 0;
}

static int
do_set_perms(struct node *r, const char *path, const char *perms,
	     unsigned len, uint64_t gen, bool live)
{
	struct node *n = lookup(r, path, false);

	if (!n)
		return -ENOENT;
	if (len == 0 || perms[len - 1] != '\0')
		return -EINVAL;
	for (const char *p = perms; p < perms + len; p += strlen(p) + 1)
		if (!strchr("nrwb", p[0]) || !p[1])
			return -EINVAL;
	free(n->perms);
	n->perms = xmalloc(len);
	memcpy(n->perms, perms, len);
	n->plen = len;
	changed(n, path, gen, live);
	return 0;
}

/* ---- requests ---- */

static const char *
err_name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EEXIST: return "EEXIST";
	case EAGAIN: return "EAGAIN";
	case E2BIG: return "E2BIG";
	case ENOSPC: return "ENOSPC";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	default: return "EIO";
	}
}

static struct txn *
txn_find(struct conn *c, uint32_t id)
{
	for (struct txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void
txn_touch(struct txn *t, const char *path)
{
	struct pathlist *p = xmalloc(sizeof(*p));

	p->path = xstrdup(path);
	p->next = t->touched;
	t->touched = p;
}

static void
txn_record(struct txn *t, uint32_t type, const char *path, const char *data,
	   unsigned dlen)
{
	struct op *o = xmalloc(sizeof(*o));

	o->type = type;
	o->path = xstrdup(path);
	o->data = xmalloc(dlen + 1);
	memcpy(o->data, data, dlen);
	o->dlen = dlen;
	*t->ops_tail = o;
	t->ops_tail = &o->next;
	txn_touch(t, path);
}

static void
txn_free(struct conn *c, struct txn *t)
{
	struct txn **pp = &c->txns;

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	node_free(t->root);
	while (t->ops) {
		struct op *o = t->ops;

		t->ops = o->next;
		free(o->path);
		free(o->data);
		free(o);
	}
	while (t->touched) {
		struct pathlist *p = t->touched;

		t->touched = p->next;
		free(p->path);
		free(p);
	}
	free(t);
}

/* Split the payload into NUL-terminated strings; returns how many. */
static int
split(char *buf, unsigned len, char **v, int max)
{
	int n = 0;
	unsigned i = 0;

	while (i < len && n < max) {
		v[n++] = buf + i;
		while (i < len && buf[i])
			i++;
		if (i == len)
			return -1; /* unterminated */
		i++;
	}
	return n;
}

static void
handle(struct conn *c)
{
	struct xsd_sockmsg *h = &c->hdr;
	char *data = c->in;
	unsigned len = h->len;
	char path[XENSTORE_ABS_PATH_MAX + 64];
	struct txn *t = NULL;
	struct node *r = root;
	bool live = true;
	char *v[4];
	int r2;

	data[len] = '\0';
	if (h->tx_id) {
		t = txn_find(c, h->tx_id);
		if (!t) {
			reply_err(c, "ENOENT");
			return;
		}
		r = t->root;
		live = false;
	}

	switch (h->type) {
	case XS_READ:
	case XS_DIRECTORY:
	case XS_GET_PERMS:
	case XS_MKDIR:
	case XS_RM: {
		if ((r2 = canonical(data, path, sizeof(path))) < 0) {
			reply_err(c, err_name(-r2));
			return;
		}
		if (t)
			txn_touch(t, path);
		if (h->type == XS_MKDIR || h->type == XS_RM) {
			uint64_t gen = live ? ++generation : 0;

			r2 = h->type == XS_MKDIR ? do_mkdir(r, path, gen, live)
						 : do_rm(r, path, gen, live);
			if (r2 < 0) {
				reply_err(c, err_name(-r2));
				return;
			}
			if (t)
				txn_record(t, h->type, path, "", 0);
			reply_str(c, "OK");
			return;
		}
		struct node *n = lookup(r, path, false);
		if (!n) {
			reply_err(c, "ENOENT");
			return;
		}
		if (h->type == XS_READ) {
			reply(c, XS_READ, n->value, n->vlen);
		} else if (h->type == XS_GET_PERMS) {
			reply(c, XS_GET_PERMS, n->perms, n->plen);
		} else {
			char *buf = NULL;
			size_t bl = 0;
			FILE *m = open_memstream(&buf, &bl);

			for (struct node *k = n->child; k; k = k->next)
				fwrite(k->name, 1, strlen(k->name) + 1, m);
			fclose(m);
			if (bl > XENSTORE_PAYLOAD_MAX)
				reply_err(c, "E2BIG");
			else
				reply(c, XS_DIRECTORY, buf, (unsigned)bl);
			free(buf);
		}
		return;
	}
	case XS_WRITE:
	case XS_SET_PERMS: {
		size_t pl = strnlen(data, len);

		if (pl == len || canonical(data, path, sizeof(path)) < 0) {
			reply_err(c, "EINVAL");
			return;
		}
		const char *val = data + pl + 1;
		unsigned vlen = len - (unsigned)pl - 1;
		uint64_t gen = live ? ++generation : 0;

		r2 = h->type == XS_WRITE
			 ? do_write(r, path, val, vlen, gen, live)
			 : do_set_perms(r, path, val, vlen, gen, live);
		if (r2 < 0) {
			reply_err(c, err_name(-r2));
			return;
		}
		if (t)
			txn_record(t, h->type, path, val, vlen);
		reply_str(c, "OK");
		return;
	}
	case XS_WATCH:
	case XS_UNWATCH: {
		if (split(data, len, v, 2) != 2 ||
		    canonical(v[0], path, sizeof(path)) < 0) {
			reply_err(c, "EINVAL");
			return;
		}
		if (h->type == XS_WATCH) {
			for (struct watch *w = c->watches; w; w = w->next)
				if (!strcmp(w->path, path) &&
				    !strcmp(w->token, v[1])) {
					reply_err(c, "EEXIST");
					return;
				}
			if (c->nwatches >= MAX_WATCHES_PER_CONN) {
				reply_err(c, "E2BIG");
				return;
			}
			struct watch *w = xmalloc(sizeof(*w));
			w->path = xstrdup(path);
			w->token = xstrdup(v[1]);
			w->next = c->watches;
			c->watches = w;
			c->nwatches++;
			reply_str(c, "OK");
			/* A new watch fires once at once, as xenstored's. */
			send_event(c, path, w->token);
		} else {
			struct watch **pp = &c->watches;

			while (*pp && (strcmp((*pp)->path, path) ||
				       strcmp((*pp)->token, v[1])))
				pp = &(*pp)->next;
			if (!*pp) {
				reply_err(c, "ENOENT");
				return;
			}
			struct watch *w = *pp;
			*pp = w->next;
			free(w->path);
			free(w->token);
			free(w);
			c->nwatches--;
			reply_str(c, "OK");
		}
		return;
	}
	case XS_TRANSACTION_START: {
		char id[16];

		if (h->tx_id) {
			reply_err(c, "EBUSY");
			return;
		}
		t = xmalloc(sizeof(*t));
		t->id = next_txn++;
		t->start = generation;
		t->root = node_copy(root, NULL);
		t->ops_tail = &t->ops;
		t->next = c->txns;
		c->txns = t;
		snprintf(id, sizeof(id), "%u", t->id);
		reply_str(c, id);
		return;
	}
	case XS_TRANSACTION_END: {
		bool commit = data[0] == 'T';
		bool conflict = false;

		if (!t) {
			reply_err(c, "EINVAL");
			return;
		}
		for (struct pathlist *p = t->touched; p && commit; p = p->next)
			if (modlog_get(p->path) > t->start)
				conflict = true;
		if (commit && !conflict) {
			for (struct op *o = t->ops; o; o = o->next) {
				uint64_t gen = ++generation;

				switch (o->type) {
				case XS_WRITE:
					do_write(root, o->path, o->data,
						 o->dlen, gen, true);
					break;
				case XS_MKDIR:
					do_mkdir(root, o->path, gen, true);
					break;
				case XS_RM:
					do_rm(root, o->path, gen, true);
					break;
				case XS_SET_PERMS:
					do_set_perms(root, o->path, o->data,
						     o->dlen, gen, true);
					break;
				}
			}
		}
		txn_free(c, t);
		/* The reply carries no transaction id any more. */
		h->tx_id = 0;
		if (conflict)
			reply_err(c, "EAGAIN");
		else
			reply_str(c, "OK");
		return;
	}
	case XS_GET_DOMAIN_PATH: {
		unsigned long id = strtoul(data, NULL, 10);

		snprintf(path, sizeof(path), "/local/domain/%lu", id);
		reply_str(c, path);
		return;
	}
	case XS_INTRODUCE:
	case XS_RELEASE:
	case XS_IS_DOMAIN_INTRODUCED: {
		char *end;
		unsigned long id = strtoul(data, &end, 10);

		if (end == data || id > 0xffff) {
			reply_err(c, "EINVAL");
			return;
		}
		if (h->type == XS_IS_DOMAIN_INTRODUCED) {
			reply_str(c, introduced[id] || id == 0 ? "T" : "F");
			return;
		}
		introduced[id] = h->type == XS_INTRODUCE;
		reply_str(c, "OK");
		fire(h->type == XS_INTRODUCE ? "@introduceDomain"
					     : "@releaseDomain", false);
		return;
	}
	case XS_RESET_WATCHES:
		while (c->watches) {
			struct watch *w = c->watches;

			c->watches = w->next;
			free(w->path);
			free(w->token);
			free(w);
		}
		c->nwatches = 0;
		reply_str(c, "OK");
		return;
	case XS_CONTROL:
		reply_str(c, "OK");
		return;
	default:
		reply_err(c, "ENOSYS");
		return;
	}
}

/* ---- connections ---- */

static void
conn_close(int i)
{
	struct conn *c = conns[i];

	close(c->fd);
	while (c->txns)
		txn_free(c, c->txns);
	while (c->watches) {
		struct watch *w = c->watches;

		c->watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	free(c->out);
	free(c);
	conns[i] = NULL;
}

/* Read what is there; handle whole messages. false: drop the conn. */
static bool
conn_read(struct conn *c)
{
	for (;;) {
		size_t want;
		char *dst;

		if (c->have < sizeof(c->hdr)) {
			want = sizeof(c->hdr) - c->have;
			dst = (char *)&c->hdr + c->have;
		} else {
			want = sizeof(c->hdr) + c->hdr.len - c->have;
			dst = c->in + (c->have - sizeof(c->hdr));
		}
		if (want) {
			ssize_t n = read(c->fd, dst, want);

			if (n == 0)
				return false;
			if (n < 0)
				return errno == EAGAIN || errno == EINTR;
			c->have += (unsigned)n;
			if ((size_t)n < want)
				continue;
		}
		if (c->have == sizeof(c->hdr) &&
		    c->hdr.len > XENSTORE_PAYLOAD_MAX) {
			fprintf(stderr, "xenstored-sim: message of %u bytes "
				"(max %u): dropping client\n", c->hdr.len,
				XENSTORE_PAYLOAD_MAX);
			return false;
		}
		if (c->have == sizeof(c->hdr) + c->hdr.len) {
			handle(c);
			c->have = 0;
		}
	}
}

static bool
conn_write(struct conn *c)
{
	while (c->olen) {
		ssize_t n = write(c->fd, c->out, c->olen);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		memmove(c->out, c->out + n, c->olen - (size_t)n);
		c->olen -= (size_t)n;
	}
	return true;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
init_tree(void)
{
	root = node_new("", NULL);
	do_mkdir(root, "/local/domain/0", 0, false);
	do_write(root, "/local/domain/0/name", "Domain-0", 8, 0, false);
	do_write(root, "/local/domain/0/domid", "0", 1, 0, false);
	do_mkdir(root, "/tool", 0, false);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL, *pidfile = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--pid-file") && i + 1 < argc)
			pidfile = argv[++i];
		else if (!strcmp(argv[i], "--foreground"))
			;
		else {
			fprintf(stderr, "usage: xenstored-sim --socket PATH "
				"[--pid-file FILE] [--foreground]\n");
			return 2;
		}
	}
	if (!sock || strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xenstored-sim: --socket PATH (under %zu "
			"bytes) is required\n", sizeof(sa.sun_path));
		return 2;
	}
	strcpy(sa.sun_path, sock);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	init_tree();

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 64) < 0) {
		fprintf(stderr, "xenstored-sim: %s: %s\n", sock,
			strerror(errno));
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", getpid());
			fclose(f);
		}
	}
	fprintf(stderr, "xenstored-sim: listening on %s\n", sock);

	while (!stop) {
		struct pollfd pfd[MAX_CONNS + 1];
		int idx[MAX_CONNS + 1], n = 0;

		pfd[n] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		idx[n++] = -1;
		for (int i = 0; i < MAX_CONNS; i++) {
			if (!conns[i])
				continue;
			pfd[n] = (struct pollfd){
				.fd = conns[i]->fd,
				.events = POLLIN |
					  (conns[i]->olen ? POLLOUT : 0)
			};
			idx[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, 500) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL,
					 SOCK_CLOEXEC | SOCK_NONBLOCK);
			int i;

			for (i = 0; fd >= 0 && i < MAX_CONNS && conns[i]; i++)
				;
			if (fd >= 0 && i == MAX_CONNS)
				close(fd);
			else if (fd >= 0) {
				conns[i] = xmalloc(sizeof(struct conn));
				conns[i]->fd = fd;
			}
		}
		for (int k = 1; k < n; k++) {
			int i = idx[k];

			if (!conns[i])
				continue;
			if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !conn_read(conns[i])) {
				conn_close(i);
				continue;
			}
		}
		/* Replies and events queued by anyone go out now. */
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i] && conns[i]->olen && !conn_write(conns[i]))
				conn_close(i);
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i])
			conn_close(i);
	unlink(sock);
	if (pidfile)
		unlink(pidfile);
	node_free(root);
	return 0;
}
