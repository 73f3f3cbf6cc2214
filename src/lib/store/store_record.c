/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * store_record.c - recording events and applying them to recipient
 * state: store_record() (the milter, the log source), store_manual()
 * (an operator's suppress, unsuppress, import) and store_rebuild()
 * (replay every event after a rule or policy change).
 *
 * Recording is idempotent: every event has an identity (original queue
 * id, else Message-ID, else ENVID - else its date -, recipient, action,
 * status) that is UNIQUE in the events table; an INSERT OR IGNORE that
 * inserts nothing changes nothing else.  A new event is folded into the
 * recipient's state by state_apply() (state.c), the one rule, here and
 * in the rebuild alike; a suppression keeps the ids of the events that
 * led to it (schema v2).  A log event with a queue id is also a send,
 * whose latest outcome feeds the bounce rates (store_query.c).  A
 * feedback report (RFC 5965) is kept with class "feedback": no send
 * outcome, no bounce count; the policy's complaint_types decide, here
 * and when rebuilding, whether it suppresses (reason complaint).
 *
 * No logging; the caller holds no lock (the public functions take the
 * handle's).  Text is bound, cut to the STORE_*_MAX bounds.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "verdict/state.h"
#include "store/store_int.h"


/* A recipient's row as the rule needs it, plus the suppressing event. */
struct rstate {
	struct state	 st;
	int64_t		 last_seen;
	int64_t		 suppress_event;
	char		 suppress_events[STORE_EVENTS_TEXT_MAX];
};

static enum bd_status
load_state(struct store *s, const char *addr, struct rstate *rs)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	memset(rs, 0, sizeof(*rs));
	state_init(&rs->st);
	if ((r = store_cached(s, "SELECT state, reason, suppressed_since, "
	    "reset_at, manual_at, first_bounce, last_bounce, soft_marks, "
	    "last_seen, suppress_event, suppress_events, reset_event "
	    "FROM recipients WHERE address = ?",
	    &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		state_kind_parse(store_col_text(st, 0), &rs->st.kind);
		state_reason_parse(store_col_text(st, 1), &rs->st.reason);
		rs->st.since = sqlite3_column_int64(st, 2);
		rs->st.reset_at = sqlite3_column_int64(st, 3);
		rs->st.manual_at = sqlite3_column_int64(st, 4);
		rs->st.first_bounce = sqlite3_column_int64(st, 5);
		rs->st.last_bounce = sqlite3_column_int64(st, 6);
		state_marks_decode(&rs->st, store_col_text(st, 7));
		rs->last_seen = sqlite3_column_int64(st, 8);
		rs->suppress_event = sqlite3_column_int64(st, 9);
		store_copy_col(rs->suppress_events,
		    sizeof(rs->suppress_events), st, 10);
		rs->st.reset_seq = sqlite3_column_int64(st, 11);
		rc = SQLITE_DONE;
	}
	r = rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, "load state");
	store_release(s, st);
	return r;
}

static enum bd_status
save_state(struct store *s, const char *addr, const struct rstate *rs)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		 marks[STATE_MARKS_TEXT_MAX];
	int		 rc;

	if ((r = store_cached(s, "INSERT OR IGNORE INTO recipients (address, "
	    "domain) VALUES (?, ?)", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	store_bind_text(st, 2, store_addr_domain(addr), ADDR_MAX);
	rc = sqlite3_step(st);
	store_release(s, st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, rc, "insert recipient");
	if ((r = store_cached(s, "UPDATE recipients SET state = ?, reason = ?, "
	    "soft_count = ?, soft_marks = ?, suppressed_since = ?, "
	    "reset_at = ?, manual_at = ?, first_bounce = ?, last_bounce = ?, "
	    "suppress_event = ?, suppress_events = ?, reset_event = ? "
	    "WHERE address = ?", &st)) != BD_OK)
		return r;
	state_marks_encode(&rs->st, marks, sizeof(marks));
	sqlite3_bind_text(st, 1, state_kind_name(rs->st.kind), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state_reason_name(rs->st.reason), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)rs->st.nmarks);
	sqlite3_bind_text(st, 4, marks, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rs->st.kind == STATE_SUPPRESSED ?
	    rs->st.since : 0);
	sqlite3_bind_int64(st, 6, rs->st.reset_at);
	sqlite3_bind_int64(st, 7, rs->st.manual_at);
	sqlite3_bind_int64(st, 8, rs->st.first_bounce);
	sqlite3_bind_int64(st, 9, rs->st.last_bounce);
	if (rs->st.kind == STATE_SUPPRESSED && rs->suppress_event > 0)
		sqlite3_bind_int64(st, 10, rs->suppress_event);
	else
		sqlite3_bind_null(st, 10);
	store_bind_text(st, 11, rs->st.kind == STATE_SUPPRESSED ?
	    rs->suppress_events : "", sizeof(rs->suppress_events) - 1);
	sqlite3_bind_int64(st, 12, rs->st.reset_seq);
	store_bind_text(st, 13, addr, ADDR_MAX);
	rc = sqlite3_step(st);
	store_release(s, st);
	return rc == SQLITE_DONE ? BD_OK :
	    store_dberr(s, rc, "update recipient");
}

/* The "last event" columns, when ev is the newest seen for the address. */
static enum bd_status
save_last(struct store *s, const char *addr, int64_t id, int64_t when,
    const char *status, const char *reason, const char *diag)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	if ((r = store_cached(s, "UPDATE recipients SET last_seen = ?, "
	    "last_event = ?, last_status = ?, last_reason = ?, "
	    "last_diagnostic = ? WHERE address = ? AND last_seen <= ?",
	    &st)) != BD_OK)
		return r;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_int64(st, 2, id);
	store_bind_text(st, 3, status, VERDICT_STATUS_MAX - 1);
	store_bind_text(st, 4, reason, 47);
	store_bind_text(st, 5, diag, STORE_DIAG_MAX);
	store_bind_text(st, 6, addr, ADDR_MAX);
	sqlite3_bind_int64(st, 7, when);
	rc = sqlite3_step(st);
	store_release(s, st);
	return rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, "update last");
}

/*
 * The events that led to a suppression that has just happened: for
 * soft-limit, the soft-bounced events of the streak (after the last
 * reset and manual action, inside the window ending at the suppression,
 * retries included), else the suppressing event alone.
 */
static enum bd_status
led_by(struct store *s, const char *addr, struct rstate *rs, int64_t ev_id,
    const struct state_policy *pol)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	size_t		 len = 0;
	int		 rc, n;

	rs->suppress_events[0] = '\0';
	if (rs->st.reason != STATE_REASON_SOFT_LIMIT) {
		snprintf(rs->suppress_events, sizeof(rs->suppress_events),
		    "%" PRId64, ev_id);
		return BD_OK;
	}
	if ((r = store_prepare(s, "SELECT id FROM events WHERE recipient = ?1 "
	    "AND class = 'soft' AND (ts > ?2 OR (ts = ?2 AND id > ?7)) "
	    "AND ts >= ?3 AND ts >= ?4 AND ts <= ?5 ORDER BY ts, id LIMIT ?6",
	    &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	sqlite3_bind_int64(st, 2, rs->st.reset_at);
	sqlite3_bind_int64(st, 3, rs->st.manual_at);
	sqlite3_bind_int64(st, 4, pol != NULL && pol->soft_window > 0 ?
	    rs->st.since - pol->soft_window : INT64_MIN);
	sqlite3_bind_int64(st, 5, rs->st.since);
	sqlite3_bind_int(st, 6, STORE_EVENTS_MAX);
	sqlite3_bind_int64(st, 7, rs->st.reset_seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = snprintf(rs->suppress_events + len,
		    sizeof(rs->suppress_events) - len, "%s%" PRId64,
		    len > 0 ? "," : "", (int64_t)sqlite3_column_int64(st, 0));
		if (n < 0 || (size_t)n >= sizeof(rs->suppress_events) - len) {
			rs->suppress_events[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	r = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? BD_OK :
	    store_dberr(s, rc, "suppressing events");
	sqlite3_finalize(st);
	return r;
}
/*
 * Apply one input to rs; when it suppresses (or changes the reason of a
 * suppression), ev_id is the suppressing event and the events that led
 * to it are looked up.
 */
static enum bd_status
apply(struct store *s, const char *addr, struct rstate *rs,
    const struct state_input *in, int64_t ev_id,
    const struct state_policy *pol)
{
	enum state_reason	 r0 = rs->st.reason;
	bool			 was = rs->st.kind == STATE_SUPPRESSED;

	state_apply(&rs->st, in, pol);
	if (rs->st.kind != STATE_SUPPRESSED || (was && rs->st.reason == r0))
		return BD_OK;
	rs->suppress_event = ev_id;
	return led_by(s, addr, rs, ev_id, pol);
}

/* Fold one input into addr's row; ev_id is the event that caused it. */
static enum bd_status
fold(struct store *s, const char *addr, const struct state_input *in,
    int64_t ev_id, const struct state_policy *pol)
{
	struct rstate	 rs;
	enum bd_status	 r;

	if ((r = load_state(s, addr, &rs)) != BD_OK ||
	    (r = apply(s, addr, &rs, in, ev_id, pol)) != BD_OK)
		return r;
	return save_state(s, addr, &rs);
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
	"INSERT OR IGNORE INTO events (ts, recipient, domain, "
	"original_recipient, action, status, reply_code, reason, hard, who, "
	"advice, rule, diagnostic, remote_mta, reporting_mta, queue_id, "
	"message_id, envelope_id, sender, campaign, feedback_type, source, "
	"trusted, class, recorded_at, identity, mail_kind, trust_why, "
	"client_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/*
 * Insert one event row.  *id is its rowid, or 0 when the identity was
 * already known.
 */
static enum bd_status
insert_event(struct store *s, const struct bd_event *ev, const char *rcpt,
    const char *action, const char *class, const char *identity,
    int64_t now, int64_t *id)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;
	int		 rc;

	*id = 0;
	if ((r = store_cached(s, insert_event_sql, &st)) != BD_OK)
		return r;
	sqlite3_bind_int64(st, 1, ev->when);
	store_bind_text(st, 2, rcpt, ADDR_MAX);
	store_bind_text(st, 3, store_addr_domain(rcpt), ADDR_MAX);
	store_bind_text(st, 4, ev->original_recipient, STORE_TEXT_MAX);
	store_bind_text(st, 5, action, 32);
	store_bind_text(st, 6, ev->status, VERDICT_STATUS_MAX - 1);
	sqlite3_bind_int(st, 7, ev->reply_code);
	store_bind_text(st, 8, ev->verdict.reason, 47);
	sqlite3_bind_int(st, 9, ev->verdict.hard ? 1 : 0);
	store_bind_text(st, 10, ev_who_name(ev->verdict.who), 32);
	store_bind_text(st, 11, ev_advice_name(ev->verdict.advice), 32);
	store_bind_text(st, 12, ev->verdict.rule[0] ? ev->verdict.rule : NULL,
	    VERDICT_RULE_MAX - 1);
	store_bind_text(st, 13, ev->diagnostic, STORE_DIAG_MAX);
	store_bind_text(st, 14, ev->remote_mta, STORE_TEXT_MAX);
	store_bind_text(st, 15, ev->reporting_mta, STORE_TEXT_MAX);
	store_bind_text(st, 16, ev->queue_id, STORE_TEXT_MAX);
	store_bind_text(st, 17, ev->message_id, STORE_TEXT_MAX);
	store_bind_text(st, 18, ev->envelope_id, STORE_TEXT_MAX);
	store_bind_text(st, 19, ev->sender, STORE_TEXT_MAX);
	store_bind_text(st, 20, ev->campaign, STORE_TEXT_MAX);
	store_bind_text(st, 21, ev->feedback_type, STORE_TEXT_MAX);
	store_bind_text(st, 22, ev_source_name(ev->source), 32);
	sqlite3_bind_int(st, 23, ev->trusted ? 1 : 0);
	store_bind_text(st, 24, class, 32);
	sqlite3_bind_int64(st, 25, now);
	sqlite3_bind_text(st, 26, identity, -1, SQLITE_STATIC);
	store_bind_text(st, 27, ev->mail_kind, 16);
	store_bind_text(st, 28, ev->trust_why, 64);
	store_bind_text(st, 29, ev->client_addr, 64);
	rc = sqlite3_step(st);
	store_release(s, st);
	if (rc != SQLITE_DONE)
		return store_dberr(s, rc, "insert event");
	if (sqlite3_changes(s->db) > 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return BD_OK;
}

/*
 * Sends (schema v2): a delivery line of the log (sent, deferred, bounced)
 * is one send of the original message to the recipient; every event
 * about a known send, from the log or a DSN, moves its outcome when it
 * is at least as recent; a campaign value names every send of the
 * message.  Idempotent like the events: a line read twice adds nothing.
 * A message from the null sender (RFC 5321 section 4.5.5: the MTA's own
 * DSN, whatever producer reports it) is no send: counting it would
 * dilute the bounce rates of bouncectl stats.
 */
static enum bd_status
note_send(struct store *s, const struct bd_event *ev, const char *rcpt,
    const char *class)
{
	sqlite3_stmt	*st;
	enum bd_status	 r;

	if (ev->queue_id == NULL || ev->queue_id[0] == '\0')
		return BD_OK;
	if (event_sender_is_null(ev->sender, NULL))
		return BD_OK;	/* a DSN the MTA sent: not a send of ours */
	if (ev->source == EV_SRC_LOG && (ev->action == EV_ACT_FAILED ||
	    ev->action == EV_ACT_DELAYED || ev->action == EV_ACT_DELIVERED)) {
		if ((r = store_cached(s, "INSERT OR IGNORE INTO sends "
		    "(queue_id, recipient, message_id, ts, domain, sender, "
		    "campaign) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?)", &st)) != BD_OK)
			return r;
		store_bind_text(st, 1, ev->queue_id, STORE_TEXT_MAX);
		store_bind_text(st, 2, rcpt, ADDR_MAX);
		store_bind_text(st, 3, ev->message_id, STORE_TEXT_MAX);
		sqlite3_bind_int64(st, 4, ev->when);
		store_bind_text(st, 5, store_addr_domain(rcpt), ADDR_MAX);
		store_bind_text(st, 6, ev->sender, STORE_TEXT_MAX);
		store_bind_text(st, 7, ev->campaign != NULL &&
		    ev->campaign[0] != '\0' ? ev->campaign : NULL,
		    STORE_TEXT_MAX);
		if ((r = store_step_done(s, st, "insert send")) != BD_OK)
			return r;
	}
	if (strcmp(class, "delivered") == 0 || strcmp(class, "soft") == 0 ||
	    strcmp(class, "hard") == 0 || strcmp(class, "sender") == 0) {
		if ((r = store_cached(s, "UPDATE sends SET outcome = ?1, "
		    "outcome_ts = ?2, reason = ?3 WHERE queue_id = ?4 AND "
		    "recipient = ?5 AND outcome_ts <= ?2", &st)) != BD_OK)
			return r;
		sqlite3_bind_text(st, 1, class, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, ev->when);
		store_bind_text(st, 3, ev->verdict.reason, 47);
		store_bind_text(st, 4, ev->queue_id, STORE_TEXT_MAX);
		store_bind_text(st, 5, rcpt, ADDR_MAX);
		if ((r = store_step_done(s, st, "update send")) != BD_OK)
			return r;
	}
	if (ev->campaign != NULL && ev->campaign[0] != '\0') {
		if ((r = store_cached(s, "UPDATE sends SET campaign = ? WHERE "
		    "queue_id = ? AND campaign IS NULL", &st)) != BD_OK)
			return r;
		store_bind_text(st, 1, ev->campaign, STORE_TEXT_MAX);
		store_bind_text(st, 2, ev->queue_id, STORE_TEXT_MAX);
		if ((r = store_step_done(s, st, "send campaign")) != BD_OK)
			return r;
	}
	return BD_OK;
}

static enum bd_status
record_one(struct store *s, const struct bd_event *ev,
    const struct state_policy *pol, int64_t now, bool *isnew)
{
	struct state_input	 in;
	enum bd_status		 r;
	char			 rcpt[ADDR_MAX + 1], key[STATE_KEY_MAX];
	char			 ident[STATE_KEY_MAX + ADDR_MAX + 64];
	int64_t			 id;

	*isnew = false;
	/* Not an address: nothing to keep a state for (not an error). */
	if (ev->recipient == NULL ||
	    !addr_normalize(ev->recipient, rcpt, sizeof(rcpt)))
		return BD_OK;
	memset(&in, 0, sizeof(in));
	in.kind = state_event_kind(ev);
	in.when = ev->when;
	in.feedback_type = ev->feedback_type;
	state_msgkey(ev, key, sizeof(key));
	in.msgkey = key;
	event_identity(ev, rcpt, key, ident + 2, sizeof(ident) - 2);
	if (event_held(ev)) {
		/*
		 * The trust policy's hook (DESIGN.md "Trust"): a held report
		 * is kept with class "untrusted", apart from the trusted
		 * identities ("u|"), so that a genuine copy that comes later
		 * is still new; it moves no send outcome, no state and no
		 * date.
		 */
		memcpy(ident, "u|", 2);
		if ((r = insert_event(s, ev, rcpt, ev_action_name(ev->action),
		    "untrusted", ident, now, &id)) != BD_OK)
			return r;
		*isnew = id != 0;
		return BD_OK;
	}
	if ((r = insert_event(s, ev, rcpt, ev_action_name(ev->action),
	    state_input_name(in.kind), ident + 2, now, &id)) != BD_OK)
		return r;
	/* also for a known event: the DSN may have come before the line */
	if ((r = note_send(s, ev, rcpt, state_input_name(in.kind))) != BD_OK)
		return r;
	if (id == 0)
		return BD_OK;	/* seen before: change nothing */
	*isnew = true;
	in.seq = id;		/* breaks a tie of dates (state.c) */
	if ((r = fold(s, rcpt, &in, id, pol)) != BD_OK)
		return r;
	return save_last(s, rcpt, id, ev->when, ev->status,
	    ev->verdict.reason, ev->diagnostic);
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
	sqlite3_stmt		*st;
	enum bd_status		 r;
	const char		*act;
	char			 ident[ADDR_MAX + 160];
	int64_t			 id;
	int			 rc;

	act = m->suppress ? "suppress" : "unsuppress";
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
	if ((r = insert_event(s, &ev, rcpt, act, act, ident, m->when, &id)) !=
	    BD_OK)
		return r;
	if (id == 0)
		return BD_OK;	/* the same action twice in one second */
	memset(&in, 0, sizeof(in));
	in.kind = m->suppress ? STATE_IN_SUPPRESS : STATE_IN_UNSUPPRESS;
	in.when = m->when;
	in.seq = id;
	in.reason = reason;
	in.manual = true;
	if ((r = fold(s, rcpt, &in, id, NULL)) != BD_OK)
		return r;
	if ((r = store_prepare(s, "UPDATE recipients SET manual_by = ?, "
	    "manual_why = ?, manual_at = ?, last_seen = MAX(last_seen, ?3) "
	    "WHERE address = ?", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, m->by, 127);
	store_bind_text(st, 2, m->why, 255);
	sqlite3_bind_int64(st, 3, m->when);
	store_bind_text(st, 4, rcpt, ADDR_MAX);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? BD_OK : store_dberr(s, rc, "update manual");
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
	if ((r = store_exec(s, "BEGIN IMMEDIATE")) != BD_OK)
		goto out;
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
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
	}
	if ((r = store_exec(s, "COMMIT")) != BD_OK)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* The state input of a stored event (key receives its message key). */
static void
row_input(const struct store_event_row *e, struct state_input *in,
    char *key, size_t keylen)
{
	struct bd_event	 ev;

	memset(in, 0, sizeof(*in));
	in->when = e->when;
	in->seq = e->id;
	if (e->action != NULL && (strcmp(e->action, "suppress") == 0 ||
	    strcmp(e->action, "unsuppress") == 0)) {
		in->kind = e->action[0] == 's' ? STATE_IN_SUPPRESS :
		    STATE_IN_UNSUPPRESS;
		if (!state_reason_parse(e->reason, &in->reason))
			in->reason = STATE_REASON_MANUAL;
		in->manual = true;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.when = e->when;
	ev.action = ev_action_parse(e->action);
	ev.status = e->status;
	ev.queue_id = e->queue_id;
	ev.message_id = e->message_id;
	ev.envelope_id = e->envelope_id;
	ev.feedback_type = e->feedback_type;
	ev.verdict.reason = e->reason;
	ev.verdict.hard = e->hard;
	ev.verdict.who = (e->who != NULL && strcmp(e->who, "sender") == 0) ?
	    EV_WHO_SENDER : EV_WHO_RECIPIENT;
	in->kind = state_event_kind(&ev);
	in->feedback_type = e->feedback_type;
	state_msgkey(&ev, key, keylen);
	in->msgkey = key;
}

/*
 * The start of a rebuild of addr: a fresh state, unless the address is
 * suppressed since before its oldest event kept, i.e. the events that
 * suppressed it were pruned: a suppression that cannot be judged again
 * is kept (reason, date and the events it names), and the events left
 * are folded on top of it.
 */
static enum bd_status
rebuild_start(struct store *s, const char *addr, struct rstate *rs)
{
	struct state_input	 in;
	struct rstate		 old;
	sqlite3_stmt		*st;
	enum bd_status		 r;
	int64_t			 oldest = INT64_MAX;
	int			 rc;

	memset(rs, 0, sizeof(*rs));
	state_init(&rs->st);
	if ((r = load_state(s, addr, &old)) != BD_OK)
		return r;
	if (old.st.kind != STATE_SUPPRESSED)
		return BD_OK;
	if ((r = store_prepare(s, "SELECT MIN(ts) FROM events WHERE "
	    "recipient = ?", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		oldest = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_dberr(s, rc, "rebuild");
	if (old.st.since >= oldest)
		return BD_OK;	/* its cause is kept: judge it again */
	memset(&in, 0, sizeof(in));
	in.kind = STATE_IN_SUPPRESS;
	in.when = old.st.since;
	in.reason = old.st.reason;
	in.manual = old.st.reason == STATE_REASON_MANUAL ||
	    old.st.reason == STATE_REASON_IMPORTED;
	state_apply(&rs->st, &in, NULL);
	rs->suppress_event = old.suppress_event;
	memcpy(rs->suppress_events, old.suppress_events,
	    sizeof(rs->suppress_events));
	return BD_OK;
}

/*
 * Rebuild one address: fold its events, oldest first, from scratch (or
 * from a suppression whose events were pruned: rebuild_start()).
 */
static enum bd_status
rebuild_one(struct store *s, const char *addr, const struct state_policy *pol)
{
	struct store_event_row	 e;
	struct state_input	 in;
	struct rstate		 rs;
	sqlite3_stmt		*st;
	enum bd_status		 r;
	char			 key[STATE_KEY_MAX];
	int			 rc;

	if ((r = rebuild_start(s, addr, &rs)) != BD_OK)
		return r;
	if ((r = store_prepare(s, "SELECT " STORE_EVENT_COLUMNS " FROM events "
	    "WHERE recipient = ? ORDER BY ts, id", &st)) != BD_OK)
		return r;
	store_bind_text(st, 1, addr, ADDR_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_fill_event(st, &e);
		if (e.class != NULL && strcmp(e.class, "untrusted") == 0)
			continue;	/* held: never acted on (trust.c) */
		row_input(&e, &in, key, sizeof(key));
		if ((r = apply(s, addr, &rs, &in, e.id, pol)) != BD_OK)
			break;
	}
	sqlite3_finalize(st);
	if (r != BD_OK)
		return r;
	if (rc != SQLITE_DONE)
		return store_dberr(s, rc, "rebuild");
	return save_state(s, addr, &rs);
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
	sqlite3_stmt	*st;
	enum bd_status	 r;
	char		*addr;
	int		 rc;

	if (store_writable(s) != BD_OK)
		return BD_EIO;
	pthread_mutex_lock(&s->lock);
	if ((r = store_tx_begin(s)) != BD_OK)
		goto out;
	if ((r = store_prepare(s, "SELECT DISTINCT recipient FROM events "
	    "ORDER BY recipient", &st)) != BD_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
	if (r == BD_OK && rc != SQLITE_DONE)
		r = store_dberr(s, rc, "rebuild");
	sqlite3_finalize(st);
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
