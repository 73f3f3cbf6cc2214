/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_log.c - what the store keeps for the MTA log and for its own
 * upkeep (schema v2): the log followers' positions (store_cursor_get,
 * store_cursor_set; inside a batch they commit with its events), the
 * count of sender-side failures per destination domain and reason in
 * the last hour (store_sender_spikes), suppression expiry by reason
 * (store_expiry_parse, store_expire) and the pruning of old events
 * (store_prune).
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

#include <sqlite3.h>

#include "store_int.h"


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
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT dev, inode, offset, updated "
	    "FROM cursors WHERE source = ?", &st)) != BD_OK)
		goto out;
	store_bind_text(st, 1, source, STORE_TEXT_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->dev = (uint64_t)sqlite3_column_int64(st, 0);
		out->ino = (uint64_t)sqlite3_column_int64(st, 1);
		out->off = (uint64_t)sqlite3_column_int64(st, 2);
		out->updated = sqlite3_column_int64(st, 3);
		r = BD_OK;
	} else if (rc == SQLITE_DONE) {
		store_seterr(s, "no position kept for %.200s", source);
		r = BD_ENOTFOUND;
	} else
		r = store_dberr(s, rc, "cursor");
	sqlite3_finalize(st);
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
	sqlite3_stmt	*st;
	enum bd_status	 r;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	if ((r = store_prepare(s, "INSERT INTO cursors (source, dev, inode, "
	    "offset, updated) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(source) "
	    "DO UPDATE SET dev = ?2, inode = ?3, offset = ?4, updated = ?5",
	    &st)) != BD_OK) {
		store_tx_rollback(s);
		goto out;
	}
	store_bind_text(st, 1, source, STORE_TEXT_MAX);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->dev);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->ino);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->off);
	sqlite3_bind_int64(st, 5, now);
	if ((r = store_step_done(s, st, "set cursor")) != BD_OK) {
		store_tx_rollback(s);
		goto out;
	}
	r = store_tx_commit(s);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct spike_walk {
	store_rate_cb	 cb;
	void		*arg;
	bool		 crossed;
};

static int
spike_row(sqlite3_stmt *st, void *arg)
{
	struct spike_walk	*w = arg;
	struct store_rate_row	 row;

	w->crossed = true;
	row.domain = store_col_text(st, 0) != NULL ? store_col_text(st, 0) : "";
	row.reason = store_col_text(st, 1) != NULL ? store_col_text(st, 1) : "";
	row.count = sqlite3_column_int64(st, 2);
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
	sqlite3_stmt		*st;
	enum bd_status		 r;

	w.cb = cb;
	w.arg = arg;
	w.crossed = false;
	pthread_mutex_lock(&s->lock);
	if ((r = store_prepare(s, "SELECT domain, COALESCE(reason, ''), "
	    "COUNT(*) FROM events WHERE class = 'sender' AND ts >= ?1 AND "
	    "ts <= ?2 GROUP BY domain, reason HAVING COUNT(*) >= ?3 "
	    "ORDER BY 3 DESC, 1, 2", &st)) == BD_OK) {
		sqlite3_bind_int64(st, 1, now - 3600);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, rate_per_hour > 0 ?
		    rate_per_hour : 1);
		r = store_each_row(s, st, "sender spikes", spike_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	if (crossed != NULL)
		*crossed = w.crossed;
	return r;
}

/* A duration: N[smhdwy], a bare number being days; false if bad. */
static bool
parse_duration(const char *p, size_t len, int64_t *out)
{
	int64_t		 v = 0, unit = 86400;
	size_t		 i;

	for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > 100000000)
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (i == 0 || v == 0)
		return false;
	if (i < len) {
		if (i + 1 != len)
			return false;
		switch (p[i]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		case 'y': unit = 365 * 86400; break;
		default: return false;
		}
	}
	*out = v * unit;
	return true;
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
	const char	*p = text, *e, *colon;
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
		if (!parse_duration(colon + 1, (size_t)(e - colon - 1),
		    &rules[*n].after)) {
			snprintf(err, errlen, "\"%.*s\": bad duration (N with "
			    "s, m, h, d, w or y)", (int)(len > 60 ? 60 : len),
			    p);
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
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		**v = NULL, **nv;
	size_t		 cap = 0;
	int		 rc;

	*n = 0;
	if ((r = store_prepare(s, "SELECT address FROM recipients WHERE "
	    "state = 'suppressed' AND reason = ? AND suppressed_since <= ? "
	    "ORDER BY address", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, reason, 15);
	sqlite3_bind_int64(st, 2, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		if ((v[*n] = strdup(store_col_text(st, 0))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	*out = v;
	if (rc == SQLITE_NOMEM) {
		store_seterr(s, "out of memory");
		return BD_ENOMEM;
	}
	return rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, "expire");
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
 * store_prune - forget old events
 *
 * Arguments: s (read-write); before, events dated earlier go;
 * *n_deleted (may be NULL) receives how many.
 * Returns BD_OK or a database failure.
 * Notes: recipient states, soft streaks and manual notes are kept;
 * store_rebuild() afterwards only sees the events left.
 */
enum bd_status
store_prune(struct store *s, int64_t before, int64_t *n_deleted)
{
	sqlite3_stmt	*st;
	enum bd_status	 rs;
	int		 rc;

	if (n_deleted != NULL)
		*n_deleted = 0;
	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((rs = store_prepare(s, "DELETE FROM events WHERE ts < ?", &st)) !=
	    BD_OK)
		goto out;
	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		rs = store_dberr(s, rc, "prune");
	else if (n_deleted != NULL)
		*n_deleted = sqlite3_changes(s->db);
out:
	pthread_mutex_unlock(&s->lock);
	return rs;
}
