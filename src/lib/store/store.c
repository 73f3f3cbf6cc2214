/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store.c - the SQLite store's handle: open, close, schema migrations,
 * locking, transactions and the statement helpers the other store files
 * share (store_int.h).
 *
 * One connection per handle, guarded by a mutex, so the milter's worker
 * threads may share a handle; WAL journal so that bouncectl reads while
 * bounced writes; a busy timeout so that a short lock is waited out.
 * The schema is versioned with PRAGMA user_version and brought up to
 * date by the ordered migrations[] below (append v7, never edit v1 to v6).
 * A read-only open, or one with STORE_NOCREATE, never creates a file.
 * store_batch_begin() wraps many records and a log position in one
 * transaction (savepoints inside, journalled in memory).
 *
 * The rest of the store: store_record.c (recording, idempotency, state
 * application), store_query.c (lookup, list, history, stats),
 * store_cursor.c (log followers' positions) and store_upkeep.c
 * (sender-side spikes, expiry, prune).
 *
 * The store never logs and never exits: failures return a bd_status and
 * leave the text in store_errmsg().  Text from the network is bound as
 * parameters, never spliced into SQL, and cut to STORE_DIAG_MAX or
 * STORE_TEXT_MAX bytes (RFC 3464 section 2.3.6 diagnostics can be long).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"


/*
 * store_seterr - keep the text of a failure on the handle
 *
 * Arguments: s; fmt and its arguments, as printf.
 * Notes: cut to sizeof(s->err); read back with store_errmsg().
 */
void
store_seterr(struct store *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/*
 * store_dberr - status for a database failure, with its text kept
 *
 * Arguments: s; what, the step that failed.
 * Returns BD_EBUSY (locked), BD_ENOMEM, or BD_EIO for anything else.
 */
enum bd_status
store_dberr(struct store *s, const char *what)
{
	enum bd_status	 r = db_last_status(s->db);

	store_seterr(s, "%s: %s", what, db_errmsg(s->db));
	return r == BD_EBUSY || r == BD_ENOMEM ? r : BD_EIO;
}

/*
 * store_writable - refuse a change on a read-only handle
 *
 * Returns BD_OK, or BD_EIO with the reason kept.
 */
enum bd_status
store_writable(struct store *s)
{
	if (!s->rdonly)
		return BD_OK;
	store_seterr(s, "store opened read-only");
	return BD_EIO;
}

/*
 * store_exec - run SQL that returns no row
 *
 * Returns BD_OK or store_dberr()'s status.
 */
enum bd_status
store_exec(struct store *s, const char *sql)
{
	if (db_exec(s->db, sql) != BD_OK)
		return store_dberr(s, sql[0] == 'C' ? "schema" : sql);
	return BD_OK;
}

/*
 * store_prepare - prepare a statement for one use
 *
 * Arguments: s; sql; *st receives it (NULL on failure); the caller
 * finalizes it (or hands it to store_each_row()).
 */
enum bd_status
store_prepare(struct store *s, const char *sql, struct db_stmt **st)
{
	if (db_prepare(s->db, sql, st) != BD_OK)
		return store_dberr(s, "prepare");
	return BD_OK;
}

/*
 * store_cached - a statement of the recording path
 *
 * Arguments: s; sql, a string literal (its address is the key); *st.
 * Notes: prepared once for the handle's life (the log source records
 * tens of thousands of events a run); give it back with store_release().
 * When the cache is full the statement is prepared for one use.
 */
enum bd_status
store_cached(struct store *s, const char *sql, struct db_stmt **st)
{
	size_t	 i;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql != NULL; i++) {
		if (s->cache[i].sql == sql) {
			*st = s->cache[i].st;
			return BD_OK;
		}
	}
	if (i == STORE_STMT_CACHE)
		return store_prepare(s, sql, st);
	if (db_prepare(s->db, sql, st) != BD_OK)
		return store_dberr(s, "prepare");
	s->cache[i].sql = sql;
	s->cache[i].st = *st;
	return BD_OK;
}

/*
 * store_release - give back a statement
 *
 * Notes: a store_cached() one is reset for its next use, another is
 * finalized.
 */
void
store_release(struct store *s, struct db_stmt *st)
{
	size_t	 i;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql != NULL; i++) {
		if (s->cache[i].st == st) {
			db_reset(st);
			return;
		}
	}
	db_finalize(st);
}

