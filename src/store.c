/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store.c - events and recipient state in SQLite.
 *
 * One connection per handle, guarded by a mutex, so the milter's worker
 * threads may share a handle; WAL journal so that bouncectl reads while
 * bounced writes; a busy timeout so that a short lock is waited out.
 * The schema is versioned with PRAGMA user_version and brought up to
 * date by the ordered migrations[] below (append v2, never edit v1).
 *
 * Recording is idempotent: every event has an identity (original queue
 * id, else Message-ID, else ENVID - else its date -, recipient, action,
 * status) that is UNIQUE in the events table; an INSERT OR IGNORE that
 * inserts nothing changes nothing else.  A new event is folded into the
 * recipient's state by state_apply() (state.c), the one rule.
 *
 * Schema v2 adds what the MTA log brings (logsource.c): the followers'
 * positions (cursors), the sends seen in the log with their latest
 * outcome (bounce rates by domain, day, campaign), and the ids of the
 * events that led to a suppression; store_sender_spikes() counts the
 * sender-side failures of the last hour per domain and reason, and
 * store_expire() ends suppressions by reason after a configured age.
 * store_batch_begin() wraps many records and a position in one
 * transaction (savepoints inside, journalled in memory).
 *
 * The store never logs and never exits: failures return a bd_status and
 * leave the text in store_errmsg().  Text from the network is bound as
 * parameters, never spliced into SQL, and cut to STORE_DIAG_MAX or
 * STORE_TEXT_MAX bytes (RFC 3464 section 2.3.6 diagnostics can be long).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "state.h"
#include "store.h"

#define STORE_STMT_CACHE	16	/* statements of the recording path kept */

struct store {
	sqlite3		*db;
	pthread_mutex_t	 lock;
	bool		 rdonly;
	bool		 batch;		/* store_batch_begin() is open */
	char		 err[512];
	struct {
		const char	*sql;	/* the literal's address is the key */
		sqlite3_stmt	*st;
	}		 cache[STORE_STMT_CACHE];
};

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
};
#define NMIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must match the migrations");

static void seterr(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
seterr(struct store *s, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* Status for an SQLite failure, with its text kept. */
static enum bd_status
dberr(struct store *s, int rc, const char *what)
{
	seterr(s, "%s: %s", what, sqlite3_errmsg(s->db));
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

static enum bd_status
exec(struct store *s, const char *sql)
{
	int	 rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return dberr(s, rc, sql[0] == 'C' ? "schema" : sql);
	return BD_OK;
}

static enum bd_status
prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	int	 rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL)) != SQLITE_OK) {
		*st = NULL;
		return dberr(s, rc, "prepare");
	}
	return BD_OK;
}

/*
 * A statement of the recording path, prepared once for the handle's
 * life (the log source records tens of thousands of events a run);
 * sql must be a string literal (its address is the key).  Give it back
 * with release().
 */
static enum bd_status
cached(struct store *s, const char *sql, sqlite3_stmt **st)
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
		return prepare(s, sql, st);
	if ((rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    st, NULL)) != SQLITE_OK) {
		*st = NULL;
		return dberr(s, rc, "prepare");
	}
	s->cache[i].sql = sql;
	s->cache[i].st = *st;
	return BD_OK;
}

