/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * db.h - one small SQL interface over two engines: SQLite (the embedded
 * default, a file path) and PostgreSQL through libpq (a shared server
 * for a fleet of relays, a "postgresql://" URL or a libpq conninfo).
 *
 * The store writes its SQL once, in the dialect both engines accept
 * ("?" placeholders, INSERT ... ON CONFLICT DO NOTHING, RETURNING), and
 * runs it through this interface; the few statements that differ (the
 * schema, locking) ask db_kind().  Values go through bound parameters
 * only, never through the SQL text.
 *
 * A connection is used by one thread at a time; a statement belongs to
 * its connection.  Nothing here logs.
 */
#ifndef BD_DB_H
#define BD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bd.h"

#define DB_PARAMS_MAX	40	/* bound parameters of one statement */
#define DB_ERR_MAX	512	/* bytes of an engine's error text kept */

/* db_open() flags */
#define DB_RDONLY	0x1	/* never write (SQLite: open read-only) */
#define DB_NOCREATE	0x2	/* SQLite: the file must exist already */

/*
 * PostgreSQL: the advisory lock a writing transaction holds to its end
 * (db_begin()): "bounced" as a number, one per database.
 */
#define DB_PG_WRITE_LOCK	"27707097871508836"

enum db_kind {
	DB_SQLITE,
	DB_POSTGRES,
};

/* What db_step() found. */
enum db_step {
	DB_ROW,		/* a row is available (db_column_*) */
	DB_DONE,	/* no more rows; the statement ran */
	DB_ERROR,	/* see db_errmsg() and db_last_status() */
};

struct db;
struct db_stmt;

/* db_target_kind - which engine a Database value names */
enum db_kind db_target_kind(const char *target);
/*
 * db_target_redact - target as it may be logged or printed: a URL's
 * password ("postgresql://u:SECRET@h/db") and a conninfo's "password="
 * value become "***"; out is always terminated
 */
void db_target_redact(const char *target, char *out, size_t outlen);
/*
 * db_open - connect to target (a path, a postgresql:// URL or a libpq
 * conninfo "host=... dbname=..."); flags, DB_RDONLY and DB_NOCREATE;
 * busy_ms, how long to wait for a lock before BD_EBUSY.  On failure *out
 * is NULL and err says why.
 */
enum bd_status db_open(const char *target, unsigned flags, int busy_ms,
    struct db **out, char *err, size_t errlen);
/*
 * db_native - the engine's own handle (sqlite3 * or PGconn *), for what
 * only one engine has: SQLite's busy handler, functions and online backup
 */
void *db_native(struct db *db);
/* db_changes - rows changed by the last INSERT, UPDATE or DELETE run */
int64_t db_changes(struct db *db);
/* db_in_transaction - whether a transaction is open on db */
bool db_in_transaction(struct db *db);
/* db_close - finalize nothing: every statement must be finalized first */
void db_close(struct db *db);
/* db_kind - the engine behind db */
enum db_kind db_kind(const struct db *db);
/* db_errmsg - the engine's text for the last failure ("" if none) */
const char *db_errmsg(const struct db *db);
/* db_last_status - the last failure as a bd_status (BD_EBUSY, BD_EIO ...) */
enum bd_status db_last_status(const struct db *db);

/* db_exec - run sql (no parameters, one or more statements, no rows) */
enum bd_status db_exec(struct db *db, const char *sql);
/* db_prepare - a statement with "?" placeholders */
enum bd_status db_prepare(struct db *db, const char *sql,
    struct db_stmt **out);
/* db_bind_text - parameter i (1-based) = the first max bytes of s; NULL: NULL */
void db_bind_text(struct db_stmt *st, int i, const char *s, size_t max);
/*
 * db_bind_text_ref - as db_bind_text, without a copy on SQLite: s must
 * stay as it is until db_unbind() (PostgreSQL copies it anyway)
 */
void db_bind_text_ref(struct db_stmt *st, int i, const char *s, size_t max);
/* db_unbind - every parameter NULL again: no reference to the caller's text */
void db_unbind(struct db_stmt *st);
/* db_bind_int64 - parameter i (1-based) = v */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
/* db_bind_null - parameter i (1-based) = NULL */
void db_bind_null(struct db_stmt *st, int i);
/* db_step - run the statement (first call) and move to the next row */
enum db_step db_step(struct db_stmt *st);
/* db_column_count - the columns of st's rows */
int db_column_count(struct db_stmt *st);
/* db_column_null - whether column i (0-based) of the row is NULL */
bool db_column_null(struct db_stmt *st, int i);
/* db_column_int64 - column i (0-based) as an integer (NULL: 0) */
int64_t db_column_int64(struct db_stmt *st, int i);
/* db_column_text - column i (0-based) as text, valid until the next step */
const char *db_column_text(struct db_stmt *st, int i);
/* db_reset - ready to run again with new bindings (kept until rebound) */
void db_reset(struct db_stmt *st);
/* db_finalize - release st; NULL is fine */
void db_finalize(struct db_stmt *st);

/*
 * Notifications (PostgreSQL's LISTEN/NOTIFY; SQLite has none: BD_ECONFIG).
 * db_listen - receive channel's notifications on db from now on
 */
enum bd_status db_listen(struct db *db, const char *channel);
/* db_socket - the connection's descriptor to poll(2) for input; -1: none */
int db_socket(struct db *db);
/* db_notify_fn - one notification's payload */
typedef void (*db_notify_fn)(void *arg, const char *payload);
/*
 * db_notifications - read what arrived and hand each notification's
 * payload to fn; returns how many, or -1 when the connection is lost
 */
int db_notifications(struct db *db, db_notify_fn fn, void *arg);

/*
 * db_begin - start a transaction; write: take the write lock now (SQLite
 * BEGIN IMMEDIATE; PostgreSQL READ COMMITTED, rows locked by the caller
 * with SELECT ... FOR UPDATE)
 */
enum bd_status db_begin(struct db *db, bool write);
/* db_commit - commit the open transaction */
enum bd_status db_commit(struct db *db);
/* db_rollback - roll back the open transaction (harmless if none) */
void db_rollback(struct db *db);

#endif
