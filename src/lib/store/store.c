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
 * Ordered migrations: migrations[i] takes the schema from version i to
 * version i + 1.  Each runs in its own transaction with the new
 * user_version.
 */
static const char *const migrations[] = {
	/* v1 */
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"			/* when */
	" recipient TEXT NOT NULL,"
	" domain TEXT NOT NULL,"
	" original_recipient TEXT,"
	" action TEXT NOT NULL,"
	" status TEXT,"
	" reply_code INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT,"
	" hard INTEGER NOT NULL DEFAULT 0,"
	" who TEXT,"
	" advice TEXT,"
	" rule TEXT,"
	" diagnostic TEXT,"
	" remote_mta TEXT,"
	" reporting_mta TEXT,"
	" queue_id TEXT,"
	" message_id TEXT,"
	" envelope_id TEXT,"
	" sender TEXT,"
	" campaign TEXT,"
	" feedback_type TEXT,"
	" source TEXT NOT NULL,"
	" trusted INTEGER NOT NULL DEFAULT 0,"
	" class TEXT NOT NULL,"			/* state_input_name() */
	" recorded_at INTEGER NOT NULL,"
	" identity TEXT NOT NULL UNIQUE);"
	"CREATE INDEX events_recipient ON events(recipient, ts);"
	"CREATE INDEX events_ts ON events(ts);"
	"CREATE INDEX events_queue ON events(queue_id, recipient);"
	"CREATE TABLE recipients ("
	" address TEXT PRIMARY KEY,"
	" domain TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'active'"
	"  CHECK (state IN ('active', 'soft', 'suppressed')),"
	" reason TEXT NOT NULL DEFAULT '',"
	" soft_count INTEGER NOT NULL DEFAULT 0,"
	" soft_marks TEXT NOT NULL DEFAULT '',"
	" suppressed_since INTEGER NOT NULL DEFAULT 0,"
	" suppress_event INTEGER,"
	" reset_at INTEGER NOT NULL DEFAULT 0,"
	" first_bounce INTEGER NOT NULL DEFAULT 0,"
	" last_bounce INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" last_event INTEGER,"
	" last_status TEXT,"
	" last_reason TEXT,"
	" last_diagnostic TEXT,"
	" manual_by TEXT,"
	" manual_why TEXT,"
	" manual_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX recipients_state ON recipients(state, address);"
	"CREATE INDEX recipients_domain ON recipients(domain);"
	/*
	 * Sends this relay made, for a later trust policy and delivery
	 * awareness (DESIGN.md "Trust"); not filled in v1.
	 */
	"CREATE TABLE sends ("
	" queue_id TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" message_id TEXT,"
	" ts INTEGER NOT NULL,"
	" PRIMARY KEY (queue_id, recipient));",
	/*
	 * v2: the MTA log as a source.  cursors: a follower's position per
	 * source name.  sends: one row per original message x recipient
	 * seen in the log, with the latest outcome (a class of
	 * state_input_name()) for bounce rates.  suppress_events: the ids
	 * of the events that led to a suppression.
	 */
	"CREATE TABLE cursors ("
	" source TEXT PRIMARY KEY,"
	" dev INTEGER NOT NULL DEFAULT 0,"
	" inode INTEGER NOT NULL DEFAULT 0,"
	" offset INTEGER NOT NULL DEFAULT 0,"
	" updated INTEGER NOT NULL DEFAULT 0);"
	"ALTER TABLE sends ADD COLUMN domain TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sends ADD COLUMN sender TEXT;"
	"ALTER TABLE sends ADD COLUMN campaign TEXT;"
	"ALTER TABLE sends ADD COLUMN outcome TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sends ADD COLUMN outcome_ts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sends ADD COLUMN reason TEXT;"
	"CREATE INDEX sends_ts ON sends(ts);"
	"CREATE INDEX sends_domain ON sends(domain, ts);"
	"CREATE INDEX events_class ON events(class, ts);"
	"ALTER TABLE recipients ADD COLUMN suppress_events TEXT NOT NULL "
	" DEFAULT '';"
	/* a v1 suppression's one known event */
	"UPDATE recipients SET suppress_events = CAST(suppress_event AS TEXT)"
	" WHERE state = 'suppressed' AND suppress_event IS NOT NULL;",
	/*
	 * v3: reset_event, the id of the delivery behind reset_at, so that a
	 * soft bounce recorded after it in the same second counts (state.c);
	 * 9223372036854775807 (STATE_SEQ_MANUAL) when it was an unsuppress.
	 */
	"ALTER TABLE recipients ADD COLUMN reset_event INTEGER NOT NULL "
	" DEFAULT 0;"
	"UPDATE recipients SET reset_event = COALESCE((SELECT MAX(e.id) FROM "
	" events e WHERE e.recipient = recipients.address AND e.ts = "
	" recipients.reset_at AND e.class = 'delivered'), 0) "
	" WHERE reset_at > 0;"
	"UPDATE recipients SET reset_event = 9223372036854775807 "
	" WHERE reset_at > 0 AND EXISTS (SELECT 1 FROM events e WHERE "
	" e.recipient = recipients.address AND e.ts = recipients.reset_at AND "
	" e.class = 'unsuppress');",
	/*
	 * v4: the feed behind `bouncectl events` (store_feed() in
	 * store_ops.c): one row per recorded event and per change of a
	 * recipient's state or reason, in the order they happened; its id is
	 * the cursor an application resumes from.  Triggers fill it, so
	 * every writer (milter, log follower, operator, expiry, rebuild) is
	 * covered without a line of its own.  A state row names the newest
	 * event of the recipient when it changed.  Pruned events take their
	 * feed rows with them.
	 */
	"CREATE TABLE feed ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('event', 'state')),"
	" recipient TEXT NOT NULL,"
	" event_id INTEGER,"
	" old_state TEXT, new_state TEXT, old_reason TEXT, new_reason TEXT);"
	"CREATE INDEX feed_event ON feed(event_id);"
	"CREATE INDEX feed_ts ON feed(ts);"
	"CREATE TRIGGER feed_event_ins AFTER INSERT ON events BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id)"
	" VALUES (NEW.recorded_at, 'event', NEW.recipient, NEW.id); END;"
	"CREATE TRIGGER feed_event_del AFTER DELETE ON events BEGIN"
	" DELETE FROM feed WHERE event_id = OLD.id AND kind = 'event'; END;"
	"CREATE TRIGGER feed_state_upd AFTER UPDATE OF state, reason"
	" ON recipients WHEN OLD.state IS NOT NEW.state OR"
	" OLD.reason IS NOT NEW.reason BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id, old_state,"
	"  new_state, old_reason, new_reason)"
	" VALUES (CAST(strftime('%s', 'now') AS INTEGER), 'state',"
	"  NEW.address, (SELECT MAX(id) FROM events"
	"  WHERE recipient = NEW.address), OLD.state, NEW.state, OLD.reason,"
	"  NEW.reason); END;"
	"CREATE TRIGGER feed_state_ins AFTER INSERT ON recipients"
	" WHEN NEW.state IS NOT 'active' BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id, old_state,"
	"  new_state, old_reason, new_reason)"
	" VALUES (CAST(strftime('%s', 'now') AS INTEGER), 'state',"
	"  NEW.address, (SELECT MAX(id) FROM events"
	"  WHERE recipient = NEW.address), 'active', NEW.state, '',"
	"  NEW.reason); END;"
	/* the events kept so far, once, so that a cursor starts at 1 */
	"INSERT INTO feed (ts, kind, recipient, event_id)"
	" SELECT recorded_at, 'event', recipient, id FROM events ORDER BY id;",
	/*
	 * v5: what kind of mail bounced, from the returned original's
	 * headers (dsn.h mail_kind): "bulk", "transactional", NULL when no
	 * original came back (the mail log, an operator).
	 */
	"ALTER TABLE events ADD COLUMN mail_kind TEXT;",
	/*
	 * v6: the trust policy (DESIGN.md "Trust", verdict/trust.c).
	 * events.trust_why: how the policy judged a report (NULL: a producer
	 * trusted as such, and every event of older versions, which were all
	 * acted on); a held report (judged, not trusted) has class
	 * 'untrusted' and never enters a state.  events.client_addr: the SMTP
	 * client that brought it (stats of untrusted reports per source).
	 * sends.envelope_id: the RFC 3461 ENVID the milter saw at MAIL FROM.
	 * sends_recipient: a report is tied to a send of that recipient.
	 * The feed (v4) leaves held reports out: an application that acts
	 * on `bouncectl events` must never act on a forged report.
	 */
	"ALTER TABLE events ADD COLUMN trust_why TEXT;"
	"ALTER TABLE events ADD COLUMN client_addr TEXT;"
	"ALTER TABLE sends ADD COLUMN envelope_id TEXT;"
	"CREATE INDEX sends_recipient ON sends(recipient, ts);"
	"DROP TRIGGER feed_event_ins;"
	"CREATE TRIGGER feed_event_ins AFTER INSERT ON events"
	" WHEN NEW.class IS NOT 'untrusted' BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id)"
	" VALUES (NEW.recorded_at, 'event', NEW.recipient, NEW.id); END;",
	/*
	 * v7: state that follows the facts (store_record.c).
	 * events.msgkey: the message's canonical key, msgkeys: the keys of
	 * one message linked (queue ids, Message-ID, ENVID, hand-offs);
	 * events.rank: the fold's order within a second; reported_at: the
	 * report's own date (ts is the date the rule uses); class
	 * "deferred" for a deferral (provisional), "local" for our own
	 * path.  recipients: display (the form as received; address is
	 * the key: bd_addr_key(), addr_normalize()), pending_count,
	 * newest (the newest date folded), checkpoint (store_prune()).
	 * meta: the policy the states were folded with; "rebuild" asks
	 * store_policy_sync() to fold every state again under v7's rule.
	 */
	"ALTER TABLE events ADD COLUMN msgkey TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE events ADD COLUMN reported_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE events ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;"
	"UPDATE events SET reported_at = ts;"
	"UPDATE events SET class = 'deferred' WHERE class = 'soft' AND "
	" action = 'delayed';"
	"UPDATE events SET msgkey = COALESCE('q:' || NULLIF(queue_id, ''), "
	" 'm:' || NULLIF(trim(message_id, '<> '), ''), "
	" 'e:' || NULLIF(envelope_id, ''), '');"
	"UPDATE events SET rank = CASE class WHEN 'deferred' THEN 1 "
	" WHEN 'soft' THEN 2 WHEN 'hard' THEN 3 WHEN 'sender' THEN 4 "
	" WHEN 'local' THEN 4 WHEN 'delivered' THEN 5 WHEN 'feedback' THEN 6 "
	" WHEN 'suppress' THEN 7 WHEN 'unsuppress' THEN 7 ELSE 0 END;"
	"UPDATE events SET recipient = bd_addr_key(recipient), "
	" domain = bd_addr_domain(bd_addr_key(recipient)) "
	" WHERE recipient <> bd_addr_key(recipient);"
	"CREATE INDEX events_msgkey ON events(msgkey);"
	"CREATE TABLE msgkeys ("
	" key TEXT PRIMARY KEY,"
	" canon TEXT NOT NULL,"
	" ts INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX msgkeys_canon ON msgkeys(canon);"
	"ALTER TABLE recipients ADD COLUMN display TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE recipients ADD COLUMN pending_count INTEGER NOT NULL "
	" DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN newest INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN checkpoint TEXT NOT NULL "
	" DEFAULT '';"
	"ALTER TABLE recipients ADD COLUMN checkpoint_ts INTEGER NOT NULL "
	" DEFAULT 0;"
	"UPDATE recipients SET display = address, newest = last_seen;"
	/* variants of one mailbox: one row (the others' events are folded) */
	"UPDATE OR IGNORE recipients SET address = bd_addr_key(address), "
	" domain = bd_addr_domain(bd_addr_key(address)) "
	" WHERE address <> bd_addr_key(address);"
	"DELETE FROM recipients WHERE address <> bd_addr_key(address);"
	"UPDATE OR IGNORE sends SET recipient = bd_addr_key(recipient), "
	" domain = bd_addr_domain(bd_addr_key(recipient)) "
	" WHERE recipient <> bd_addr_key(recipient);"
	"DELETE FROM sends WHERE recipient <> bd_addr_key(recipient);"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('rebuild', 'v4');",
};
#define NMIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must match the migrations");

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
 * store_dberr - status for an SQLite failure, with its text kept
 *
 * Arguments: s; rc, SQLite's result code; what, the step that failed.
 * Returns BD_EBUSY (locked), BD_ENOMEM, or BD_EIO for anything else.
 */
