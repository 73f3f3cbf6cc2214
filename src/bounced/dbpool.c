/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * dbpool.c - the database connections of bounced(8).
 *
 * One read-write connection per milter worker thread (and one
 * read-only one for RCPT TO lookups), taken on the thread's first use
 * and given back when the thread ends (a pthread key's destructor).
 * Given back, not closed: the engine's pool of workers grows and
 * shrinks with the load (libmilter, with --with-libmilter, starts a
 * thread per connection), and opening a connection (reading the schema, the
 * PRAGMAs, the statements prepared again) cost more than the bounce
 * recorded on it.  Up to DBPOOL_IDLE_MAX of each kind wait for the next
 * thread; more are closed.  So a
 * lock held elsewhere (bouncectl rebuild, a backup) is waited for inside
 * SQLite by every thread at once, each on its own connection, and no
 * mutex of ours is held across the busy wait: with one shared handle,
 * one bounce was answered per busy timeout (issue 11).
 *
 * The main connection serves the periodic duties, and is the first to
 * open the file: it creates and migrates it.  When it cannot (a
 * read-only file or folder, a lock held through the startup attempt, a
 * missing folder), bounced runs anyway: ordinary mail is not concerned,
 * bounces find no connection and are deferred or passed as OnError says,
 * and the keeper thread tries again, more slowly each time up to
 * DBPOOL_RETRY_MAX_MS.  One WARNING when the incident starts, one INFO
 * when it ends.  Workers open their connections only once the main one
 * is open (STORE_NOCREATE: they never create nor migrate).
 *
 * On PostgreSQL the threads share two handles instead, the main one for
 * recording and one read-only for lookups (a store handle is
 * thread-safe: its mutex makes each call one unit): a relay then holds
 * two server connections, not two per libmilter thread, and a thread's
 * first bounce does not pay for a connection.  The server does the
 * waiting for locks, not our mutex's holder (a lock_timeout).
 *
 * Everything here runs after the fork of -b: a SQLite connection must be
 * opened by the process that uses it, as POSIX locks are not inherited
 * (opened before the fork, bounced -b held no WAL lock and its -wal file
 * was deleted under it by the first bouncectl).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "bounced/dbpool.h"
#include "log/log.h"
#include "store/db.h"

struct tls {
	struct store	*rw;
	struct store	*ro;
	bool		 ro_failed;	/* no read-only handle: use rw */
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	char		*path;
	char		*shown;		/* path without a password, for logs */
	bool		 shared;	/* PostgreSQL: main and lookup shared */
	struct store	*lookup;	/* shared: the read-only handle */
	int		 busy_ms;
	int		 lookup_ms;
	bool		 deferred;
	bool		 ready;		/* main opened: workers may open */
	bool		 stopping;
	bool		 keeper;	/* the keeper thread runs */
	pthread_t	 keeper_tid;
	struct store	*main;
	struct store	*recorder;	/* the group commit's, see below */
	struct store	*idle_rw[DBPOOL_IDLE_MAX];	/* ended threads' */
	struct store	*idle_ro[DBPOOL_IDLE_MAX];
	size_t		 n_idle_rw, n_idle_ro;
	bool		 worker_failing;	/* a worker open incident */
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static pthread_key_t	 g_key;
static pthread_once_t	 g_once = PTHREAD_ONCE_INIT;
static bool		 g_key_ok;

/* Keep s for another thread (g.lock held), or close it. */
static void
give_back(struct store *s, struct store **idle, size_t *n)
{
	if (s == NULL)
		return;
	if (!g.stopping && *n < DBPOOL_IDLE_MAX)
		idle[(*n)++] = s;
	else
		store_close(s);
}

/* An ended thread's connection, or NULL: the caller opens one. */
static struct store *
take_idle(struct store **idle, size_t *n)
{
	struct store	*s = NULL;

	pthread_mutex_lock(&g.lock);
	if (*n > 0 && !g.stopping)
		s = idle[--*n];
	pthread_mutex_unlock(&g.lock);
	return s;
}

static void
tls_free(void *p)
{
	struct tls	*t = p;

	if (t == NULL)
		return;
	pthread_mutex_lock(&g.lock);
	give_back(t->ro, g.idle_ro, &g.n_idle_ro);
	give_back(t->rw, g.idle_rw, &g.n_idle_rw);
	pthread_mutex_unlock(&g.lock);
	free(t);
}

static void
key_init(void)
{
	g_key_ok = pthread_key_create(&g_key, tls_free) == 0;
}

/* Try to open the main connection (creating and migrating the file). */
static bool
open_main(int busy_ms, char *err, size_t errlen)
{
	struct store	*s = NULL;

	if (store_open(g.path, 0, busy_ms, &s, err, errlen) != BD_OK)
		return false;
	pthread_mutex_lock(&g.lock);
	g.main = s;
	g.ready = true;
	pthread_mutex_unlock(&g.lock);
	return true;
}

static void *
keeper_main(void *arg)
{
	struct timespec	 until, t0, t1;
	char		 err[1024], san[LOG_SANITIZE_BUF];
	long		 wait_ms = DBPOOL_RETRY_FIRST_MS;
	bool		 stop;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pthread_mutex_lock(&g.lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!g.stopping && pthread_cond_timedwait(&g.wake, &g.lock,
		    &until) != ETIMEDOUT)
			;
		stop = g.stopping;
		pthread_mutex_unlock(&g.lock);
		if (stop)
			return NULL;
		if (open_main(g.busy_ms, err, sizeof(err)))
			break;
		log_debug("database %s: not open yet: %s", g.shown,
		    log_sanitize(err, san, sizeof(san)));
		if ((wait_ms *= 2) > DBPOOL_RETRY_MAX_MS)
			wait_ms = DBPOOL_RETRY_MAX_MS;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("database %s is open after %ld s: recording bounces again",
	    g.shown, (long)(t1.tv_sec - t0.tv_sec));
	return NULL;
}

/*
 * dbpool_start - open the database, or keep trying in the background
 *
 * Arguments: path, the database (copied); busy_ms, the busy timeout of
 * the read-write connections; lookup_ms, of the read-only ones;
 * deferred, true when OnError defers bounces (only for the log line).
 *
 * Returns true when the database is open now, false when the keeper
 * thread tries again (a WARNING says so).
 * Notes: call once, after daemon_background() and
 * daemon_block_signals(); the startup attempt waits for a lock at most
 * DBPOOL_START_BUSY_MS, so that a held lock never delays the milter.
 */
bool
dbpool_start(const char *path, int busy_ms, int lookup_ms, bool deferred)
{
	char	 err[1024], san[LOG_SANITIZE_BUF];
	int	 e;

	(void)pthread_once(&g_once, key_init);
	pthread_mutex_lock(&g.lock);
	free(g.path);
	free(g.shown);
	g.path = strdup(path);
	g.shown = malloc(strlen(path) + 16);
	if (g.shown != NULL)
		db_target_redact(path, g.shown, strlen(path) + 16);
	g.shared = db_target_kind(path) == DB_POSTGRES;
	g.busy_ms = busy_ms;
	g.lookup_ms = lookup_ms;
	g.deferred = deferred;
	g.stopping = false;
	pthread_mutex_unlock(&g.lock);
	if (g.path == NULL || g.shown == NULL)
		log_fatal(EX_OSERR, "out of memory");
	if (open_main(busy_ms < DBPOOL_START_BUSY_MS ? busy_ms :
	    DBPOOL_START_BUSY_MS, err, sizeof(err)))
		return true;
	log_warn("database %s unavailable: %s; ordinary mail passes, "
	    "bounces %s until it opens; trying again in the background",
	    g.shown, log_sanitize(err, san, sizeof(san)), deferred ?
	    "are deferred (OnError tempfail)" : "pass unrecorded "
	    "(OnError accept)");
	if ((e = pthread_create(&g.keeper_tid, NULL, keeper_main, NULL)) != 0)
		log_fatal(EX_OSERR, "database keeper thread: %s",
		    strerror(e));
	g.keeper = true;
	return false;
}

/*
 * dbpool_ready - whether the database has been opened
 */
bool
dbpool_ready(void)
{
	bool	 r;

	pthread_mutex_lock(&g.lock);
	r = g.ready;
	pthread_mutex_unlock(&g.lock);
	return r;
}

/*
 * dbpool_shared - whether the threads share the main handle for their
 * recording (PostgreSQL) instead of a connection each (SQLite)
 */
bool
dbpool_shared(void)
{
	bool	 r;

	pthread_mutex_lock(&g.lock);
	r = g.shared;
	pthread_mutex_unlock(&g.lock);
	return r;
}

/*
 * dbpool_main - the main connection, or NULL while the database is not
 * open
 *
 * Notes: for the periodic duties (one thread); valid until dbpool_stop().
 */
struct store *
dbpool_main(void)
{
	struct store	*s;

	pthread_mutex_lock(&g.lock);
	s = g.main;
	pthread_mutex_unlock(&g.lock);
	return s;
}

static struct tls *
tls_get(void)
{
	struct tls	*t;

	if (!g_key_ok)
		return NULL;
	if ((t = pthread_getspecific(g_key)) != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(g_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

/*
 * dbpool_worker - the calling thread's read-write connection
 *
 * Returns it (opened now if need be), or NULL while the database is not
 * open or when this thread cannot open its connection (one WARNING per
 * incident, one INFO when a connection opens again).
 * Notes: the connection belongs to the thread: never hand it to another.
 */
struct store *
dbpool_worker(void)
{
	struct tls	*t;
	char		 err[1024], san[LOG_SANITIZE_BUF];

	if (!dbpool_ready())
		return NULL;
	if (g.shared)
		return dbpool_main();
	if ((t = tls_get()) == NULL)
		return NULL;
	if (t->rw != NULL)
		return t->rw;
	if ((t->rw = take_idle(g.idle_rw, &g.n_idle_rw)) != NULL)
		return t->rw;
	if (store_open(g.path, STORE_NOCREATE, g.busy_ms, &t->rw, err,
	    sizeof(err)) != BD_OK) {
		if (!__atomic_exchange_n(&g.worker_failing, true,
		    __ATOMIC_ACQ_REL))
			log_warn("database %s: cannot open a connection: %s",
			    g.shown, log_sanitize(err, san, sizeof(san)));
		return NULL;
	}
	(void)store_set_cache(t->rw, DBPOOL_WORKER_CACHE_KIB);
	if (__atomic_exchange_n(&g.worker_failing, false, __ATOMIC_ACQ_REL))
		log_info("database %s: connections open again", g.shown);
	return t->rw;
}

/*
 * dbpool_recorder - the connection every group commit is recorded on
 *
 * Returns it (opened at the first call), or NULL when it cannot be
 * opened (the leader then records on its own connection).
 * Notes: only the group commit's leader uses it, and there is one
 * leader at a time (milter_commit.c), so it is never contended.  Why
 * one connection for all groups, not the leader's own: SQLite drops a
 * connection's whole page cache when another connection has written
 * since its last transaction, so with the leaders taking turns every
 * group began by reading its pages again from the file; the same
 * connection for every group keeps them (make bench-milter: about 8%
 * less CPU per bounce, alternating runs).
 */
struct store *
dbpool_recorder(void)
{
	struct store	*s, *mine = NULL;
	char		 err[1024];

	if (!dbpool_ready() || g.shared)
		return NULL;
	pthread_mutex_lock(&g.lock);
	s = g.recorder;
	pthread_mutex_unlock(&g.lock);
	if (s != NULL)
		return s;
	/* opened without g.lock: an open may wait (a lock, a slow disk) */
	if (store_open(g.path, STORE_NOCREATE, g.busy_ms, &mine, err,
	    sizeof(err)) != BD_OK)
		return NULL;
	(void)store_set_cache(mine, DBPOOL_WORKER_CACHE_KIB);
	pthread_mutex_lock(&g.lock);
	if (g.recorder == NULL && !g.stopping) {
		g.recorder = mine;
		mine = NULL;
	}
	s = g.recorder;
	pthread_mutex_unlock(&g.lock);
	store_close(mine);	/* another thread's came first, or stopping */
	return s;
}

/*
 * PostgreSQL: the read-only handle every thread shares, opened at the
 * first lookup; the main handle while it cannot be opened.
 */
static struct store *
shared_lookup(void)
{
	struct store	*s;
	char		 err[1024];

	pthread_mutex_lock(&g.lock);
	if (g.lookup == NULL && store_open(g.path, STORE_RDONLY, g.lookup_ms,
	    &g.lookup, err, sizeof(err)) != BD_OK)
		g.lookup = NULL;
	s = g.lookup != NULL ? g.lookup : g.main;
	pthread_mutex_unlock(&g.lock);
	return s;
}

/*
 * dbpool_lookup - the calling thread's read-only connection
 *
 * Returns it, or the thread's read-write one when a read-only one cannot
 * be opened, or NULL while the database is not open.
 * Notes: its busy timeout is the short lookup one, so that RCPT TO never
 * waits long.
 */
struct store *
dbpool_lookup(void)
{
	struct tls	*t;
	char		 err[1024];

	if (!dbpool_ready())
		return NULL;
	if (g.shared)
		return shared_lookup();
	if ((t = tls_get()) == NULL)
		return NULL;
	if (t->ro != NULL)
		return t->ro;
	if ((t->ro = take_idle(g.idle_ro, &g.n_idle_ro)) != NULL)
		return t->ro;
	if (!t->ro_failed && store_open(g.path, STORE_RDONLY, g.lookup_ms,
	    &t->ro, err, sizeof(err)) == BD_OK) {
		(void)store_set_cache(t->ro, DBPOOL_WORKER_CACHE_KIB);
		return t->ro;
	}
	t->ro_failed = true;
	return dbpool_worker();
}

/*
 * dbpool_stop - stop the keeper thread and close the main connection
 *
 * Notes: the workers' connections are closed as their threads end
 * after this (the idle ones here).
 */
void
dbpool_stop(void)
{
	struct store	*s, *rec;

	pthread_mutex_lock(&g.lock);
	g.stopping = true;
	pthread_cond_broadcast(&g.wake);
	pthread_mutex_unlock(&g.lock);
	if (g.keeper) {
		(void)pthread_join(g.keeper_tid, NULL);
		g.keeper = false;
	}
	pthread_mutex_lock(&g.lock);
	s = g.main;
	g.main = NULL;
	g.ready = false;
	rec = g.recorder;
	g.recorder = NULL;
	/* threads ending from now on close their own (g.stopping) */
	while (g.n_idle_rw > 0)
		store_close(g.idle_rw[--g.n_idle_rw]);
	while (g.n_idle_ro > 0)
		store_close(g.idle_ro[--g.n_idle_ro]);
	pthread_mutex_unlock(&g.lock);
	store_close(g.lookup);
	g.lookup = NULL;
	store_close(rec);
	store_close(s);
}
