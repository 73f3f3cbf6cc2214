/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_query.c - reading the store for bouncectl: one recipient's
 * state (store_lookup), recipients by filter (store_list), an address's
 * events (store_history) and the ones that led to its suppression
 * (store_led_by), and counts of events, sends and suppressions grouped
 * by domain, reason, day or campaign (store_stats_since).
 *
 * Read-only: every function here works on a STORE_RDONLY handle.  The
 * handle is locked while a callback runs, so a callback must not call
 * the store.  Grouping keys are constants of this file, never user
 * text; the user's filters are bound as parameters.  No logging.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "store/store_int.h"

#define RCPT_COLUMNS \
	"address, domain, state, reason, soft_count, suppressed_since, " \
	"first_bounce, last_bounce, last_seen, last_status, last_reason, " \
	"last_diagnostic, manual_by, manual_why, manual_at, suppress_events, " \
	"display, pending_count"

static void
fill_recipient(struct db_stmt *st, struct store_recipient *r)
{
	memset(r, 0, sizeof(*r));
	store_copy_col(r->address, sizeof(r->address), st, 0);
	store_copy_col(r->domain, sizeof(r->domain), st, 1);
	store_copy_col(r->state, sizeof(r->state), st, 2);
	store_copy_col(r->reason, sizeof(r->reason), st, 3);
	r->soft_count = (unsigned)(int)db_column_int64(st, 4);
	r->suppressed_since = db_column_int64(st, 5);
	r->first_bounce = db_column_int64(st, 6);
	r->last_bounce = db_column_int64(st, 7);
	r->last_seen = db_column_int64(st, 8);
	store_copy_col(r->last_status, sizeof(r->last_status), st, 9);
	store_copy_col(r->last_reason, sizeof(r->last_reason), st, 10);
	store_copy_col(r->last_diagnostic, sizeof(r->last_diagnostic), st, 11);
	store_copy_col(r->manual_by, sizeof(r->manual_by), st, 12);
	store_copy_col(r->manual_why, sizeof(r->manual_why), st, 13);
	r->manual_at = db_column_int64(st, 14);
	store_copy_col(r->suppress_events, sizeof(r->suppress_events), st, 15);
	store_copy_col(r->display, sizeof(r->display), st, 16);
	r->pending_count = (unsigned)(int)db_column_int64(st, 17);
}


/*
 * store_lookup - the state of one address
 *
 * Arguments: s; address, any form addr_normalize() accepts; out.
 * Returns BD_OK; BD_ENOTFOUND when the address was never seen; BD_EPARSE
 * when it is not an address; a database failure.
 */
enum bd_status
store_lookup(struct store *s, const char *address,
    struct store_recipient *out)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 rcpt[ADDR_MAX + 1];
	int		 rc;

	if (!addr_normalize(address, rcpt, sizeof(rcpt))) {
		store_seterr(s, "not an address: \"%.80s\"", address);
		return BD_EPARSE;
	}
	pthread_mutex_lock(&s->lock);
	/* kept prepared: bouncectl status - asks for 100,000 a second */
	if ((r = store_cached(s, "SELECT " RCPT_COLUMNS " FROM recipients "
	    "WHERE address = ?", &st)) != BD_OK)
		goto out;
	store_bind_text(st, 1, rcpt, ADDR_MAX);
	rc = db_step(st);
	if (rc == DB_ROW) {
		fill_recipient(st, out);
		r = BD_OK;
	} else if (rc == DB_DONE) {
		store_seterr(s, "%s: never seen", rcpt);
		r = BD_ENOTFOUND;
	} else
		r = store_dberr(s, "lookup");
	store_release(s, st);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct rcpt_walk {
	store_recipient_cb	 cb;
	void			*arg;
	struct store_recipient	 r;
};

static int
rcpt_row(struct db_stmt *st, void *arg)
{
	struct rcpt_walk	*w = arg;

	fill_recipient(st, &w->r);
	return w->cb(w->arg, &w->r);
}

/*
 * store_list - recipients matching a filter, ordered by address
 *
 * Arguments: s; f (NULL: all); cb called once per recipient with arg.
 * Returns BD_OK (also when cb stopped early) or a database failure.
 * Notes: the handle is locked while cb runs: cb must not call the store.
 */
