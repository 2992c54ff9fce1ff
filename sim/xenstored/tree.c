/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nodes of the xenstore tree: allocation, lookup, creation of missing
 * components, deep copies for transactions, and the syntax of paths and
 * permission strings. Pure: memory only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "tree.h"

static struct node *
node_alloc(const char *name, size_t nlen, const char *perms, unsigned plen)
{
	struct node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		goto fail;
	if ((n->name = malloc(nlen + 1)) == NULL)
		goto fail_node;
	memcpy(n->name, name, nlen);
	n->name[nlen] = '\0';
	if ((n->value = calloc(1, 1)) == NULL)
		goto fail_name;
	if ((n->perms = malloc(plen)) == NULL)
		goto fail_value;
	memcpy(n->perms, perms, plen);
	n->plen = plen;
	TAILQ_INIT(&n->children);
	return n;

fail_value:
	free(n->value);
fail_name:
	free(n->name);
fail_node:
	free(n);
fail:
	return NULL;
}

struct node *
tree_new_root(void)
{
	/* As xenstored's: owned by dom0, nobody else may read. */
	return node_alloc("", 0, "n0", 3);
}

void
tree_free(struct node *n)
{
	struct node *c;

	if (n == NULL)
		return;
	while ((c = TAILQ_FIRST(&n->children)) != NULL) {
		TAILQ_REMOVE(&n->children, c, sibling);
		tree_free(c);
	}
	free(n->kids);
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
}

unsigned
tree_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void
index_add(struct node *n, struct node *c)
{
	struct node **b = &n->kids[tree_hash(c->name, strlen(c->name)) &
	    (n->kcap - 1)];

	c->hnext = *b;
	*b = c;
}

/*
 * (Re)build n's index with room for its children, if it has enough of
 * them to want one. Without memory the index is dropped: lookups then
 * walk the list, slower, still right.
 */
static void
index_build(struct node *n)
{
	unsigned cap = 16;
	struct node *c;

	free(n->kids);
	n->kids = NULL;
	n->kcap = 0;
	if (n->nkids <= TREE_INDEX_MIN)
		return;
	while (cap < 2 * n->nkids)
		cap *= 2;
	if ((n->kids = calloc(cap, sizeof(*n->kids))) == NULL)
		return;
	n->kcap = cap;
	TAILQ_FOREACH(c, &n->children, sibling)
		index_add(n, c);
}

/* Append c to n's children. */
static void
link_child(struct node *n, struct node *c)
{
	c->parent = n;
	TAILQ_INSERT_TAIL(&n->children, c, sibling);
	n->nkids++;
	if (n->nkids > n->kcap)
		index_build(n);
	else if (n->kids != NULL)
		index_add(n, c);
}

struct node *
tree_copy(const struct node *n, struct node *parent)
{
	struct node *c, *k;
	const struct node *o;

	c = node_alloc(n->name, strlen(n->name), n->perms, n->plen);
	if (c == NULL)
		return NULL;
	if (tree_set_value(c, n->value, n->vlen) < 0)
		goto fail;
	c->gen = n->gen;
	c->parent = parent;
	TAILQ_FOREACH(o, &n->children, sibling) {
		if ((k = tree_copy(o, c)) == NULL)
			goto fail;
		link_child(c, k);
	}
	return c;

fail:
	tree_free(c);
	return NULL;
}

struct node *
tree_shallow(const struct node *n, struct node *parent)
{
	struct node *c;

	c = node_alloc(n->name, strlen(n->name), n->perms, n->plen);
	if (c == NULL)
		return NULL;
	if (tree_set_value(c, n->value, n->vlen) < 0) {
		tree_free(c);
		return NULL;
	}
	c->gen = n->gen;
	c->partial = true;
	c->parent = parent;
	return c;
}

static struct node *
child(const struct node *n, const char *name, size_t len)
{
	struct node *c;

	if (n->kids != NULL) {
		c = n->kids[tree_hash(name, len) & (n->kcap - 1)];
		for (; c != NULL; c = c->hnext)
			if (strncmp(c->name, name, len) == 0 &&
			    c->name[len] == '\0')
				return c;
		return NULL;
	}
	TAILQ_FOREACH(c, &n->children, sibling)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
			return c;
	return NULL;
}

struct node *
tree_deepest(struct node *root, const struct node *live, const char *path,
    const char **rest)
{
	struct node *n = root, *c;
	const struct node *l = live, *lc;
	const char *p = path + 1;

	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		/* l: the live node at the same path as n, or NULL. */
		lc = l != NULL ? child(l, p, len) : NULL;
		if ((c = child(n, p, len)) == NULL) {
			if (!n->partial || lc == NULL)
				break;
			if ((c = tree_shallow(lc, n)) == NULL)
				return NULL;
			link_child(n, c);
		}
		n = c;
		l = lc;
		p += len;
		if (*p == '/')
			p++;
	}
	*rest = p;
	return n;
}

