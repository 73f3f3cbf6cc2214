/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * db_sqlite.c - the SQLite engine of db.h: a file, one connection per
 * handle, a busy timeout for locks.  The journal mode and the other
 * PRAGMAs are the store's choice, not this file's.
 *
 * No logging; failures are kept in the handle (db_fail()).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db_int.h"

/* SQLite's result code as a bd_status: a lock that stayed is BD_EBUSY. */
static enum bd_status
status_of(int rc)
{
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
fail(struct db *db, int rc)
{
	return db_fail(db, status_of(rc), db->h != NULL ?
	    sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
}

/*
 * SQLite keeps memory statistics by default, and every allocation then
 * takes one process-wide mutex: with eight milter threads recording at
 * once that mutex was contended on each of the hundreds of allocations
 * a bounce makes.  Nothing here reads those statistics.  It must be set
 * before SQLite initialises itself, hence once, before the first open.
 */
static void
configure_once(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* db_sqlite_open - open (and create) the file at path */
enum bd_status
db_sqlite_open(struct db *db, const char *path)
{
	sqlite3	*h = NULL;
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;
	int	 rc, oflags = SQLITE_OPEN_FULLMUTEX;

	(void)pthread_once(&once, configure_once);
	if ((db->flags & DB_RDONLY) != 0)
		oflags |= SQLITE_OPEN_READONLY;
	else if ((db->flags & DB_NOCREATE) != 0)
		oflags |= SQLITE_OPEN_READWRITE;
	else
		oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &h, oflags, NULL);
	db->h = h;
	if (rc != SQLITE_OK)
		return fail(db, rc);
	(void)sqlite3_busy_timeout(h, db->busy_ms);
	(void)sqlite3_extended_result_codes(h, 1);
	return BD_OK;
}

/* db_sqlite_changes - rows of the last INSERT, UPDATE or DELETE */
int64_t
db_sqlite_changes(struct db *db)
{
	return sqlite3_changes64(db->h);
}

bool
db_sqlite_in_transaction(struct db *db)
{
	return sqlite3_get_autocommit(db->h) == 0;
}

int
db_sqlite_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(st->h);
}

/* db_sqlite_close - close the file (sqlite3_close_v2 waits for nothing) */
void
db_sqlite_close(struct db *db)
{
	size_t	 i;

	for (i = 0; i < DB_TX_CACHE && db->tx[i].sql != NULL; i++) {
		(void)sqlite3_finalize(db->tx[i].h);
		sqlite3_free(db->tx[i].sql);
		db->tx[i].sql = NULL;
		db->tx[i].h = NULL;
	}
	if (db->h != NULL)
		(void)sqlite3_close_v2(db->h);
	db->h = NULL;
}

/*
 * A transaction statement (BEGIN, COMMIT, SAVEPOINT, RELEASE ...): each
 * recorded bounce runs four, and sqlite3_exec() compiles its text every
 * time (about 5% of the milter's instructions per bounce, callgrind).
 * They are few and short, so they stay compiled for the connection's
 * life, found by their text.
 */
static bool
tx_statement(const char *sql)
{
	static const char *const verbs[] = {
		"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
	};
	size_t	 i, n;

	if (strlen(sql) > 64 || strchr(sql, ';') != NULL)
		return false;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		n = strlen(verbs[i]);
		if (strncmp(sql, verbs[i], n) == 0 &&
		    (sql[n] == '\0' || sql[n] == ' '))
			return true;
	}
	return false;
}

/* The compiled tx_statement() sql, compiled now if need be; NULL if not. */
static sqlite3_stmt *
tx_cached(struct db *db, const char *sql)
{
	sqlite3_stmt	*h = NULL;
	size_t		 i;

	for (i = 0; i < DB_TX_CACHE && db->tx[i].sql != NULL; i++)
		if (strcmp(db->tx[i].sql, sql) == 0)
			return db->tx[i].h;
	if (i == DB_TX_CACHE || !tx_statement(sql) ||
	    sqlite3_prepare_v2(db->h, sql, -1, &h, NULL) != SQLITE_OK ||
	    h == NULL) {
		(void)sqlite3_finalize(h);
		return NULL;
	}
	if ((db->tx[i].sql = sqlite3_mprintf("%s", sql)) == NULL) {
		(void)sqlite3_finalize(h);
		return NULL;
	}
	db->tx[i].h = h;
	return h;
}

/* db_sqlite_exec - statements without parameters or rows */
enum bd_status
db_sqlite_exec(struct db *db, const char *sql)
{
	sqlite3_stmt	*h;
	enum bd_status	 s = BD_OK;
	int		 rc;

	if ((h = tx_cached(db, sql)) != NULL) {
		while ((rc = sqlite3_step(h)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE)
			s = fail(db, rc);
		(void)sqlite3_reset(h);
		return s;
	}
	if ((rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return fail(db, rc);
	return BD_OK;
}

/* db_sqlite_prepare - compile sql; "?" placeholders are SQLite's own */
enum bd_status
db_sqlite_prepare(struct db_stmt *st, const char *sql)
{
	sqlite3_stmt	*h = NULL;
	int		 rc;

	rc = sqlite3_prepare_v2(st->db->h, sql, -1, &h, NULL);
	if (rc != SQLITE_OK)
		return fail(st->db, rc);
	if (sqlite3_bind_parameter_count(h) > DB_PARAMS_MAX) {
		(void)sqlite3_finalize(h);
		return db_fail(st->db, BD_ELIMIT, "too many parameters");
	}
	st->h = h;
	return BD_OK;
}

void
db_sqlite_bind_text(struct db_stmt *st, int i, const char *s, size_t n,
    bool copy)
{
	if (s == NULL)
		(void)sqlite3_bind_null(st->h, i);
	else
		(void)sqlite3_bind_text(st->h, i, s, (int)n, copy ?
		    SQLITE_TRANSIENT : SQLITE_STATIC);
}

void
db_sqlite_unbind(struct db_stmt *st)
{
	(void)sqlite3_clear_bindings(st->h);
}

void
db_sqlite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	(void)sqlite3_bind_int64(st->h, i, v);
}

void
db_sqlite_bind_null(struct db_stmt *st, int i)
{
	(void)sqlite3_bind_null(st->h, i);
}

/* db_sqlite_step - one step; a failure is kept in the handle */
enum db_step
db_sqlite_step(struct db_stmt *st)
{
	int	 rc = sqlite3_step(st->h);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	(void)fail(st->db, rc);
	return DB_ERROR;
}

bool
db_sqlite_column_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(st->h, i) == SQLITE_NULL;
}

int64_t
db_sqlite_column_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(st->h, i);
}

const char *
db_sqlite_column_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->h, i);
}

void
db_sqlite_reset(struct db_stmt *st)
{
	(void)sqlite3_reset(st->h);
}

void
db_sqlite_finalize(struct db_stmt *st)
{
	if (st->h != NULL)
		(void)sqlite3_finalize(st->h);
	st->h = NULL;
}
