/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemon.h - process plumbing of bounced(8): privileges, the socket's
 * folder, backgrounding, the PID file, sd_notify and the signal thread.
 * Errors before smfi_main() are fatal (log_fatal with a sysexits code).
 */
#ifndef BD_DAEMON_H
#define BD_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>

/* daemon_resolve_user - uid/gid of "user[:group]" (names or numbers); false
 * if unknown
 */
bool daemon_resolve_user(const char *spec, uid_t *uid, gid_t *gid,
    char *err, size_t errlen);
/* daemon_drop_privileges - become spec for good; fatal on any failure */
void daemon_drop_privileges(const char *spec);
/* daemon_socket_dir - create the folder of a unix: socket if missing (owned
 * by spec when root)
 */
void daemon_socket_dir(const char *conn, const char *spec);
/* daemon_background - fork, setsid, chdir /, stdio on /dev/null; before any
 * thread
 */
void daemon_background(void);
/* daemon_pidfile_write - write our pid to path; fatal on failure */
void daemon_pidfile_write(const char *path);
/* daemon_pidfile_remove - remove path if it still holds our pid */
void daemon_pidfile_remove(const char *path);
/* daemon_notify - send state ("READY=1") to $NOTIFY_SOCKET if set */
void daemon_notify(const char *state);
/* daemon_block_signals - block SIGUSR1 (and ignore SIGPIPE) before threads
 * start
 */
void daemon_block_signals(void);
/*
 * daemon_signal_thread - start the thread that calls reload on every
 * SIGUSR1 and tick (NULL: none) every period seconds, one at a time
 */
void daemon_signal_thread(void (*reload)(void), void (*tick)(void),
    int period);

#endif
