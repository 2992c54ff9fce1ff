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
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
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
		TAILQ_INSERT_TAIL(&c->children, k, sibling);
	}
	return c;

fail:
	tree_free(c);
	return NULL;
}

static struct node *
child(struct node *n, const char *name, size_t len)
{
	struct node *c;

	TAILQ_FOREACH(c, &n->children, sibling)
		if (strncmp(c->name, name, len) == 0 && c->name[len] == '\0')
			return c;
	return NULL;
}

struct node *
tree_deepest(struct node *root, const char *path, const char **rest)
{
	struct node *n = root, *c;
	const char *p = path + 1;

	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if ((c = child(n, p, len)) == NULL)
			break;
		n = c;
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
	struct node *n = tree_deepest(root, path, &rest);

	return *rest == '\0' ? n : NULL;
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
			TAILQ_INSERT_TAIL(&n->children, c, sibling);
		n = c;
		rest += len;
		if (*rest == '/')
			rest++;
	}
	if (first != NULL) {
		TAILQ_INSERT_TAIL(&from->children, first, sibling);
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
	TAILQ_REMOVE(&n->parent->children, n, sibling);
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