/* Reset a cached() statement for its next use, or finalize another. */
static void
release(struct store *s, sqlite3_stmt *st)
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
 * A transaction of its own, or a savepoint inside an open batch (so that
 * a failure undoes only this call's changes and the batch goes on).
 */
static enum bd_status
tx_begin(struct store *s)
{
	return exec(s, s->batch ? "SAVEPOINT rec" : "BEGIN IMMEDIATE");
}

static void
tx_rollback(struct store *s)
{
	sqlite3_exec(s->db, s->batch ? "ROLLBACK TO rec; RELEASE rec" :
	    "ROLLBACK", NULL, NULL, NULL);
}

static enum bd_status
tx_commit(struct store *s)
{
	enum bd_status	 r;

	if ((r = exec(s, s->batch ? "RELEASE rec" : "COMMIT")) != BD_OK)
		tx_rollback(s);
	return r;
}

/* Bind text cut to max bytes, never inside a UTF-8 sequence; NULL -> NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *v, size_t max)
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

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void
copy_col(char *dst, size_t dstlen, sqlite3_stmt *st, int i)
{
	const char	*v = col_text(st, i);

	snprintf(dst, dstlen, "%s", v != NULL ? v : "");
}

static enum bd_status
user_version(struct store *s, int *v)
{
	sqlite3_stmt	*st;
	enum bd_status	 rs;
	int		 rc;

	if ((rs = prepare(s, "PRAGMA user_version", &st)) != BD_OK)
		return rs;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rs = dberr(s, rc, "user_version");
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
	if ((rs = exec(s, "BEGIN IMMEDIATE")) != BD_OK)
		return rs;
	if ((rs = user_version(s, &v)) != BD_OK)
		goto fail;
	if (v > NMIGRATIONS) {
		seterr(s, "database schema v%d is newer than this program's "
		    "(v%d)", v, NMIGRATIONS);
		rs = BD_ECONFIG;
		goto fail;
	}
	for (; v < NMIGRATIONS; v++) {
		if ((rs = exec(s, migrations[v])) != BD_OK)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rs = exec(s, sql)) != BD_OK)
			goto fail;
	}
	return exec(s, "COMMIT");
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rs;
}

/*
 * store_open - open a bounced database
 *
 * Arguments: path; flags, STORE_RDONLY to open read-only (never created
 * nor migrated); busy_ms, how long to wait for a lock; *out receives the
 * handle; err/errlen receive the reason of a failure.
 * Returns BD_OK; BD_EIO when the file cannot be opened or created (an
 * unwritable directory, a file that is not a database); BD_ECONFIG when
 * the schema is newer than the program, or (read-only) older or absent;
 * BD_EBUSY when locked past the timeout; BD_ENOMEM.
 * Notes: the journal is switched to WAL (read-write opens only; the mode
 * is persistent in the file).  The handle is thread-safe.
 */
enum bd_status
store_open(const char *path, unsigned flags, int busy_ms,
    struct store **out, char *err, size_t errlen)
{
	struct store	*s;
	enum bd_status	 rs;
	int		 rc, oflags, v;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
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
	oflags = s->rdonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_FULLMUTEX;
	if ((rc = sqlite3_open_v2(path, &s->db, oflags, NULL)) != SQLITE_OK) {
		snprintf(err, errlen, "%s", s->db != NULL ?
		    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rs = rc == SQLITE_NOMEM ? BD_ENOMEM : BD_EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, busy_ms > 0 ? busy_ms : 0);
	if (!s->rdonly) {
		/* WAL: readers (bouncectl) do not block the milter. */
		if ((rs = exec(s, "PRAGMA journal_mode = WAL")) != BD_OK ||
		    (rs = exec(s, "PRAGMA synchronous = NORMAL")) != BD_OK ||
		    (rs = exec(s, "PRAGMA cache_size = -16384")) != BD_OK ||
		    /* savepoints of a batch journal in memory, not a file */
		    (rs = exec(s, "PRAGMA temp_store = MEMORY")) != BD_OK ||
		    (rs = migrate(s)) != BD_OK) {
			snprintf(err, errlen, "%s", s->err);
			goto fail;
		}
	} else {
		if ((rs = user_version(s, &v)) != BD_OK) {
			snprintf(err, errlen, "%s", s->err);
			goto fail;
		}
		if (v != NMIGRATIONS) {
			if (v == 0)
				snprintf(err, errlen, "not a bounced database "
				    "(no schema)");
			else
				snprintf(err, errlen, "database schema v%d, "
				    "this program needs v%d%s", v, NMIGRATIONS,
				    v < NMIGRATIONS ? " (open it read-write "
				    "once to migrate)" : "");
			rs = BD_ECONFIG;
			goto fail;
		}
	}
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

static const char *
addr_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/* A recipient's row as the rule needs it, plus the suppressing event. */
struct rstate {
	struct state	 st;
	int64_t		 last_seen;
	int64_t		 suppress_event;
	char		 suppress_events[STORE_EVENTS_TEXT_MAX];
};

static enum bd_status
load_state(struct store *s, const char *addr, struct rstate *rs)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(rs, 0, sizeof(*rs));
	state_init(&rs->st);
	if ((r = cached(s, "SELECT state, reason, suppressed_since, "
	    "reset_at, manual_at, first_bounce, last_bounce, soft_marks, "
	    "last_seen, suppress_event, suppress_events FROM recipients "
	    "WHERE address = ?",
	    &st)) != BD_OK)
		return r;
	bind_text(st, 1, addr, ADDR_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		state_kind_parse(col_text(st, 0), &rs->st.kind);
		state_reason_parse(col_text(st, 1), &rs->st.reason);
		rs->st.since = sqlite3_column_int64(st, 2);
		rs->st.reset_at = sqlite3_column_int64(st, 3);
		rs->st.manual_at = sqlite3_column_int64(st, 4);
		rs->st.first_bounce = sqlite3_column_int64(st, 5);
		rs->st.last_bounce = sqlite3_column_int64(st, 6);
		state_marks_decode(&rs->st, col_text(st, 7));
		rs->last_seen = sqlite3_column_int64(st, 8);
		rs->suppress_event = sqlite3_column_int64(st, 9);
		copy_col(rs->suppress_events, sizeof(rs->suppress_events), st,
		    10);
		rc = SQLITE_DONE;
	}
	r = rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "load state");
	release(s, st);
	return r;
}

static enum bd_status
save_state(struct store *s, const char *addr, const struct rstate *rs)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		 marks[STATE_MARKS_TEXT_MAX];
	int		 rc;

	if ((r = cached(s, "INSERT OR IGNORE INTO recipients (address, "
	    "domain) VALUES (?, ?)", &st)) != BD_OK)
		return r;
	bind_text(st, 1, addr, ADDR_MAX);
	bind_text(st, 2, addr_domain(addr), ADDR_MAX);
	rc = sqlite3_step(st);
	release(s, st);
	if (rc != SQLITE_DONE)
		return dberr(s, rc, "insert recipient");
	if ((r = cached(s, "UPDATE recipients SET state = ?, reason = ?, "
	    "soft_count = ?, soft_marks = ?, suppressed_since = ?, "
	    "reset_at = ?, manual_at = ?, first_bounce = ?, last_bounce = ?, "
	    "suppress_event = ?, suppress_events = ? WHERE address = ?",
	    &st)) != BD_OK)
		return r;
	state_marks_encode(&rs->st, marks, sizeof(marks));
	sqlite3_bind_text(st, 1, state_kind_name(rs->st.kind), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state_reason_name(rs->st.reason), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)rs->st.nmarks);
	sqlite3_bind_text(st, 4, marks, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rs->st.kind == STATE_SUPPRESSED ?
	    rs->st.since : 0);
	sqlite3_bind_int64(st, 6, rs->st.reset_at);
	sqlite3_bind_int64(st, 7, rs->st.manual_at);
	sqlite3_bind_int64(st, 8, rs->st.first_bounce);
	sqlite3_bind_int64(st, 9, rs->st.last_bounce);
	if (rs->st.kind == STATE_SUPPRESSED && rs->suppress_event > 0)
		sqlite3_bind_int64(st, 10, rs->suppress_event);
	else
		sqlite3_bind_null(st, 10);
	bind_text(st, 11, rs->st.kind == STATE_SUPPRESSED ?
	    rs->suppress_events : "", sizeof(rs->suppress_events) - 1);
	bind_text(st, 12, addr, ADDR_MAX);
	rc = sqlite3_step(st);
	release(s, st);
	return rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "update recipient");
}

/* The "last event" columns, when ev is the newest seen for the address. */
static enum bd_status
save_last(struct store *s, const char *addr, int64_t id, int64_t when,
    const char *status, const char *reason, const char *diag)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	if ((r = cached(s, "UPDATE recipients SET last_seen = ?, "
	    "last_event = ?, last_status = ?, last_reason = ?, "
	    "last_diagnostic = ? WHERE address = ? AND last_seen <= ?",
	    &st)) != BD_OK)
		return r;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_int64(st, 2, id);
	bind_text(st, 3, status, VERDICT_STATUS_MAX - 1);
	bind_text(st, 4, reason, 47);
	bind_text(st, 5, diag, STORE_DIAG_MAX);
	bind_text(st, 6, addr, ADDR_MAX);
	sqlite3_bind_int64(st, 7, when);
	rc = sqlite3_step(st);
	release(s, st);
	return rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "update last");
}

/*
 * The events that led to a suppression that has just happened: for
 * soft-limit, the soft-bounced events of the streak (after the last
 * reset and manual action, inside the window ending at the suppression,
 * retries included), else the suppressing event alone.
 */
