/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Management's own header: a connection, a request and its answer, and
 * the calls the files of mgmt/ make to each other:
 *   server.c       the socket, connections, the command table
 *   output.c       answers as JSON or indented text
 *   cmds_read.c    status, networks, ports, vifs, fdb, stats
 *   cmds_change.c  net-add/-del, port-add/-del, vif-set, fdb-*, reload
 *   capture.c      capture sessions as pcapng streams (dp taps)
 *   telemetry.c    the same objects on DPDK's telemetry socket
 */
#ifndef NETBACKD_MGMT_PRIV_H
#define NETBACKD_MGMT_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_telemetry.h>

#include "ctl.h"
#include "mgmt.h"

#define NB_MGMT_CONNS 16u
/* A request: arguments, or a whole configuration for reload. */
#define NB_MGMT_REQ_MAX (1u << 20)
/* What a capture may have waiting for a slow reader before it drops. */
#define NB_CAP_OUT_MAX (8u << 20)
#define NB_CAP_SNAPLEN 65535u

struct conn {
	int fd; /* -1: free */
	char *in; /* the request as it comes, growing to NB_MGMT_REQ_MAX */
	size_t inlen, incap;
	bool answered;
	char *out;
	size_t outlen, outoff, outcap;
	/* a capture: session index, what it watches */
	int cap;
	char cap_name[64];
	int cap_port;
	uint64_t cap_recv, cap_end_ms;
	uint64_t cap_dropped; /* here: the reader was too slow */
	bool cap_stopping;
};

struct tel_req {
	const char *cmd, *params;
	struct rte_tel_data *data;
	int ret;
	bool done;
};

struct mgmt {
	int lfd;
	char path[108];
	bool unlink_path;
	struct conn c[NB_MGMT_CONNS];
	/* telemetry: one request at a time, answered by control */
	int tel_fd;
	pthread_mutex_t tel_lock;
	pthread_cond_t tel_cond;
	struct tel_req *tel;
	/* TSC to wall clock, for capture timestamps */
	uint64_t tsc0, ns0;
};

/*
 * An answer: JSON, or indented "key: value" text. Objects and arrays
 * nest to NB_OUT_DEPTH.
 */
#define NB_OUT_DEPTH 12
struct out {
	char *b;
	size_t len, cap;
	bool json, oom;
	int depth;
	bool first[NB_OUT_DEPTH]; /* nothing written in it yet */
	bool arr[NB_OUT_DEPTH];   /* an array */
	bool dash[NB_OUT_DEPTH];  /* text: an object in an array, unstarted */
};

struct req {
	struct nb_daemon *d;
	struct conn *c;
	struct out o;
	int argc;
	char *argv[32];
	char err[512];
};

/* output.c: answers */
void o_arr(struct out *o, const char *key);
void o_bool(struct out *o, const char *key, bool v);
void o_close(struct out *o);
void o_int(struct out *o, const char *key, int64_t v);
void o_obj(struct out *o, const char *key);
void o_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void o_str(struct out *o, const char *key, const char *v);
void o_u64(struct out *o, const char *key, uint64_t v);

/* cmds_read.c: reading commands and the objects they show */
int cmd_fdb(struct req *r);
int cmd_networks(struct req *r);
int cmd_ports(struct req *r);
int cmd_stats(struct req *r);
int cmd_status(struct req *r);
int cmd_vifs(struct req *r);
int name_port(struct nb_daemon *d, const char *name);
int refuse(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int usage_err(struct req *r, const char *use);

/* The names of DP_E_* (DPDK port counters). */
extern const char *const pstat_names[];

/* cmds_change.c: changes */
int cmd_fdb_add(struct req *r);
int cmd_fdb_del(struct req *r);
int cmd_fdb_flush(struct req *r);
int cmd_net_add(struct req *r);
int cmd_net_del(struct req *r);
int cmd_port_add(struct req *r);
int cmd_port_del(struct req *r);
int cmd_reload(struct req *r);
int cmd_vif_set(struct req *r);

/* capture.c */
void cap_drain(struct nb_daemon *d, struct conn *c);
bool cap_follow(struct nb_daemon *d, struct conn *c);
int cap_start(struct nb_daemon *d, struct req *r);
void cap_stop(struct nb_daemon *d, struct conn *c);
void cap_write(struct conn *c, const void *p, size_t n);
uint64_t wall_ns(void);

/* server.c */
bool out_room(struct conn *c, size_t n);

/* telemetry.c */
/* Telemetry has no argument for its callbacks: the daemon is here. */
extern struct nb_daemon *_Atomic nb_tel_daemon;
void tel_register(void);
void tel_serve(struct nb_daemon *d);

#endif
