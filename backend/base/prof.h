/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sampling CPU profile for diagnosis, on when NETBACKD_PROFILE names a
 * file (prof.c). Start before the sandbox (it opens the file and reads
 * the mappings), stop at exit (it writes them).
 */
#ifndef NETBACKD_PROF_H
#define NETBACKD_PROF_H

/* 0 when off or started, -errno when asked for and impossible. */
int nb_prof_start(void);
void nb_prof_stop(void);

#endif
