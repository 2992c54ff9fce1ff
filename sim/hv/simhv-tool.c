/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simhv-tool: create a simulated hypervisor, or print its counters.
 *   simhv-tool create DIR
 *   simhv-tool stats DIR      (one JSON line)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "simhv.h"

int
main(int argc, char **argv)
{
	struct simhv *hv;
	struct simhv_stats st;

	if (argc != 3 || (strcmp(argv[1], "create") && strcmp(argv[1], "stats"))) {
		fprintf(stderr, "usage: simhv-tool create|stats DIR\n");
		return 2;
	}
	hv = simhv_open(argv[2], strcmp(argv[1], "create") == 0);
	if (!hv) {
		fprintf(stderr, "simhv-tool: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "stats") == 0) {
		simhv_get_stats(hv, &st);
		printf("{\"copy_calls\": %lu, \"copy_segs\": %lu, "
		       "\"copy_errors\": %lu, \"notifies\": %lu, "
		       "\"deliveries\": %lu, \"maps\": %lu, "
		       "\"grants_active\": %lu, \"ports_bound\": %lu}\n",
		       st.copy_calls, st.copy_segs, st.copy_errors, st.notifies,
		       st.deliveries, st.maps, st.grants_active,
		       st.ports_bound);
	}
	simhv_close(hv);
	return 0;
}
