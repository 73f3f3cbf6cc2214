/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_int.h - what the files of the store share, and nothing else
 * includes: the handle, the database helpers (errors, statements,
 * transactions, bounded binding) and the few pieces of the recording
 * path that the queries and the maintenance reuse.
 *
 *	store.c		open, close, locking, transactions
 *	store_record.c	recording, operator actions, state application
 *	store_rebuild.c	rebuild and checkpoints (the fold: store_fold.h)
 *	store_msgkey.c	one message, one key
 *	store_send.c	sends and their outcomes, the trust policy's match
 *	store_query.c	lookup, list, history, led-by, stats
 *	store_schema.c	the schema of both engines, its version, migrations
 *	store_cursor.c	the MTA log followers' positions
 *	store_upkeep.c	sender-side spikes, expiry, prune
 *
 * Every helper here expects the handle's lock to be held by the caller
 * (the public functions take it); none of them logs.
 */
#ifndef BD_STORE_INT_H
#define BD_STORE_INT_H

#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

#include "verdict/state.h"
#include "store/store.h"

#define STORE_STMT_CACHE	16	/* statements kept, recording path */

struct store {
	struct db	*db;
	pthread_mutex_t	 lock;
	bool		 rdonly;
	bool		 batch;		/* store_batch_begin() is open */
	bool		 batch_whole;	/* store_batch_whole(): no savepoints */
	bool		 batch_spoiled;	/* ... and a call of it failed */
	bool		 gated;		/* holds the writer gate (store.c) */
	int		 busy_ms;	/* how long a lock is waited for */
	struct timespec	 busy_t0;	/* when the current wait began */
	/*
	 * The policy of the last store_policy_sync() (the meta table): what
	 * an operator's action folds with when it refolds an address.
	 */
	struct state_policy pol;
	bool		 have_pol;
	char		 err[512];
	struct {
		const char	*sql;	/* the literal's address is the key */
		struct db_stmt	*st;
	}		 cache[STORE_STMT_CACHE];
};

/* The columns of struct store_event_row, in store_fill_event()'s order. */
#define STORE_EVENT_COLUMNS \
	"id, ts, recorded_at, recipient, original_recipient, action, " \
	"status, reply_code, reason, hard, who, advice, rule, diagnostic, " \
	"remote_mta, reporting_mta, queue_id, message_id, envelope_id, " \
	"sender, campaign, feedback_type, source, trusted, class, " \
	"mail_kind, trust_why, client_addr, msgkey, reported_at"

/* store.c: errors */
void store_seterr(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* store_dberr - keep the engine's text for what; BD_EBUSY, BD_ENOMEM, BD_EIO */
enum bd_status store_dberr(struct store *s, const char *what);
/* store_writable - BD_OK, or BD_EIO (text kept) on a read-only handle */
enum bd_status store_writable(struct store *s);

/* store_schema.c: settings and migrations (read-write), or a check */
enum bd_status store_schema_setup(struct store *s);
enum bd_status store_schema_check(struct store *s);

/* store.c: statements */
enum bd_status store_exec(struct store *s, const char *sql);
enum bd_status store_prepare(struct store *s, const char *sql,
    struct db_stmt **st);
/* store_cached - a statement kept for the handle's life; sql a literal */
enum bd_status store_cached(struct store *s, const char *sql,
    struct db_stmt **st);
/* store_release - reset a store_cached() statement, finalize another */
void store_release(struct store *s, struct db_stmt *st);
/* store_step_done - step a statement that returns no row, then release */
enum bd_status store_step_done(struct store *s, struct db_stmt *st,
    const char *what);
/* store_each_row - a row callback: 0 goes on, anything else stops */
typedef int (*store_row_fn)(struct db_stmt *st, void *arg);
/* store_each_row - step st to the end (or until fn stops), finalize it */
enum bd_status store_each_row(struct store *s, struct db_stmt *st,
    const char *what, store_row_fn fn, void *arg);
/* store_bind_text - bind v cut to max bytes on a UTF-8 boundary (NULL: NULL) */
void store_bind_text(struct db_stmt *st, int i, const char *v, size_t max);
/* store_bind_text_ref - the same, v used in place until db_unbind() */
void store_bind_text_ref(struct db_stmt *st, int i, const char *v,
    size_t max);

/* store.c: a transaction, or a savepoint inside an open batch */
enum bd_status store_tx_begin(struct store *s);
void store_tx_rollback(struct store *s);
enum bd_status store_tx_commit(struct store *s);

/* store.c: record pol as the states' policy (meta), in a transaction */
enum bd_status store_meta_policy(struct store *s,
    const struct state_policy *pol);

/* store_send.c: the send a recorded event is about, its outcome moved */
enum bd_status store_note_send(struct store *s, const struct bd_event *ev,
    const char *rcpt, const char *class, int64_t ts);

/* store_record.c: one operator action, inside an open transaction */
enum bd_status store_manual_one(struct store *s, const struct store_manual *m,
    const char *rcpt, enum state_reason reason);

/*
 * store_record.c: fold the events dated before `before` into the
 * checkpoints of the next max addresses after `after` (*n: how many,
 * last: where it stopped); store_prune() then deletes them
 */
enum bd_status store_checkpoint(struct store *s, int64_t before,
    const char *after, size_t max, char *last, size_t lastlen, int64_t *n);

/* store_query.c: a row of STORE_EVENT_COLUMNS; strings borrowed from st */
void store_fill_event(struct db_stmt *st, struct store_event_row *e);

/* A column as text (NULL when SQL NULL). */
static inline const char *
store_col_text(struct db_stmt *st, int i)
{
	return db_column_text(st, i);
}

/* A column copied into dst, "" when NULL, cut to dstlen. */
static inline void
store_copy_col(char *dst, size_t dstlen, struct db_stmt *st, int i)
{
	const char	*v = store_col_text(st, i);

	snprintf(dst, dstlen, "%s", v != NULL ? v : "");
}

/* The domain of a normalised address ("" without '@'). */
static inline const char *
store_addr_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

#endif
