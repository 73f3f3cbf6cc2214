/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_record.c - recording events and applying them to recipient
 * state: store_record() (the milter, the log source), store_manual()
 * (an operator's suppress, unsuppress, import); the fold they share
 * with store_rebuild() and the checkpoints (store_rebuild.c) is declared
 * in store_fold.h.
 *
 * Recording is idempotent: every event has an identity (original queue
 * id, else Message-ID, else ENVID - else its date -, recipient, action,
 * status) that is UNIQUE in the events table; an INSERT OR IGNORE that
 * inserts nothing changes nothing else.
 *
 * Live equals replay.  A recipient's state is the fold of its events
 * through state_apply() (state.c) in one order - date, rank of the kind
 * (state_input_rank()), identity - starting from its checkpoint (what
 * store_prune() folded of the events it deleted).  A new event dated
 * after everything folded so far is applied to the stored state; any
 * other (a DSN after the log line, a second log read late) makes the
 * address be folded again from its events: the same fold a rebuild
 * does, so the arrival order never shows.  When that refold lifts a
 * suppression, an "info" event says why (history shows it).
 *
 * One message, one key (schema v4): the queue ids, Message-ID and ENVID
 * that a trusted event names together, and a queue id with its "queued
 * as" successor (a hand-off), are linked in the msgkeys table; the
 * best of a linked set (state_key_better(), a total order) is the
 * canonical key of every event of the message (events.msgkey), and the
 * addresses whose events change key are folded again.
 *
 * Dates: events.reported_at keeps the report's own date; events.ts, the
 * date the rule uses, is that date when it is plausible (not in the
 * future, and for a report from outside not older than the soft window
 * before bounced learned of it), else when bounced learned of it.
 *
 * A log event with a queue id is also a send, whose latest outcome
 * feeds the bounce rates (store_query.c).  No logging; the public
 * functions take the handle's lock.  Text is bound, cut to the
 * STORE_*_MAX bounds.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "verdict/state.h"
#include "store/store_int.h"
#include "store/store_fold.h"

#define CLOCK_SKEW	300		/* seconds a report may be ahead of us */
#define PLAUSIBLE_AGE	(30 * 86400)	/* without a soft window */


enum bd_status
store_load_state(struct store *s, const char *addr, struct rstate *rs)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(rs, 0, sizeof(*rs));
	state_init(&rs->st);
	if ((r = store_cached(s, "SELECT state, reason, suppressed_since, "
	    "reset_at, manual_at, first_bounce, last_bounce, soft_marks, "
	    "newest, suppress_event, suppress_events, checkpoint_ts "
	    "FROM recipients WHERE address = ?",
	    &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	rc = db_step(st);
	if (rc == DB_ROW) {
		rs->exists = true;
		state_kind_parse(store_col_text(st, 0), &rs->st.kind);
		state_reason_parse(store_col_text(st, 1), &rs->st.reason);
		rs->st.since = db_column_int64(st, 2);
		rs->st.reset_at = db_column_int64(st, 3);
		rs->st.manual_at = db_column_int64(st, 4);
		rs->st.first_bounce = db_column_int64(st, 5);
		rs->st.last_bounce = db_column_int64(st, 6);
		state_marks_decode(&rs->st, store_col_text(st, 7));
		rs->st.newest = db_column_int64(st, 8);
		rs->suppress_event = db_column_int64(st, 9);
		store_copy_col(rs->suppress_events,
		    sizeof(rs->suppress_events), st, 10);
		rs->checkpoint_ts = db_column_int64(st, 11);
		rc = DB_DONE;
	}
	r = rc == DB_DONE ? BD_OK : store_dberr(s, "load state");
	store_release(s, st);
	return r;
}

/* The row of addr, created if new; display, the form as received (or NULL). */
static enum bd_status
ensure_row(struct store *s, const char *addr, const char *display)
{
	struct db_stmt	*st;
	enum bd_status	 r;

	if ((r = store_cached(s, "INSERT INTO recipients (address, domain, "
	    "display) VALUES (?1, ?2, COALESCE(?3, ?1)) ON CONFLICT(address) "
	    "DO UPDATE SET display = excluded.display WHERE "
	    "CAST(?3 AS TEXT) IS NOT NULL "
	    "AND recipients.display <> excluded.display", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	store_bind_text(st, 2, store_addr_domain(addr), ADDR_MAX);
	store_bind_text(st, 3, display, ADDR_MAX);
	return store_step_done(s, st, "insert recipient");
}

static enum bd_status
save_state(struct store *s, const char *addr, const struct rstate *rs)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 marks[STATE_MARKS_TEXT_MAX];
	int		 rc;

	if ((r = ensure_row(s, addr, NULL)) != BD_OK)
		return r;
	if ((r = store_cached(s, "UPDATE recipients SET state = ?, reason = ?, "
	    "soft_count = ?, soft_marks = ?, suppressed_since = ?, "
	    "reset_at = ?, manual_at = ?, first_bounce = ?, last_bounce = ?, "
	    "suppress_event = ?, suppress_events = ?, reset_event = 0, "
	    "newest = ?, pending_count = ? WHERE address = ?", &st)) != BD_OK)
		return r;
	state_marks_encode(&rs->st, marks, sizeof(marks));
	db_bind_text(st, 1, state_kind_name(rs->st.kind), SIZE_MAX);
	db_bind_text(st, 2, state_reason_name(rs->st.reason), SIZE_MAX);
	db_bind_int64(st, 3, (int64_t)state_soft_count(&rs->st));
	db_bind_text(st, 4, marks, SIZE_MAX);
	db_bind_int64(st, 5, rs->st.kind == STATE_SUPPRESSED ?
	    rs->st.since : 0);
	db_bind_int64(st, 6, rs->st.reset_at);
	db_bind_int64(st, 7, rs->st.manual_at);
	db_bind_int64(st, 8, rs->st.first_bounce);
	db_bind_int64(st, 9, rs->st.last_bounce);
	if (rs->st.kind == STATE_SUPPRESSED && rs->suppress_event > 0)
		db_bind_int64(st, 10, rs->suppress_event);
	else
		db_bind_null(st, 10);
	store_bind_text(st, 11, rs->st.kind == STATE_SUPPRESSED ?
	    rs->suppress_events : "", sizeof(rs->suppress_events) - 1);
	db_bind_int64(st, 12, rs->st.newest);
	db_bind_int64(st, 13,
	    (int64_t)state_pending_count(&rs->st));
	store_bind_text(st, 14, addr, ADDR_MAX);
	rc = db_step(st);
	store_release(s, st);
	return rc == DB_DONE ? BD_OK :
	    store_dberr(s, "update recipient");
}

/* The "last event" columns, when ev is the newest seen for the address. */
static enum bd_status
save_last(struct store *s, const char *addr, int64_t id, int64_t when,
    const char *status, const char *reason, const char *diag)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	if ((r = store_cached(s, "UPDATE recipients SET last_seen = ?, "
	    "last_event = ?, last_status = ?, last_reason = ?, "
	    "last_diagnostic = ? WHERE address = ? AND last_seen <= ?",
	    &st)) != BD_OK)
		return r;
	db_bind_int64(st, 1, when);
	db_bind_int64(st, 2, id);
	store_bind_text(st, 3, status, VERDICT_STATUS_MAX - 1);
	store_bind_text(st, 4, reason, 47);
	store_bind_text(st, 5, diag, STORE_DIAG_MAX);
	store_bind_text(st, 6, addr, ADDR_MAX);
	db_bind_int64(st, 7, when);
	rc = db_step(st);
	store_release(s, st);
	return rc == DB_DONE ? BD_OK : store_dberr(s, "update last");
}

/*
 * The events that led to a suppression that has just happened: for
 * soft-limit, the events that made the soft marks of the streak (oldest
 * first), else the suppressing event alone.
 */
static void
led_by(struct rstate *rs, int64_t ev_id)
{
	const struct state_mark	*m[STATE_SOFT_MARKS], *t;
	size_t			 i, j, n = 0, len = 0;
	int			 k;

	rs->suppress_events[0] = '\0';
	if (rs->st.reason != STATE_REASON_SOFT_LIMIT) {
		snprintf(rs->suppress_events, sizeof(rs->suppress_events),
		    "%" PRId64, ev_id);
		return;
	}
	for (i = 0; i < rs->st.nmarks; i++)
		if (rs->st.marks[i].kind == STATE_MARK_SOFT &&
		    rs->st.marks[i].ev > 0)
			m[n++] = &rs->st.marks[i];
	for (i = 1; i < n; i++)		/* by date, then id: few marks */
		for (j = i; j > 0 && (m[j]->when < m[j - 1]->when ||
		    (m[j]->when == m[j - 1]->when && m[j]->ev < m[j - 1]->ev));
		    j--) {
			t = m[j];
			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	for (i = 0; i < n && i < STORE_EVENTS_MAX; i++) {
		k = snprintf(rs->suppress_events + len,
		    sizeof(rs->suppress_events) - len, "%s%" PRId64,
		    len > 0 ? "," : "", m[i]->ev);
		if (k < 0 || (size_t)k >= sizeof(rs->suppress_events) - len) {
			rs->suppress_events[len] = '\0';
			break;
		}
		len += (size_t)k;
	}
}

/*
 * Apply one input to rs; when it suppresses (or changes the reason of a
 * suppression), ev_id is the suppressing event and the events that led
 * to it are named.
 */
void
store_fold_apply(struct rstate *rs, const struct state_input *in, int64_t ev_id,
    const struct state_policy *pol)
{
	enum state_reason	 r0 = rs->st.reason;
	bool			 was = rs->st.kind == STATE_SUPPRESSED;

	state_apply(&rs->st, in, pol);
	if (rs->st.kind != STATE_SUPPRESSED || (was && rs->st.reason == r0))
		return;
	rs->suppress_event = ev_id;
	led_by(rs, ev_id);
}

/* The kind of input a stored event's class names (state_input_name()). */
static enum state_input_kind
class_kind(const char *class)
{
	static const enum state_input_kind kinds[] = {
		STATE_IN_IGNORE, STATE_IN_SENDER, STATE_IN_HARD,
		STATE_IN_SOFT, STATE_IN_DELIVERED, STATE_IN_SUPPRESS,
		STATE_IN_UNSUPPRESS, STATE_IN_FEEDBACK, STATE_IN_DEFERRED,
		STATE_IN_LOCAL,
	};
	size_t	 i;

	for (i = 0; class != NULL && i < sizeof(kinds) / sizeof(kinds[0]);
	    i++)
		if (strcmp(class, state_input_name(kinds[i])) == 0)
			return kinds[i];
	return STATE_IN_IGNORE;
}

/* The state input of a stored event. */
void
store_row_input(const struct store_event_row *e, struct state_input *in)
{
	memset(in, 0, sizeof(*in));
	in->when = e->when;
	in->seq = e->id;
	in->kind = class_kind(e->class);
	in->msgkey = e->msgkey;
	in->feedback_type = e->feedback_type;
	in->untrusted = e->class != NULL && strcmp(e->class, "untrusted") == 0;
	/*
	 * A feedback report kept before complaints could suppress (class
	 * "ignore" then) is replayed from its Feedback-Type all the same.
	 */
	if (in->kind == STATE_IN_IGNORE && e->feedback_type != NULL &&
	    e->feedback_type[0] != '\0')
		in->kind = STATE_IN_FEEDBACK;
	if (in->kind == STATE_IN_SUPPRESS || in->kind == STATE_IN_UNSUPPRESS) {
		if (!state_reason_parse(e->reason, &in->reason) ||
		    in->reason == STATE_REASON_NONE)
			in->reason = STATE_REASON_MANUAL;
		in->manual = true;
		in->untrusted = false;
	}
}

/*
 * The start of a fold of addr from its events: its checkpoint (what
 * store_prune() folded of the events it deleted), else a fresh state;
 * else, for a database pruned before checkpoints (schema v3), a
 * suppression older than every event kept, which cannot be judged
 * again, is kept and the events left are folded on top of it.
 */
enum bd_status
store_fold_start(struct store *s, const char *addr, const struct rstate *old,
    struct rstate *rs, int64_t *from)
{
	struct state_input	 in;
	struct db_stmt		*st;
	enum bd_status		 r;
	int64_t			 oldest = INT64_MAX;
	int			 rc;

	memset(rs, 0, sizeof(*rs));
	state_init(&rs->st);
	rs->exists = old->exists;
	*from = INT64_MIN;
	if ((r = store_cached(s, "SELECT checkpoint, checkpoint_ts FROM "
	    "recipients WHERE address = ?", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	if ((rc = db_step(st)) == DB_ROW &&
	    db_column_int64(st, 1) != 0) {
		state_decode(&rs->st, store_col_text(st, 0));
		rs->checkpoint_ts = db_column_int64(st, 1);
		*from = rs->checkpoint_ts;
		if (rs->st.kind == STATE_SUPPRESSED) {
			rs->suppress_event = old->suppress_event;
			memcpy(rs->suppress_events, old->suppress_events,
			    sizeof(rs->suppress_events));
		}
	}
	store_release(s, st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_dberr(s, "checkpoint");
	if (*from != INT64_MIN || old->st.kind != STATE_SUPPRESSED)
		return BD_OK;
	if ((r = store_cached(s, "SELECT MIN(ts) FROM events WHERE "
	    "recipient = ? AND class NOT IN ('info', 'untrusted')", &st)) !=
	    BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	if ((rc = db_step(st)) == DB_ROW &&
	    !db_column_null(st, 0))
		oldest = db_column_int64(st, 0);
	store_release(s, st);
	if (rc != DB_ROW)
		return store_dberr(s, "fold");
	if (old->st.since >= oldest)
		return BD_OK;	/* its cause is kept: judge it again */
	memset(&in, 0, sizeof(in));
	in.kind = STATE_IN_SUPPRESS;
	in.when = old->st.since;
	in.reason = old->st.reason;
	in.manual = old->st.reason == STATE_REASON_MANUAL ||
	    old->st.reason == STATE_REASON_IMPORTED;
	state_apply(&rs->st, &in, NULL);
	rs->suppress_event = old->suppress_event;
	memcpy(rs->suppress_events, old->suppress_events,
	    sizeof(rs->suppress_events));
	return BD_OK;
}

/*
 * fold_address - the state of addr, folded from its checkpoint and every
 * event kept (ts >= the checkpoint's), in FOLD_ORDER; old, the state
 * stored now; rs receives the result.
 */
static enum bd_status
fold_address(struct store *s, const char *addr, const struct rstate *old,
    const struct state_policy *pol, struct rstate *rs)
{
	struct store_event_row	 e;
	struct state_input	 in;
	struct db_stmt		*st;
	enum bd_status		 r;
	int64_t			 from;
	int			 rc;

	if ((r = store_fold_start(s, addr, old, rs, &from)) != BD_OK)
		return r;
	if ((r = store_cached(s, "SELECT " STORE_EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ?1 AND ts >= ?2 AND "
	    "class NOT IN ('info', 'untrusted') " FOLD_ORDER, &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	db_bind_int64(st, 2, from);
	while ((rc = db_step(st)) == DB_ROW) {
		store_fill_event(st, &e);
		store_row_input(&e, &in);
		store_fold_apply(rs, &in, e.id, pol);
	}
	store_release(s, st);
	return rc == DB_DONE ? BD_OK : store_dberr(s, "fold");
}

/*
 * A note in the history when a refold lifted a suppression: class
 * "info", never folded.  why says what brought it about.
 */
static enum bd_status
note_lifted(struct store *s, const char *addr, const struct rstate *before,
    const struct rstate *after, const char *why, int64_t now)
{
	struct db_stmt	*st;
	char		 diag[512], ident[ADDR_MAX + 96];

	snprintf(diag, sizeof(diag), "%s suppression since %" PRId64 " lifted: "
	    "%s; %zu soft bounce(s) remain", state_reason_name(
	    before->st.reason), before->st.since, why,
	    state_soft_count(&after->st));
	snprintf(ident, sizeof(ident), "lift|%s|%" PRId64 "|%" PRId64, addr,
	    before->st.since, now);
	if (store_prepare(s, "INSERT INTO events (ts, reported_at, "
	    "recipient, domain, action, diagnostic, source, trusted, class, "
	    "rank, recorded_at, identity, rule) VALUES (?1, ?1, ?2, ?3, "
	    "'lifted', ?4, 'manual', 1, 'info', -1, ?1, ?5, 'bounced') "
	    "ON CONFLICT DO NOTHING",
	    &st) != BD_OK)
		return BD_EIO;
	db_bind_int64(st, 1, now);
	store_bind_text(st, 2, addr, ADDR_MAX);
	store_bind_text(st, 3, store_addr_domain(addr), ADDR_MAX);
	store_bind_text(st, 4, diag, STORE_DIAG_MAX);
	db_bind_text(st, 5, ident, SIZE_MAX);
	return store_step_done(s, st, "lift note");
}

/*
 * refold - fold addr again from its events and save it; when that ends
 * a suppression (not an unsuppress: the facts changed), note why.
 */
enum bd_status
store_refold(struct store *s, const char *addr, const struct state_policy *pol,
    const char *why, int64_t now)
{
	struct rstate	 old, rs;
	enum bd_status	 r;

	if ((r = store_load_state(s, addr, &old)) != BD_OK ||
	    (r = fold_address(s, addr, &old, pol, &rs)) != BD_OK ||
	    (r = save_state(s, addr, &rs)) != BD_OK)
		return r;
	/* not when an operator's action (or an expiry) did it */
	if (why != NULL && old.st.kind == STATE_SUPPRESSED &&
	    rs.st.kind != STATE_SUPPRESSED &&
	    rs.st.manual_at == old.st.manual_at)
		return note_lifted(s, addr, &old, &rs, why, now);
	return BD_OK;
}

/*
 * Fold a new input into addr: onto the stored state when it comes after
 * everything folded (the usual case), else by folding the address again.
 */
static enum bd_status
fold(struct store *s, const char *addr, const struct state_input *in,
    int64_t ev_id, const struct state_policy *pol, int64_t now)
{
	struct rstate	 rs;
	enum bd_status	 r;
	char		 why[160];

	if ((r = store_load_state(s, addr, &rs)) != BD_OK)
		return r;
	if (in->when > rs.st.newest || (!rs.exists && rs.st.nmarks == 0)) {
		store_fold_apply(&rs, in, ev_id, pol);
		return save_state(s, addr, &rs);
	}
	snprintf(why, sizeof(why), "event %" PRId64 " (%s dated %" PRId64
	    ") came in after newer ones", ev_id, state_input_name(in->kind),
	    in->when);
	/* an operator's action is its own reason: no note */
	return store_refold(s, addr, pol, in->manual ? NULL : why, now);
}
static const char *
event_identity(const struct bd_event *ev, const char *rcpt, const char *key,
    char *out, size_t outlen)
{
	char	 tkey[32];

	if (key[0] == '\0') {
		snprintf(tkey, sizeof(tkey), "t:%" PRId64, ev->when);
		key = tkey;
	}
	snprintf(out, outlen, "%s|%s|%s|%s", key, rcpt,
	    ev_action_name(ev->action), ev->status != NULL ? ev->status : "");
	return out;
}

static const char insert_event_sql[] =
	"INSERT INTO events (ts, recipient, domain, "
	"original_recipient, action, status, reply_code, reason, hard, who, "
	"advice, rule, diagnostic, remote_mta, reporting_mta, queue_id, "
	"message_id, envelope_id, sender, campaign, feedback_type, source, "
	"trusted, class, recorded_at, identity, mail_kind, trust_why, "
	"client_addr, msgkey, reported_at, rank) VALUES (?, ?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	"?, ?) ON CONFLICT DO NOTHING RETURNING id";

/* What insert_event() needs besides the event. */
struct ev_row {
	const char	*rcpt;		/* the key */
	const char	*action;
	enum state_input_kind kind;
	const char	*identity;
	const char	*msgkey;	/* canonical */
	const char	*class;		/* NULL: state_input_name(kind) */
	int64_t		 ts;		/* the date the rule uses */
	int64_t		 now;
};

/*
 * Insert one event row.  *id is its rowid, or 0 when the identity was
 * already known.  The text is bound in place (db_bind_text_ref()): ev
 * and x outlive the statement's run, and db_unbind() drops the
 * references before the statement goes back to the cache.
 */
static enum bd_status
insert_event(struct store *s, const struct bd_event *ev,
    const struct ev_row *x, int64_t *id)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	*id = 0;
	if ((r = store_cached(s, insert_event_sql, &st)) != BD_OK)
		return r;
	db_bind_int64(st, 1, x->ts);
	store_bind_text_ref(st, 2, x->rcpt, ADDR_MAX);
	store_bind_text_ref(st, 3, store_addr_domain(x->rcpt), ADDR_MAX);
	store_bind_text_ref(st, 4, ev->original_recipient, STORE_TEXT_MAX);
	store_bind_text_ref(st, 5, x->action, 32);
	store_bind_text_ref(st, 6, ev->status, VERDICT_STATUS_MAX - 1);
	db_bind_int64(st, 7, ev->reply_code);
	store_bind_text_ref(st, 8, ev->verdict.reason, 47);
	db_bind_int64(st, 9, ev->verdict.hard ? 1 : 0);
	store_bind_text_ref(st, 10, ev_who_name(x->kind == STATE_IN_LOCAL ?
	    EV_WHO_LOCAL : ev->verdict.who), 32);
	store_bind_text_ref(st, 11, ev_advice_name(ev->verdict.advice), 32);
	store_bind_text_ref(st, 12, ev->verdict.rule[0] ? ev->verdict.rule : NULL,
	    VERDICT_RULE_MAX - 1);
	store_bind_text_ref(st, 13, ev->diagnostic, STORE_DIAG_MAX);
	store_bind_text_ref(st, 14, ev->remote_mta, STORE_TEXT_MAX);
	store_bind_text_ref(st, 15, ev->reporting_mta, STORE_TEXT_MAX);
	store_bind_text_ref(st, 16, ev->queue_id, STORE_TEXT_MAX);
	store_bind_text_ref(st, 17, ev->message_id, STORE_TEXT_MAX);
	store_bind_text_ref(st, 18, ev->envelope_id, STORE_TEXT_MAX);
	store_bind_text_ref(st, 19, ev->sender, STORE_TEXT_MAX);
	store_bind_text_ref(st, 20, ev->campaign, STORE_TEXT_MAX);
	store_bind_text_ref(st, 21, ev->feedback_type, STORE_TEXT_MAX);
	store_bind_text_ref(st, 22, ev_source_name(ev->source), 32);
	db_bind_int64(st, 23, ev->trusted ? 1 : 0);
	store_bind_text_ref(st, 24, x->class != NULL ? x->class :
	    state_input_name(x->kind), 32);
	db_bind_int64(st, 25, x->now);
	db_bind_text_ref(st, 26, x->identity, SIZE_MAX);
	store_bind_text_ref(st, 27, ev->mail_kind, 16);
	store_bind_text_ref(st, 28, ev->trust_why, 64);
	store_bind_text_ref(st, 29, ev->client_addr, 64);
	db_bind_text_ref(st, 30, x->msgkey, SIZE_MAX);
	db_bind_int64(st, 31, ev->when);
	db_bind_int64(st, 32, x->class != NULL ? 0 :
	    state_input_rank(x->kind));
	/* RETURNING: a row when inserted, none when the identity was known */
	if ((rc = db_step(st)) == DB_ROW)
		*id = db_column_int64(st, 0);
	db_unbind(st);		/* the event's text was bound in place */
	store_release(s, st);
	if (rc == DB_ERROR)
		return store_dberr(s, "insert event");
	return BD_OK;
}

/* The order of two reports of one identity: date, rank, then text. */
static int
report_cmp(int64_t ts_a, int rank_a, const char *class_a, const char *src_a,
    const char *diag_a, int64_t ts_b, int rank_b, const char *class_b,
    const char *src_b, const char *diag_b)
{
	int	 c;

	if (ts_a != ts_b)
		return ts_a < ts_b ? -1 : 1;
	if (rank_a != rank_b)
		return rank_a < rank_b ? -1 : 1;
	if ((c = strcmp(class_a, class_b)) != 0 ||
	    (c = strcmp(src_a, src_b)) != 0)
		return c;
	return strcmp(diag_a != NULL ? diag_a : "", diag_b != NULL ?
	    diag_b : "");
}

/*
 * An event whose identity is known already: the one kept is the first
 * in report_cmp() order, whichever came first (a retry of one message
 * with the same status, the log line and the DSN of one failure), so
 * that what is kept does not depend on the arrival order.  *id is the
 * row's id when the new report replaced the kept one, else 0.
 */
static enum bd_status
replace_event(struct store *s, const struct bd_event *ev,
    const struct ev_row *x, int64_t *id)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int64_t		 old_id;
	char		 diag[STORE_DIAG_MAX + 1];
	int		 rc, cmp;

	*id = 0;
	if ((r = store_cached(s, "SELECT id, ts, rank, class, source, "
	    "diagnostic FROM events WHERE identity = ?", &st)) != BD_OK)
		return r;
	db_bind_text(st, 1, x->identity, SIZE_MAX);
	if ((rc = db_step(st)) != DB_ROW) {
		store_release(s, st);
		return rc == DB_DONE ? BD_OK :
		    store_dberr(s, "known event");
	}
	old_id = db_column_int64(st, 0);
	/* the text as it would be stored: cut like store_bind_text() */
	snprintf(diag, sizeof(diag), "%s", ev->diagnostic != NULL ?
	    ev->diagnostic : "");
	cmp = report_cmp(x->ts, state_input_rank(x->kind),
	    state_input_name(x->kind), ev_source_name(ev->source), diag,
	    db_column_int64(st, 1), (int)db_column_int64(st, 2),
	    store_col_text(st, 3) != NULL ? store_col_text(st, 3) : "",
	    store_col_text(st, 4) != NULL ? store_col_text(st, 4) : "",
	    store_col_text(st, 5));
	store_release(s, st);
	if (cmp >= 0)
		return BD_OK;
	if ((r = store_cached(s, "DELETE FROM events WHERE id = ?", &st)) !=
	    BD_OK)
		return r;
	db_bind_int64(st, 1, old_id);
	if ((r = store_step_done(s, st, "replace event")) != BD_OK)
		return r;
	return insert_event(s, ev, x, id);
}

/*
 * The date the rule uses for ev, learned at now: the report's own date
 * when it is plausible, else now.  Not in the future (a clock ahead, a
 * forged date); a report from outside (a DSN, a file) not older than the
 * soft window (a date long past would end a suppression at once by
 * expiry, or fall outside every streak); the MTA log's stamps are our
 * own clock's and are kept however old (ingest-log of an old file).
 */
static int64_t
event_ts(const struct bd_event *ev, int64_t now, const struct state_policy *pol)
{
	int64_t	 span = pol != NULL && pol->soft_window > 0 ?
		    pol->soft_window : PLAUSIBLE_AGE;

	if (ev->when <= 0 || ev->when > now + CLOCK_SKEW)
		return now;
	if (ev->when > now)
		return now;
	if (ev->source == EV_SRC_LOG || ev->source == EV_SRC_MANUAL ||
	    ev->source == EV_SRC_IMPORT)
		return ev->when;
	return ev->when < now - span ? now : ev->when;
}

static enum bd_status
record_one(struct store *s, const struct bd_event *ev,
    const struct state_policy *pol, int64_t now, bool *isnew)
{
	struct state_input	 in;
	struct state_keys	 k;
	struct refolds		 rf = { NULL, 0, 0 };
	struct ev_row		 x;
	enum bd_status		 r;
	const char		*keys[4];
	char			 rcpt[ADDR_MAX + 1], disp[ADDR_MAX + 1];
	char			 key[STATE_KEY_MAX], canon[STATE_KEY_MAX];
	char			 next[STATE_KEY_MAX];
	char			 ident[STATE_KEY_MAX + ADDR_MAX + 64];
	char			 why[160];
	int64_t			 id, replaced;
	size_t			 i;

	*isnew = false;
	/* Not an address: nothing to keep a state for (not an error). */
	if (ev->recipient == NULL ||
	    !addr_normalize(ev->recipient, rcpt, sizeof(rcpt)))
		return BD_OK;
	if (!addr_display(ev->recipient, disp, sizeof(disp)))
		snprintf(disp, sizeof(disp), "%s", rcpt);
	memset(&in, 0, sizeof(in));
	in.kind = state_event_kind(ev, pol);
	in.when = event_ts(ev, now, pol);
	in.feedback_type = ev->feedback_type;
	in.untrusted = event_held(ev);	/* kept apart below: never folded */
	state_msgkeys(ev, &k);
	snprintf(key, sizeof(key), "%s", k.q[0] ? k.q : k.m[0] ? k.m : k.e);
	next[0] = '\0';
	if (ev->next_queue_id != NULL && ev->next_queue_id[0] != '\0')
		snprintf(next, sizeof(next), "q:%s", ev->next_queue_id);
	keys[0] = k.q;
	keys[1] = k.m;
	keys[2] = k.e;
	keys[3] = next;
	if ((r = store_message_key(s, keys, 4, ev->trusted && !event_held(ev),
	    in.when, &rf, canon,
	    sizeof(canon))) != BD_OK)
		goto out;
	in.msgkey = canon;
	event_identity(ev, rcpt, key, ident, sizeof(ident));
	x.rcpt = rcpt;
	x.action = ev_action_name(ev->action);
	x.kind = in.kind;
	x.identity = ident;
	x.msgkey = canon;
	x.ts = in.when;
	x.now = now;
	x.class = NULL;
	if (event_held(ev)) {
		/*
		 * The trust policy's hook (DESIGN.md "Trust"): a held report
		 * is kept with class "untrusted", apart from the trusted
		 * identities ("u|"), so that a genuine copy that comes later
		 * is still new; it moves no send outcome, no state and no
		 * date, and links no message keys.
		 */
		memmove(ident + 2, ident, strlen(ident) + 1);
		memcpy(ident, "u|", 2);
		x.class = "untrusted";
		r = insert_event(s, ev, &x, &id);
		*isnew = r == BD_OK && id != 0;
		goto out;
	}
	if ((r = ensure_row(s, rcpt, disp)) != BD_OK ||
	    (r = insert_event(s, ev, &x, &id)) != BD_OK)
		goto out;
	replaced = 0;
	if (id == 0 && (r = replace_event(s, ev, &x, &replaced)) != BD_OK)
		goto out;
	/* also for a known event: the DSN may have come before the line */
	if ((r = store_note_send(s, ev, rcpt, state_input_name(in.kind), in.when)) !=
	    BD_OK)
		goto out;
	if (replaced != 0 && (r = store_refold(s, rcpt, pol, NULL, now)) != BD_OK)
		goto out;
	if (id != 0) {
		*isnew = true;
		in.seq = id;
		if ((r = fold(s, rcpt, &in, id, pol, now)) != BD_OK ||
		    (r = save_last(s, rcpt, id, in.when, ev->status,
		    ev->verdict.reason, ev->diagnostic)) != BD_OK)
			goto out;
	}
	snprintf(why, sizeof(why), "%.100s names the same message as others",
	    canon);
	for (i = 0; i < rf.n && r == BD_OK; i++)
		r = store_refold(s, rf.v[i], pol, why, now);
out:
	store_refolds_free(&rf);
	return r;
}

/*
 * store_record - record the events of one message
 *
 * Arguments: s (read-write); evs/n, the events; pol, the suppression
 * policy; now, the recording time; *n_new (may be NULL) receives how many
 * events were new.
 * Returns BD_OK, or a failure after which nothing was recorded (the
 * transaction is rolled back, so the caller may TEMPFAIL and see the
 * same events again later).
 * Notes: events whose recipient is not an address are skipped.
 */
enum bd_status
store_record(struct store *s, const struct bd_event *evs, size_t n,
    const struct state_policy *pol, int64_t now, size_t *n_new)
{
	enum bd_status	 r;
	size_t		 i, nn = 0;
	bool		 isnew;

	if (n_new != NULL)
		*n_new = 0;
	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = record_one(s, &evs[i], pol, now, &isnew)) != BD_OK) {
			store_tx_rollback(s);
			goto out;
		}
		if (isnew)
			nn++;
	}
	if ((r = store_tx_commit(s)) != BD_OK)
		goto out;
	if (n_new != NULL)
		*n_new = nn;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * store_manual_one - apply one operator action
 *
 * Arguments: s, locked, inside a transaction; m, the action; rcpt, its
 * normalised address; reason, of a suppression (STATE_REASON_NONE for
 * an unsuppress).
 * Returns BD_OK (also when the same action was already recorded in the
 * same second) or a database failure.
 * Notes: kept as a "suppress"/"unsuppress" event whose rule names the
 * operator; store_expire() uses it too.
 */
enum bd_status
store_manual_one(struct store *s, const struct store_manual *m,
    const char *rcpt, enum state_reason reason)
{
	struct bd_event		 ev;
	struct state_input	 in;
	struct ev_row		 x;
	struct db_stmt		*st;
	enum bd_status		 r;
	const char		*act, *display = NULL;
	char			 disp[ADDR_MAX + 1];
	char			 ident[ADDR_MAX + 160];
	int64_t			 id;
	int			 rc;

	act = m->suppress ? "suppress" : "unsuppress";
	if (m->address != NULL && addr_display(m->address, disp, sizeof(disp)))
		display = disp;
	memset(&ev, 0, sizeof(ev));
	ev.when = m->when;
	ev.diagnostic = m->why;
	ev.source = m->source;
	ev.trusted = true;
	ev.verdict.reason = m->suppress ? state_reason_name(reason) : NULL;
	/* the deciding "rule" of an operator's action is the operator */
	snprintf(ev.verdict.rule, sizeof(ev.verdict.rule), "%s by %.100s",
	    m->source == EV_SRC_IMPORT ? "import" : "manual",
	    m->by != NULL && m->by[0] != '\0' ? m->by : "unknown");
	snprintf(ident, sizeof(ident), "%s|%s|%s|%" PRId64 "|%.100s",
	    m->source == EV_SRC_IMPORT ? "import" : "manual", rcpt, act,
	    m->when, m->by != NULL ? m->by : "");
	memset(&in, 0, sizeof(in));
	in.kind = m->suppress ? STATE_IN_SUPPRESS : STATE_IN_UNSUPPRESS;
	in.when = m->when;
	in.reason = reason;
	in.manual = true;
	x.rcpt = rcpt;
	x.action = act;
	x.kind = in.kind;
	x.identity = ident;
	x.msgkey = "";
	x.ts = m->when;
	x.class = NULL;
	x.now = m->when;
	if ((r = ensure_row(s, rcpt, display)) != BD_OK ||
	    (r = insert_event(s, &ev, &x, &id)) != BD_OK)
		return r;
	if (id == 0)
		return BD_OK;	/* the same action twice in one second */
	in.seq = id;
	if ((r = fold(s, rcpt, &in, id, s->have_pol ? &s->pol : NULL,
	    m->when)) != BD_OK)
		return r;
	if ((r = store_prepare(s, "UPDATE recipients SET manual_by = ?, "
	    "manual_why = ?, manual_at = ?, last_seen = CASE WHEN "
	    "last_seen > ?3 THEN last_seen ELSE ?3 END "
	    "WHERE address = ?", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, m->by, 127);
	store_bind_text(st, 2, m->why, 255);
	db_bind_int64(st, 3, m->when);
	store_bind_text(st, 4, rcpt, ADDR_MAX);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? BD_OK : store_dberr(s, "update manual");
}

/*
 * store_manual - apply operator actions (suppress, unsuppress, import)
 *
 * Arguments: s (read-write); ops/n; *bad (may be NULL) receives the
 * index of the refused action.
 * Returns BD_OK with every action applied, or an error with none applied:
 * BD_EPARSE for an address addr_normalize() refuses or an unknown
 * reason (see store_errmsg()), or a database failure.
 * Notes: the action always wins over automatic events dated before it;
 * an unsuppressed address becomes active with a soft count of 0.
 */
enum bd_status
store_manual(struct store *s, const struct store_manual *ops, size_t n,
    size_t *bad)
{
	enum state_reason	 reason;
	enum bd_status		 r;
	char			 rcpt[ADDR_MAX + 1];
	size_t			 i;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if (db_begin(s->db, true) != BD_OK) {
		r = store_dberr(s, "BEGIN");
		goto out;
	}
	for (i = 0; i < n; i++) {
		reason = STATE_REASON_MANUAL;
		if (ops[i].address == NULL ||
		    !addr_normalize(ops[i].address, rcpt, sizeof(rcpt))) {
			store_seterr(s, "not an address: \"%.80s\"",
			    ops[i].address != NULL ? ops[i].address : "");
			r = BD_EPARSE;
		} else if (ops[i].suppress && ops[i].reason != NULL &&
		    (!state_reason_parse(ops[i].reason, &reason) ||
		    reason == STATE_REASON_NONE)) {
			store_seterr(s, "unknown suppression reason \"%.40s\"",
			    ops[i].reason);
			r = BD_EPARSE;
		} else
			r = store_manual_one(s, &ops[i], rcpt, reason);
		if (r != BD_OK) {
			if (bad != NULL)
				*bad = i;
			db_rollback(s->db);
			goto out;
		}
	}
	if (db_commit(s->db) != BD_OK) {
		r = store_dberr(s, "COMMIT");
		db_rollback(s->db);
	}
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}