static enum bd_status
led_by(struct store *s, const char *addr, struct rstate *rs, int64_t ev_id,
    const struct store_policy *pol)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	size_t		 len = 0;
	int		 rc, n;

	rs->suppress_events[0] = '\0';
	if (rs->st.reason != STATE_REASON_SOFT_LIMIT) {
		snprintf(rs->suppress_events, sizeof(rs->suppress_events),
		    "%" PRId64, ev_id);
		return BD_OK;
	}
	if ((r = prepare(s, "SELECT id FROM events WHERE recipient = ?1 "
	    "AND class = 'soft' AND ts > ?2 AND ts >= ?3 AND ts >= ?4 "
	    "AND ts <= ?5 ORDER BY ts, id LIMIT ?6", &st)) != BD_OK)
		return r;
	bind_text(st, 1, addr, ADDR_MAX);
	sqlite3_bind_int64(st, 2, rs->st.reset_at);
	sqlite3_bind_int64(st, 3, rs->st.manual_at);
	sqlite3_bind_int64(st, 4, pol != NULL && pol->soft_window > 0 ?
	    rs->st.since - pol->soft_window : INT64_MIN);
	sqlite3_bind_int64(st, 5, rs->st.since);
	sqlite3_bind_int(st, 6, STORE_EVENTS_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = snprintf(rs->suppress_events + len,
		    sizeof(rs->suppress_events) - len, "%s%" PRId64,
		    len > 0 ? "," : "", (int64_t)sqlite3_column_int64(st, 0));
		if (n < 0 || (size_t)n >= sizeof(rs->suppress_events) - len) {
			rs->suppress_events[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	r = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? BD_OK :
	    dberr(s, rc, "suppressing events");
	sqlite3_finalize(st);
	return r;
}

/* Fold one input into addr's row; ev_id is the event that caused it. */
static enum bd_status
fold(struct store *s, const char *addr, const struct state_input *in,
    int64_t ev_id, const struct store_policy *pol)
{
	struct rstate	 rs;
	enum bd_status	 r;
	bool		 was_suppressed;
	enum state_reason r0;

	if ((r = load_state(s, addr, &rs)) != BD_OK)
		return r;
	was_suppressed = rs.st.kind == STATE_SUPPRESSED;
	r0 = rs.st.reason;
	state_apply(&rs.st, in, pol);
	if (rs.st.kind == STATE_SUPPRESSED &&
	    (!was_suppressed || rs.st.reason != r0)) {
		rs.suppress_event = ev_id;
		if ((r = led_by(s, addr, &rs, ev_id, pol)) != BD_OK)
			return r;
	}
	return save_state(s, addr, &rs);
}

static const char *
event_identity(const struct bd_event *ev, const char *rcpt, const char *key,
    char *out, size_t outlen)
{
	char	 tkey[32];

	if (key[0] == '\0') {
		snprintf(tkey, sizeof(tkey), "t:%" PRId64, ev->when);
		key = tkey;
	}
	snprintf(out, outlen, "%s|%s|%s|%s", key, rcpt,
	    ev_action_name(ev->action), ev->status != NULL ? ev->status : "");
	return out;
}

static const char insert_event_sql[] =
	"INSERT OR IGNORE INTO events (ts, recipient, domain, "
	"original_recipient, action, status, reply_code, reason, hard, who, "
	"advice, rule, diagnostic, remote_mta, reporting_mta, queue_id, "
	"message_id, envelope_id, sender, campaign, feedback_type, source, "
	"trusted, class, recorded_at, identity) VALUES (?, ?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/*
 * Insert one event row.  *id is its rowid, or 0 when the identity was
 * already known.
 */
static enum bd_status
insert_event(struct store *s, const struct bd_event *ev, const char *rcpt,
    const char *action, const char *class, const char *identity,
    int64_t now, int64_t *id)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	*id = 0;
	if ((r = cached(s, insert_event_sql, &st)) != BD_OK)
		return r;
	sqlite3_bind_int64(st, 1, ev->when);
	bind_text(st, 2, rcpt, ADDR_MAX);
	bind_text(st, 3, addr_domain(rcpt), ADDR_MAX);
	bind_text(st, 4, ev->original_recipient, STORE_TEXT_MAX);
	bind_text(st, 5, action, 32);
	bind_text(st, 6, ev->status, VERDICT_STATUS_MAX - 1);
	sqlite3_bind_int(st, 7, ev->reply_code);
	bind_text(st, 8, ev->verdict.reason, 47);
	sqlite3_bind_int(st, 9, ev->verdict.hard ? 1 : 0);
	bind_text(st, 10, ev_who_name(ev->verdict.who), 32);
	bind_text(st, 11, ev_advice_name(ev->verdict.advice), 32);
	bind_text(st, 12, ev->verdict.rule[0] ? ev->verdict.rule : NULL,
	    VERDICT_RULE_MAX - 1);
	bind_text(st, 13, ev->diagnostic, STORE_DIAG_MAX);
	bind_text(st, 14, ev->remote_mta, STORE_TEXT_MAX);
	bind_text(st, 15, ev->reporting_mta, STORE_TEXT_MAX);
	bind_text(st, 16, ev->queue_id, STORE_TEXT_MAX);
	bind_text(st, 17, ev->message_id, STORE_TEXT_MAX);
	bind_text(st, 18, ev->envelope_id, STORE_TEXT_MAX);
	bind_text(st, 19, ev->sender, STORE_TEXT_MAX);
	bind_text(st, 20, ev->campaign, STORE_TEXT_MAX);
	bind_text(st, 21, ev->feedback_type, STORE_TEXT_MAX);
	bind_text(st, 22, ev_source_name(ev->source), 32);
	sqlite3_bind_int(st, 23, ev->trusted ? 1 : 0);
	bind_text(st, 24, class, 32);
	sqlite3_bind_int64(st, 25, now);
	sqlite3_bind_text(st, 26, identity, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	release(s, st);
	if (rc != SQLITE_DONE)
		return dberr(s, rc, "insert event");
	if (sqlite3_changes(s->db) > 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return BD_OK;
}

static enum bd_status
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	release(s, st);
	return rc == SQLITE_DONE ? BD_OK : dberr(s, rc, what);
}

/*
 * Sends (schema v2): a delivery line of the log (sent, deferred, bounced)
 * is one send of the original message to the recipient; every event
 * about a known send, from the log or a DSN, moves its outcome when it
 * is at least as recent; a campaign value names every send of the
 * message.  Idempotent like the events: a line read twice adds nothing.
 */
static enum bd_status
note_send(struct store *s, const struct bd_event *ev, const char *rcpt,
    const char *class)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;

	if (ev->queue_id == NULL || ev->queue_id[0] == '\0')
		return BD_OK;
	if (ev->source == EV_SRC_LOG && (ev->action == EV_ACT_FAILED ||
	    ev->action == EV_ACT_DELAYED || ev->action == EV_ACT_DELIVERED)) {
		if ((r = cached(s, "INSERT OR IGNORE INTO sends (queue_id, "
		    "recipient, message_id, ts, domain, sender, campaign) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?)", &st)) != BD_OK)
			return r;
		bind_text(st, 1, ev->queue_id, STORE_TEXT_MAX);
		bind_text(st, 2, rcpt, ADDR_MAX);
		bind_text(st, 3, ev->message_id, STORE_TEXT_MAX);
		sqlite3_bind_int64(st, 4, ev->when);
		bind_text(st, 5, addr_domain(rcpt), ADDR_MAX);
		bind_text(st, 6, ev->sender, STORE_TEXT_MAX);
		bind_text(st, 7, ev->campaign != NULL &&
		    ev->campaign[0] != '\0' ? ev->campaign : NULL,
		    STORE_TEXT_MAX);
		if ((r = step_done(s, st, "insert send")) != BD_OK)
			return r;
	}
	if (strcmp(class, "delivered") == 0 || strcmp(class, "soft") == 0 ||
	    strcmp(class, "hard") == 0 || strcmp(class, "sender") == 0) {
		if ((r = cached(s, "UPDATE sends SET outcome = ?1, "
		    "outcome_ts = ?2, reason = ?3 WHERE queue_id = ?4 AND "
		    "recipient = ?5 AND outcome_ts <= ?2", &st)) != BD_OK)
			return r;
		sqlite3_bind_text(st, 1, class, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, ev->when);
		bind_text(st, 3, ev->verdict.reason, 47);
		bind_text(st, 4, ev->queue_id, STORE_TEXT_MAX);
		bind_text(st, 5, rcpt, ADDR_MAX);
		if ((r = step_done(s, st, "update send")) != BD_OK)
			return r;
	}
	if (ev->campaign != NULL && ev->campaign[0] != '\0') {
		if ((r = cached(s, "UPDATE sends SET campaign = ? WHERE "
		    "queue_id = ? AND campaign IS NULL", &st)) != BD_OK)
			return r;
		bind_text(st, 1, ev->campaign, STORE_TEXT_MAX);
		bind_text(st, 2, ev->queue_id, STORE_TEXT_MAX);
		if ((r = step_done(s, st, "send campaign")) != BD_OK)
			return r;
	}
	return BD_OK;
}

static enum bd_status
record_one(struct store *s, const struct bd_event *ev,
    const struct store_policy *pol, int64_t now, bool *isnew)
{
	struct state_input	 in;
	enum bd_status		 r;
	char			 rcpt[ADDR_MAX + 1], key[STATE_KEY_MAX];
	char			 ident[STATE_KEY_MAX + ADDR_MAX + 64];
	int64_t			 id;

	*isnew = false;
	/* Not an address: nothing to keep a state for (not an error). */
	if (ev->recipient == NULL ||
	    !addr_normalize(ev->recipient, rcpt, sizeof(rcpt)))
		return BD_OK;
	memset(&in, 0, sizeof(in));
	in.kind = state_event_kind(ev);
	in.when = ev->when;
	state_msgkey(ev, key, sizeof(key));
	in.msgkey = key;
	event_identity(ev, rcpt, key, ident, sizeof(ident));
	if ((r = insert_event(s, ev, rcpt, ev_action_name(ev->action),
	    state_input_name(in.kind), ident, now, &id)) != BD_OK)
		return r;
	/* also for a known event: the DSN may have come before the line */
	if ((r = note_send(s, ev, rcpt, state_input_name(in.kind))) != BD_OK)
		return r;
	if (id == 0)
		return BD_OK;	/* seen before: change nothing */
	*isnew = true;
	if ((r = fold(s, rcpt, &in, id, pol)) != BD_OK)
		return r;
	return save_last(s, rcpt, id, ev->when, ev->status,
	    ev->verdict.reason, ev->diagnostic);
}

/*
 * store_record - record the events of one message
 *
 * Arguments: s (read-write); evs/n, the events; pol, the suppression
 * policy; now, the recording time; *n_new (may be NULL) receives how many
 * events were new.
 * Returns BD_OK, or a failure after which nothing was recorded (the
 * transaction is rolled back, so the caller may TEMPFAIL and see the
 * same events again later).
 * Notes: events whose recipient is not an address are skipped.
 */
enum bd_status
store_record(struct store *s, const struct bd_event *evs, size_t n,
    const struct store_policy *pol, int64_t now, size_t *n_new)
{
	enum bd_status	 r;
	size_t		 i, nn = 0;
	bool		 isnew;

	if (n_new != NULL)
		*n_new = 0;
	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = tx_begin(s)) != BD_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = record_one(s, &evs[i], pol, now, &isnew)) != BD_OK) {
			tx_rollback(s);
			goto out;
		}
		if (isnew)
			nn++;
	}
	if ((r = tx_commit(s)) != BD_OK)
		goto out;
	if (n_new != NULL)
		*n_new = nn;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static enum bd_status
