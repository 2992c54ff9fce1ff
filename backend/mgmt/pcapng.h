/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pcapng blocks (the IETF draft "PCAP Next Generation Dump File
 * Format"), in host byte order as the Section Header's magic says:
 * what `netbackctl capture` files hold. Pure: each call fills buf and
 * returns the block's length, or 0 if it does not fit in len.
 */
#ifndef NETBACKD_PCAPNG_H
#define NETBACKD_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_PCAPNG_SHB 0x0a0d0d0au
#define NB_PCAPNG_IDB 1u
#define NB_PCAPNG_ISB 5u
#define NB_PCAPNG_EPB 6u

/* Section header; shb_userappl = app. */
size_t nb_pcapng_shb(uint8_t *buf, size_t len, const char *app);
/* Ethernet interface `name`, nanosecond timestamps. */
size_t nb_pcapng_idb(uint8_t *buf, size_t len, uint32_t snaplen,
		     const char *name);
/* A packet of interface ifid at ts_ns (since the epoch): caplen bytes
 * of data, of orig_len; out: sent by the port (else received). */
size_t nb_pcapng_epb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_ns,
		     const void *data, uint32_t caplen, uint32_t orig_len,
		     bool out);
/* Interface statistics: packets captured (ifrecv) and dropped. */
size_t nb_pcapng_isb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_ns,
		     uint64_t recv, uint64_t drop);

#endif