static void
cache_free(struct store *s)
{
	size_t	 i;

	for (i = 0; i < STORE_STMT_CACHE; i++) {
		db_finalize(s->cache[i].st);
		s->cache[i].st = NULL;
		s->cache[i].sql = NULL;
	}
}

/*
 * store_step_done - run a statement that returns no row
 *
 * Arguments: s; st, released afterwards; what, for the error text.
 */
enum bd_status
store_step_done(struct store *s, struct db_stmt *st, const char *what)
{
	enum db_step	 rc = db_step(st);

	store_release(s, st);
	return rc != DB_ERROR ? BD_OK : store_dberr(s, what);
}

/*
 * store_each_row - hand every row of a query to a function
 *
 * Arguments: s; st, prepared and bound, finalized here; what, for the
 * error text; fn/arg, called per row until it returns non-zero.
 * Returns BD_OK (also when fn stopped early) or a database failure.
 */
enum bd_status
store_each_row(struct store *s, struct db_stmt *st, const char *what,
    store_row_fn fn, void *arg)
{
	enum bd_status	 r;
	enum db_step	 rc;

	while ((rc = db_step(st)) == DB_ROW) {
		if (fn(st, arg) != 0) {
			rc = DB_DONE;
			break;
		}
	}
	r = rc == DB_DONE ? BD_OK : store_dberr(s, what);
	db_finalize(st);
	return r;
}

/*
 * The writer gate.  bounced gives every worker thread a connection of its
 * own (so that a lock held by another process is waited for by all of
 * them at once, none holding a mutex of ours), and SQLite's own busy
 * handler sleeps 1, 2, 5, 10 ... ms between tries: two threads of one
 * process taking turns at the write lock then waited milliseconds for
 * a lock held a fraction of that (p99 85 ms at 700 bounces/s).  So the
 * busy handler knows when a writer of this process holds the lock (it
 * is gated, from BEGIN IMMEDIATE to COMMIT or ROLLBACK) and waits on a
 * condition variable for its end instead; a lock held by another process
 * is polled for, with short sleeps, up to the handle's busy timeout.
 * Nothing is held while waiting: the condition variable gives the mutex
 * back.
 */
static pthread_mutex_t	 gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned		 gate_writers;	/* gated transactions open */

static void
gate_enter(struct store *s)
{
	if (s->gated)
		return;
	s->gated = true;
	pthread_mutex_lock(&gate_lock);
	gate_writers++;
	pthread_mutex_unlock(&gate_lock);
}

