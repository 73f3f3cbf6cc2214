/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_upkeep.c - the store's own upkeep (schema v2): the count of
 * sender-side failures per destination domain and reason in the last
 * hour (store_sender_spikes), suppression expiry by reason
 * (store_expiry_parse, store_expire) and the pruning of old events
 * (store_prune).  The log followers' positions are in store_cursor.c.
 *
 * An expiry is an operator-like "unsuppress" event by "expiry"
 * (store_manual_one(), store_record.c), so history says why an address
 * came back; manual suppressions never expire.  No logging: the caller
 * (bounced's maintenance, bouncectl) writes the warnings.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "util/duration.h"
#include "store/store_int.h"

struct spike_walk {
	store_rate_cb	 cb;
	void		*arg;
	bool		 crossed;
};

static int
spike_row(struct db_stmt *st, void *arg)
{
	struct spike_walk	*w = arg;
	struct store_rate_row	 row;

	w->crossed = true;
	row.domain = store_col_text(st, 0) != NULL ? store_col_text(st, 0) : "";
	row.reason = store_col_text(st, 1) != NULL ? store_col_text(st, 1) : "";
	row.count = db_column_int64(st, 2);
	return w->cb != NULL ? w->cb(w->arg, &row) : 0;
}

/*
 * store_sender_spikes - sender-side failures of the last hour
 *
 * Arguments: s; now; rate_per_hour, the threshold (at least 1); cb/arg,
 * called for each (domain, reason) group with at least rate_per_hour
 * events dated in [now - 3600, now], most first (cb may be NULL);
 * *crossed (may be NULL) receives whether any group did.
 * Returns BD_OK or a database failure.
 * Notes: sender-side reasons (blocked, reputation, authentication, rate
 * limits, content) never count against an address (state.c); this is
 * where they count, per destination domain and reason, so that the
 * caller can log a warning that an operator alerts on.
 */
enum bd_status
store_sender_spikes(struct store *s, int64_t now, int64_t rate_per_hour,
    store_rate_cb cb, void *arg, bool *crossed)
{
	struct spike_walk	 w;
	struct db_stmt		*st;
	enum bd_status		 r;

	w.cb = cb;
	w.arg = arg;
	w.crossed = false;
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT domain, COALESCE(reason, ''), "
	    "COUNT(*) FROM events WHERE class = 'sender' AND ts >= ?1 AND "
	    "ts <= ?2 GROUP BY domain, reason HAVING COUNT(*) >= ?3 "
	    "ORDER BY 3 DESC, 1, 2", &st)) == BD_OK) {
		db_bind_int64(st, 1, now - 3600);
		db_bind_int64(st, 2, now);
		db_bind_int64(st, 3, rate_per_hour > 0 ?
		    rate_per_hour : 1);
		r = store_each_row(s, st, "sender spikes", spike_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	if (crossed != NULL)
		*crossed = w.crossed;
	return r;
}

/*
 * store_expiry_parse - parse expiry rules
 *
 * Arguments: text, rules separated by commas or white space, each
 * REASON:DURATION ("soft-limit:180d"); rules/max receive them; *n their
 * count; err/errlen why a rule was refused.
 * Returns true, or false (nothing usable) on a bad rule.
 * Notes: reasons are hard, soft-limit, complaint and imported; manual
 * suppressions never expire (an operator's action always wins).  An
 * empty text is no rule at all: expiry is off.
 */
bool
store_expiry_parse(const char *text, struct store_expiry *rules, size_t max,
    size_t *n, char *err, size_t errlen)
{
	static const char *const ok[] = { "hard", "soft-limit", "complaint",
	    "imported" };
	const char	*p = text, *e, *colon, *why;
	size_t		 len, i, k;

	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	while (p != NULL && *p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		len = (size_t)(e - p);
		colon = memchr(p, ':', len);
		if (colon == NULL) {
			snprintf(err, errlen, "\"%.*s\": want REASON:DURATION",
			    (int)(len > 60 ? 60 : len), p);
			return false;
		}
		for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
			if (strlen(ok[k]) == (size_t)(colon - p) &&
			    strncmp(ok[k], p, (size_t)(colon - p)) == 0)
				break;
		if (k == sizeof(ok) / sizeof(ok[0])) {
			snprintf(err, errlen, "\"%.*s\": the reason is not "
			    "hard, soft-limit, complaint or imported (manual "
			    "suppressions never expire)",
			    (int)(colon - p > 40 ? 40 : colon - p), p);
			return false;
		}
		for (i = 0; i < *n; i++) {
			if (strcmp(rules[i].reason, ok[k]) == 0) {
				snprintf(err, errlen, "%s given twice", ok[k]);
				return false;
			}
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %zu rules", max);
			return false;
		}
		if ((why = duration_parse(colon + 1, (size_t)(e - colon - 1),
		    DURATION_SECONDS, &rules[*n].after)) != NULL ||
		    rules[*n].after == 0) {
			snprintf(err, errlen, "\"%.*s\": %s", (int)(len > 60 ?
			    60 : len), p, why != NULL ? why :
			    "a zero duration");
			return false;
		}
		snprintf(rules[*n].reason, sizeof(rules[*n].reason), "%s",
		    ok[k]);
		(*n)++;
		p = e;
	}
	return true;
}

/* The suppressed addresses of a reason since before `before`, strdup'ed. */
static enum bd_status
expired_addrs(struct store *s, const char *reason, int64_t before,
    char ***out, size_t *n)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		**v = NULL, **nv;
	size_t		 cap = 0;
	int		 rc;
	bool		 oom = false;

	*n = 0;
	if ((r = store_prepare(s, "SELECT address FROM recipients WHERE "
	    "state = 'suppressed' AND reason = ? AND suppressed_since <= ? "
	    "ORDER BY address", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, reason, 15);
	db_bind_int64(st, 2, before);
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				oom = true;
				break;
			}
			v = nv;
		}
		if ((v[*n] = strdup(store_col_text(st, 0))) == NULL) {
			oom = true;
			break;
		}
		(*n)++;
	}
	db_finalize(st);
	*out = v;
	if (oom) {
		store_seterr(s, "out of memory");
		return BD_ENOMEM;
	}
	return rc == DB_DONE ? BD_OK : store_dberr(s, "expire");
}

