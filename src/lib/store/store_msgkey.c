/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * store_msgkey.c - one message, one key (schema v7): the queue ids,
 * Message-ID and ENVID that a trusted event names together, and a queue
 * id with its "queued as" successor (a hand-off), are linked in the
 * msgkeys table; the best of a linked set (state_key_better(), a total
 * order) is the canonical key of every event of the message
 * (events.msgkey), and the addresses whose events change key are folded
 * again (struct refolds, store_fold.h).  No logging; the caller holds
 * the handle's lock, inside its transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "verdict/state.h"
#include "store/store_int.h"
#include "store/store_fold.h"

/* The canonical key of key (itself when not linked). */
static enum bd_status
canon_of(struct store *s, const char *key, char *out, size_t outlen,
    bool *found)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	snprintf(out, outlen, "%s", key);
	*found = false;
	if (key[0] == '\0')
		return BD_OK;
	if ((r = store_cached(s, "SELECT canon FROM msgkeys WHERE key = ?",
	    &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, key, STATE_KEY_MAX - 1);
	if ((rc = db_step(st)) == DB_ROW) {
		store_copy_col(out, outlen, st, 0);
		*found = true;
	}
	store_release(s, st);
	return rc == DB_ROW || rc == DB_DONE ? BD_OK :
	    store_dberr(s, "message key");
}


void
store_refolds_free(struct refolds *rf)
{
	size_t	 i;

	for (i = 0; i < rf->n; i++)
		free(rf->v[i]);
	free(rf->v);
	memset(rf, 0, sizeof(*rf));
}

enum bd_status
store_refolds_add(struct store *s, struct refolds *rf, const char *addr)
{
	char	**nv;
	size_t	 i;

	for (i = 0; i < rf->n; i++)
		if (strcmp(rf->v[i], addr) == 0)
			return BD_OK;
	if (rf->n == rf->cap) {
		if ((nv = reallocarray(rf->v, rf->cap ? rf->cap * 2 : 8,
		    sizeof(*nv))) == NULL)
			goto oom;
		rf->v = nv;
		rf->cap = rf->cap ? rf->cap * 2 : 8;
	}
	if ((rf->v[rf->n] = strdup(addr)) == NULL)
		goto oom;
	rf->n++;
	return BD_OK;
oom:
	store_seterr(s, "out of memory");
	return BD_ENOMEM;
}

/* Every key whose canon is from becomes target's; their events too. */
static enum bd_status
repoint(struct store *s, const char *from, const char *target, int64_t ts,
    struct refolds *rf)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	if ((r = store_cached(s, "SELECT DISTINCT recipient FROM events "
	    "WHERE msgkey = ?", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, from, STATE_KEY_MAX - 1);
	r = BD_OK;
	while (r == BD_OK && (rc = db_step(st)) == DB_ROW)
		r = store_refolds_add(s, rf, store_col_text(st, 0));
	store_release(s, st);
	if (r != BD_OK)
		return r;
	if (rc != DB_DONE)
		return store_dberr(s, "merge keys");
	if ((r = store_cached(s, "UPDATE events SET msgkey = ?1 WHERE "
	    "msgkey = ?2", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, target, STATE_KEY_MAX - 1);
	store_bind_text(st, 2, from, STATE_KEY_MAX - 1);
	if ((r = store_step_done(s, st, "merge keys")) != BD_OK)
		return r;
	if ((r = store_cached(s, "UPDATE msgkeys SET canon = ?1 WHERE "
	    "canon = ?2", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, target, STATE_KEY_MAX - 1);
	store_bind_text(st, 2, from, STATE_KEY_MAX - 1);
	if ((r = store_step_done(s, st, "merge keys")) != BD_OK)
		return r;
	if ((r = store_cached(s, "INSERT INTO msgkeys (key, canon, "
	    "ts) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", &st)) !=
	    BD_OK)
		return r;
	store_bind_text(st, 1, from, STATE_KEY_MAX - 1);
	store_bind_text(st, 2, target, STATE_KEY_MAX - 1);
	db_bind_int64(st, 3, ts);
	return store_step_done(s, st, "merge keys");
}

/*
 * The canonical key of a message named by keys[n] (each may be ""):
 * when link is true (a trusted event) the keys are linked for good and
 * the addresses whose events changed key are added to rf; else the
 * keys are only looked up.  out receives the best canonical key.
 */
enum bd_status
store_message_key(struct store *s, const char *const *keys, size_t n, bool link,
    int64_t ts, struct refolds *rf, char *out, size_t outlen)
{
	char		 canon[4][STATE_KEY_MAX];
	struct db_stmt	*st;
	enum bd_status	 r;
	size_t		 i;
	bool		 found[4];

	out[0] = '\0';
	if (n > 4)
		n = 4;
	for (i = 0; i < n; i++) {
		if ((r = canon_of(s, keys[i], canon[i], sizeof(canon[i]),
		    &found[i])) != BD_OK)
			return r;
		if (state_key_better(canon[i], out) &&
		    strlen(canon[i]) < outlen)
			memcpy(out, canon[i], strlen(canon[i]) + 1);
	}
	if (!link || out[0] == '\0')
		return BD_OK;
	for (i = 0; i < n; i++) {
		if (canon[i][0] != '\0' && strcmp(canon[i], out) != 0 &&
		    (r = repoint(s, canon[i], out, ts, rf)) != BD_OK)
			return r;
		/* a key already linked now points at out (repoint()) */
		if (keys[i][0] == '\0' || found[i])
			continue;
		if ((r = store_cached(s, "INSERT INTO msgkeys (key, "
		    "canon, ts) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
		    &st)) != BD_OK)
			return r;
		store_bind_text(st, 1, keys[i], STATE_KEY_MAX - 1);
		store_bind_text(st, 2, out, STATE_KEY_MAX - 1);
		db_bind_int64(st, 3, ts);
		if ((r = store_step_done(s, st, "link keys")) != BD_OK)
			return r;
	}
	return BD_OK;
}
