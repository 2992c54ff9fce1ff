/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switch glue: networks from the configuration, vifs and PIFs as
 * switch ports, and the worker-side forwarding of a burst (switch/ finds
 * a destination for every frame first; then each destination gets its
 * frames at once).
 */
#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "nb.h"
#include "sw.h"

int
nb_fwd_init(struct nb_daemon *d)
{
	(void)d;
	return -ENOSYS;
}

void
nb_fwd_fini(struct nb_daemon *d)
{
	(void)d;
}
