/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The operations of the store, on the live tree or in a transaction,
 * with xenstored's semantics (docs/misc/xenstore.txt). See store.h for
 * the model of transactions. Pure: memory only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "store.h"
#include "tree.h"
#include "txn.h"

struct store {
	struct node *root;
	uint64_t gen;		/* of the latest change */
	store_fire_fn *fire;
	void *arg;
};

/* Room for any valid path and its NUL. */
#define PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

int
store_path_check(const char *path)
{
	return tree_path_check(path);
}

struct store *
store_new(store_fire_fn *fire, void *arg)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->root = tree_new_root()) == NULL) {
		free(s);
		return NULL;
	}
	s->fire = fire;
	s->arg = arg;
	return s;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	tree_free(s->root);
	free(s);
}

static struct node *
tree_of(struct store *s, struct store_txn *t)
{
	return t != NULL ? t->root : s->root;
}

/* What a transaction's tree copies from as it goes: see txn.h. */
static const struct node *
live_of(struct store *s, struct store_txn *t)
{
	return t != NULL ? s->root : NULL;
}

static int
note(struct store_txn *t, const char *path, const struct node *n)
{
	return t != NULL ? txn_note(t, path, n) : 0;
}

static void
fire(struct store *s, struct store_txn *t, const char *path, bool exact)
{
	/* A transaction's changes fire when they are replayed at commit. */
	if (t == NULL && s->fire != NULL)
		s->fire(s->arg, path, exact);
}

/* The parent path of path (not "/") into buf. */
static void
parent_path(const char *path, char *buf)
{
	size_t len = (size_t)(strrchr(path, '/') - path);

	if (len == 0)
		len = 1;
	memcpy(buf, path, len);
	buf[len] = '\0';
}

/*
 * Note what creating the missing part rest of path changes: the list of
 * children of the deepest existing node from, and each missing node.
 */
static int
note_create(struct store_txn *t, const char *path, const struct node *from,
    const char *rest)
{
	char buf[PATH_BUF];
	size_t len = (size_t)(rest - path) - 1;
	int r;

	if (t == NULL)
		return 0;
	memcpy(buf, path, len);
	buf[len] = '\0';
	if ((r = txn_note(t, len ? buf : "/", from)) < 0)
		return r;
	while (*rest != '\0') {
		rest += strcspn(rest, "/");
		len = (size_t)(rest - path);
		memcpy(buf, path, len);
		buf[len] = '\0';
		if ((r = txn_note(t, buf, NULL)) < 0)
			return r;
		if (*rest == '/')
			rest++;
	}
	return 0;
}

/*
 * Call fn for every node below n (not n), with its path; path holds n's
 * path in a PATH_BUF buffer. Stops at the first error fn returns.
 */
static int
walk_below(const struct node *n, char *path,
    int (*fn)(void *arg, const char *path, const struct node *n), void *arg)
{
	size_t len = strlen(path);
	const struct node *c;
	int r = 0;

	TAILQ_FOREACH(c, &n->children, sibling) {
		size_t sep = len > 1 ? 1 : 0;

		/* Valid paths fit; the check guards the buffer anyway. */
		if (len + sep + strlen(c->name) >= PATH_BUF)
			continue;
		if (sep)
			path[len] = '/';
		strcpy(path + len + sep, c->name);
		if ((r = fn(arg, path, c)) < 0 ||
		    (r = walk_below(c, path, fn, arg)) < 0)
			break;
	}
	path[len] = '\0';
	return r;
}

static int
note_one(void *arg, const char *path, const struct node *n)
{
	return txn_note(arg, path, n);
}

static int
fire_exact(void *arg, const char *path, const struct node *n)
{
	struct store *s = arg;

	(void)n;
	s->fire(s->arg, path, true);
	return 0;
}

/* Write or mkdir: create what is missing, then set the value if any. */
static int
create(struct store *s, struct store_txn *t, const char *path,
    const void *val, unsigned len, bool set)
{
	struct node *n, *from, *first;
	const char *rest;
	uint64_t old;
	int r;

	if ((r = tree_path_check(path)) < 0)
		return r;
	from = n = tree_deepest(tree_of(s, t), live_of(s, t), path, &rest);
	if (n == NULL)
		return -ENOMEM;
	if (*rest == '\0') {
		if ((r = note(t, path, n)) < 0 || !set)
			return r;
	} else if ((r = note_create(t, path, from, rest)) < 0) {
		return r;
	}
	if (t != NULL && (r = txn_record(t, set ? TXN_WRITE : TXN_MKDIR, path,
	    val, len)) < 0)
		return r;
	s->gen++;
	old = from->gen;
	if (*rest != '\0' && (n = tree_create(from, rest, s->gen)) == NULL)
		goto fail;
	if (set && tree_set_value(n, val, len) < 0) {
		if (n != from) {
			/* Undo the creation: all or nothing. */
			first = TAILQ_LAST(&from->children, node_list);
			tree_unlink(first);
			tree_free(first);
			from->gen = old;
		}
		goto fail;
	}
	n->gen = s->gen;
	fire(s, t, path, false);
	return 0;

fail:
	if (t != NULL)
		txn_unrecord(t);
	return -ENOMEM;
}

int
store_write(struct store *s, struct store_txn *t, const char *path,
    const void *val, unsigned len)
{
	return create(s, t, path, val, len, true);
}

int
store_mkdir(struct store *s, struct store_txn *t, const char *path)
{
	return create(s, t, path, "", 0, false);
}

