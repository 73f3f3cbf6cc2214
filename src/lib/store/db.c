/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * db.c - the engine-neutral half of db.h: which engine a Database value
 * names, the connection and statement objects, parameters kept as text
 * for PostgreSQL, transactions, and the dispatch to db_sqlite.c and
 * db_pg.c.
 *
 * Pure apart from the engines' own I/O: no logging, no clock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_int.h"

/*
 * db_target_kind - which engine a Database value names
 *
 * Arguments: target, as configured.
 * Returns DB_POSTGRES for a libpq URL ("postgresql://", "postgres://")
 * or a libpq conninfo ("host=/run/postgresql dbname=bounced": it starts
 * with a keyword, letters or '_', and '='); DB_SQLITE (a file path)
 * otherwise.  conf.c's CK_DATABASE accepts the same forms.
 */
enum db_kind
db_target_kind(const char *target)
{
	size_t	 n;

	if (target == NULL)
		return DB_SQLITE;
	if (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0)
		return DB_POSTGRES;
	n = strspn(target, "abcdefghijklmnopqrstuvwxyz_");
	return n > 0 && target[n + strspn(target + n, " ")] == '=' ?
	    DB_POSTGRES : DB_SQLITE;
}

/* Copy src[0..n) to the buffer at *o (room left: *left). */
static void
put(char **o, size_t *left, const char *src, size_t n)
{
	if (*left <= 1)
		return;
	if (n > *left - 1)
		n = *left - 1;
	memcpy(*o, src, n);
	*o += n;
	*left -= n;
	**o = '\0';
}

/*
 * db_target_redact - a target without its password, for logs and
 * messages
 *
 * Arguments: target; out/outlen (terminated, cut when short).
 * Notes: a URL's userinfo password (RFC 3986 section 3.2.1) and a
 * conninfo's password= value (quoted or not) become "***"; a path is
 * copied as it is.
 */
void
db_target_redact(const char *target, char *out, size_t outlen)
{
	const char	*p, *at, *colon, *key, *end;
	size_t		 left = outlen;
	char		*o = out;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (target == NULL)
		return;
	if ((p = strstr(target, "://")) != NULL) {
		p += 3;
		at = p + strcspn(p, "@/?");
		colon = memchr(p, ':', (size_t)(at - p));
		if (*at == '@' && colon != NULL) {
			put(&o, &left, target, (size_t)(colon + 1 - target));
			put(&o, &left, "***", 3);
			target = at;
		}
		put(&o, &left, target, strlen(target));
		return;
	}
	for (p = target; (key = strstr(p, "password")) != NULL; ) {
		end = key + 8;
		while (*end == ' ')
			end++;
		if (*end != '=' || (key > target && key[-1] != ' ')) {
			put(&o, &left, p, (size_t)(end - p));
			p = end;
			continue;
		}
		put(&o, &left, p, (size_t)(end + 1 - p));
		put(&o, &left, "***", 3);
		for (end++; *end == ' '; end++)
			;
		if (*end == '\'') {
			for (end++; *end != '\0' && *end != '\''; end++)
				if (*end == '\\' && end[1] != '\0')
					end++;
			if (*end == '\'')
				end++;
		} else
			end += strcspn(end, " ");
		p = end;
	}
	put(&o, &left, p, strlen(p));
}

/*
 * db_fail - remember a failure
 *
 * Arguments: db; s, the status to report; msg, the engine's text (may
 * be NULL).  Returns s, so that callers can "return db_fail(...)".
 */
enum bd_status
db_fail(struct db *db, enum bd_status s, const char *msg)
{
	char	 text[DB_ERR_MAX], *p, *q;
	size_t	 n;

	db->last = s;
	(void)snprintf(db->err, sizeof(db->err), "%s",
	    msg != NULL ? msg : bd_strerror(s));
	/* libpq ends its messages with a newline. */
	n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
	/* and writes some on two lines: one line for a log */
	memcpy(text, db->err, n + 1);
	for (p = text, q = db->err; *p != '\0' &&
	    q + 2 < db->err + sizeof(db->err); p++) {
		if (*p != '\n') {
			*q++ = *p;
			continue;
		}
		*q++ = ';';
		*q++ = ' ';
		while (p[1] == '\t' || p[1] == ' ')
			p++;
	}
	*q = '\0';
	return s;
}

