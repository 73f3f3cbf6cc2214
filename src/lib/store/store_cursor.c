/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_cursor.c - where each MTA log follower stopped (schema v2):
 * store_cursor_get and store_cursor_set.  Inside a batch the position
 * commits with the batch's events, so a restart neither skips nor
 * repeats a line.  No logging.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "store/store_int.h"


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
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT dev, inode, \"offset\", updated "
	    "FROM cursors WHERE source = ?", &st)) != BD_OK)
		goto out;
	store_bind_text(st, 1, source, STORE_TEXT_MAX);
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->dev = (uint64_t)db_column_int64(st, 0);
		out->ino = (uint64_t)db_column_int64(st, 1);
		out->off = (uint64_t)db_column_int64(st, 2);
		out->updated = db_column_int64(st, 3);
		r = BD_OK;
	} else if (rc == DB_DONE) {
		store_seterr(s, "no position kept for %.200s", source);
		r = BD_ENOTFOUND;
	} else
		r = store_dberr(s, "cursor");
	db_finalize(st);
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
	struct db_stmt	*st;
	enum bd_status	 r;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	if ((r = store_prepare(s, "INSERT INTO cursors (source, dev, inode, "
	    "\"offset\", updated) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT(source) DO UPDATE SET dev = ?2, inode = ?3, "
	    "\"offset\" = ?4, updated = ?5",
	    &st)) != BD_OK) {
		store_tx_rollback(s);
		goto out;
	}
	store_bind_text(st, 1, source, STORE_TEXT_MAX);
	db_bind_int64(st, 2, (int64_t)c->dev);
	db_bind_int64(st, 3, (int64_t)c->ino);
	db_bind_int64(st, 4, (int64_t)c->off);
	db_bind_int64(st, 5, now);
	if ((r = store_step_done(s, st, "set cursor")) != BD_OK) {
		store_tx_rollback(s);
		goto out;
	}
	r = store_tx_commit(s);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}