enum bd_status
store_list(struct store *s, const struct store_filter *f,
    store_recipient_cb cb, void *arg)
{
	static const struct store_filter none;
	struct rcpt_walk	*w;
	struct db_stmt		*st;
	enum bd_status		 rs;
	char			 dom[256];
	size_t			 i;

	if (f == NULL)
		f = &none;
	/* a recipient row is large (diagnostic): not on the stack */
	if ((w = malloc(sizeof(*w))) == NULL) {
		store_seterr(s, "out of memory");
		return BD_ENOMEM;
	}
	w->cb = cb;
	w->arg = arg;
	pthread_mutex_lock(&s->lock);
	if ((rs = store_prepare(s, "SELECT " RCPT_COLUMNS " FROM recipients "
	    "WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) AND "
	    "(CAST(?2 AS TEXT) IS NULL OR reason = ?2 OR last_reason = ?2) "
	    "AND (CAST(?3 AS TEXT) IS NULL OR domain = ?3) AND "
	    "(?4 = 0 OR last_seen >= ?4) "
	    "ORDER BY address LIMIT ?5 OFFSET ?6", &st)) != BD_OK)
		goto out;
	store_bind_text(st, 1, f->state, 32);
	store_bind_text(st, 2, f->reason, 47);
	if (f->domain != NULL) {
		for (i = 0; f->domain[i] != '\0' && i < sizeof(dom) - 1; i++)
			dom[i] = (f->domain[i] >= 'A' && f->domain[i] <= 'Z') ?
			    (char)(f->domain[i] - 'A' + 'a') : f->domain[i];
		dom[i] = '\0';
		store_bind_text(st, 3, dom, sizeof(dom) - 1);
	}
	db_bind_int64(st, 4, f->since > 0 ? f->since : 0);
	db_bind_int64(st, 5, f->limit > 0 ? f->limit : INT64_MAX);
	db_bind_int64(st, 6, f->offset > 0 ? f->offset : 0);
	rs = store_each_row(s, st, "list", rcpt_row, w);
out:
	pthread_mutex_unlock(&s->lock);
	free(w);
	return rs;
}

/*
 * store_fill_event - a row of STORE_EVENT_COLUMNS as a store_event_row
 *
 * Arguments: st, on a row; e, filled.
 * Notes: e's strings belong to st and live until its next step.
 */
void
store_fill_event(struct db_stmt *st, struct store_event_row *e)
{
	e->id = db_column_int64(st, 0);
	e->when = db_column_int64(st, 1);
	e->recorded_at = db_column_int64(st, 2);
	e->recipient = store_col_text(st, 3);
	e->original_recipient = store_col_text(st, 4);
	e->action = store_col_text(st, 5);
	e->status = store_col_text(st, 6);
	e->reply_code = (int)db_column_int64(st, 7);
	e->reason = store_col_text(st, 8);
	e->hard = (int)db_column_int64(st, 9) != 0;
	e->who = store_col_text(st, 10);
	e->advice = store_col_text(st, 11);
	e->rule = store_col_text(st, 12);
	e->diagnostic = store_col_text(st, 13);
	e->remote_mta = store_col_text(st, 14);
	e->reporting_mta = store_col_text(st, 15);
	e->queue_id = store_col_text(st, 16);
	e->message_id = store_col_text(st, 17);
	e->envelope_id = store_col_text(st, 18);
	e->sender = store_col_text(st, 19);
	e->campaign = store_col_text(st, 20);
	e->feedback_type = store_col_text(st, 21);
	e->source = store_col_text(st, 22);
	e->trusted = (int)db_column_int64(st, 23) != 0;
	e->class = store_col_text(st, 24);
	e->mail_kind = store_col_text(st, 25);
	e->trust_why = store_col_text(st, 26);
	e->client_addr = store_col_text(st, 27);
	e->msgkey = store_col_text(st, 28);
	e->reported_at = db_column_int64(st, 29);
}


struct event_walk {
	store_event_cb	 cb;
	void		*arg;
};

static int
event_row(struct db_stmt *st, void *arg)
{
	struct event_walk	*w = arg;
	struct store_event_row	 e;

	store_fill_event(st, &e);
	return w->cb(w->arg, &e);
}