/*
 * db_open - connect
 *
 * Arguments: target (see db_target_kind()); busy_ms, the lock wait
 * before BD_EBUSY; out; err/errlen, why it failed.
 * Returns BD_OK, BD_ENOMEM, BD_EIO (cannot open or connect), BD_EBUSY.
 */
enum bd_status
db_open(const char *target, unsigned flags, int busy_ms, struct db **out,
    char *err, size_t errlen)
{
	struct db	*db;
	enum bd_status	 s;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return BD_ENOMEM;
	}
	db->kind = db_target_kind(target);
	db->busy_ms = busy_ms;
	db->flags = flags;
	s = db->kind == DB_SQLITE ? db_sqlite_open(db, target) :
	    db_pg_open(db, target);
	if (s != BD_OK) {
		(void)snprintf(err, errlen, "%s", db->err);
		db_close(db);
		return s;
	}
	*out = db;
	return BD_OK;
}

/*
 * db_close - disconnect and free
 *
 * Arguments: db, or NULL.  Every statement must be finalized first.
 */
void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->kind == DB_SQLITE)
		db_sqlite_close(db);
	else
		db_pg_close(db);
	free(db);
}

/* db_native - the engine's own handle */
void *
db_native(struct db *db)
{
	return db->h;
}

/* db_changes - rows changed by the last command */
int64_t
db_changes(struct db *db)
{
	return db->kind == DB_SQLITE ? db_sqlite_changes(db) : db->changes;
}

/* db_listen - channel's notifications from now on (PostgreSQL only) */
enum bd_status
db_listen(struct db *db, const char *channel)
{
	if (db->kind != DB_POSTGRES)
		return db_fail(db, BD_ECONFIG, "no notifications on SQLite");
	return db_pg_listen(db, channel);
}

/* db_socket - the descriptor to poll for notifications, or -1 */
int
db_socket(struct db *db)
{
	return db->kind == DB_POSTGRES ? db_pg_socket(db) : -1;
}

/* db_notifications - hand what arrived to fn; -1: connection lost */
int
db_notifications(struct db *db, db_notify_fn fn, void *arg)
{
	return db->kind == DB_POSTGRES ? db_pg_notifications(db, fn, arg) :
	    0;
}

/* db_in_transaction - whether a transaction is open */
bool
db_in_transaction(struct db *db)
{
	return db->kind == DB_SQLITE ? db_sqlite_in_transaction(db) :
	    db_pg_in_transaction(db);
}

/* db_column_count - the columns of st's rows */
int
db_column_count(struct db_stmt *st)
{
	return st->db->kind == DB_SQLITE ? db_sqlite_column_count(st) :
	    db_pg_column_count(st);
}

/* db_kind - the engine behind db */
enum db_kind
db_kind(const struct db *db)
{
	return db->kind;
}

/* db_errmsg - the engine's text for the last failure, or "" */
const char *
db_errmsg(const struct db *db)
{
	return db->err;
}

/* db_last_status - the last failure (BD_OK when none) */
enum bd_status
db_last_status(const struct db *db)
{
	return db->last;
}

/*
 * db_exec - run statements that take no parameters and return no rows
 *
 * Returns BD_OK or the failure (db_errmsg() says why).
 */
enum bd_status
db_exec(struct db *db, const char *sql)
{
	return db->kind == DB_SQLITE ? db_sqlite_exec(db, sql) :
	    db_pg_exec(db, sql);
}

