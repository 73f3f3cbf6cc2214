/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * db_pg.c - the PostgreSQL engine of db.h, through libpq: one
 * connection per handle, statements prepared once on the server under a
 * name of their own ("bd1", "bd2" ...), parameters sent as text, the
 * whole result read at the first step.  "?" placeholders become $1, $2
 * ... outside quoted strings, so the store writes one dialect.
 *
 * Locks: lock_timeout is set to the busy timeout at connect, so that a
 * row lock held by another relay fails after the same wait as SQLite's
 * busy timeout; that failure (SQLSTATE 55P03), a serialization failure
 * (40001) and a deadlock (40P01) are BD_EBUSY, which the store retries.
 * Credentials and TLS are libpq's business (.pgpass, service file,
 * sslmode in the conninfo).  No logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db_int.h"

/* The SQLSTATE of a failed result as a bd_status. */
static enum bd_status
status_of(const PGresult *res)
{
	const char	*state;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL)
		return BD_EIO;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "40P01") == 0 || strcmp(state, "57014") == 0)
		return BD_EBUSY;
	if (strcmp(state, "53200") == 0)
		return BD_ENOMEM;
	return BD_EIO;
}

static enum bd_status
fail(struct db *db, PGresult *res)
{
	return db_fail(db, status_of(res), res != NULL &&
	    PQresultErrorMessage(res)[0] != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(db->h));
}

/* A command's result: BD_OK, or the failure kept in the handle. */
static enum bd_status
check(struct db *db, PGresult *res)
{
	ExecStatusType	 t = res != NULL ? PQresultStatus(res) :
	    PGRES_FATAL_ERROR;
	enum bd_status	 s = BD_OK;

	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
		s = fail(db, res);
	PQclear(res);
	return s;
}

/* The server's NOTICEs ("table does not exist, skipping") are not ours
 * to print: libpq would write them to stderr. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* db_pg_open - connect; libpq reads the rest (.pgpass, PGSERVICE ...) */
enum bd_status
db_pg_open(struct db *db, const char *conninfo)
{
	char	 set[64];

	db->h = PQconnectdb(conninfo);
	if (db->h == NULL)
		return db_fail(db, BD_ENOMEM, NULL);
	if (PQstatus(db->h) != CONNECTION_OK)
		return db_fail(db, BD_EIO, PQerrorMessage(db->h));
	(void)PQsetNoticeProcessor(db->h, quiet, NULL);
	(void)snprintf(set, sizeof(set), "SET lock_timeout = %d",
	    db->busy_ms > 0 ? db->busy_ms : 1);
	return check(db, PQexec(db->h, set));
}

void
db_pg_close(struct db *db)
{
	if (db->h != NULL)
		PQfinish(db->h);
	db->h = NULL;
}

/* db_pg_exec - one or more statements, no parameters */
enum bd_status
db_pg_exec(struct db *db, const char *sql)
{
	return check(db, PQexec(db->h, sql));
}

/*
 * "?" -> "$n" outside '...' and "..." (a doubled quote stays inside);
 * returns the parameter count, or -1 past DB_PARAMS_MAX.
 */
static int
number_placeholders(const char *sql, char *out, size_t outlen)
{
	char		 quote = 0;
	int		 n = 0, w;
	size_t		 o = 0;

	for (; *sql != '\0' && o + 4 < outlen; sql++) {
		if (quote != 0) {
			if (*sql == quote)
				quote = 0;
		} else if (*sql == '\'' || *sql == '"')
			quote = *sql;
		else if (*sql == '?') {
			if (++n > DB_PARAMS_MAX)
				return -1;
			w = snprintf(out + o, outlen - o, "$%d", n);
			o += (size_t)w;
			continue;
		}
		out[o++] = *sql;
	}
	out[o] = '\0';
	return n;
}

/* db_pg_prepare - prepare sql on the server under a name of its own */
enum bd_status
db_pg_prepare(struct db_stmt *st, const char *sql)
{
	struct db	*db = st->db;
	size_t		 len = strlen(sql) * 2 + 8;
	char		*text;
	int		 n;

	if ((text = malloc(len)) == NULL)
		return db_fail(db, BD_ENOMEM, NULL);
	if ((n = number_placeholders(sql, text, len)) < 0) {
		free(text);
		return db_fail(db, BD_ELIMIT, "too many parameters");
	}
	st->nparams = n;
	(void)snprintf(st->name, sizeof(st->name), "bd%u", ++db->next_id);
	if (check(db, PQprepare(db->h, st->name, text, n, NULL)) != BD_OK) {
		st->name[0] = '\0';
		free(text);
		return db->last;
	}
	free(text);
	return BD_OK;
}

/* db_pg_step - run at the first call, then walk the rows read */
enum db_step
db_pg_step(struct db_stmt *st)
{
	PGresult	*res;
	ExecStatusType	 t;

	if (!st->ran) {
		res = PQexecPrepared(st->db->h, st->name, st->nparams,
		    (const char *const *)st->param, NULL, NULL, 0);
		t = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
			(void)fail(st->db, res);
			PQclear(res);
			return DB_ERROR;
		}
		st->h = res;
		st->ran = true;
		st->nrows = t == PGRES_TUPLES_OK ? PQntuples(res) : 0;
		st->row = -1;
	}
	if (st->row + 1 < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrows;
	return DB_DONE;
}

bool
db_pg_column_null(struct db_stmt *st, int i)
{
	if (st->h == NULL || st->row < 0 || st->row >= st->nrows ||
	    i >= PQnfields(st->h))
		return true;
	return PQgetisnull(st->h, st->row, i) != 0;
}

const char *
db_pg_column_text(struct db_stmt *st, int i)
{
	if (db_pg_column_null(st, i))
		return NULL;
	return PQgetvalue(st->h, st->row, i);
}

void
db_pg_reset(struct db_stmt *st)
{
	PQclear(st->h);
	st->h = NULL;
	st->ran = false;
	st->row = -1;
	st->nrows = 0;
}

/* db_pg_finalize - free the result and the server's prepared statement */
void
db_pg_finalize(struct db_stmt *st)
{
	char	 sql[48];

	db_pg_reset(st);
	if (st->name[0] != '\0' && st->db->h != NULL &&
	    PQstatus(st->db->h) == CONNECTION_OK) {
		(void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		PQclear(PQexec(st->db->h, sql));
	}
}
