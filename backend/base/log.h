/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging for the daemon: to stderr (or a file) and optionally syslog,
 * with levels. Control-plane messages use nb_log(); anything a guest can
 * trigger goes through a struct nb_ratelimit (per vif: nb_vif_warn() and
 * friends) so a hostile guest cannot flood the log. The data path never
 * logs per packet.
 *
 * Under systemd (JOURNAL_STREAM names our stderr), lines go to stderr as
 * "<N>message", the sd-daemon(3) level prefix journald reads, without
 * the timestamp journald adds itself.
 */
#ifndef NETBACKD_LOG_H
#define NETBACKD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

void nb_log_init(int level, const char *file, bool use_syslog);
int nb_log_level_parse(const char *s); /* LOG_* or -EINVAL */
bool nb_log_enabled(int prio);         /* would nb_log(prio) print? */
void nb_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define nb_err(...) nb_log(LOG_ERR, __VA_ARGS__)
#define nb_warn(...) nb_log(LOG_WARNING, __VA_ARGS__)
#define nb_info(...) nb_log(LOG_INFO, __VA_ARGS__)
#define nb_debug(...) nb_log(LOG_DEBUG, __VA_ARGS__)

/*
 * A token bucket: up to `burst` messages at once, refilled at `burst`
 * per `interval_ms`; the rest are counted and their number told with
 * the next message that goes out. Safe to share between threads (a
 * vif's control thread and the workers owning its queues).
 */
struct nb_ratelimit {
	uint8_t lock;        /* __atomic test-and-set */
	unsigned tokens;     /* messages that may go out now */
	uint64_t refill_ms;  /* when tokens were last topped up */
	unsigned burst, interval_ms;
	unsigned suppressed; /* since the last message that went out */
};
#define NB_RATELIMIT_INIT { 0, 10, 0, 10, 5000, 0 }

/*
 * Take a token at time now_ms. true: a message may go out, and
 * *suppressed (if not NULL) is how many were refused since the last one
 * that did (then counted again from 0). false: refused, and counted.
 */
bool nb_ratelimit_take(struct nb_ratelimit *rl, uint64_t now_ms,
		       unsigned *suppressed);

/*
 * "who: message" at prio, through rl. Messages below the log level are
 * dropped before they take a token.
 */
void nb_log_rl(struct nb_ratelimit *rl, const char *who, int prio,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Guest-triggered messages about a vif (anything with ->rl and ->name):
 * the vif's name first, at most the vif's bucket's rate. */
#define nb_vif_log(v, prio, ...) nb_log_rl(&(v)->rl, (v)->name, prio, __VA_ARGS__)
#define nb_vif_err(v, ...) nb_vif_log(v, LOG_ERR, __VA_ARGS__)
#define nb_vif_warn(v, ...) nb_vif_log(v, LOG_WARNING, __VA_ARGS__)
#define nb_vif_info(v, ...) nb_vif_log(v, LOG_INFO, __VA_ARGS__)
#define nb_vif_debug(v, ...) nb_vif_log(v, LOG_DEBUG, __VA_ARGS__)

uint64_t nb_now_ms(void);

/*
 * A stream whose lines become log lines, "prefix: line", each at the
 * level level(line) returns when the line is complete (for DPDK's log,
 * so its messages reach the same file, syslog and journal with a level).
 * At most 4 in a process; NULL with errno set if it cannot be made.
 */
FILE *nb_log_stream(const char *prefix, int (*level)(const char *line));

/*
 * systemd's readiness notification (sd_notify(3) "READY=1") when
 * NOTIFY_SOCKET is set: 0, 0 when not under Type=notify, or -errno.
 */
int nb_notify_ready(void);

#endif