/*
 * db_prepare - a statement with "?" placeholders
 *
 * Arguments: db; sql, one statement; out.
 * Returns BD_OK, BD_ENOMEM, BD_ELIMIT (more than DB_PARAMS_MAX
 * placeholders) or the engine's failure.
 */
enum bd_status
db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct db_stmt	*st;
	enum bd_status	 s;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return db_fail(db, BD_ENOMEM, NULL);
	st->db = db;
	s = db->kind == DB_SQLITE ? db_sqlite_prepare(st, sql) :
	    db_pg_prepare(st, sql);
	if (s != BD_OK) {
		db_finalize(st);
		return s;
	}
	*out = st;
	return BD_OK;
}

/* PostgreSQL gets every parameter as text (libpq's text format). */
static void
pg_param(struct db_stmt *st, int i, const char *s, size_t n)
{
	if (i < 1 || i > st->nparams)
		return;
	free(st->param[i - 1]);
	st->param[i - 1] = s != NULL ? strndup(s, n) : NULL;
}

/* At most max bytes of s; SQLite copies them or not, PostgreSQL always. */
static void
bind_text(struct db_stmt *st, int i, const char *s, size_t max, bool copy)
{
	size_t	 n = s != NULL ? strnlen(s, max) : 0;

	if (st->db->kind == DB_SQLITE)
		db_sqlite_bind_text(st, i, s, n, copy);
	else
		pg_param(st, i, s, n);
}

/*
 * db_bind_text - set parameter i (1-based) to at most max bytes of s
 *
 * Notes: s NULL binds NULL.  The bytes are copied.  An index out of
 * range is ignored (a bug of the caller, caught by the tests).
 */
void
db_bind_text(struct db_stmt *st, int i, const char *s, size_t max)
{
	bind_text(st, i, s, max, true);
}

/*
 * db_bind_text_ref - db_bind_text() without the copy (SQLITE_STATIC)
 *
 * Notes: for a statement run once per bounce with a score of text
 * parameters (insert_event()): the copies were 4% of a recorded bounce's
 * instructions.  The caller's text must not change or go before
 * db_unbind(), which must come before the statement is reset and
 * handed back.  PostgreSQL's parameters are copied as before.
 */
void
db_bind_text_ref(struct db_stmt *st, int i, const char *s, size_t max)
{
	bind_text(st, i, s, max, false);
}

/* db_unbind - set every parameter to NULL, dropping db_bind_text_ref()'s */
void
db_unbind(struct db_stmt *st)
{
	int	 i;

	if (st->db->kind == DB_SQLITE) {
		db_sqlite_unbind(st);
		return;
	}
	for (i = 1; i <= st->nparams; i++)
		pg_param(st, i, NULL, 0);
}

/* db_bind_int64 - set parameter i (1-based) to v */
void
db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	char	 num[24];

	if (st->db->kind == DB_SQLITE) {
		db_sqlite_bind_int64(st, i, v);
		return;
	}
	(void)snprintf(num, sizeof(num), "%" PRId64, v);
	pg_param(st, i, num, strlen(num));
}

/* db_bind_null - set parameter i (1-based) to NULL */
void
db_bind_null(struct db_stmt *st, int i)
{
	if (st->db->kind == DB_SQLITE)
		db_sqlite_bind_null(st, i);
	else
		pg_param(st, i, NULL, 0);
}

/*
 * db_step - run the statement on its first call, then move row by row
 *
 * Returns DB_ROW, DB_DONE, or DB_ERROR (db_last_status(): BD_EBUSY for
 * a lock wait that ran out or a serialization failure, which the caller
 * may retry; BD_EIO otherwise).
 */
enum db_step
db_step(struct db_stmt *st)
{
	return st->db->kind == DB_SQLITE ? db_sqlite_step(st) :
	    db_pg_step(st);
}

/* db_column_null - whether column i (0-based) is NULL */
bool
db_column_null(struct db_stmt *st, int i)
{
	return st->db->kind == DB_SQLITE ? db_sqlite_column_null(st, i) :
	    db_pg_column_null(st, i);
}