int
store_rm(struct store *s, struct store_txn *t, const char *path)
{
	char buf[PATH_BUF];
	struct node *n, *p;
	int r;

	if ((r = tree_path_check(path)) < 0)
		return r;
	if (strcmp(path, "/") == 0)
		return -EINVAL;
	if ((r = tree_find(tree_of(s, t), live_of(s, t), path, &n)) < 0)
		return r;
	parent_path(path, buf);
	p = n != NULL ? n->parent : NULL;
	if (n == NULL &&
	    (r = tree_find(tree_of(s, t), live_of(s, t), buf, &p)) < 0)
		return r;
	/* The parent's list of children changes, or decides the answer. */
	if ((r = note(t, path, n)) < 0 || (r = note(t, buf, p)) < 0)
		return r;
	if (n == NULL)
		return p != NULL ? 0 : -ENOENT;
	if (t != NULL) {
		/*
		 * The copy of the parent's list must be whole before a
		 * child leaves it, and what is removed is noted, all of it.
		 */
		if ((r = tree_complete(p, tree_lookup(s->root, buf),
		    false)) < 0 ||
		    (r = tree_complete(n, tree_lookup(s->root, path),
		    true)) < 0)
			return r;
		strcpy(buf, path);
		if ((r = walk_below(n, buf, note_one, t)) < 0 ||
		    (r = txn_record(t, TXN_RM, path, "", 0)) < 0)
			return r;
	}
	tree_unlink(n);
	p->gen = ++s->gen;
	if (t == NULL && s->fire != NULL) {
		/*
		 * As xenstored: watches on the node and above see its path,
		 * a watch on a node below sees that node's own path.
		 */
		strcpy(buf, path);
		walk_below(n, buf, fire_exact, s);
		s->fire(s->arg, path, false);
	}
	tree_free(n);
	return 0;
}

/* The node at path for a read, noted if in a transaction. */
static int
get(struct store *s, struct store_txn *t, const char *path, struct node **np)
{
	int r;

	if ((r = tree_path_check(path)) < 0)
		return r;
	if ((r = tree_find(tree_of(s, t), live_of(s, t), path, np)) < 0 ||
	    (r = note(t, path, *np)) < 0)
		return r;
	return *np != NULL ? 0 : -ENOENT;
}

int
store_read(struct store *s, struct store_txn *t, const char *path,
    const char **val, unsigned *len)
{
	struct node *n;
	int r;

	if ((r = get(s, t, path, &n)) < 0)
		return r;
	*val = n->value;
	*len = n->vlen;
	return 0;
}

int
store_get_perms(struct store *s, struct store_txn *t, const char *path,
    const char **perms, unsigned *len)
{
	struct node *n;
	int r;

	if ((r = get(s, t, path, &n)) < 0)
		return r;
	*perms = n->perms;
	*len = n->plen;
	return 0;
}

int
store_set_perms(struct store *s, struct store_txn *t, const char *path,
    const char *perms, unsigned len)
{
	struct node *n;
	int r;

	if ((r = tree_perms_check(perms, len)) < 0 ||
	    (r = get(s, t, path, &n)) < 0)
		return r;
	if (t != NULL &&
	    (r = txn_record(t, TXN_SET_PERMS, path, perms, len)) < 0)
		return r;
	if ((r = tree_set_perms(n, perms, len)) < 0) {
		if (t != NULL)
			txn_unrecord(t);
		return r;
	}
	n->gen = ++s->gen;
	fire(s, t, path, false);
	return 0;
}

int
store_directory(struct store *s, struct store_txn *t, const char *path,
    unsigned off, char *buf, unsigned cap, unsigned *len, bool *complete,
    uint64_t *gen)
{
	const struct node *c;
	struct node *n;
	size_t pos = 0, used = 0;
	int r;

	if ((r = get(s, t, path, &n)) < 0)
		return r;
	/* A transaction lists its copy: made whole first. */
	if (t != NULL &&
	    (r = tree_complete(n, tree_lookup(s->root, path), false)) < 0)
		return r;
	*complete = true;
	TAILQ_FOREACH(c, &n->children, sibling) {
		size_t nlen = strlen(c->name) + 1, skip, take;

		if (pos + nlen <= off) {
			pos += nlen;
			continue;
		}
		skip = off > pos ? off - pos : 0;
		take = nlen - skip;
		if (used + take > cap) {
			*complete = false;
			break;
		}
		memcpy(buf + used, c->name + skip, take);
		used += take;
		pos += nlen;
	}
	*len = (unsigned)used;
	if (gen != NULL)
		*gen = n->gen;
	return 0;
}

struct store_txn *
store_txn_start(struct store *s)
{
	return txn_new(s->root);
}

static int
replay(struct store *s, const struct txn_op *o)
{
	switch (o->type) {
	case TXN_WRITE:
		return store_write(s, NULL, o->path, o->data, o->len);
	case TXN_MKDIR:
		return store_mkdir(s, NULL, o->path);
	case TXN_RM:
		return store_rm(s, NULL, o->path);
	case TXN_SET_PERMS:
		return store_set_perms(s, NULL, o->path, o->data, o->len);
	}
	return -EINVAL;
}

int
store_txn_end(struct store *s, struct store_txn *t, bool commit)
{
	const struct txn_op *o;
	int r = 0;

	if (commit && txn_conflicts(t, s->root))
		r = -EAGAIN;
	else if (commit) {
		/*
		 * Nothing t noted has changed, so each change does on the
		 * live tree what it did on t's copy, and fires as it goes.
		 */
		STAILQ_FOREACH(o, &t->ops, link)
			if ((r = replay(s, o)) < 0)
				break;
	}
	txn_free(t);
	return r;
}