struct node *
tree_lookup(struct node *root, const char *path)
{
	const char *rest;
	struct node *n = tree_deepest(root, NULL, path, &rest);

	return *rest == '\0' ? n : NULL;
}

int
tree_find(struct node *root, const struct node *live, const char *path,
    struct node **np)
{
	const char *rest;
	struct node *n = tree_deepest(root, live, path, &rest);

	if (n == NULL)
		return -ENOMEM;
	*np = *rest == '\0' ? n : NULL;
	return 0;
}

int
tree_complete(struct node *n, const struct node *live, bool below)
{
	struct node_list mine;
	const struct node *l = NULL;
	struct node *c;

	if (n->partial) {
		TAILQ_INIT(&mine);
		TAILQ_CONCAT(&mine, &n->children, sibling);
		n->nkids = 0;
		index_build(n);
		if (live != NULL) {
			TAILQ_FOREACH(l, &live->children, sibling) {
				/* One pass over the short list of copies. */
				TAILQ_FOREACH(c, &mine, sibling)
					if (strcmp(c->name, l->name) == 0)
						break;
				if (c != NULL)
					TAILQ_REMOVE(&mine, c, sibling);
				else if ((c = tree_shallow(l, n)) == NULL)
					break;
				link_child(n, c);
			}
		}
		while ((c = TAILQ_FIRST(&mine)) != NULL) {
			TAILQ_REMOVE(&mine, c, sibling);
			link_child(n, c);
		}
		if (live != NULL && l != NULL)
			return -ENOMEM;
		n->partial = false;
	}
	if (!below)
		return 0;
	TAILQ_FOREACH(c, &n->children, sibling) {
		l = live != NULL ? child(live, c->name, strlen(c->name)) : NULL;
		if (tree_complete(c, l, true) < 0)
			return -ENOMEM;
	}
	return 0;
}

struct node *
tree_create(struct node *from, const char *rest, uint64_t gen)
{
	struct node *first = NULL, *n = from, *c;

	while (*rest != '\0') {
		size_t len = strcspn(rest, "/");

		/* Children inherit their parent's permissions. */
		c = node_alloc(rest, len, n->perms, n->plen);
		if (c == NULL)
			goto fail;
		c->gen = gen;
		c->parent = n;
		/* Link the chain only once it is whole: see fail. */
		if (first == NULL)
			first = c;
		else
			link_child(n, c);
		n = c;
		rest += len;
		if (*rest == '/')
			rest++;
	}
	if (first != NULL) {
		link_child(from, first);
		from->gen = gen;
	}
	return n;

fail:
	tree_free(first);
	return NULL;
}

void
tree_unlink(struct node *n)
{
	struct node *p = n->parent, **b;

	TAILQ_REMOVE(&p->children, n, sibling);
	p->nkids--;
	if (p->kids != NULL) {
		b = &p->kids[tree_hash(n->name, strlen(n->name)) &
		    (p->kcap - 1)];
		while (*b != n)
			b = &(*b)->hnext;
		*b = n->hnext;
	}
	n->hnext = NULL;
	n->parent = NULL;
}

int
tree_set_value(struct node *n, const void *val, unsigned len)
{
	char *v = malloc((size_t)len + 1);

	if (v == NULL)
		return -ENOMEM;
	if (len) /* an empty value may come as NULL */
		memcpy(v, val, len);
	v[len] = '\0';
	free(n->value);
	n->value = v;
	n->vlen = len;
	return 0;
}

int
tree_set_perms(struct node *n, const char *perms, unsigned len)
{
	char *p = malloc(len);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p, perms, len);
	free(n->perms);
	n->perms = p;
	n->plen = len;
	return 0;
}

int
tree_path_check(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	if (len > 1 && path[len - 1] == '/')
		return -EINVAL;
	if (strstr(path, "//") != NULL)
		return -EINVAL;
	if (strspn(path, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_@-") != len)
		return -EINVAL;
	return 0;
}

int
tree_perms_check(const char *perms, unsigned len)
{
	const char *p = perms, *end = perms + len;

	if (len == 0 || perms[len - 1] != '\0')
		return -EINVAL;
	while (p < end) {
		size_t n = strlen(p);

		/* A letter and one to five digits. */
		if (n < 2 || n > 6 || strchr("nrwb", p[0]) == NULL ||
		    strspn(p + 1, "0123456789") != n - 1 ||
		    strtoul(p + 1, NULL, 10) > 65535)
			return -EINVAL;
		p += n + 1;
	}
	return 0;
}
