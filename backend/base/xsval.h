/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsers for the values netbackd reads from xenstore. Pure: no I/O, no
 * logging, no allocation, so the fuzz suite drives them directly. Values
 * come from the toolstack or, for frontend keys, from the guest: each
 * parser takes the whole string or refuses it, never a prefix.
 */
#ifndef NETBACKD_XSVAL_H
#define NETBACKD_XSVAL_H

#include <stdint.h>

struct sw_port_conf;

/* Decimal without sign, space or prefix, within [0, max]. */
int nb_xsval_uint(const char *s, unsigned max, unsigned *out);
/* "xx:xx:xx:xx:xx:xx", one or two hex digits per byte. */
int nb_xsval_mac(const char *s, uint8_t mac[6]);
/*
 * The `rate` key, "BYTES,USEC": both decimal and > 0, USEC at most
 * 10^9. An empty string means no limit (0, 0).
 */
int nb_xsval_rate(const char *s, uint64_t *bytes, uint64_t *usec);
/* The `ip` key: IPv4/IPv6 addresses split by spaces or commas, added to
 * pc's anti-spoofing lists. */
int nb_xsval_ips(const char *s, struct sw_port_conf *pc);
/*
 * A watch path below the backend root, as the text after the root:
 * "" -> 0, "/DOMID" -> 1, "/DOMID/DEVID[/...]" -> 2 with both filled;
 * anything else -EINVAL.
 */
int nb_xsval_vifpath(const char *rest, unsigned *domid, unsigned *devid);

#endif