static void
gate_leave(struct store *s)
{
	if (!s->gated)
		return;
	s->gated = false;
	pthread_mutex_lock(&gate_lock);
	gate_writers--;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000L +
	    (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* SQLite's busy handler: 1 to try again, 0 to give up (SQLITE_BUSY). */
static int
busy_wait(void *arg, int count)
{
	static const int	 naps[] = { 1, 1, 2, 2, 5, 5, 10 };	/* ms */
	struct store		*s = arg;
	struct timespec		 until;
	long			 left, nap;

	if (count == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->busy_t0);
	if ((left = s->busy_ms - elapsed_ms(&s->busy_t0)) <= 0)
		return 0;
	nap = count < (int)(sizeof(naps) / sizeof(naps[0])) ? naps[count] :
	    naps[sizeof(naps) / sizeof(naps[0]) - 1];
	if (nap > left)
		nap = left;
	pthread_mutex_lock(&gate_lock);
	if (gate_writers > 0) {
		/* one of ours: its end wakes us; the nap bounds a miss */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += nap * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&gate_cond, &gate_lock, &until);
		pthread_mutex_unlock(&gate_lock);
		return 1;
	}
	pthread_mutex_unlock(&gate_lock);
	/* another process's: poll */
	until.tv_sec = 0;
	until.tv_nsec = nap * 1000000L;
	(void)nanosleep(&until, NULL);
	return 1;
}

/*
 * store_tx_begin - a transaction of its own, or a savepoint inside an
 * open batch (so that a failure undoes only this call's changes and the
 * batch goes on); end it with store_tx_commit() or store_tx_rollback()
 */
enum bd_status
store_tx_begin(struct store *s)
{
	enum bd_status	 r;

	if (s->batch && s->batch_whole)
		return BD_OK;
	if (s->batch)
		return store_exec(s, "SAVEPOINT rec");
	if ((r = db_begin(s->db, true)) != BD_OK)
		return store_dberr(s, "BEGIN");
	gate_enter(s);
	return r;
}

/* store_tx_rollback - undo what store_tx_begin() started */
void
store_tx_rollback(struct store *s)
{
	if (s->batch && s->batch_whole)
		s->batch_spoiled = true;	/* nothing to roll back to */
	else if (s->batch)
		(void)db_exec(s->db, "ROLLBACK TO rec; RELEASE rec");
	else {
		db_rollback(s->db);
		gate_leave(s);
	}
}

/* store_tx_commit - keep it; on failure it is rolled back */
enum bd_status
store_tx_commit(struct store *s)
{
	enum bd_status	 r;

	if (s->batch && s->batch_whole)
		return BD_OK;
	if (s->batch)
		r = store_exec(s, "RELEASE rec");
	else if ((r = db_commit(s->db)) != BD_OK)
		r = store_dberr(s, "COMMIT");
	if (r != BD_OK)
		store_tx_rollback(s);
	else if (!s->batch)
		gate_leave(s);
	return r;
}

/* The length of v cut to max bytes, back to a UTF-8 character's start. */
static size_t
utf8_cut(const char *v, size_t max)
{
	size_t	 n;

	if ((n = strnlen(v, max + 1)) > max) {
		n = max;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

/*
 * store_bind_text - bind text cut to max bytes, never inside a UTF-8
 * sequence; NULL binds NULL
 *
 */
void
store_bind_text(struct db_stmt *st, int i, const char *v, size_t max)
{
	if (v == NULL)
		db_bind_null(st, i);
	else
		db_bind_text(st, i, v, utf8_cut(v, max));
}

void
store_bind_text_ref(struct db_stmt *st, int i, const char *v, size_t max)
{
	if (v == NULL)
		db_bind_null(st, i);
	else
		db_bind_text_ref(st, i, v, utf8_cut(v, max));
}

/* SQL bd_addr_key(a): addr_normalize(a), or a itself if not an address. */
static void
fn_addr_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*a = (const char *)sqlite3_value_text(argv[0]);
	char		 k[ADDR_MAX + 1];

	(void)argc;
	if (a == NULL)
		sqlite3_result_null(ctx);
	else if (addr_normalize(a, k, sizeof(k)))
		sqlite3_result_text(ctx, k, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_value(ctx, argv[0]);
}

/* SQL bd_addr_domain(a): what follows the last '@' ("" if none). */
static void
fn_addr_domain(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*a = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	sqlite3_result_text(ctx, a != NULL ? store_addr_domain(a) : "", -1,
	    SQLITE_TRANSIENT);
}

/* The functions the migrations use. */
static enum bd_status
add_functions(struct store *s)
{
	sqlite3	*h = db_native(s->db);
	int	 fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	if (sqlite3_create_function(h, "bd_addr_key", 1, fl, NULL,
	    fn_addr_key, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(h, "bd_addr_domain", 1, fl,
	    NULL, fn_addr_domain, NULL, NULL) != SQLITE_OK) {
		store_seterr(s, "functions: %s", sqlite3_errmsg(h));
		return BD_EIO;
	}
	return BD_OK;
	return BD_OK;
}

/*
 * store_policy_text - a policy as one line
 *
 * Arguments: pol; out/outlen (128 bytes suffice).
 */
void
store_policy_text(const struct state_policy *pol, char *out, size_t outlen)
{
	char	 fb[STATE_FB_TEXT_MAX];

	state_complaint_format(pol->complaint_types, fb, sizeof(fb));
	snprintf(out, outlen, "limit=%u window=%" PRId64 " complaint=%s",
	    pol->soft_limit, pol->soft_window, fb[0] ? fb : "none");
}

/* The meta value of key into out ("" when none); BD_OK or a failure. */
static enum bd_status
meta_get(struct store *s, const char *key, char *out, size_t outlen)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	enum db_step	 rc;

	out[0] = '\0';
	if ((r = store_prepare(s, "SELECT value FROM meta WHERE key = ?",
	    &st)) != BD_OK)
		return r;
	db_bind_text(st, 1, key, SIZE_MAX);
	if ((rc = db_step(st)) == DB_ROW)
		store_copy_col(out, outlen, st, 0);
	db_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? BD_OK :
	    store_dberr(s, "meta");
}

/* The policy text of the database back into s->pol (best effort). */
static void
load_policy(struct store *s)
{
	char		 text[256], fb[STATE_FB_TEXT_MAX + 1], why[128];
	unsigned	 limit, mask;
	long long	 window;

	if (meta_get(s, "policy", text, sizeof(text)) != BD_OK ||
	    sscanf(text, "limit=%u window=%lld complaint=%96s", &limit,
	    &window, fb) != 3)
		return;
	if (strcmp(fb, "none") == 0)
		mask = 0;
	else if (!state_complaint_parse(fb, &mask, why, sizeof(why)))
		return;
	memset(&s->pol, 0, sizeof(s->pol));
	s->pol.soft_limit = limit;
	s->pol.soft_window = window;
	s->pol.complaint_types = mask;
	s->have_pol = true;
}

/*
 * store_policy_sync - fold every state again when the policy changed
 *
 * Arguments: s (read-write); pol; *rebuilt (may be NULL) receives
 * whether the states were folded again.
 * Returns BD_OK or a failure (then nothing changed).
 * Notes: the policy is kept in the meta table; the first call after the
 * v4 migration always refolds (the rule changed).
 */
enum bd_status
store_policy_sync(struct store *s, const struct state_policy *pol,
    bool *rebuilt)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 have[256], want[256], pending[32];

	if (rebuilt != NULL)
		*rebuilt = false;
	if ((r = store_writable(s)) != BD_OK)
		return r;
	store_policy_text(pol, want, sizeof(want));
	pthread_mutex_lock(&s->lock);
	r = meta_get(s, "policy", have, sizeof(have));
	if (r == BD_OK)
		r = meta_get(s, "rebuild", pending, sizeof(pending));
	pthread_mutex_unlock(&s->lock);
	if (r != BD_OK)
		return r;
	if (strcmp(have, want) == 0 && pending[0] == '\0') {
		s->pol = *pol;
		s->have_pol = true;
		return BD_OK;
	}
	/* store_rebuild() records the policy and clears "rebuild" */
	if ((r = store_rebuild(s, pol)) != BD_OK)
		return r;
	if (rebuilt != NULL)
		*rebuilt = true;
	(void)st;
	return BD_OK;
}

/*
 * store_meta_policy - record pol as the policy of the states (inside the
 * caller's transaction, lock held): store_rebuild() calls it
 */
enum bd_status
store_meta_policy(struct store *s, const struct state_policy *pol)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 text[256];

	store_policy_text(pol, text, sizeof(text));
	if ((r = store_prepare(s, "INSERT INTO meta (key, value) "
	    "VALUES ('policy', ?) ON CONFLICT (key) DO UPDATE SET "
	    "value = excluded.value", &st)) != BD_OK)
		return r;
	db_bind_text(st, 1, text, SIZE_MAX);
	if ((r = store_step_done(s, st, "meta")) != BD_OK)
		return r;
	if ((r = store_exec(s, "DELETE FROM meta WHERE key = 'rebuild'")) !=
	    BD_OK)
		return r;
	s->pol = *pol;
	s->have_pol = true;
	return BD_OK;
}

/*
 * A -wal or -shm file that we may not write while the database itself is
 * writable: SQLite gives them the database's mode when it makes them, so
 * a reader (bouncectl, even as root) that opened the database while it
 * was read-only leaves a read-only -shm, and every later read-write open
 * is read-only too, for good.  Ours to fix when we own it: give it the
 * database's mode.  Errors are left to the open that follows.
 */
static void
fix_sidecar(const char *path, const char *suffix, mode_t mode)
{
	char		 side[4096];
	struct stat	 sb;

	if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffix) >=
	    sizeof(side))
		return;
	if (stat(side, &sb) != 0 || access(side, W_OK) == 0)
		return;
	(void)chmod(side, mode & 0666);
}

