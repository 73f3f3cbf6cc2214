/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * db_int.h - what db.c shares with its two engines, db_sqlite.c and
 * db_pg.c; private to the store room.
 */
#ifndef BD_DB_INT_H
#define BD_DB_INT_H

#include "store/db.h"

/* Transaction statements kept compiled (BEGIN, COMMIT, SAVEPOINT ...). */
#define DB_TX_CACHE	8

struct db {
	enum db_kind	 kind;
	int		 busy_ms;
	void		*h;		/* sqlite3 * or PGconn * */
	unsigned	 flags;		/* DB_RDONLY, DB_NOCREATE */
	unsigned	 next_id;	/* PostgreSQL statement names */
	/*
	 * PostgreSQL: a new session (after a lost connection) has none of
	 * the prepared statements; a statement of an older one prepares
	 * itself again (db_pg_step()).
	 */
	unsigned	 session;
	int64_t		 changes;	/* rows of the last command */
	bool		 in_tx;		/* between db_begin() and its end */
	enum bd_status	 last;		/* the last failure, BD_OK if none */
	char		 err[DB_ERR_MAX];
	/* SQLite: the transaction statements, compiled once (db_sqlite.c) */
	struct {
		char		*sql;	/* sqlite3_malloc()ed */
		void		*h;	/* sqlite3_stmt * */
	}		 tx[DB_TX_CACHE];
};

struct db_stmt {
	struct db	*db;
	void		*h;		/* sqlite3_stmt * or PGresult * */
	/* PostgreSQL: parameters as text, the result and where we are. */
	char		 name[24];
	char		*text;		/* the SQL with $n, to prepare again */
	unsigned	 session;	/* db->session when prepared */
	int		 nparams;
	char		*param[DB_PARAMS_MAX];
	bool		 ran;
	int		 row, nrows;
};

/* db_fail - remember a failure of db as status s with text msg */
enum bd_status db_fail(struct db *db, enum bd_status s, const char *msg);

/* The engines: the same operations, one file each. */
enum bd_status db_sqlite_open(struct db *db, const char *path);
int64_t db_sqlite_changes(struct db *db);
bool db_sqlite_in_transaction(struct db *db);
int db_sqlite_column_count(struct db_stmt *st);
void db_sqlite_close(struct db *db);
enum bd_status db_sqlite_exec(struct db *db, const char *sql);
enum bd_status db_sqlite_prepare(struct db_stmt *st, const char *sql);
/* copy false: s is the caller's until db_sqlite_unbind() (SQLITE_STATIC) */
void db_sqlite_bind_text(struct db_stmt *st, int i, const char *s, size_t n,
    bool copy);
void db_sqlite_unbind(struct db_stmt *st);
void db_sqlite_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_sqlite_bind_null(struct db_stmt *st, int i);
enum db_step db_sqlite_step(struct db_stmt *st);
bool db_sqlite_column_null(struct db_stmt *st, int i);
int64_t db_sqlite_column_int64(struct db_stmt *st, int i);
const char *db_sqlite_column_text(struct db_stmt *st, int i);
void db_sqlite_reset(struct db_stmt *st);
void db_sqlite_finalize(struct db_stmt *st);

enum bd_status db_pg_open(struct db *db, const char *conninfo);
void db_pg_close(struct db *db);
enum bd_status db_pg_exec(struct db *db, const char *sql);
bool db_pg_lost(struct db *db);
enum bd_status db_pg_prepare(struct db_stmt *st, const char *sql);
enum db_step db_pg_step(struct db_stmt *st);
bool db_pg_in_transaction(struct db *db);
enum bd_status db_pg_listen(struct db *db, const char *channel);
int db_pg_notifications(struct db *db, db_notify_fn fn, void *arg);
int db_pg_socket(struct db *db);
int db_pg_column_count(struct db_stmt *st);
bool db_pg_column_null(struct db_stmt *st, int i);
const char *db_pg_column_text(struct db_stmt *st, int i);
void db_pg_reset(struct db_stmt *st);
void db_pg_finalize(struct db_stmt *st);

#endif