manual_one(struct store *s, const struct store_manual *m, const char *rcpt,
    enum state_reason reason)
{
	struct bd_event		 ev;
	struct state_input	 in;
	sqlite3_stmt		*st;
	enum bd_status		 r;
	const char		*act = m->suppress ? "suppress" : "unsuppress";
	char			 ident[ADDR_MAX + 160];
	int64_t			 id;
	int			 rc;

	memset(&ev, 0, sizeof(ev));
	ev.when = m->when;
	ev.diagnostic = m->why;
	ev.source = m->source;
	ev.trusted = true;
	ev.verdict.reason = m->suppress ? state_reason_name(reason) : NULL;
	/* the deciding "rule" of an operator's action is the operator */
	snprintf(ev.verdict.rule, sizeof(ev.verdict.rule), "%s by %.100s",
	    m->source == EV_SRC_IMPORT ? "import" : "manual",
	    m->by != NULL && m->by[0] != '\0' ? m->by : "unknown");
	snprintf(ident, sizeof(ident), "%s|%s|%s|%" PRId64 "|%.100s",
	    m->source == EV_SRC_IMPORT ? "import" : "manual", rcpt, act,
	    m->when, m->by != NULL ? m->by : "");
	if ((r = insert_event(s, &ev, rcpt, act, act, ident, m->when, &id)) !=
	    BD_OK)
		return r;
	if (id == 0)
		return BD_OK;	/* the same action twice in one second */
	memset(&in, 0, sizeof(in));
	in.kind = m->suppress ? STATE_IN_SUPPRESS : STATE_IN_UNSUPPRESS;
	in.when = m->when;
	in.reason = reason;
	in.manual = true;
	if ((r = fold(s, rcpt, &in, id, NULL)) != BD_OK)
		return r;
	if ((r = prepare(s, "UPDATE recipients SET manual_by = ?, "
	    "manual_why = ?, manual_at = ?, last_seen = MAX(last_seen, ?3) "
	    "WHERE address = ?", &st)) != BD_OK)
		return r;
	bind_text(st, 1, m->by, 127);
	bind_text(st, 2, m->why, 255);
	sqlite3_bind_int64(st, 3, m->when);
	bind_text(st, 4, rcpt, ADDR_MAX);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "update manual");
}

/*
 * store_manual - apply operator actions (suppress, unsuppress, import)
 *
 * Arguments: s (read-write); ops/n; *bad (may be NULL) receives the
 * index of the refused action.
 * Returns BD_OK with every action applied, or an error with none applied:
 * BD_EPARSE for an address addr_normalize() refuses or an unknown
 * reason (see store_errmsg()), or a database failure.
 * Notes: the action always wins over automatic events dated before it;
 * an unsuppressed address becomes active with a soft count of 0.
 */
