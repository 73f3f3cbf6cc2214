/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preflight.h - what a start of bounced(8) needs, checked before it is
 * needed (bounced -n), and the lock that keeps a second instance away
 * from a live socket and database.
 */
#ifndef BD_PREFLIGHT_H
#define BD_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct bd_config;

/*
 * preflight_check - check, as the user bounced will run as (UserID when
 * started as root), everything a start of c needs: the user, the rights
 * on the database's folder and file, the socket's folder or port, the
 * rules file, the config file (reload) and the PidFile's folder; one
 * line per problem on fp, with strerror.  Returns the number of problems.
 */
int preflight_check(const struct bd_config *c, FILE *fp);

/*
 * instance_lock - take, for the life of the process, the locks that make
 * bounced one instance per database and per unix socket (flock(2) on
 * "DATABASE.lock" and "SOCKETPATH.lock"), and refuse a socket on which a
 * milter already answers.  false with err set (the holder's pid when
 * known) when another instance has either: the live socket is never
 * touched.  Call after dropping privileges, before creating the socket.
 */
bool instance_lock(const struct bd_config *c, char *err, size_t errlen);

/*
 * socket_answers - true when something accepts a connection on the
 * libmilter socket spec conn ("unix:/p", "local:/p", "inet:port@host",
 * "inet6:port@host"); waits at most timeout_ms
 */
bool socket_answers(const char *conn, int timeout_ms);

#endif
