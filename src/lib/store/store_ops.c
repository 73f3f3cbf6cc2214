/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * store_ops.c - what an operator's tool asks of the store beyond single
 * queries: a read snapshot held across many lookups (bouncectl status -
 * answers 100,000 addresses a second: one read transaction per lookup
 * would cost two fcntl(2) locks and a stat(2) each), and a consistent
 * copy of a live database through SQLite's online backup API (a cp(1)
 * of the file while bounced writes loses what sits in the WAL).
 *
 * No logging; failures come back as a status and store_errmsg().
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"

/*
 * store_read_begin - hold one read snapshot for the next calls
 *
 * Arguments: s (read-only or read-write, no batch open).
 * Returns BD_OK or a database failure.
 * Notes: a deferred BEGIN; the snapshot is taken by the first read and
 * kept until store_read_end().  A long snapshot keeps the WAL from being
 * checkpointed past it: end it every few thousand reads.
 */
enum bd_status
store_read_begin(struct store *s)
{
	enum bd_status	 r;

	pthread_mutex_lock(&s->lock);
	if (s->batch) {
		store_seterr(s, "a batch is already open");
		r = BD_ECONFIG;
	} else if ((r = db_begin(s->db, false)) != BD_OK)
		r = store_dberr(s, "BEGIN");
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_read_end - let go of the snapshot of store_read_begin()
 *
 * Returns BD_OK or a database failure.
 */
enum bd_status
store_read_end(struct store *s)
{
	enum bd_status	 r = BD_OK;

	pthread_mutex_lock(&s->lock);
	if (db_in_transaction(s->db) && db_commit(s->db) != BD_OK)
		r = store_dberr(s, "COMMIT");
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_backup - copy the database to a new file, consistently
 *
 * Arguments: s (read-only is enough); path, a file that must not exist;
 * *pages receives the pages copied (may be NULL).
 * Returns BD_OK; BD_ECONFIG when path exists already; BD_EIO or
 * BD_EBUSY on a failure (text in store_errmsg(); the partial file is
 * removed).
 * Notes: SQLite's online backup (sqlite3_backup_*) in steps of 256 pages,
 * restarted by SQLite when another connection writes meanwhile; in WAL
 * mode the source is only read, so bounced goes on recording.  The copy
 * is created mode 0600 (it holds addresses) and checked with
 * PRAGMA quick_check.
 */
enum bd_status
store_backup(struct store *s, const char *path, int64_t *pages)
{
	sqlite3		*dst = NULL;
	sqlite3_backup	*b;
	sqlite3_stmt	*st;
	enum bd_status	 r = BD_OK;
	int		 rc, fd, tries = 0;
	const char	*ok;

	if (pages != NULL)
		*pages = 0;
	if (db_kind(s->db) != DB_SQLITE) {
		store_seterr(s, "backup copies a SQLite database; back up a "
		    "PostgreSQL one with pg_dump or the server's own means");
		return BD_ECONFIG;
	}
	/* O_EXCL: never over an existing file, whatever it is */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		store_seterr(s, "%s: %s", path, strerror(errno));
		return errno == EEXIST ? BD_ECONFIG : BD_EIO;
	}
	close(fd);
	if ((rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE,
	    NULL)) != SQLITE_OK) {
		store_seterr(s, "%s: %s", path, dst != NULL ?
		    sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		r = BD_EIO;
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	if ((b = sqlite3_backup_init(dst, "main", db_native(s->db),
	    "main")) == NULL) {
		store_seterr(s, "%s: %s", path, sqlite3_errmsg(dst));
		pthread_mutex_unlock(&s->lock);
		r = BD_EIO;
		goto out;
	}
	do {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			if (++tries > 500)	/* 5 s of a held lock */
				break;
			sqlite3_sleep(10);
		}
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	if (pages != NULL)
		*pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	pthread_mutex_unlock(&s->lock);
	if (rc != SQLITE_DONE) {
		store_seterr(s, "%s: %s", path, sqlite3_errstr(rc));
		r = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? BD_EBUSY :
		    BD_EIO;
		goto out;
	}
	if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st,
	    NULL) == SQLITE_OK) {
		rc = sqlite3_step(st);
		ok = (const char *)sqlite3_column_text(st, 0);
		if (rc != SQLITE_ROW || ok == NULL || strcmp(ok, "ok") != 0) {
			store_seterr(s, "%s: the copy fails its check: %s",
			    path, ok != NULL ? ok : sqlite3_errmsg(dst));
			r = BD_EIO;
		}
		sqlite3_finalize(st);
	}
out:
	sqlite3_close(dst);
	if (r != BD_OK)
		(void)unlink(path);
	return r;
}

