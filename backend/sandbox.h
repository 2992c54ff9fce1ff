/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege once everything is open: another user, and a seccomp
 * filter on every thread. Errors are negative errno, err says why.
 */
#ifndef NETBACKD_SANDBOX_H
#define NETBACKD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

int nb_sandbox_user(const char *user, char *err, size_t errlen);
/* sim: the simulated hypervisor's extra calls (opening domain memory
 * files, doorbells sent to a socket path). */
int nb_sandbox_seccomp(bool sim, char *err, size_t errlen);

#endif