enum bd_status
store_dberr(struct store *s, int rc, const char *what)
{
	store_seterr(s, "%s: %s", what, sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return BD_EBUSY;
	case SQLITE_NOMEM:
		return BD_ENOMEM;
	default:
		return BD_EIO;
	}
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
	int	 rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return store_dberr(s, rc, sql[0] == 'C' ? "schema" : sql);
	return BD_OK;
}

/*
 * store_prepare - prepare a statement for one use
 *
 * Arguments: s; sql; *st receives it (NULL on failure); the caller
 * finalizes it (or hands it to store_each_row()).
 */
enum bd_status
store_prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	int	 rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL)) != SQLITE_OK) {
		*st = NULL;
		return store_dberr(s, rc, "prepare");
	}
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
store_cached(struct store *s, const char *sql, sqlite3_stmt **st)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql != NULL; i++) {
		if (s->cache[i].sql == sql) {
			*st = s->cache[i].st;
			return BD_OK;
		}
	}
	if (i == STORE_STMT_CACHE)
		return store_prepare(s, sql, st);
	if ((rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    st, NULL)) != SQLITE_OK) {
		*st = NULL;
		return store_dberr(s, rc, "prepare");
	}
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
store_release(struct store *s, sqlite3_stmt *st)
{
	size_t	 i;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql != NULL; i++) {
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

static void
cache_free(struct store *s)
{
	size_t	 i;

	for (i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
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
store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	store_release(s, st);
	return rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, what);
}

/*
 * store_each_row - hand every row of a query to a function
 *
 * Arguments: s; st, prepared and bound, finalized here; what, for the
 * error text; fn/arg, called per row until it returns non-zero.
 * Returns BD_OK (also when fn stopped early) or a database failure.
 */
enum bd_status
store_each_row(struct store *s, sqlite3_stmt *st, const char *what,
    store_row_fn fn, void *arg)
{
	enum bd_status	 r;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn(st, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	r = rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, what);
	sqlite3_finalize(st);
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

	if (s->batch)
		return store_exec(s, "SAVEPOINT rec");
	if ((r = store_exec(s, "BEGIN IMMEDIATE")) == BD_OK)
		gate_enter(s);
	return r;
}

/* store_tx_rollback - undo what store_tx_begin() started */
void
store_tx_rollback(struct store *s)
{
	sqlite3_exec(s->db, s->batch ? "ROLLBACK TO rec; RELEASE rec" :
	    "ROLLBACK", NULL, NULL, NULL);
	if (!s->batch)
		gate_leave(s);
}

/* store_tx_commit - keep it; on failure it is rolled back */
enum bd_status
store_tx_commit(struct store *s)
{
	enum bd_status	 r;

	if ((r = store_exec(s, s->batch ? "RELEASE rec" : "COMMIT")) != BD_OK)
		store_tx_rollback(s);
	else if (!s->batch)
		gate_leave(s);
	return r;
}

/*
 * store_bind_text - bind text cut to max bytes, never inside a UTF-8
 * sequence; NULL binds NULL
 *
 * Returns SQLite's result code.
 */
int
store_bind_text(sqlite3_stmt *st, int i, const char *v, size_t max)
{
	size_t	 n;

	if (v == NULL)
		return sqlite3_bind_null(st, i);
	if ((n = strnlen(v, max + 1)) > max) {
		n = max;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	return sqlite3_bind_text(st, i, v, (int)n, SQLITE_TRANSIENT);
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
	int	 rc, fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	if ((rc = sqlite3_create_function(s->db, "bd_addr_key", 1, fl, NULL,
	    fn_addr_key, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_create_function(s->db, "bd_addr_domain", 1, fl,
	    NULL, fn_addr_domain, NULL, NULL)) != SQLITE_OK)
		return store_dberr(s, rc, "functions");
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
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	out[0] = '\0';
	if ((r = store_prepare(s, "SELECT value FROM meta WHERE key = ?",
	    &st)) != BD_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_copy_col(out, outlen, st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? BD_OK :
	    store_dberr(s, rc, "meta");
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
	sqlite3_stmt	*st;
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
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		 text[256];

	store_policy_text(pol, text, sizeof(text));
	if ((r = store_prepare(s, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('policy', ?)", &st)) != BD_OK)
		return r;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if ((r = store_step_done(s, st, "meta")) != BD_OK)
		return r;
	if ((r = store_exec(s, "DELETE FROM meta WHERE key = 'rebuild'")) !=
	    BD_OK)
		return r;
	s->pol = *pol;
	s->have_pol = true;
	return BD_OK;
}

static enum bd_status
user_version(struct store *s, int *v)
{
	sqlite3_stmt	*st;
	enum bd_status	 rs;
	int		 rc;

	if ((rs = store_prepare(s, "PRAGMA user_version", &st)) != BD_OK)
		return rs;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rs = store_dberr(s, rc, "user_version");
		sqlite3_finalize(st);
		return rs;
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return BD_OK;
}

static enum bd_status
migrate(struct store *s)
{
	enum bd_status	 rs;
	char		 sql[64];
	int		 v;

	/* Up to date (the usual case): no need for the write lock. */
	if ((rs = user_version(s, &v)) != BD_OK)
		return rs;
	if (v == NMIGRATIONS)
		return BD_OK;
	if ((rs = store_exec(s, "BEGIN IMMEDIATE")) != BD_OK)
		return rs;
	if ((rs = user_version(s, &v)) != BD_OK)
		goto fail;
	if (v > NMIGRATIONS) {
		store_seterr(s, "database schema v%d is newer than this "
		    "program's (v%d)", v, NMIGRATIONS);
		rs = BD_ECONFIG;
		goto fail;
	}
	for (; v < NMIGRATIONS; v++) {
		if ((rs = store_exec(s, migrations[v])) != BD_OK)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rs = store_exec(s, sql)) != BD_OK)
			goto fail;
	}
	return store_exec(s, "COMMIT");
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rs;
}

/* Read-write: WAL, then the schema brought up to date. */
static enum bd_status
setup_rw(struct store *s)
{
	enum bd_status	 rs;

	/* WAL: readers (bouncectl) do not block the milter. */
	if ((rs = store_exec(s, "PRAGMA journal_mode = WAL")) != BD_OK ||
	    /*
	     * FULL: a commit is on disk before store_record() returns, so
	     * that an OS crash cannot roll back a bounce the MTA was told
	     * was recorded (and deleted).  Measured with make bench-milter
	     * (2 busy cores): 663 new bounces/s against 927 with NORMAL,
	     * 1.1 ms against 0.7 ms each one at a time.
	     */
	    (rs = store_exec(s, "PRAGMA synchronous = FULL")) != BD_OK ||
	    (rs = store_exec(s, "PRAGMA cache_size = -16384")) != BD_OK ||
	    /* savepoints of a batch journal in memory, not a file */
	    (rs = store_exec(s, "PRAGMA temp_store = MEMORY")) != BD_OK)
		return rs;
	return migrate(s);
}

/* Read-only: the schema must be this program's, as it cannot migrate. */
static enum bd_status
check_ro(struct store *s)
{
	enum bd_status	 rs;
	int		 v;

	if ((rs = user_version(s, &v)) != BD_OK)
		return rs;
	if (v == NMIGRATIONS)
		return BD_OK;
	if (v == 0)
		store_seterr(s, "not a bounced database (no schema)");
	else
		store_seterr(s, "database schema v%d, this program needs v%d%s",
		    v, NMIGRATIONS, v < NMIGRATIONS ? " (open it read-write "
		    "once to migrate)" : "");
	return BD_ECONFIG;
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
	struct stat	 sb;
	enum bd_status	 rs;
	int		 rc, oflags;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((flags & (STORE_RDONLY | STORE_NOCREATE)) != 0 &&
	    stat(path, &sb) != 0 && errno == ENOENT) {
		snprintf(err, errlen, "no database at %s", path);
		return BD_ENOTFOUND;
	}
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
	if (!s->rdonly && stat(path, &sb) == 0 && access(path, W_OK) == 0) {
		fix_sidecar(path, "-wal", sb.st_mode);
		fix_sidecar(path, "-shm", sb.st_mode);
	}
	oflags = s->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if ((flags & (STORE_RDONLY | STORE_NOCREATE)) == 0)
		oflags |= SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_FULLMUTEX;
	if ((rc = sqlite3_open_v2(path, &s->db, oflags, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "%s", s->db != NULL ?
		    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rs = rc == SQLITE_NOMEM ? BD_ENOMEM : BD_EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	s->busy_ms = busy_ms > 0 ? busy_ms : 0;
	if (s->busy_ms > 0)
		sqlite3_busy_handler(s->db, busy_wait, s);
	/*
	 * SQLite opens a file it may not write read-only without a word;
	 * such a handle would stay read-only after the file is made
	 * writable, and every recording would fail.  Say so now, so that
	 * the caller tries again later with a new handle.
	 */
	if (!s->rdonly && sqlite3_db_readonly(s->db, "main") == 1) {
		snprintf(err, errlen, "%s is read-only (file or folder "
		    "permissions)", path);
		rs = BD_EIO;
		goto fail;
	}
	if ((rs = add_functions(s)) != BD_OK) {
		snprintf(err, errlen, "%s", s->err);
		goto fail;
	}
	if ((rs = s->rdonly ? check_ro(s) : setup_rw(s)) != BD_OK) {
		snprintf(err, errlen, "%s", s->err);
		goto fail;
	}
	if (!s->rdonly)
		load_policy(s);
	*out = s;
	return BD_OK;
fail:
	sqlite3_close(s->db);
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
	sqlite3_close(s->db);
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
 * store_schema_version - the database's schema version
 *
 * Arguments: s; *version receives PRAGMA user_version.
 * Returns BD_OK or a database failure.
 */
enum bd_status
store_schema_version(struct store *s, int *version)
{
	enum bd_status	 rs;

	pthread_mutex_lock(&s->lock);
	rs = user_version(s, version);
	pthread_mutex_unlock(&s->lock);
	return rs;
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
	} else if ((r = store_exec(s, "BEGIN IMMEDIATE")) == BD_OK)
		s->batch = true;
	pthread_mutex_unlock(&s->lock);
	return r;
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
		if (!commit || (r = store_exec(s, "COMMIT")) != BD_OK)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}