/* db_column_int64 - column i (0-based) as an integer; NULL is 0 */
int64_t
db_column_int64(struct db_stmt *st, int i)
{
	const char	*t;

	if (st->db->kind == DB_SQLITE)
		return db_sqlite_column_int64(st, i);
	t = db_pg_column_text(st, i);
	if (t == NULL)
		return 0;
	/* a boolean (a comparison's value) is 't' or 'f' in text form */
	if (t[0] == 't' && t[1] == '\0')
		return 1;
	return strtoll(t, NULL, 10);
}

/*
 * db_column_text - column i (0-based) as text
 *
 * Returns NULL for NULL; otherwise valid until the next db_step(),
 * db_reset() or db_finalize() of st.
 */
const char *
db_column_text(struct db_stmt *st, int i)
{
	return st->db->kind == DB_SQLITE ? db_sqlite_column_text(st, i) :
	    db_pg_column_text(st, i);
}

/* db_reset - ready to run again; bindings are kept until rebound */
void
db_reset(struct db_stmt *st)
{
	if (st->db->kind == DB_SQLITE)
		db_sqlite_reset(st);
	else
		db_pg_reset(st);
}

/* db_finalize - release st (NULL is fine) */
void
db_finalize(struct db_stmt *st)
{
	int	 i;

	if (st == NULL)
		return;
	if (st->db->kind == DB_SQLITE)
		db_sqlite_finalize(st);
	else
		db_pg_finalize(st);
	for (i = 0; i < DB_PARAMS_MAX; i++)
		free(st->param[i]);
	free(st);
}

/*
 * db_begin - start a transaction
 *
 * Arguments: db; write, whether it will write: SQLite then takes the
 * write lock at once (BEGIN IMMEDIATE), so that two writers wait for
 * each other at the start instead of failing at their first write.
 * PostgreSQL needs no such thing: rows are locked where they are read
 * for update.
 */
enum bd_status
db_begin(struct db *db, bool write)
{
	enum bd_status	 s;

	if (db->kind == DB_SQLITE)
		s = db_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
	/*
	 * A writer takes the fleet's write lock, held to COMMIT: the same
	 * order as SQLite's one writer, so that the feed's ids grow in
	 * commit order (an application resumes `bouncectl events` from an
	 * id and must never skip a row committed late under a lower id)
	 * and a recipient's state is folded by one relay at a time.
	 */
	else {
		/*
		 * A session the server ended while it was idle (a restart)
		 * is found out by its next statement, BEGIN: nothing has
		 * started, so BEGIN once more, on a session made again.
		 * Otherwise the first transaction after every restart would
		 * fail (a bounce TEMPFAILed with the server back up).
		 */
		if ((s = db_exec(db, "BEGIN")) != BD_OK && db_pg_lost(db))
			s = db_exec(db, "BEGIN");
		if (s == BD_OK && write && (s = db_exec(db,
		    "SELECT pg_advisory_xact_lock(" DB_PG_WRITE_LOCK ")")) !=
		    BD_OK)
			db_rollback(db);
	}
	if (s == BD_OK)
		db->in_tx = true;
	return s;
}

/* db_commit - commit the open transaction */
enum bd_status
db_commit(struct db *db)
{
	enum bd_status	 s = db_exec(db, "COMMIT");

	/* a failed COMMIT ends the transaction too (PostgreSQL rolls back) */
	if (s == BD_OK || db->kind == DB_POSTGRES)
		db->in_tx = false;
	return s;
}

/* db_rollback - roll back; harmless when no transaction is open */
void
db_rollback(struct db *db)
{
	enum bd_status	 last = db->last;
	char		 err[DB_ERR_MAX];

	/* Keep the failure that made the caller roll back. */
	memcpy(err, db->err, sizeof(err));
	db->in_tx = false;
	(void)db_exec(db, "ROLLBACK");
	db->last = last;
	memcpy(db->err, err, sizeof(err));
}