/* A row of store_expire_list() or store_prune_list(). */
static int
row_cb(struct db_stmt *st, void *arg)
{
	struct { store_addr_cb cb; void *arg; } *w = arg;
	struct store_addr_row	 row;

	memset(&row, 0, sizeof(row));
	row.address = store_col_text(st, 0);
	row.reason = store_col_text(st, 1);
	row.since = db_column_int64(st, 2);
	row.count = db_column_int64(st, 3);
	row.until = db_column_int64(st, 4);
	return w->cb(w->arg, &row);
}

/*
 * store_expire_list - the addresses store_expire() would make active
 *
 * Arguments: s; now; rules/n as store_expire(); cb/arg, one call per
 * address (reason, since: suppressed_since), rule by rule, by address.
 * Returns BD_OK or a database failure.  Changes nothing: expire
 * --dry-run, and the list of a real run inside its transaction.
 */
enum bd_status
store_expire_list(struct store *s, int64_t now,
    const struct store_expiry *rules, size_t n, store_addr_cb cb, void *arg)
{
	struct { store_addr_cb cb; void *arg; } w = { cb, arg };
	struct db_stmt	*st;
	enum bd_status	 r = BD_OK;
	size_t		 i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n && r == BD_OK; i++) {
		/* the same choice as store_upkeep.c's expired_addrs() */
		if (strcmp(rules[i].reason, "manual") == 0 ||
		    rules[i].after <= 0)
			continue;
		if ((r = store_prepare(s, "SELECT address, reason, "
		    "suppressed_since, 0, 0 FROM recipients WHERE "
		    "state = 'suppressed' AND reason = ? AND "
		    "suppressed_since <= ? ORDER BY address", &st)) != BD_OK)
			break;
		store_bind_text(st, 1, rules[i].reason, 15);
		db_bind_int64(st, 2, now - rules[i].after);
		r = store_each_row(s, st, "expire", row_cb, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_prune_list - the addresses whose events store_prune() would
 * delete: count, since (oldest) and until (newest of those), by address
 *
 * Returns BD_OK or a database failure.  Changes nothing.
 */
enum bd_status
store_prune_list(struct store *s, int64_t before, store_addr_cb cb,
    void *arg)
{
	struct { store_addr_cb cb; void *arg; } w = { cb, arg };
	struct db_stmt	*st;
	enum bd_status	 r;

	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT recipient, NULL, MIN(ts), "
	    "COUNT(*), MAX(ts) FROM events WHERE ts < ? GROUP BY recipient "
	    "ORDER BY recipient", &st)) == BD_OK) {
		db_bind_int64(st, 1, before);
		r = store_each_row(s, st, "prune", row_cb, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_prune_hold - the events a prune would take from an event hook
 *
 * Arguments: s; before, the prune's date; *held receives whether some
 * event dated before it has not been handed to a hook yet (its feed row
 * is after the hook's cursor, "hook:NAME" in cursors); out, the hook
 * that is furthest behind: its cursor, the oldest date of the events it
 * still has to hand on and how many of them are dated before `before`.
 * Returns BD_OK or a database failure.  Changes nothing.
 * Notes: a pruned event takes its feed row with it (the feed_event_del
 * trigger), so a hook behind its cursor would skip it: the caller prunes
 * only before out->oldest, which keeps every such event, and says so.
 */
enum bd_status
store_prune_hold(struct store *s, int64_t before, bool *held,
    struct store_hold *out)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	*held = false;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT c.source, c.\"offset\", MIN(e.ts), "
	    "COUNT(e.id) FROM cursors c JOIN feed f ON f.id > c.\"offset\" "
	    "AND f.kind = 'event' JOIN events e ON e.id = f.event_id "
	    "WHERE c.source LIKE 'hook:%' AND e.ts < ? "
	    "GROUP BY c.source, c.\"offset\" ORDER BY 3, 1 LIMIT 1",
	    &st)) != BD_OK) {
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	db_bind_int64(st, 1, before);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*held = true;
		snprintf(out->hook, sizeof(out->hook), "%s",
		    store_col_text(st, 0) != NULL ? store_col_text(st, 0) : "");
		out->cursor = db_column_int64(st, 1);
		out->oldest = db_column_int64(st, 2);
		out->events = db_column_int64(st, 3);
	} else if (rc != DB_DONE)
		r = store_dberr(s, "prune: hooks");
	db_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- the feed (schema v4): events and state changes, by cursor ---- */

