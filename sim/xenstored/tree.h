/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node tree under the store: private to store.c and txn.c.
 *
 * A node is named by its last path component; the root's name is "".
 * Children keep creation order, as xenstored lists them. Every node
 * carries the store generation of its last change (value, permissions
 * or list of children): transactions compare generations to find
 * conflicts, DIRECTORY_PART hands it out so a reader can see a list
 * change between two parts.
 *
 * A transaction's tree is built lazily from the live one (txn.h): a node
 * copied from the live tree starts as a shallow copy, `partial`, holding only
 * the children looked up through it so far; the rest are copied when
 * first looked up (tree_find) or all at once when the whole list matters
 * (tree_complete). Nodes of the live tree, and nodes a transaction
 * created, are never partial.
 */
#ifndef XSD_TREE_H
#define XSD_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct node {
	char *name;
	char *value;		/* vlen bytes and a NUL not counted */
	unsigned vlen;
	char *perms;		/* plen bytes: "n0\0r5\0" */
	unsigned plen;
	uint64_t gen;
	bool partial;		/* a transaction's shallow copy: see above */
	struct node *parent;
	TAILQ_HEAD(node_list, node) children;
	TAILQ_ENTRY(node) sibling;
	/*
	 * Children by name, once there are more than TREE_INDEX_MIN: a
	 * chained hash table of kcap (a power of two) buckets, so a lookup
	 * in /local/domain or backend/vif stays short with thousands of
	 * guests.
	 */
	unsigned nkids;
	unsigned kcap;
	struct node **kids;
	struct node *hnext;	/* in the parent's bucket */
};

#define TREE_INDEX_MIN 8

/* A root node with empty value and permissions "n0"; NULL on ENOMEM. */
/* FNV-1a of len bytes at s: children and watch paths are hashed so. */
unsigned tree_hash(const char *s, size_t len);
struct node *tree_new_root(void);
/* Free n and everything below it; n must already be unlinked. */
void tree_free(struct node *n);
/* Deep copy of n (parent pointer set to parent); NULL on ENOMEM. */
struct node *tree_copy(const struct node *n, struct node *parent);
/*
 * A shallow copy of n (name, value, permissions, generation; no children,
 * partial) below parent; NULL on ENOMEM.
 */
struct node *tree_shallow(const struct node *n, struct node *parent);
/* The node at an absolute path (checked by tree_path_check), or NULL. */
struct node *tree_lookup(struct node *root, const char *path);
/*
 * The deepest existing node on the way to path: path itself if it
 * exists. *rest points into path at the first missing component, or at
 * the terminating NUL. With live (the live tree's root, root being a
 * transaction's tree), children of partial nodes missing in root are
 * copied from the node at the same path in live first. NULL on ENOMEM.
 */
struct node *tree_deepest(struct node *root, const struct node *live,
    const char *path, const char **rest);
/* As tree_lookup, through tree_deepest: 0, or -ENOMEM. *np NULL: none. */
int tree_find(struct node *root, const struct node *live, const char *path,
    struct node **np);
/*
 * Make the partial node n whole: its list of children becomes live's
 * (the node at n's path in the live tree, or NULL if none), in live's
 * order, keeping the copies n has, then the children n has that live
 * has not (created by the transaction). With below, the same for every
 * node under n. 0, or -ENOMEM (n then stays a valid partial node).
 */
int tree_complete(struct node *n, const struct node *live, bool below);
/*
 * Create the missing components rest (as left by tree_deepest) below
 * from, each with an empty value and from's permissions, all stamped
 * with gen. Returns the last node created, or NULL on ENOMEM with
 * nothing created.
 */
struct node *tree_create(struct node *from, const char *rest, uint64_t gen);
/* Take n out of its parent's list of children. */
void tree_unlink(struct node *n);
/* Replace the value or the permissions: 0 or -ENOMEM, unchanged then. */
int tree_set_value(struct node *n, const void *val, unsigned len);
int tree_set_perms(struct node *n, const char *perms, unsigned len);

/*
 * 0 if path is an absolute node path xenstored accepts: starts with
 * '/', only [A-Za-z0-9/_@-], no "//", no trailing '/' but for the root,
 * at most XENSTORE_ABS_PATH_MAX bytes; else -EINVAL.
 */
int tree_path_check(const char *path);
/*
 * 0 if perms (len bytes) is one or more NUL-terminated entries, each a
 * letter of "nrwb" and a decimal domain id below 65536; else -EINVAL.
 */
int tree_perms_check(const char *perms, unsigned len);

#endif
