/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transaction bookkeeping: what a transaction saw, what it did. Pure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"
#include "txn.h"

struct store_txn *
txn_new(const struct node *root)
{
	struct store_txn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->root = tree_shallow(root, NULL)) == NULL) {
		free(t);
		return NULL;
	}
	STAILQ_INIT(&t->ops);
	return t;
}

void
txn_free(struct store_txn *t)
{
	struct txn_op *o;
	struct txn_access *a;

	if (t == NULL)
		return;
	tree_free(t->root);
	while ((o = STAILQ_FIRST(&t->ops)) != NULL) {
		STAILQ_REMOVE_HEAD(&t->ops, link);
		free(o->path);
		free(o->data);
		free(o);
	}
	for (unsigned i = 0; i < TXN_BUCKETS; i++) {
		while ((a = t->access[i]) != NULL) {
			t->access[i] = a->next;
			free(a);
		}
	}
	free(t);
}

static unsigned
bucket(const char *path)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *path != '\0'; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h % TXN_BUCKETS;
}

int
txn_note(struct store_txn *t, const char *path, const struct node *n)
{
	unsigned b = bucket(path);
	size_t len = strlen(path);
	struct txn_access *a;

	for (a = t->access[b]; a != NULL; a = a->next)
		if (strcmp(a->path, path) == 0)
			return 0;
	if ((a = malloc(sizeof(*a) + len + 1)) == NULL)
		return -ENOMEM;
	memcpy(a->path, path, len + 1);
	a->gen = n != NULL ? n->gen : TXN_MISSING;
	a->next = t->access[b];
	t->access[b] = a;
	return 0;
}

int
txn_record(struct store_txn *t, enum txn_op_type type, const char *path,
    const void *data, unsigned len)
{
	struct txn_op *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto fail;
	if ((o->path = strdup(path)) == NULL)
		goto fail_op;
	if ((o->data = malloc(len ? len : 1)) == NULL)
		goto fail_path;
	if (len) /* an empty value may come as NULL */
		memcpy(o->data, data, len);
	o->len = len;
	o->type = type;
	STAILQ_INSERT_TAIL(&t->ops, o, link);
	return 0;

fail_path:
	free(o->path);
fail_op:
	free(o);
fail:
	return -ENOMEM;
}

void
txn_unrecord(struct store_txn *t)
{
	struct txn_op *o, *last = NULL;

	STAILQ_FOREACH(o, &t->ops, link)
		last = o;
	if (last == NULL)
		return;
	STAILQ_REMOVE(&t->ops, last, txn_op, link);
	free(last->path);
	free(last->data);
	free(last);
}

bool
txn_conflicts(const struct store_txn *t, struct node *live_root)
{
	for (unsigned i = 0; i < TXN_BUCKETS; i++) {
		for (const struct txn_access *a = t->access[i]; a != NULL;
		    a = a->next) {
			struct node *n = tree_lookup(live_root, a->path);

			if (a->gen == TXN_MISSING ? n != NULL :
			    n == NULL || n->gen != a->gen)
				return true;
		}
	}
	return false;
}