/*
 * SQLite: a file that must exist (read-only, STORE_NOCREATE) exists, and
 * its sidecars are writable when it is.
 */
static enum bd_status
file_check(const char *path, unsigned flags, char *err, size_t errlen)
{
	struct stat	 sb;

	if ((flags & (STORE_RDONLY | STORE_NOCREATE)) != 0 &&
	    stat(path, &sb) != 0 && errno == ENOENT) {
		snprintf(err, errlen, "no database at %s", path);
		return BD_ENOTFOUND;
	}
	if ((flags & STORE_RDONLY) == 0 && stat(path, &sb) == 0 &&
	    access(path, W_OK) == 0) {
		fix_sidecar(path, "-wal", sb.st_mode);
		fix_sidecar(path, "-shm", sb.st_mode);
	}
	return BD_OK;
}

/* SQLite: our busy handler, a writable file, the migrations' functions. */
static enum bd_status
sqlite_setup(struct store *s, const char *path, char *err, size_t errlen)
{
	sqlite3		*h = db_native(s->db);
	enum bd_status	 rs;

	sqlite3_extended_result_codes(h, 0);
	if (s->busy_ms > 0)
		sqlite3_busy_handler(h, busy_wait, s);
	/*
	 * SQLite opens a file it may not write read-only without a word;
	 * such a handle would stay read-only after the file is made
	 * writable, and every recording would fail.  Say so now, so that
	 * the caller tries again later with a new handle.
	 */
	if (!s->rdonly && sqlite3_db_readonly(h, "main") == 1) {
		snprintf(err, errlen, "%s is read-only (file or folder "
		    "permissions)", path);
		return BD_EIO;
	}
	if ((rs = add_functions(s)) != BD_OK)
		snprintf(err, errlen, "%s", s->err);
	return rs;
}

