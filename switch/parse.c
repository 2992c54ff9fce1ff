/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xl's bridge= syntax, NAME[.TAG][:TRUNK...], split as Xen's
 * vif-openvswitch splits it (name: no '.' or ':'; numbers: decimal
 * digits), into a network name and a port's VLANs.
 */
#include <errno.h>

#include "sw_priv.h"

/* A VLAN id: decimal digits, at most SW_VLAN_MAX; *s moves past it. */
static int
parse_vid(const char **s, unsigned *vid)
{
	const char *p = *s;
	unsigned v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > SW_VLAN_MAX)
			return -EINVAL;
	}
	*vid = v;
	*s = p;
	return 0;
}

int
sw_parse_bridge(const char *s, char *name, struct sw_vlan_conf *vc)
{
	unsigned tag = SW_VLAN_NONE, vid;
	bool trunk = false, zero = false;
	const char *p;
	size_t len;

	if (!s || !name || !vc)
		return -EINVAL;
	memset(vc, 0, sizeof(*vc));
	len = strcspn(s, ".:");
	if (len == 0 || len >= SW_NAME_MAX)
		return -EINVAL;
	p = s + len;
	if (*p == '.') {
		p++;
		if (parse_vid(&p, &tag) < 0)
			return -EINVAL;
	}
	while (*p == ':') {
		p++;
		if (parse_vid(&p, &vid) < 0)
			return -EINVAL;
		trunk = true;
		if (vid == 0)
			zero = true;
		else
			sw_vlan_set(vc, vid);
	}
	if (*p != '\0')
		return -EINVAL;
	if (!trunk) {
		vc->vid = tag == SW_VLAN_NONE ? 0 : (uint16_t)tag;
	} else {
		/*
		 * Untagged frames of a trunk belong to TAG, or to the
		 * untagged network when the list names VLAN 0; not both.
		 */
		if (zero && tag != SW_VLAN_NONE && tag != 0)
			return -EINVAL;
		vc->trunk = true;
		vc->vid = zero ? 0 : (uint16_t)tag;
		if (tag != SW_VLAN_NONE && tag != 0)
			sw_vlan_set(vc, tag);
	}
	memcpy(name, s, len);
	name[len] = '\0';
	return 0;
}
