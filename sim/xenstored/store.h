/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The store of xenstored-sim: the xenstore tree with xenstored's
 * semantics, and transactions. Pure: no I/O, no logging; the wire
 * protocol, connections and watches live in xenstored-sim.c, which
 * learns of every change through the fire callback.
 *
 * Paths given to store_* are absolute (relative ones are resolved by the
 * caller, which knows whose home they are relative to). Every operation
 * takes a transaction, or NULL to act on the live tree at once.
 *
 * Transactions work on a private copy of the tree, taken at start. Every
 * node an operation reads or changes (a created node's parent included,
 * since its list of children changes, and a node found missing) is noted
 * with its generation at first access. The commit succeeds only if each
 * noted node is still as noted (same generation, or still missing);
 * then the recorded operations are replayed on the live tree, and only
 * then do watches fire. So a transaction conflicts with exactly the
 * writes that touched what it read or wrote: a concurrent write to a
 * sibling is no conflict, a new child in a directory it listed is.
 *
 * Errors: -EINVAL (bad path or argument), -ENOENT (no such node, or for
 * store_rm no parent either), -ENOMEM, -E2BIG, -EAGAIN (commit lost).
 */
#ifndef XSD_STORE_H
#define XSD_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct store_txn;

/*
 * Told of every change to the live tree, after it is made. Watches on
 * path and on each of its ancestors match, or with exact only a watch
 * on path itself (a node removed as a descendant of the node an RM
 * named).
 */
typedef void store_fire_fn(void *arg, const char *path, bool exact);

/*
 * 0 if path is an absolute path xenstored accepts (see docs/misc/
 * xenstore.txt): [A-Za-z0-9/_@-], no "//", no trailing '/' but for "/",
 * at most XENSTORE_ABS_PATH_MAX bytes; else -EINVAL.
 */
int store_path_check(const char *path);

/* A store holding just "/"; NULL on ENOMEM. */
struct store *store_new(store_fire_fn *fire, void *arg);
/* Free the store; its transactions must have ended. */
void store_free(struct store *s);

/*
 * READ: *val points at the value (len bytes, NUL after them), valid
 * until the next change to the store or the transaction.
 */
int store_read(struct store *s, struct store_txn *t, const char *path,
    const char **val, unsigned *len);
/* WRITE: creates missing parents with empty values. */
int store_write(struct store *s, struct store_txn *t, const char *path,
    const void *val, unsigned len);
/* MKDIR: 0 if path exists already, its value untouched. */
int store_mkdir(struct store *s, struct store_txn *t, const char *path);
/*
 * RM: removes path and everything below it. 0 if path is missing but
 * its parent exists; -ENOENT if the parent is missing too; -EINVAL for
 * "/".
 */
int store_rm(struct store *s, struct store_txn *t, const char *path);
/* GET_PERMS: *perms as for store_read, a "n0\0r5\0" list. */
int store_get_perms(struct store *s, struct store_txn *t, const char *path,
    const char **perms, unsigned *len);
/* SET_PERMS: perms checked by the rules of tree_perms_check. */
int store_set_perms(struct store *s, struct store_txn *t, const char *path,
    const char *perms, unsigned len);
/*
 * DIRECTORY and DIRECTORY_PART: the list of children names, each
 * NUL-terminated, seen as one byte string; copies whole names from byte
 * offset off (a name cut by off is copied from there) into buf while
 * they fit in cap bytes. *len is the bytes copied, *complete whether the
 * list's end was reached, *gen the node's generation (it changes with
 * its list of children). gen may be NULL.
 */
int store_directory(struct store *s, struct store_txn *t, const char *path,
    unsigned off, char *buf, unsigned cap, unsigned *len, bool *complete,
    uint64_t *gen);

/* A transaction on a copy of the tree as it is now; NULL on ENOMEM. */
struct store_txn *store_txn_start(struct store *s);
/*
 * End and free t. With commit: 0 if applied, -EAGAIN if another writer
 * changed a node t read or wrote (nothing applied then); -ENOMEM if the
 * memory ran out while replaying, which can leave part of t applied.
 * Without commit: 0, nothing applied.
 */
int store_txn_end(struct store *s, struct store_txn *t, bool commit);

#endif