/*
 * store_open - open a bounced database
 *
 * Arguments: path; flags, STORE_RDONLY to open read-only (never created
 * nor migrated), STORE_NOCREATE to open read-write a database that must
 * exist already; busy_ms, how long to wait for a lock; *out receives the
 * handle; err/errlen receive the reason of a failure.
 * Returns BD_OK; BD_ENOTFOUND when there is no file at path and it may
 * not be created (STORE_RDONLY, STORE_NOCREATE); BD_EIO when the file
 * cannot be opened or created (an unwritable directory, a file that is
 * not a database); BD_ECONFIG when the schema is newer than the program,
 * or (read-only) older or absent; BD_EBUSY when locked past the timeout;
 * BD_ENOMEM.
 * Notes: the journal is switched to WAL (read-write opens only; the mode
 * is persistent in the file).  The handle is thread-safe.
 */
enum bd_status
store_open(const char *path, unsigned flags, int busy_ms,
    struct store **out, char *err, size_t errlen)
{
	struct store	*s;
	enum bd_status	 rs;
	bool		 lite = db_target_kind(path) == DB_SQLITE;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (lite && (rs = file_check(path, flags, err, errlen)) != BD_OK)
		return rs;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return BD_ENOMEM;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		snprintf(err, errlen, "cannot create a mutex");
		return BD_ENOMEM;
	}
	s->rdonly = (flags & STORE_RDONLY) != 0;
	s->busy_ms = busy_ms > 0 ? busy_ms : 0;
	if ((rs = db_open(path, (s->rdonly ? DB_RDONLY : 0) |
	    ((flags & STORE_NOCREATE) != 0 ? DB_NOCREATE : 0), s->busy_ms,
	    &s->db, err, errlen)) != BD_OK)
		goto fail;
	if (lite && (rs = sqlite_setup(s, path, err, errlen)) != BD_OK)
		goto fail;
	if ((rs = s->rdonly ? store_schema_check(s) :
	    store_schema_setup(s)) != BD_OK) {
		snprintf(err, errlen, "%s", s->err);
		goto fail;
	}
	if (!s->rdonly)
		load_policy(s);
	*out = s;
	return BD_OK;