/* Apply one rule: each address it covers becomes active, by "expiry". */
static enum bd_status
expire_rule(struct store *s, int64_t now, const struct store_expiry *rule,
    int64_t *n_expired)
{
	struct store_manual	 m;
	enum bd_status		 r;
	char			**addrs = NULL, why[160];
	size_t			 i, n = 0;

	if (rule->after % 86400 == 0)
		snprintf(why, sizeof(why), "expiry: %s suppression older than "
		    "%" PRId64 " days", rule->reason, rule->after / 86400);
	else
		snprintf(why, sizeof(why), "expiry: %s suppression older than "
		    "%" PRId64 " s", rule->reason, rule->after);
	memset(&m, 0, sizeof(m));
	m.suppress = false;
	m.by = "expiry";
	m.why = why;
	m.when = now;
	m.source = EV_SRC_MANUAL;
	r = expired_addrs(s, rule->reason, now - rule->after, &addrs, &n);
	for (i = 0; i < n && r == BD_OK; i++) {
		m.address = addrs[i];
		r = store_manual_one(s, &m, addrs[i], STATE_REASON_NONE);
		if (r == BD_OK)
			(*n_expired)++;
	}
	for (i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
	return r;
}

/*
 * store_expire - end suppressions older than their reason's rule
 *
 * Arguments: s (read-write); now; rules/n (n 0: nothing to do);
 * *n_expired (may be NULL) receives how many addresses became active.
 * Returns BD_OK or a failure (then nothing changed).
 * Notes: each expiry is an "unsuppress" event by "expiry" whose note
 * names the rule, so history shows why; it counts as an operator action
 * (older automatic events cannot suppress again).  Manual suppressions
 * are never touched.
 */
enum bd_status
store_expire(struct store *s, int64_t now, const struct store_expiry *rules,
    size_t n, int64_t *n_expired)
{
	enum bd_status	 r;
	int64_t		 done = 0;
	size_t		 i;

	if (n_expired != NULL)
		*n_expired = 0;
	if (n == 0)
		return BD_OK;
	if ((r = store_writable(s)) != BD_OK)
		return r;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	for (i = 0; i < n && r == BD_OK; i++)
		if (strcmp(rules[i].reason, "manual") != 0 &&
		    rules[i].after > 0)
			r = expire_rule(s, now, &rules[i], &done);
	if (r == BD_OK)
		r = store_tx_commit(s);
	else
		store_tx_rollback(s);
	if (r == BD_OK && n_expired != NULL)
		*n_expired = done;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_prune - forget old events, sends and message keys
 *
 * Arguments: s (read-write); before, events and sends dated earlier go;
 * *n_deleted (may be NULL) receives how many events.
 * Returns BD_OK or a database failure (what was done stays done: every
 * step leaves the store consistent).
 * Notes: prune and rebuild agree: before the events of an address go,
 * their fold is kept as its checkpoint (store_checkpoint()), and a
 * rebuild starts from it, so a rebuild after a prune gives the states
 * the live path has, soft streaks and suppressions included.  The
 * checkpoints, then the deletions, go in batches (STORE_PRUNE_BATCH
 * addresses or events), each its own transaction with a pause between
 * them: one DELETE of a year of events held the write lock for seconds,
 * and bounced could not record meanwhile (issue 11).  The freed pages
 * are given back by store_vacuum().
 */
enum bd_status
store_prune(struct store *s, int64_t before, int64_t *n_deleted)
{
	const struct timespec	 gap = { 0, 10 * 1000000L };	/* 10 ms */
	struct db_stmt		*st;
	enum bd_status		 rs;
	char			 after[ADDR_MAX + 1], next[ADDR_MAX + 1];
	int64_t			 n, total = 0;
	int			 rc;

	if (n_deleted != NULL)
		*n_deleted = 0;
	if (store_writable(s) != BD_OK)
		return BD_EIO;
	after[0] = next[0] = '\0';
	do {
		pthread_mutex_lock(&s->lock);
		n = 0;
		if ((rs = store_tx_begin(s)) == BD_OK) {
			rs = store_checkpoint(s, before, after,
			    STORE_PRUNE_BATCH, next, sizeof(next), &n);
			if (rs == BD_OK)
				rs = store_tx_commit(s);
			else
				store_tx_rollback(s);
		}
		pthread_mutex_unlock(&s->lock);
		memcpy(after, next, sizeof(after));
		if (rs == BD_OK && n == STORE_PRUNE_BATCH)
			(void)nanosleep(&gap, NULL);
	} while (rs == BD_OK && n == STORE_PRUNE_BATCH);
	while (rs == BD_OK) {
		pthread_mutex_lock(&s->lock);
		if ((rs = store_prepare(s, "DELETE FROM events WHERE id IN "
		    "(SELECT id FROM events WHERE ts < ? LIMIT ?)", &st)) !=
		    BD_OK) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		db_bind_int64(st, 1, before);
		db_bind_int64(st, 2, STORE_PRUNE_BATCH);
		rc = db_step(st);
		db_finalize(st);
		n = 0;
		if (rc != DB_DONE)
			rs = store_dberr(s, "prune");
		else
			total += (n = db_changes(s->db));
		pthread_mutex_unlock(&s->lock);
		if (rs != BD_OK || n < STORE_PRUNE_BATCH)
			break;
		(void)nanosleep(&gap, NULL);
	}
	if (n_deleted != NULL)
		*n_deleted = total;
	if (rs != BD_OK)
		return rs;
	pthread_mutex_lock(&s->lock);
	if ((rs = store_prepare(s, "DELETE FROM sends WHERE ts < ?1 AND "
	    "outcome_ts < ?1", &st)) == BD_OK) {
		db_bind_int64(st, 1, before);
		rs = store_step_done(s, st, "prune sends");
	}
	/* keys no event of the message names any more */
	if (rs == BD_OK && (rs = store_prepare(s, "DELETE FROM msgkeys WHERE "
	    "ts < ?1 AND NOT EXISTS (SELECT 1 FROM events e WHERE "
	    "e.msgkey = msgkeys.canon)", &st)) == BD_OK) {
		db_bind_int64(st, 1, before);
		rs = store_step_done(s, st, "prune keys");
	}
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/*
 * store_vacuum - give the pages freed by a prune back to the file system
 *
 * Arguments: s (read-write, no batch open).
 * Returns BD_OK or a database failure.
 */
enum bd_status
store_vacuum(struct store *s)
{
	enum bd_status	 rs;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	rs = s->batch ? BD_OK : store_exec(s, "VACUUM");
	pthread_mutex_unlock(&s->lock);
	return rs;
}