enum bd_status
store_manual(struct store *s, const struct store_manual *ops, size_t n,
    size_t *bad)
{
	enum state_reason	 reason;
	enum bd_status		 r;
	char			 rcpt[ADDR_MAX + 1];
	size_t			 i;

	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = exec(s, "BEGIN IMMEDIATE")) != BD_OK)
		goto out;
	for (i = 0; i < n; i++) {
		reason = STATE_REASON_MANUAL;
		if (ops[i].address == NULL ||
		    !addr_normalize(ops[i].address, rcpt, sizeof(rcpt))) {
			seterr(s, "not an address: \"%.80s\"",
			    ops[i].address != NULL ? ops[i].address : "");
			r = BD_EPARSE;
		} else if (ops[i].suppress && ops[i].reason != NULL &&
		    (!state_reason_parse(ops[i].reason, &reason) ||
		    reason == STATE_REASON_NONE)) {
			seterr(s, "unknown suppression reason \"%.40s\"",
			    ops[i].reason);
			r = BD_EPARSE;
		} else
			r = manual_one(s, &ops[i], rcpt, reason);
		if (r != BD_OK) {
			if (bad != NULL)
				*bad = i;
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
	}
	if ((r = exec(s, "COMMIT")) != BD_OK)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

#define RCPT_COLUMNS \
	"address, domain, state, reason, soft_count, suppressed_since, " \
	"first_bounce, last_bounce, last_seen, last_status, last_reason, " \
	"last_diagnostic, manual_by, manual_why, manual_at, suppress_events"

static void
fill_recipient(sqlite3_stmt *st, struct store_recipient *r)
{
	memset(r, 0, sizeof(*r));
	copy_col(r->address, sizeof(r->address), st, 0);
	copy_col(r->domain, sizeof(r->domain), st, 1);
	copy_col(r->state, sizeof(r->state), st, 2);
	copy_col(r->reason, sizeof(r->reason), st, 3);
	r->soft_count = (unsigned)sqlite3_column_int(st, 4);
	r->suppressed_since = sqlite3_column_int64(st, 5);
	r->first_bounce = sqlite3_column_int64(st, 6);
	r->last_bounce = sqlite3_column_int64(st, 7);
	r->last_seen = sqlite3_column_int64(st, 8);
	copy_col(r->last_status, sizeof(r->last_status), st, 9);
	copy_col(r->last_reason, sizeof(r->last_reason), st, 10);
	copy_col(r->last_diagnostic, sizeof(r->last_diagnostic), st, 11);
	copy_col(r->manual_by, sizeof(r->manual_by), st, 12);
	copy_col(r->manual_why, sizeof(r->manual_why), st, 13);
	r->manual_at = sqlite3_column_int64(st, 14);
	copy_col(r->suppress_events, sizeof(r->suppress_events), st, 15);
}

/*
 * store_lookup - the state of one address
 *
 * Arguments: s; address, any form addr_normalize() accepts; out.
 * Returns BD_OK; BD_ENOTFOUND when the address was never seen; BD_EPARSE
 * when it is not an address; a database failure.
 */
enum bd_status
store_lookup(struct store *s, const char *address,
    struct store_recipient *out)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		 rcpt[ADDR_MAX + 1];
	int		 rc;

	if (!addr_normalize(address, rcpt, sizeof(rcpt))) {
		seterr(s, "not an address: \"%.80s\"", address);
		return BD_EPARSE;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = prepare(s, "SELECT " RCPT_COLUMNS " FROM recipients "
	    "WHERE address = ?", &st)) != BD_OK)
		goto out;
	bind_text(st, 1, rcpt, ADDR_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fill_recipient(st, out);
		r = BD_OK;
	} else if (rc == SQLITE_DONE) {
		seterr(s, "%s: never seen", rcpt);
		r = BD_ENOTFOUND;
	} else
		r = dberr(s, rc, "lookup");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_list - recipients matching a filter, ordered by address
 *
 * Arguments: s; f (NULL: all); cb called once per recipient with arg.
 * Returns BD_OK (also when cb stopped early) or a database failure.
 * Notes: the handle is locked while cb runs: cb must not call the store.
 */
