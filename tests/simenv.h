/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sim test bed for one test: a fresh directory holding a simulated
 * hypervisor and a xenstored-sim socket, and a netbackd process serving
 * it. Paths of the programs come from the environment set by meson
 * (XENSTORED_SIM, NETBACKD).
 */
#ifndef NETBACKD_SIMENV_H
#define NETBACKD_SIMENV_H

#include <stdbool.h>
#include <sys/types.h>

struct simhv;
struct xs_handle;

struct simenv {
	char dir[128];
	char sock[160];
	char log[160];
	pid_t xenstored;
	pid_t netbackd;
	struct simhv *hv;
	struct xs_handle *xs;
};

/* Start xenstored-sim and create the hypervisor; FAILs the test on error. */
void simenv_init(struct simenv *e);
/*
 * Start netbackd with extra arguments (NULL-terminated, may be NULL) and
 * wait until it serves backend/vif.
 */
void simenv_start_netbackd(struct simenv *e, const char *const *args);
/* SIGTERM netbackd and return its exit status (-1 if killed). */
int simenv_stop_netbackd(struct simenv *e);
/* Stop everything and remove the directory. */
void simenv_fini(struct simenv *e);

/* Wait up to ms for path to read as value; true if it did. */
bool simenv_wait_value(struct simenv *e, const char *path, const char *value,
		       int ms);
/* Read a key (malloc'd) or NULL. */
char *simenv_read(struct simenv *e, const char *path);
/* True if netbackd's log contains text. */
bool simenv_log_contains(struct simenv *e, const char *text);
/* Print netbackd's log to stderr (on failure). */
void simenv_dump_log(struct simenv *e);

#endif
