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
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db_int.h"

/*
 * libpq is loaded at the first PostgreSQL connection (dlopen), not at
 * program start: a SQLite-only run (bouncectl classify, most relays)
 * would otherwise pay for loading it and the 40 libraries it needs
 * (13M instructions at every start, measured with callgrind).  The
 * functions keep libpq's own declarations (__typeof__).
 */
#define PQ_FUNCS(X) \
	X(PQclear) \
	X(PQcmdTuples) \
	X(PQconnectdbParams) \
	X(PQconsumeInput) \
	X(PQerrorMessage) \
	X(PQescapeIdentifier) \
	X(PQexec) \
	X(PQexecPrepared) \
	X(PQfinish) \
	X(PQfreemem) \
	X(PQgetisnull) \
	X(PQgetvalue) \
	X(PQnfields) \
	X(PQnotifies) \
	X(PQntuples) \
	X(PQprepare) \
	X(PQreset) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsetNoticeProcessor) \
	X(PQsocket) \
	X(PQstatus) \
	X(PQtransactionStatus)

static struct {
	void		*so;
#define PQ_MEMBER(f)	__typeof__(f) *f;
	PQ_FUNCS(PQ_MEMBER)
#undef PQ_MEMBER
} pq;
static pthread_once_t	 pq_once = PTHREAD_ONCE_INIT;
static char		 pq_error[256];