enum bd_status
store_list(struct store *s, const struct store_filter *f,
    store_recipient_cb cb, void *arg)
{
	static const struct store_filter none;
	struct store_recipient	*r;
	sqlite3_stmt		*st;
	enum bd_status		 rs;
	char			 dom[256];
	size_t			 i;
	int			 rc;

	if (f == NULL)
		f = &none;
	if ((r = malloc(sizeof(*r))) == NULL) {
		seterr(s, "out of memory");
		return BD_ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	if ((rs = prepare(s, "SELECT " RCPT_COLUMNS " FROM recipients WHERE "
	    "(?1 IS NULL OR state = ?1) AND "
	    "(?2 IS NULL OR reason = ?2 OR last_reason = ?2) AND "
	    "(?3 IS NULL OR domain = ?3) AND "
	    "(?4 = 0 OR last_seen >= ?4) "
	    "ORDER BY address LIMIT ?5 OFFSET ?6", &st)) != BD_OK)
		goto out;
	bind_text(st, 1, f->state, 32);
	bind_text(st, 2, f->reason, 47);
	if (f->domain != NULL) {
		for (i = 0; f->domain[i] != '\0' && i < sizeof(dom) - 1; i++)
			dom[i] = (f->domain[i] >= 'A' && f->domain[i] <= 'Z') ?
			    (char)(f->domain[i] - 'A' + 'a') : f->domain[i];
		dom[i] = '\0';
		bind_text(st, 3, dom, sizeof(dom) - 1);
	}
	sqlite3_bind_int64(st, 4, f->since > 0 ? f->since : 0);
	sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
	sqlite3_bind_int64(st, 6, f->offset > 0 ? f->offset : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_recipient(st, r);
		if (cb(arg, r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rs = rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "list");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	free(r);
	return rs;
}

#define EVENT_COLUMNS \
	"id, ts, recorded_at, recipient, original_recipient, action, " \
	"status, reply_code, reason, hard, who, advice, rule, diagnostic, " \
	"remote_mta, reporting_mta, queue_id, message_id, envelope_id, " \
	"sender, campaign, feedback_type, source, trusted, class"

static void
fill_event(sqlite3_stmt *st, struct store_event_row *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->when = sqlite3_column_int64(st, 1);
	e->recorded_at = sqlite3_column_int64(st, 2);
	e->recipient = col_text(st, 3);
	e->original_recipient = col_text(st, 4);
	e->action = col_text(st, 5);
	e->status = col_text(st, 6);
	e->reply_code = sqlite3_column_int(st, 7);
	e->reason = col_text(st, 8);
	e->hard = sqlite3_column_int(st, 9) != 0;
	e->who = col_text(st, 10);
	e->advice = col_text(st, 11);
	e->rule = col_text(st, 12);
	e->diagnostic = col_text(st, 13);
	e->remote_mta = col_text(st, 14);
	e->reporting_mta = col_text(st, 15);
	e->queue_id = col_text(st, 16);
	e->message_id = col_text(st, 17);
	e->envelope_id = col_text(st, 18);
	e->sender = col_text(st, 19);
	e->campaign = col_text(st, 20);
	e->feedback_type = col_text(st, 21);
	e->source = col_text(st, 22);
	e->trusted = sqlite3_column_int(st, 23) != 0;
	e->class = col_text(st, 24);
}

/*
 * store_history - every event of one address, oldest first
 *
 * Arguments: s; address, any form addr_normalize() accepts; cb/arg.
 * Returns BD_OK (also when there is none, or cb stopped early);
 * BD_EPARSE when address is not an address; a database failure.
 * Notes: the row's strings live only during cb; cb must not call the store.
 */
enum bd_status
store_history(struct store *s, const char *address, store_event_cb cb,
    void *arg)
{
	struct store_event_row	 e;
	sqlite3_stmt		*st;
	enum bd_status		 rs;
	char			 rcpt[ADDR_MAX + 1];
	int			 rc;

	if (!addr_normalize(address, rcpt, sizeof(rcpt))) {
		seterr(s, "not an address: \"%.80s\"", address);
		return BD_EPARSE;
	}
	pthread_mutex_lock(&s->lock);
	if ((rs = prepare(s, "SELECT " EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ? ORDER BY ts, id", &st)) != BD_OK)
		goto out;
	bind_text(st, 1, rcpt, ADDR_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_event(st, &e);
		if (cb(arg, &e) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rs = rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "history");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/* Grouping keys of store_stats(): for events, suppressed rows and sends. */
static const struct {
	const char	*by;
	const char	*ekey;
	const char	*rkey;
	const char	*skey;		/* NULL: sends do not group so */
} stat_keys[] = {
	{ NULL, "'total'", "'total'", "'total'" },
	{ "domain", "domain", "r.domain", "domain" },
	{ "reason", "COALESCE(reason, '')", "COALESCE(e.reason, r.reason)",
	    NULL },
	{ "day", "date(ts, 'unixepoch')",
	    "date(r.suppressed_since, 'unixepoch')", "date(ts, 'unixepoch')" },
	{ "campaign", "COALESCE(campaign, '')", "COALESCE(e.campaign, '')",
	    "COALESCE(campaign, '')" },
};

/*
 * store_stats - counts of events by class and of suppressed addresses
 *
 * Arguments: s; by, NULL for one "total" row, or "domain", "reason",
 * "day" (UTC), "campaign"; cb/arg, one call per group in key order.
 * Returns BD_OK; BD_ECONFIG for an unknown by; a database failure.
 * Notes: store_stats_since(s, by, 0, cb, arg).
 */
enum bd_status
store_stats(struct store *s, const char *by, store_stat_cb cb, void *arg)
{
	return store_stats_since(s, by, 0, cb, arg);
}

/*
 * store_stats_since - counts of events, sends and suppressed addresses
 *
 * Arguments: s; by, NULL for one "total" row, or "domain", "reason",
 * "day" (UTC), "campaign"; since, only events and sends dated at or
 * after it count (0: all); cb/arg, one call per group in key order.
 * Returns BD_OK; BD_ECONFIG for an unknown by; a database failure.
 * Notes: suppressed addresses (now, whatever since says) are grouped by
 * the event that suppressed them (its reason, campaign), by their
 * domain, or by the day they were suppressed.  Operator actions are not
 * counted as events.  Sends come from the MTA log only (schema v2),
 * grouped by the recipient's domain, the day of the first attempt or the
 * campaign; each counts once, by its latest outcome.
 */
enum bd_status
store_stats_since(struct store *s, const char *by, int64_t since,
    store_stat_cb cb, void *arg)
{
	struct store_stat_row	 row;
	sqlite3_stmt		*st;
	enum bd_status		 rs;
	char			 sql[2048], sends[512];
	size_t			 i, k = 0;
	int			 rc;

	for (i = 0; i < sizeof(stat_keys) / sizeof(stat_keys[0]); i++) {
		if ((by == NULL && stat_keys[i].by == NULL) ||
		    (by != NULL && stat_keys[i].by != NULL &&
		    strcmp(by, stat_keys[i].by) == 0)) {
			k = i;
			break;
		}
	}
	if (i == sizeof(stat_keys) / sizeof(stat_keys[0])) {
		seterr(s, "unknown grouping \"%.40s\" (domain, reason, day, "
		    "campaign)", by);
		return BD_ECONFIG;
	}
	sends[0] = '\0';
	if (stat_keys[k].skey != NULL)
		snprintf(sends, sizeof(sends), "UNION ALL SELECT %s, 0, 0, 0, "
		    "0, 0, 0, 1, outcome = 'delivered', outcome = 'soft', "
		    "outcome = 'hard', outcome = 'sender' FROM sends "
		    "WHERE ts >= ?1 ", stat_keys[k].skey);
	/* The keys are constants of this file, never user text. */
	snprintf(sql, sizeof(sql),
	    "SELECT k, SUM(ev), SUM(h), SUM(so), SUM(se), SUM(de), SUM(su), "
	    "SUM(sn), SUM(sd), SUM(ss), SUM(sh), SUM(sx) "
	    "FROM (SELECT %s AS k, 1 AS ev, class = 'hard' AS h, "
	    "class = 'soft' AS so, class = 'sender' AS se, "
	    "class = 'delivered' AS de, 0 AS su, 0 AS sn, 0 AS sd, 0 AS ss, "
	    "0 AS sh, 0 AS sx FROM events "
	    "WHERE class NOT IN ('suppress', 'unsuppress') AND ts >= ?1 "
	    "UNION ALL SELECT %s, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 "
	    "FROM recipients r LEFT JOIN events e ON e.id = r.suppress_event "
	    "WHERE r.state = 'suppressed' %s) GROUP BY k ORDER BY k",
	    stat_keys[k].ekey, stat_keys[k].rkey, sends);
	pthread_mutex_lock(&s->lock);
	if ((rs = prepare(s, sql, &st)) != BD_OK)
		goto out;
	sqlite3_bind_int64(st, 1, since > 0 ? since : INT64_MIN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.key = col_text(st, 0) != NULL ? col_text(st, 0) : "";
		row.events = sqlite3_column_int64(st, 1);
		row.hard = sqlite3_column_int64(st, 2);
		row.soft = sqlite3_column_int64(st, 3);
		row.sender = sqlite3_column_int64(st, 4);
		row.delivered = sqlite3_column_int64(st, 5);
		row.suppressed = sqlite3_column_int64(st, 6);
		row.sends = sqlite3_column_int64(st, 7);
		row.sends_delivered = sqlite3_column_int64(st, 8);
		row.sends_soft = sqlite3_column_int64(st, 9);
		row.sends_hard = sqlite3_column_int64(st, 10);
		row.sends_sender = sqlite3_column_int64(st, 11);
		if (cb(arg, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rs = rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "stats");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/*
 * store_prune - forget old events
 *
 * Arguments: s (read-write); before, events dated earlier go;
 * *n_deleted (may be NULL) receives how many.
 * Returns BD_OK or a database failure.
 * Notes: recipient states, soft streaks and manual notes are kept;
 * store_rebuild() afterwards only sees the events left.
 */
enum bd_status
store_prune(struct store *s, int64_t before, int64_t *n_deleted)
{
	sqlite3_stmt	*st;
	enum bd_status	 rs;
	int		 rc;

	if (n_deleted != NULL)
		*n_deleted = 0;
	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((rs = prepare(s, "DELETE FROM events WHERE ts < ?", &st)) !=
	    BD_OK)
		goto out;
	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		rs = dberr(s, rc, "prune");
	else if (n_deleted != NULL)
		*n_deleted = sqlite3_changes(s->db);
out:
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/* Rebuild one address: fold its events, oldest first, from scratch. */
static enum bd_status
rebuild_one(struct store *s, const char *addr, const struct store_policy *pol)
{
	struct store_event_row	 e;
	struct bd_event		 ev;
	struct state_input	 in;
	struct rstate		 rs;
	sqlite3_stmt		*st;
	enum bd_status		 r;
	enum state_reason	 r0;
	char			 key[STATE_KEY_MAX];
	bool			 was;
	int			 rc;

	memset(&rs, 0, sizeof(rs));
	state_init(&rs.st);
	if ((r = prepare(s, "SELECT " EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ? ORDER BY ts, id", &st)) != BD_OK)
		return r;
	bind_text(st, 1, addr, ADDR_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_event(st, &e);
		memset(&in, 0, sizeof(in));
		in.when = e.when;
		if (e.action != NULL && (strcmp(e.action, "suppress") == 0 ||
		    strcmp(e.action, "unsuppress") == 0)) {
			in.kind = e.action[0] == 's' ? STATE_IN_SUPPRESS :
			    STATE_IN_UNSUPPRESS;
			if (!state_reason_parse(e.reason, &in.reason))
				in.reason = STATE_REASON_MANUAL;
			in.manual = true;
		} else {
			memset(&ev, 0, sizeof(ev));
			ev.when = e.when;
			ev.action = ev_action_parse(e.action);
			ev.status = e.status;
			ev.queue_id = e.queue_id;
			ev.message_id = e.message_id;
			ev.envelope_id = e.envelope_id;
			ev.feedback_type = e.feedback_type;
			ev.verdict.reason = e.reason;
			ev.verdict.hard = e.hard;
			ev.verdict.who = (e.who != NULL &&
			    strcmp(e.who, "sender") == 0) ? EV_WHO_SENDER :
			    EV_WHO_RECIPIENT;
			in.kind = state_event_kind(&ev);
			state_msgkey(&ev, key, sizeof(key));
			in.msgkey = key;
		}
		was = rs.st.kind == STATE_SUPPRESSED;
		r0 = rs.st.reason;
		state_apply(&rs.st, &in, pol);
		if (rs.st.kind == STATE_SUPPRESSED &&
		    (!was || rs.st.reason != r0)) {
			rs.suppress_event = e.id;
			if ((r = led_by(s, addr, &rs, e.id, pol)) != BD_OK)
				break;
		}
	}
	sqlite3_finalize(st);
	if (r != BD_OK)
		return r;
	if (rc != SQLITE_DONE)
		return dberr(s, rc, "rebuild");
	return save_state(s, addr, &rs);
}

/*
 * store_rebuild - recompute every state from the events kept
 *
 * Arguments: s (read-write); pol, the policy to apply.
 * Returns BD_OK or a failure (then nothing changed).
 * Notes: addresses whose events were all pruned keep their state.
 */
enum bd_status
store_rebuild(struct store *s, const struct store_policy *pol)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		*addr;
	int		 rc;

	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = exec(s, "BEGIN IMMEDIATE")) != BD_OK)
		goto out;
	if ((r = prepare(s, "SELECT DISTINCT recipient FROM events "
	    "ORDER BY recipient", &st)) != BD_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((addr = strdup(col_text(st, 0))) == NULL) {
			seterr(s, "out of memory");
			r = BD_ENOMEM;
			break;
		}
		r = rebuild_one(s, addr, pol);
		free(addr);
		if (r != BD_OK)
			break;
	}
	if (r == BD_OK && rc != SQLITE_DONE)
		r = dberr(s, rc, "rebuild");
	sqlite3_finalize(st);
	if (r == BD_OK && (r = exec(s, "COMMIT")) == BD_OK)
		goto out;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- schema v2: log cursors, batches, sender-side spikes, expiry ---- */

/*
 * store_cursor_get - the position kept for a log source
 *
 * Arguments: s; source, the source name ("file:/var/log/mail.log");
 * out, filled.
 * Returns BD_OK; BD_ENOTFOUND when none was kept (out is zeroed); a
 * database failure.
 */
enum bd_status
store_cursor_get(struct store *s, const char *source, struct store_cursor *out)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((r = prepare(s, "SELECT dev, inode, offset, updated FROM cursors "
	    "WHERE source = ?", &st)) != BD_OK)
		goto out;
	bind_text(st, 1, source, STORE_TEXT_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->dev = (uint64_t)sqlite3_column_int64(st, 0);
		out->ino = (uint64_t)sqlite3_column_int64(st, 1);
		out->off = (uint64_t)sqlite3_column_int64(st, 2);
		out->updated = sqlite3_column_int64(st, 3);
		r = BD_OK;
	} else if (rc == SQLITE_DONE) {
		seterr(s, "no position kept for %.200s", source);
		r = BD_ENOTFOUND;
	} else
		r = dberr(s, rc, "cursor");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_cursor_set - keep the position of a log source
 *
 * Arguments: s (read-write); source; c, the position (c->updated is
 * ignored); now, the time stored with it.
 * Returns BD_OK or a database failure.
 * Notes: inside store_batch_begin() it commits with the batch, so the
 * events of a batch of lines and the position after them are kept
 * together or not at all: no line is counted twice after a crash.
 */
enum bd_status
store_cursor_set(struct store *s, const char *source,
    const struct store_cursor *c, int64_t now)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;

	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = tx_begin(s)) != BD_OK)
		goto out;
	if ((r = prepare(s, "INSERT INTO cursors (source, dev, inode, offset, "
	    "updated) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(source) DO "
	    "UPDATE SET dev = ?2, inode = ?3, offset = ?4, updated = ?5",
	    &st)) != BD_OK) {
		tx_rollback(s);
		goto out;
	}
	bind_text(st, 1, source, STORE_TEXT_MAX);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->ino);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->off);
	sqlite3_bind_int64(st, 5, now);
	if ((r = step_done(s, st, "set cursor")) != BD_OK) {
		tx_rollback(s);
		goto out;
	}
	r = tx_commit(s);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
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

	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if (s->batch) {
		seterr(s, "a batch is already open");
		r = BD_ECONFIG;
	} else if ((r = exec(s, "BEGIN IMMEDIATE")) == BD_OK)
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
		if (!commit || (r = exec(s, "COMMIT")) != BD_OK)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_sender_spikes - sender-side failures of the last hour
 *
 * Arguments: s; now; rate_per_hour, the threshold (at least 1); cb/arg,
 * called for each (domain, reason) group with at least rate_per_hour
 * events dated in [now - 3600, now], most first (cb may be NULL);
 * *crossed (may be NULL) receives whether any group did.
 * Returns BD_OK or a database failure.
 * Notes: sender-side reasons (blocked, reputation, authentication, rate
 * limits, content) never count against an address (state.c); this is
 * where they count, per destination domain and reason, so that the
 * caller can log a warning that an operator alerts on.
 */
enum bd_status
store_sender_spikes(struct store *s, int64_t now, int64_t rate_per_hour,
    store_rate_cb cb, void *arg, bool *crossed)
{
	struct store_rate_row	 row;
	sqlite3_stmt		*st;
	enum bd_status		 r;
	int			 rc;

	if (crossed != NULL)
		*crossed = false;
	pthread_mutex_lock(&s->lock);
	if ((r = prepare(s, "SELECT domain, COALESCE(reason, ''), COUNT(*) "
	    "FROM events WHERE class = 'sender' AND ts >= ?1 AND ts <= ?2 "
	    "GROUP BY domain, reason HAVING COUNT(*) >= ?3 "
	    "ORDER BY 3 DESC, 1, 2", &st)) != BD_OK)
		goto out;
	sqlite3_bind_int64(st, 1, now - 3600);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, rate_per_hour > 0 ? rate_per_hour : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (crossed != NULL)
			*crossed = true;
		row.domain = col_text(st, 0) != NULL ? col_text(st, 0) : "";
		row.reason = col_text(st, 1) != NULL ? col_text(st, 1) : "";
		row.count = sqlite3_column_int64(st, 2);
		if (cb != NULL && cb(arg, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	r = rc == SQLITE_DONE ? BD_OK : dberr(s, rc, "sender spikes");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* A duration: N[smhdwy], a bare number being days; false if bad. */
static bool
parse_duration(const char *p, size_t len, int64_t *out)
{
	int64_t		 v = 0, unit = 86400;
	size_t		 i;

	for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > 100000000)
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (i == 0 || v == 0)
		return false;
	if (i < len) {
		if (i + 1 != len)
			return false;
		switch (p[i]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		case 'y': unit = 365 * 86400; break;
		default: return false;
		}
	}
	*out = v * unit;
	return true;
}

/*
 * store_expiry_parse - parse expiry rules
 *
 * Arguments: text, rules separated by commas or white space, each
 * REASON:DURATION ("soft-limit:180d"); rules/max receive them; *n their
 * count; err/errlen why a rule was refused.
 * Returns true, or false (nothing usable) on a bad rule.
 * Notes: reasons are hard, soft-limit, complaint and imported; manual
 * suppressions never expire (an operator's action always wins).  An
 * empty text is no rule at all: expiry is off.
 */
bool
store_expiry_parse(const char *text, struct store_expiry *rules, size_t max,
    size_t *n, char *err, size_t errlen)
{
	static const char *const ok[] = { "hard", "soft-limit", "complaint",
	    "imported" };
	const char	*p = text, *e, *colon;
	size_t		 len, i, k;

	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	while (p != NULL && *p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		len = (size_t)(e - p);
		colon = memchr(p, ':', len);
		if (colon == NULL) {
			snprintf(err, errlen, "\"%.*s\": want REASON:DURATION",
			    (int)(len > 60 ? 60 : len), p);
			return false;
		}
		for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
			if (strlen(ok[k]) == (size_t)(colon - p) &&
			    strncmp(ok[k], p, (size_t)(colon - p)) == 0)
				break;
		if (k == sizeof(ok) / sizeof(ok[0])) {
			snprintf(err, errlen, "\"%.*s\": the reason is not "
			    "hard, soft-limit, complaint or imported (manual "
			    "suppressions never expire)",
			    (int)(colon - p > 40 ? 40 : colon - p), p);
			return false;
		}
		for (i = 0; i < *n; i++) {
			if (strcmp(rules[i].reason, ok[k]) == 0) {
				snprintf(err, errlen, "%s given twice", ok[k]);
				return false;
			}
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %zu rules", max);
			return false;
		}
		if (!parse_duration(colon + 1, (size_t)(e - colon - 1),
		    &rules[*n].after)) {
			snprintf(err, errlen, "\"%.*s\": bad duration (N with "
			    "s, m, h, d, w or y)", (int)(len > 60 ? 60 : len), p);
			return false;
		}
		snprintf(rules[*n].reason, sizeof(rules[*n].reason), "%s",
		    ok[k]);
		(*n)++;
		p = e;
	}
	return true;
}

/*
 * store_expire - end suppressions older than their reason's rule
 *
 * Arguments: s (read-write); now; rules/n (n 0: nothing to do);
 * *n_expired (may be NULL) receives how many addresses became active.
 * Returns BD_OK or a failure (then nothing changed).
 * Notes: each expiry is an "unsuppress" event by "expiry" whose note
 * names the rule, so history shows why; it counts as an operator action
 * (older automatic events cannot suppress again).  Manual suppressions
 * are never touched.
 */
enum bd_status
store_expire(struct store *s, int64_t now, const struct store_expiry *rules,
    size_t n, int64_t *n_expired)
{
	struct store_manual	 m;
	sqlite3_stmt		*st;
	enum bd_status		 r = BD_OK;
	char			**addrs = NULL, **na, why[160];
	size_t			 i, j, na_n = 0, cap = 0;
	int			 rc;

	if (n_expired != NULL)
		*n_expired = 0;
	if (n == 0)
		return BD_OK;
	if (s->rdonly) {
		seterr(s, "store opened read-only");
		return BD_EIO;
	}
	pthread_mutex_lock(&s->lock);
	if ((r = tx_begin(s)) != BD_OK)
		goto out;
	for (i = 0; i < n && r == BD_OK; i++) {
		if (strcmp(rules[i].reason, "manual") == 0 ||
		    rules[i].after <= 0)
			continue;
		if ((r = prepare(s, "SELECT address FROM recipients WHERE "
		    "state = 'suppressed' AND reason = ? AND "
		    "suppressed_since <= ? ORDER BY address", &st)) != BD_OK)
			break;
		bind_text(st, 1, rules[i].reason, 15);
		sqlite3_bind_int64(st, 2, now - rules[i].after);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (na_n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((na = reallocarray(addrs, cap,
				    sizeof(*addrs))) == NULL) {
					rc = SQLITE_NOMEM;
					break;
				}
				addrs = na;
			}
			if ((addrs[na_n] = strdup(col_text(st, 0))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			na_n++;
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_NOMEM) {
			seterr(s, "out of memory");
			r = BD_ENOMEM;
		} else if (rc != SQLITE_DONE)
			r = dberr(s, rc, "expire");
		if (r != BD_OK)
			break;
		for (j = 0; j < na_n && r == BD_OK; j++) {
			memset(&m, 0, sizeof(m));
			if (rules[i].after % 86400 == 0)
				snprintf(why, sizeof(why), "expiry: %s "
				    "suppression older than %" PRId64 " days",
				    rules[i].reason, rules[i].after / 86400);
			else
				snprintf(why, sizeof(why), "expiry: %s "
				    "suppression older than %" PRId64 " s",
				    rules[i].reason, rules[i].after);
			m.address = addrs[j];
			m.suppress = false;
			m.by = "expiry";
			m.why = why;
			m.when = now;
			m.source = EV_SRC_MANUAL;
			r = manual_one(s, &m, addrs[j], STATE_REASON_NONE);
			if (r == BD_OK && n_expired != NULL)
				(*n_expired)++;
		}
		for (j = 0; j < na_n; j++)
			free(addrs[j]);
		na_n = 0;
	}
	if (r == BD_OK)
		r = tx_commit(s);
	else {
		tx_rollback(s);
		if (n_expired != NULL)
			*n_expired = 0;
	}
out:
	pthread_mutex_unlock(&s->lock);
	for (j = 0; j < na_n; j++)
		free(addrs[j]);
	free(addrs);
	return r;
}
