/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025, 2026 The bounced authors.
 *
 * store_rebuild.c - the states folded again from the events:
 * store_rebuild() (every recipient, after a rule or policy change, in
 * one transaction) and store_checkpoint() (what store_prune() will
 * delete, folded into each recipient's checkpoint first, a batch of
 * addresses at a time).  The fold itself is store_record.c's
 * (store_fold.h): live equals replay.  No logging; the public functions
 * take the handle's lock.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/state.h"
#include "store/store_int.h"
#include "store/store_fold.h"

/* The policy a checkpoint is folded with: the database's, else defaults. */
static const struct state_policy *
db_policy(struct store *s)
{
	static const struct state_policy def = {
		.soft_limit = 3, .soft_window = 30 * 86400,
		.complaint_types = STATE_FB_BIT(STATE_FB_ABUSE) |
		    STATE_FB_BIT(STATE_FB_OPT_OUT),
	};

	return s->have_pol ? &s->pol : &def;
}

/* Fold addr's events dated before `before` into its checkpoint. */
static enum bd_status
checkpoint_one(struct store *s, const char *addr, int64_t before)
{
	struct store_event_row	 e;
	struct state_input	 in;
	struct rstate		 old, rs;
	struct db_stmt		*st;
	enum bd_status		 r;
	char			 text[STATE_TEXT_MAX];
	int64_t			 from;
	int			 rc;

	if ((r = store_load_state(s, addr, &old)) != BD_OK ||
	    (r = store_fold_start(s, addr, &old, &rs, &from)) != BD_OK)
		return r;
	if (from >= before)
		return BD_OK;	/* an earlier prune went further */
	if ((r = store_cached(s, "SELECT " STORE_EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ?1 AND ts >= ?2 AND ts < ?3 AND "
	    "class NOT IN ('info', 'untrusted') " FOLD_ORDER, &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	db_bind_int64(st, 2, from);
	db_bind_int64(st, 3, before);
	while ((rc = db_step(st)) == DB_ROW) {
		store_fill_event(st, &e);
		store_row_input(&e, &in);
		store_fold_apply(&rs, &in, e.id, db_policy(s));
	}
	store_release(s, st);
	if (rc != DB_DONE)
		return store_dberr(s, "checkpoint");
	state_encode(&rs.st, text, sizeof(text));
	if ((r = store_cached(s, "UPDATE recipients SET checkpoint = ?1, "
	    "checkpoint_ts = ?2 WHERE address = ?3", &st)) != BD_OK)
		return r;
	db_bind_text(st, 1, text, SIZE_MAX);
	db_bind_int64(st, 2, before);
	store_bind_text(st, 3, addr, ADDR_MAX);
	return store_step_done(s, st, "checkpoint");
}

/*
 * store_checkpoint - keep what the events dated before `before` say
 *
 * Arguments: s, locked, in a transaction; before; after, the address
 * the previous batch stopped at ("" to start); max, addresses looked at
 * at most; last/lastlen, receives the address this batch stopped at;
 * *n, how many addresses were looked at.
 * Returns BD_OK or a failure.
 * Notes: each address with such events whose checkpoint is older gets
 * as checkpoint the fold of its previous checkpoint and those events
 * (under the database's policy); a fold then starts from it
 * (store_fold_start()).  Addresses are taken in order: call again from last
 * while *n == max (each batch costs its own addresses, not the table).
 */
enum bd_status
store_checkpoint(struct store *s, int64_t before, const char *after,
    size_t max, char *last, size_t lastlen, int64_t *n)
{
	struct refolds	 rf = { NULL, 0, 0 };
	struct db_stmt	*st;
	enum bd_status	 r;
	size_t		 i;
	int		 rc;

	*n = 0;
	snprintf(last, lastlen, "%s", after);
	if ((r = store_cached(s, "SELECT address FROM recipients WHERE "
	    "address > ?1 AND checkpoint_ts < ?2 ORDER BY address LIMIT ?3",
	    &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, after, ADDR_MAX);
	db_bind_int64(st, 2, before);
	db_bind_int64(st, 3, (int64_t)max);
	while (r == BD_OK && (rc = db_step(st)) == DB_ROW)
		r = store_refolds_add(s, &rf, store_col_text(st, 0));
	store_release(s, st);
	if (r == BD_OK && rc != DB_DONE)
		r = store_dberr(s, "checkpoint");
	for (i = 0; i < rf.n && r == BD_OK; i++) {
		if ((r = store_cached(s, "SELECT 1 FROM events WHERE "
		    "recipient = ? AND ts < ? LIMIT 1", &st)) != BD_OK)
			break;
		store_bind_text(st, 1, rf.v[i], ADDR_MAX);
		db_bind_int64(st, 2, before);
		rc = db_step(st);
		store_release(s, st);
		if (rc == DB_ROW)
			r = checkpoint_one(s, rf.v[i], before);
		else if (rc != DB_DONE)
			r = store_dberr(s, "checkpoint");
	}
	if (r == BD_OK && rf.n > 0)
		snprintf(last, lastlen, "%s", rf.v[rf.n - 1]);
	*n = (int64_t)rf.n;
	store_refolds_free(&rf);
	return r;
}

/* Rebuild one address: fold its events again (store_refold()). */
static enum bd_status
rebuild_one(struct store *s, const char *addr, const struct state_policy *pol)
{
	return store_refold(s, addr, pol, NULL, 0);
}

/*
 * store_rebuild - recompute every state from the events kept
 *
 * Arguments: s (read-write); pol, the policy to apply (soft limit and
 * window, the Feedback-Types that suppress).
 * Returns BD_OK or a failure (then nothing changed).
 * Notes: one transaction, or a savepoint inside an open batch
 * (store_batch_begin()), so that a caller can compare the states before
 * and after and still roll it all back (bouncectl rebuild --dry-run).
 * Operator actions are events too and are replayed in their place, so
 * a manual suppress or unsuppress survives.
 * Addresses whose events were all pruned keep their state; so does a
 * suppression whose suppressing events were pruned (rebuild_start()).
 * Events recorded before complaints suppressed (class "ignore") are
 * replayed from their stored Feedback-Type all the same.
 */
enum bd_status
store_rebuild(struct store *s, const struct state_policy *pol)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		*addr;
	int		 rc;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	if ((r = store_prepare(s, "SELECT address FROM recipients r WHERE "
	    "checkpoint_ts <> 0 OR EXISTS (SELECT 1 FROM events e WHERE "
	    "e.recipient = r.address) ORDER BY address", &st)) != BD_OK)
		goto fail;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((addr = strdup(store_col_text(st, 0))) == NULL) {
			store_seterr(s, "out of memory");
			r = BD_ENOMEM;
			break;
		}
		r = rebuild_one(s, addr, pol);
		free(addr);
		if (r != BD_OK)
			break;
	}
	if (r == BD_OK && rc != DB_DONE)
		r = store_dberr(s, "rebuild");
	db_finalize(st);
	if (r == BD_OK && pol != NULL)
		r = store_meta_policy(s, pol);
	if (r == BD_OK) {
		r = store_tx_commit(s);	/* rolled back on failure */
		goto out;
	}
fail:
	store_tx_rollback(s);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}