struct feed_walk {
	store_feed_cb	 cb;
	void		*arg;
	int64_t		*last;
};

/* The feed's 9 columns follow the event's, however many those are. */
#define FEED_NCOLS	9

static int
feed_row(struct db_stmt *st, void *arg)
{
	struct feed_walk	*w = arg;
	struct store_event_row	 e;
	struct store_feed_row	 f;
	int			 fc = db_column_count(st) - FEED_NCOLS;

	memset(&f, 0, sizeof(f));
	store_fill_event(st, &e);
	f.cursor = db_column_int64(st, fc);
	f.ts = db_column_int64(st, fc + 1);
	f.kind = store_col_text(st, fc + 2);
	f.recipient = store_col_text(st, fc + 3);
	f.event_id = db_column_int64(st, fc + 4);
	f.old_state = store_col_text(st, fc + 5);
	f.new_state = store_col_text(st, fc + 6);
	f.old_reason = store_col_text(st, fc + 7);
	f.new_reason = store_col_text(st, fc + 8);
	/* the event of an event row; of a state row, the newest event */
	f.event = !db_column_null(st, 0) ? &e : NULL;
	if (f.kind == NULL || f.recipient == NULL)
		return 0;
	*w->last = f.cursor;
	return w->cb(w->arg, &f);
}

/*
 * store_feed - the feed after a cursor
 *
 * Arguments: s (read-only is enough); after, the cursor of the last row
 * already handled (0: from the start); since, only rows recorded at or
 * after it (0: any); limit, the most rows (0: all); cb/arg, one call
 * per row in cursor order; *last receives the cursor of the last row
 * given (after when none).
 * Returns BD_OK (also when cb stopped) or a database failure.
 * Notes: a cursor is an integer that only grows; an event pruned since
 * is skipped.  The handle is locked while cb runs.
 */
enum bd_status
store_feed(struct store *s, int64_t after, int64_t since, int64_t limit,
    store_feed_cb cb, void *arg, int64_t *last)
{
	struct feed_walk	 w = { cb, arg, last };
	struct db_stmt		*st;
	enum bd_status		 r;

	*last = after;
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT e.*, f.id, f.ts, f.kind, f.recipient, "
	    "f.event_id, f.old_state, f.new_state, f.old_reason, f.new_reason "
	    "FROM feed f LEFT JOIN (SELECT " STORE_EVENT_COLUMNS " FROM events)"
	    " e ON e.id = f.event_id WHERE f.id > ?1 AND f.ts >= ?2 AND "
	    "(f.kind = 'state' OR e.id IS NOT NULL) ORDER BY f.id LIMIT ?3",
	    &st)) == BD_OK) {
		db_bind_int64(st, 1, after);
		db_bind_int64(st, 2, since);
		db_bind_int64(st, 3, limit > 0 ? limit : -1);
		r = store_each_row(s, st, "events", feed_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_feed_last - the newest cursor (0 when the feed is empty), for a
 * follower that starts "from now"
 */
enum bd_status
store_feed_last(struct store *s, int64_t *last)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	*last = 0;
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT COALESCE(MAX(id), 0) FROM feed",
	    &st)) == BD_OK) {
		if ((rc = db_step(st)) == DB_ROW)
			*last = db_column_int64(st, 0);
		else
			r = store_dberr(s, "events");
		db_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}
