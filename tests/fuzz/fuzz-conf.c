/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz the configuration parser: any text either parses into values
 * within their limits or is refused with a message naming the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nb_conf c;
	char err[256], *text = malloc(size + 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nb_conf_defaults(&c);
	err[0] = '\0';
	r = nb_conf_parse(&c, "f.conf", text, err, sizeof(err));
	if (r < 0 && (r != -EINVAL || strncmp(err, "f.conf", 6) != 0))
		abort();
	if (r == 0) {
		if (c.workers < 1 || c.workers > NB_MAX_WORKERS ||
		    c.nnets > NB_MAX_NETS)
			abort();
		for (unsigned i = 0; i < c.nnets; i++)
			if (c.nets[i].mtu < 68 || c.nets[i].mtu > 9600 ||
			    (c.nets[i].pif[0] &&
			     nb_devargs_check(c.nets[i].pif) < 0))
				abort();
	}
	free(text);
	return 0;
}