static void
pq_load(void)
{
	static const char *const names[] = { "libpq.so.5", "libpq.so",
	    NULL };
	size_t	 i;

	for (i = 0; names[i] != NULL && pq.so == NULL; i++)
		pq.so = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (pq.so == NULL) {
		(void)snprintf(pq_error, sizeof(pq_error), "PostgreSQL needs "
		    "libpq (Debian: libpq5): %s", dlerror());
		return;
	}
#define PQ_SYM(f) \
	if (pq_error[0] == '\0' && \
	    (*(void **)&pq.f = dlsym(pq.so, #f)) == NULL) \
		(void)snprintf(pq_error, sizeof(pq_error), "libpq lacks %s", #f);
	PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
}

/* The SQLSTATE of a failed result as a bd_status. */
static enum bd_status
status_of(const PGresult *res)
{
	const char	*state;

	state = res != NULL ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
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
	    pq.PQresultErrorMessage(res)[0] != '\0' ?
	    pq.PQresultErrorMessage(res) : pq.PQerrorMessage(db->h));
}

/* A command's result: BD_OK, or the failure kept in the handle. */
static enum bd_status
check(struct db *db, PGresult *res)
{
	ExecStatusType	 t = res != NULL ? pq.PQresultStatus(res) :
	    PGRES_FATAL_ERROR;
	enum bd_status	 s = BD_OK;

	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
		s = fail(db, res);
	pq.PQclear(res);
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

/* The session's settings: the lock wait, read-only when asked. */
static enum bd_status
session_setup(struct db *db)
{
	char		 set[96];
	enum bd_status	 s;

	(void)pq.PQsetNoticeProcessor(db->h, quiet, NULL);
	(void)snprintf(set, sizeof(set), "SET lock_timeout = %d",
	    db->busy_ms > 0 ? db->busy_ms : 1);
	if ((s = check(db, pq.PQexec(db->h, set))) != BD_OK)
		return s;
	if ((db->flags & DB_RDONLY) != 0)
		return check(db, pq.PQexec(db->h,
		    "SET default_transaction_read_only = on"));
	return BD_OK;
}

/* db_pg_open - connect; libpq reads the rest (.pgpass, PGSERVICE ...) */
enum bd_status
db_pg_open(struct db *db, const char *conninfo)
{
	/*
	 * A server that does not answer must not hold a caller for long
	 * (RCPT TO waits on a lookup): connect_timeout 2 s unless the
	 * target says otherwise (libpq: the expanded dbname, later in the
	 * list, overrides the keywords before it).
	 */
	static const char *const keys[] = { "connect_timeout", "dbname",
	    NULL };
	const char	*vals[] = { "2", conninfo, NULL };

	(void)pthread_once(&pq_once, pq_load);
	if (pq_error[0] != '\0')
		return db_fail(db, BD_ECONFIG, pq_error);
	db->h = pq.PQconnectdbParams(keys, vals, 1);
	if (db->h == NULL)
		return db_fail(db, BD_ENOMEM, NULL);
	if (pq.PQstatus(db->h) != CONNECTION_OK)
		return db_fail(db, BD_EIO, pq.PQerrorMessage(db->h));
	db->session = 1;
	return session_setup(db);
}

/*
 * A connection the server dropped (a restart, a fail-over) is made again
 * before the next command, once per command; the statements prepared
 * in the old session prepare themselves again.  An open transaction is
 * lost with the session: its caller sees the failure and rolls back.
 */
static enum bd_status
alive(struct db *db)
{
	if (pq.PQstatus(db->h) == CONNECTION_OK)
		return BD_OK;
	/* never the rest of a transaction in a session of its own */
	if (db->in_tx)
		return db_fail(db, BD_EIO, "connection to the server lost");
	pq.PQreset(db->h);
	if (pq.PQstatus(db->h) != CONNECTION_OK)
		return db_fail(db, BD_EIO, pq.PQerrorMessage(db->h));
	db->session++;
	return session_setup(db);
}

/* db_pg_lost - whether the session is gone (its last command found out) */
bool
db_pg_lost(struct db *db)
{
	return db->h == NULL || pq.PQstatus(db->h) != CONNECTION_OK;
}

void
db_pg_close(struct db *db)
{
	if (db->h != NULL)
		pq.PQfinish(db->h);
	db->h = NULL;
}

/* db_pg_exec - one or more statements, no parameters */
enum bd_status
db_pg_exec(struct db *db, const char *sql)
{
	enum bd_status	 s;

	if ((s = alive(db)) != BD_OK)
		return s;
	return check(db, pq.PQexec(db->h, sql));
}

/*
 * "?" -> "$n" and "?n" -> "$n" outside '...' and "..." (a doubled quote
 * stays inside); returns the parameter count (the highest number), or
 * -1 past DB_PARAMS_MAX.
 */
static int
number_placeholders(const char *sql, char *out, size_t outlen)
{
	char		 quote = 0;
	int		 max = 0, k, w;
	size_t		 o = 0;

	for (; *sql != '\0' && o + 4 < outlen; sql++) {
		if (quote != 0) {
			if (*sql == quote)
				quote = 0;
		} else if (*sql == '\'' || *sql == '"')
			quote = *sql;
		else if (*sql == '?') {
			for (k = 0; sql[1] >= '0' && sql[1] <= '9'; sql++)
				k = k * 10 + (sql[1] - '0');
			/* a bare "?" is one more than the highest so far */
			if (k == 0)
				k = max + 1;
			if (k > DB_PARAMS_MAX)
				return -1;
			if (k > max)
				max = k;
			w = snprintf(out + o, outlen - o, "$%d", k);
			o += (size_t)w;
			continue;
		}
		out[o++] = *sql;
	}
	out[o] = '\0';
	return max;
}

/* Prepare st's text on the server under a new name. */
static enum bd_status
server_prepare(struct db_stmt *st)
{
	struct db	*db = st->db;

	(void)snprintf(st->name, sizeof(st->name), "bd%u", ++db->next_id);
	if (check(db, pq.PQprepare(db->h, st->name, st->text, st->nparams,
	    NULL)) != BD_OK) {
		st->name[0] = '\0';
		return db->last;
	}
	st->session = db->session;
	return BD_OK;
}

/* db_pg_prepare - prepare sql on the server under a name of its own */
enum bd_status
db_pg_prepare(struct db_stmt *st, const char *sql)
{
	struct db	*db = st->db;
	size_t		 len = strlen(sql) * 2 + 8;
	enum bd_status	 s;
	int		 n;

	if ((s = alive(db)) != BD_OK)
		return s;
	if ((st->text = malloc(len)) == NULL)
		return db_fail(db, BD_ENOMEM, NULL);
	if ((n = number_placeholders(sql, st->text, len)) < 0)
		return db_fail(db, BD_ELIMIT, "too many parameters");
	st->nparams = n;
	return server_prepare(st);
}

/* db_pg_step - run at the first call, then walk the rows read */
enum db_step
db_pg_step(struct db_stmt *st)
{
	PGresult	*res;
	ExecStatusType	 t;

	if (!st->ran) {
		if (alive(st->db) != BD_OK ||
		    (st->session != st->db->session &&
		    server_prepare(st) != BD_OK))
			return DB_ERROR;
		res = pq.PQexecPrepared(st->db->h, st->name, st->nparams,
		    (const char *const *)st->param, NULL, NULL, 0);
		t = res != NULL ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
			(void)fail(st->db, res);
			pq.PQclear(res);
			return DB_ERROR;
		}
		st->h = res;
		st->ran = true;
		st->db->changes = strtoll(pq.PQcmdTuples(res), NULL, 10);
		st->nrows = t == PGRES_TUPLES_OK ? pq.PQntuples(res) : 0;
		st->row = -1;
	}
	if (st->row + 1 < st->nrows) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrows;
	return DB_DONE;
}

/*
 * db_pg_listen - LISTEN on channel, a name of ours (quoted as an
 * identifier all the same)
 */
enum bd_status
db_pg_listen(struct db *db, const char *channel)
{
	char		*id, sql[128];
	enum bd_status	 s;

	if ((s = alive(db)) != BD_OK)
		return s;
	if ((id = pq.PQescapeIdentifier(db->h, channel, strlen(channel))) ==
	    NULL)
		return db_fail(db, BD_ENOMEM, pq.PQerrorMessage(db->h));
	(void)snprintf(sql, sizeof(sql), "LISTEN %s", id);
	pq.PQfreemem(id);
	return check(db, pq.PQexec(db->h, sql));
}

/* The connection's socket: input there may be notifications. */
int
db_pg_socket(struct db *db)
{
	return db->h != NULL ? pq.PQsocket(db->h) : -1;
}

/*
 * db_pg_notifications - consume the input, then each notification
 *
 * Returns how many were handed to fn, or -1 when the connection is
 * lost (the caller reconnects and assumes it missed some).
 */
int
db_pg_notifications(struct db *db, db_notify_fn fn, void *arg)
{
	PGnotify	*n;
	int		 count = 0;

	if (pq.PQconsumeInput(db->h) == 0 || pq.PQstatus(db->h) != CONNECTION_OK) {
		(void)db_fail(db, BD_EIO, pq.PQerrorMessage(db->h));
		return -1;
	}
	while ((n = pq.PQnotifies(db->h)) != NULL) {
		fn(arg, n->extra != NULL ? n->extra : "");
		pq.PQfreemem(n);
		count++;
	}
	return count;
}

bool
db_pg_in_transaction(struct db *db)
{
	return pq.PQtransactionStatus(db->h) != PQTRANS_IDLE &&
	    pq.PQtransactionStatus(db->h) != PQTRANS_UNKNOWN;
}

int
db_pg_column_count(struct db_stmt *st)
{
	return st->h != NULL ? pq.PQnfields(st->h) : 0;
}

bool
db_pg_column_null(struct db_stmt *st, int i)
{
	if (st->h == NULL || st->row < 0 || st->row >= st->nrows ||
	    i >= pq.PQnfields(st->h))
		return true;
	return pq.PQgetisnull(st->h, st->row, i) != 0;
}

const char *
db_pg_column_text(struct db_stmt *st, int i)
{
	if (db_pg_column_null(st, i))
		return NULL;
	return pq.PQgetvalue(st->h, st->row, i);
}

void
db_pg_reset(struct db_stmt *st)
{
	pq.PQclear(st->h);
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
	free(st->text);
	st->text = NULL;
	if (st->name[0] != '\0' && st->db->h != NULL &&
	    st->session == st->db->session &&
	    pq.PQstatus(st->db->h) == CONNECTION_OK) {
		(void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		pq.PQclear(pq.PQexec(st->db->h, sql));
	}
}