fail:
	db_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rs;
}

/*
 * store_close - close a handle
 *
 * Arguments: s, NULL is fine.
 * Notes: no other thread may be using s.
 */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	cache_free(s);
	db_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * store_errmsg - text of the last failure on a handle
 *
 * Returns a string owned by s, valid until its next call; "" if none.
 * Notes: with several threads on one handle the text may be another
 * thread's; read it right after the failing call.
 */
const char *
store_errmsg(struct store *s)
{
	return s != NULL ? s->err : "no store";
}

/*
 * store_set_cache - the size of the handle's page cache
 *
 * Arguments: s; kib, KiB (SQLite's default is 2000).
 * Returns BD_OK or a database failure.
 * Notes: bounced gives each worker thread a handle of its own, and a
 * recording touches few pages: a small cache keeps 64 of them small.
 */
enum bd_status
store_set_cache(struct store *s, int kib)
{
	enum bd_status	 rs;
	char		 sql[64];

	/* PostgreSQL's cache is the server's */
	if (db_kind(s->db) == DB_POSTGRES)
		return BD_OK;
	(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d",
	    kib > 0 ? kib : 1);
	pthread_mutex_lock(&s->lock);
	rs = store_exec(s, sql);
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/*
 * store_batch_begin - open a transaction around many calls
 *
 * Arguments: s (read-write).
 * Returns BD_OK; BD_ECONFIG when a batch is already open; a database
 * failure (BD_EBUSY when the write lock stayed taken).
 * Notes: store_record() and store_cursor_set() then use savepoints inside
 * it; nothing is visible to other connections before store_batch_end().
 * Only one thread may use the handle while the batch is open.
 */
enum bd_status
store_batch_begin(struct store *s)
{
	enum bd_status	 r;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if (s->batch) {
		store_seterr(s, "a batch is already open");
		r = BD_ECONFIG;
	} else if ((r = db_begin(s->db, true)) == BD_OK) {
		s->batch = true;
		gate_enter(s);	/* our other writers wait for its end */
	} else
		r = store_dberr(s, "BEGIN");
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_batch_whole - make the open batch all or nothing
 *
 * Arguments: s, with a batch open (otherwise nothing is done).
 * Notes: the calls in it take no savepoint (a SAVEPOINT and its RELEASE
 * cost about 9,000 instructions a bounce in the group commit, 6% of
 * recording one); a call that fails has left its changes
 * half made, so the batch is spoiled: store_batch_end(s, true) rolls it
 * back and returns BD_EIO.  For a caller that then does it again with
 * savepoints (milter_commit.c).
 */
void
store_batch_whole(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->batch)
		s->batch_whole = true;
	pthread_mutex_unlock(&s->lock);
}

/*
 * store_batch_end - close the batch
 *
 * Arguments: s; commit, true to keep what the batch did, false to undo it.
 * Returns BD_OK (also when no batch was open) or a database failure,
 * after which the batch is rolled back.
 */
enum bd_status
store_batch_end(struct store *s, bool commit)
{
	enum bd_status	 r = BD_OK;

	pthread_mutex_lock(&s->lock);
	if (s->batch) {
		s->batch = false;
		if (commit && s->batch_spoiled) {
			store_seterr(s, "a call of the batch failed: "
			    "nothing of it was kept");
			r = BD_EIO;
			commit = false;
		}
		s->batch_whole = s->batch_spoiled = false;
		if (!commit)
			db_rollback(s->db);
		else if (db_commit(s->db) != BD_OK) {
			r = store_dberr(s, "COMMIT");
			db_rollback(s->db);
		}
		gate_leave(s);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}