/* The events of sql (?1 is the address), oldest first, to cb. */
static enum bd_status
events_of(struct store *s, const char *sql, const char *what,
    const char *address, store_event_cb cb, void *arg)
{
	struct event_walk	 w;
	struct db_stmt		*st;
	enum bd_status		 rs;
	char			 rcpt[ADDR_MAX + 1];

	if (!addr_normalize(address, rcpt, sizeof(rcpt))) {
		store_seterr(s, "not an address: \"%.80s\"", address);
		return BD_EPARSE;
	}
	w.cb = cb;
	w.arg = arg;
	pthread_mutex_lock(&s->lock);
	if ((rs = store_prepare(s, sql, &st)) == BD_OK) {
		store_bind_text(st, 1, rcpt, ADDR_MAX);
		rs = store_each_row(s, st, what, event_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return rs;
}

/*
 * store_history - every event of one address, oldest first
 *
 * Arguments: s; address, any form addr_normalize() accepts; cb/arg.
 * Returns BD_OK (also when there is none, or cb stopped early);
 * BD_EPARSE when address is not an address; a database failure.
 * Notes: the row's strings live only during cb; cb must not call the store.
 */
enum bd_status
store_history(struct store *s, const char *address, store_event_cb cb,
    void *arg)
{
	return events_of(s, "SELECT " STORE_EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ?1 ORDER BY ts, id", "history", address, cb,
	    arg);
}

/*
 * store_led_by - the events that led to an address's suppression
 *
 * Arguments: s; address, any form addr_normalize() accepts; cb/arg, one
 * call per event named in the recipient's suppress_events, oldest first.
 * Returns BD_OK (also when the address is not suppressed, never seen,
 * or its events were pruned: then cb is not called); BD_EPARSE when
 * address is not an address; a database failure.
 * Notes: as store_history(); compare the count of calls with the ids in
 * store_recipient.suppress_events to tell pruned events.
 */
enum bd_status
store_led_by(struct store *s, const char *address, store_event_cb cb,
    void *arg)
{
	return events_of(s, "SELECT " STORE_EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ?1 AND (SELECT ',' || suppress_events "
	    "|| ',' FROM recipients WHERE address = ?1 AND "
	    "state = 'suppressed') LIKE '%,' || CAST(id AS TEXT) || ',%' "
	    "ORDER BY ts, id",
	    "led by", address, cb, arg);
}

/* A date as its UTC day, YYYY-MM-DD, in each engine's words. */
#define DAY_SQLITE(col)	"date(" col ", 'unixepoch')"
#define DAY_PG(col)	"to_char(to_timestamp(" col ") AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD')"
#define DAY_KEY		3	/* stat_keys[] */
/* A condition counted as 0 or 1 (PostgreSQL sums no booleans). */
#define IS(cond)	"CAST(" cond " AS INTEGER)"

/* Grouping keys of store_stats(): for events, suppressed rows and sends. */
static const struct {
	const char	*by;
	const char	*ekey;
	const char	*rkey;
	const char	*skey;		/* NULL: sends do not group so */
} stat_keys[] = {
	{ NULL, "'total'", "'total'", "'total'" },
	{ "domain", "domain", "r.domain", "domain" },
	{ "reason", "COALESCE(reason, '')", "COALESCE(e.reason, r.reason)",
	    NULL },
	{ "day", DAY_SQLITE("ts"), DAY_SQLITE("r.suppressed_since"),
	    DAY_SQLITE("ts") },
	{ "campaign", "COALESCE(campaign, '')", "COALESCE(e.campaign, '')",
	    "COALESCE(campaign, '')" },
	/* bulk or transactional (v5); sends from the log have no kind */
	{ "kind", "COALESCE(mail_kind, '')", "COALESCE(e.mail_kind, '')",
	    NULL },
};

struct stat_walk {
	store_stat_cb	 cb;
	void		*arg;
};

static int
stat_row(struct db_stmt *st, void *arg)
{
	struct stat_walk	*w = arg;
	struct store_stat_row	 row;
	int64_t			*n[] = { &row.events, &row.hard, &row.soft,
	    &row.sender, &row.delivered, &row.suppressed, &row.sends,
	    &row.sends_delivered, &row.sends_soft, &row.sends_hard,
	    &row.sends_sender, &row.local };
	size_t			 i;

	row.key = store_col_text(st, 0) != NULL ? store_col_text(st, 0) : "";
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		*n[i] = db_column_int64(st, (int)i + 1);
	return w->cb(w->arg, &row);
}

/*
 * store_stats - counts of events by class and of suppressed addresses
 *
 * Arguments: s; by, NULL for one "total" row, or "domain", "reason",
 * "day" (UTC), "campaign"; cb/arg, one call per group in key order.
 * Returns BD_OK; BD_ECONFIG for an unknown by; a database failure.
 * Notes: store_stats_since(s, by, 0, cb, arg).
 */
enum bd_status
store_stats(struct store *s, const char *by, store_stat_cb cb, void *arg)
{
	return store_stats_since(s, by, 0, cb, arg);
}

/*
 * store_stats_since - counts of events, sends and suppressed addresses
 *
 * Arguments: s; by, NULL for one "total" row, or "domain", "reason",
 * "day" (UTC), "campaign"; since, only events and sends dated at or
 * after it count (0: all); cb/arg, one call per group in key order.
 * Returns BD_OK; BD_ECONFIG for an unknown by; a database failure.
 * Notes: suppressed addresses (now) are grouped by the event that
 * suppressed them (its reason, campaign), by their domain (whatever
 * since says), or by the day they were suppressed (those days at or
 * after since only: "--since 10d --by day" shows no day of 1999).  Operator actions are not
 * counted as events.  Sends come from the MTA log only (schema v2),
 * never from the null sender (the MTA's DSNs, also in rows an older
 * version kept), grouped by the recipient's domain, the day of the first
 * attempt or the campaign; each counts once, by its latest outcome.
 */
enum bd_status
store_stats_since(struct store *s, const char *by, int64_t since,
    store_stat_cb cb, void *arg)
{
	struct stat_walk	 w;
	struct db_stmt		*st;
	enum bd_status		 rs;
	char			 sql[2048], sends[512];
	size_t			 i, k = 0;
	bool			 pg = db_kind(s->db) == DB_POSTGRES;

	for (i = 0; i < sizeof(stat_keys) / sizeof(stat_keys[0]); i++) {
		if ((by == NULL && stat_keys[i].by == NULL) ||
		    (by != NULL && stat_keys[i].by != NULL &&
		    strcmp(by, stat_keys[i].by) == 0)) {
			k = i;
			break;
		}
	}
	if (i == sizeof(stat_keys) / sizeof(stat_keys[0])) {
		store_seterr(s, "unknown grouping \"%.40s\" (domain, reason, "
		    "day, campaign, kind)", by);
		return BD_ECONFIG;
	}
	sends[0] = '\0';
	if (stat_keys[k].skey != NULL)
		snprintf(sends, sizeof(sends), "UNION ALL SELECT %s, 0, 0, 0, "
		    "0, 0, 0, 1, " IS("outcome = 'delivered'") ", "
		    IS("outcome = 'soft'") ", " IS("outcome = 'hard'") ", "
		    IS("outcome = 'sender'") ", 0 FROM sends "
		    "WHERE ts >= ?1 AND COALESCE(sender, '?') NOT IN "
		    "('', '<>') ", k == DAY_KEY && pg ? DAY_PG("ts") :
		    stat_keys[k].skey);
	/* The keys are constants of this file, never user text. */
	snprintf(sql, sizeof(sql),
	    "SELECT k, SUM(ev), SUM(h), SUM(so), SUM(se), SUM(de), SUM(su), "
	    "SUM(sn), SUM(sd), SUM(ss), SUM(sh), SUM(sx), SUM(lo) "
	    "FROM (SELECT %s AS k, 1 AS ev, " IS("class = 'hard'") " AS h, "
	    IS("class = 'soft'") " AS so, " IS("class = 'sender'") " AS se, "
	    IS("class = 'delivered'") " AS de, 0 AS su, 0 AS sn, 0 AS sd, "
	    "0 AS ss, 0 AS sh, 0 AS sx, " IS("class = 'local'") " AS lo "
	    "FROM events "
	    "WHERE class NOT IN ('suppress', 'unsuppress', 'untrusted', "
	    "'info') AND ts >= ?1 "
	    "UNION ALL SELECT %s, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 "
	    "FROM recipients r LEFT JOIN events e ON e.id = r.suppress_event "
	    "WHERE r.state = 'suppressed' %s %s) AS t GROUP BY k ORDER BY k",
	    k == DAY_KEY && pg ? DAY_PG("ts") : stat_keys[k].ekey,
	    k == DAY_KEY && pg ? DAY_PG("r.suppressed_since") :
	    stat_keys[k].rkey,
	    /* by day, a suppression is counted on its day: within since */
	    k == DAY_KEY ? "AND r.suppressed_since >= ?1" : "", sends);
	w.cb = cb;
	w.arg = arg;
	pthread_mutex_lock(&s->lock);
	if ((rs = store_prepare(s, sql, &st)) == BD_OK) {
		db_bind_int64(st, 1, since > 0 ? since : INT64_MIN);
		rs = store_each_row(s, st, "stats", stat_row, &w);
	}
	pthread_mutex_unlock(&s->lock);
	return rs;
}
