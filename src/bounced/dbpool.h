/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dbpool.h - the daemon's database connections: one read-write and one
 * read-only connection per milter worker thread, opened on first use,
 * and a main one for the periodic duties, opened in the background for
 * as long as the database cannot be opened.  Never fatal: while there is
 * no database, dbpool_worker() is NULL and bounces are not recorded.
 */
#ifndef BD_DBPOOL_H
#define BD_DBPOOL_H

#include <stdbool.h>

#include "store/store.h"

/* How often the keeper tries again: from the first to the longest wait. */
#define DBPOOL_RETRY_FIRST_MS	500
#define DBPOOL_RETRY_MAX_MS	5000
/* Busy timeout of the startup attempt, so that a lock never delays start. */
#define DBPOOL_START_BUSY_MS	1000
/* Page cache of a worker's connection (KiB): 64 threads stay small. */
#define DBPOOL_WORKER_CACHE_KIB	2048
/* Connections of ended threads kept for the next ones, of each kind. */
#define DBPOOL_IDLE_MAX		16

/*
 * dbpool_start - open the main connection now, or start the keeper
 * thread that tries again until it opens (one WARNING now, one INFO when
 * it opens); path, the database; busy_ms, the recording connections'
 * busy timeout; lookup_ms, the read-only ones'; deferred, whether
 * bounces are deferred (OnError tempfail) meanwhile, for the log line.
 * Call after the process is in its final form (after fork) and after
 * the signal mask is set.  Returns true if the database is open now.
 */
bool dbpool_start(const char *path, int busy_ms, int lookup_ms,
    bool deferred);
/* dbpool_ready - the database has been opened (and migrated) */
bool dbpool_ready(void);
/* dbpool_shared - the threads share one recording handle (PostgreSQL) */
bool dbpool_shared(void);
/* dbpool_main - the main connection (periodic duties), or NULL */
struct store *dbpool_main(void);
/* dbpool_worker - the calling thread's recording connection, or NULL */
struct store *dbpool_worker(void);
/* dbpool_recorder - the group commit's connection (its leader's), or NULL */
struct store *dbpool_recorder(void);
/* dbpool_lookup - the calling thread's read-only connection, or NULL */
struct store *dbpool_lookup(void);
/* dbpool_stop - stop the keeper and close the main connection */
void dbpool_stop(void);

#endif
