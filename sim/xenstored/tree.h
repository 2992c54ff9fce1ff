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
	struct node *parent;
	TAILQ_HEAD(node_list, node) children;
	TAILQ_ENTRY(node) sibling;
};

/* A root node with empty value and permissions "n0"; NULL on ENOMEM. */
struct node *tree_new_root(void);
/* Free n and everything below it; n must already be unlinked. */
void tree_free(struct node *n);
/* Deep copy of n (parent pointer set to parent); NULL on ENOMEM. */
struct node *tree_copy(const struct node *n, struct node *parent);
/* The node at an absolute path (checked by tree_path_check), or NULL. */
struct node *tree_lookup(struct node *root, const char *path);
/*
 * The deepest existing node on the way to path: path itself if it
 * exists. *rest points into path at the first missing component, or at
 * the terminating NUL.
 */
struct node *tree_deepest(struct node *root, const char *path,
    const char **rest);
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
