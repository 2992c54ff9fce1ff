/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bookkeeping of a transaction, private to store.c: its copy of the
 * tree, the nodes it accessed with their generation at first access,
 * and the changes it made, in order, to replay at commit.
 *
 * The copy is lazy, as cxenstored's transactions have been since Xen
 * 4.9: it starts as a shallow copy of the root and takes a node from the live
 * tree when a path first goes through it (tree.h), so a transaction
 * costs what it touches, not the size of the store. A node is noted at
 * its first access, before the transaction changes it, with the
 * generation its copy was taken at; so what the transaction saw is what
 * the commit checks, and a commit that passes acts as if the whole
 * transaction ran at that instant.
 */
#ifndef XSD_TXN_H
#define XSD_TXN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

struct node;

/* The generation noted for a node that did not exist. */
#define TXN_MISSING UINT64_MAX

enum txn_op_type {
	TXN_WRITE,
	TXN_MKDIR,
	TXN_RM,
	TXN_SET_PERMS,
};

struct txn_op {
	STAILQ_ENTRY(txn_op) link;
	enum txn_op_type type;
	char *path;
	char *data;		/* value or permissions, len bytes */
	unsigned len;
};

struct txn_access {
	struct txn_access *next;
	uint64_t gen;		/* or TXN_MISSING */
	char path[];
};

/* Accesses hash on the path: a big transaction stays linear. */
#define TXN_BUCKETS 64

struct store_txn {
	struct node *root;	/* private copy */
	struct txn_access *access[TXN_BUCKETS];
	STAILQ_HEAD(, txn_op) ops;
};

/* A transaction over a (lazy) copy of root; NULL on ENOMEM. */
struct store_txn *txn_new(const struct node *root);
void txn_free(struct store_txn *t);
/*
 * Note path, found as n in t's tree (NULL: missing), unless noted
 * before: the first access is what the live tree must still match.
 * 0 or -ENOMEM.
 */
int txn_note(struct store_txn *t, const char *path, const struct node *n);
/* Append a change to replay at commit: 0 or -ENOMEM. */
int txn_record(struct store_txn *t, enum txn_op_type type, const char *path,
    const void *data, unsigned len);
/* Drop the change appended last (its application failed). */
void txn_unrecord(struct store_txn *t);
/* True if a noted node changed in the live tree since it was noted. */
bool txn_conflicts(const struct store_txn *t, struct node *live_root);

#endif
