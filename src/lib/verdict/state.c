/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * state.c - the suppression rule.  A recipient's state (active, soft,
 * suppressed) is a fold of its events through state_apply(), taken in
 * one fixed order (date, then state_input_rank(), then the event's
 * identity), so that the state depends on the events and not on the
 * order they arrived in: the store folds a new event onto the state when
 * it is the newest, and folds the address again from its events when
 * it is not (store_record.c); a rebuild does the same fold.
 *
 * The rule (DESIGN.md, "Recipient state"):
 * - a hard verdict on a failed recipient suppresses at once (hard);
 * - a deferral is provisional: it marks its message "pending" and counts
 *   for nothing.  The message becomes a soft bounce only when it is
 *   given up for that recipient (a final failure: Postfix's "bounced"
 *   or "expired", a DSN with action failed).  A delivery of the message
 *   withdraws its mark, whatever came before.  Why not also "still
 *   undelivered after some age": the MTA already gives up on its own
 *   clock (maximal_queue_lifetime, Timeout.queuereturn) and says so, and
 *   mail still being retried may yet be delivered (bounced.conf(5));
 * - a soft bounce counts its message once (its canonical key: the store
 *   makes the queue ids, Message-ID and ENVID of one message one key);
 *   soft_limit distinct messages inside soft_window suppress
 *   (soft-limit);
 * - a delivery (RFC 3464 section 2.3.3 action "delivered") ends the
 *   streak: soft marks dated at or before it go;
 * - a stronger reason replaces a weaker one: a hard bounce or a
 *   complaint on a soft-limit suppression makes it hard or complaint;
 * - a soft-limit suppression whose marks are withdrawn (the delivery of
 *   a message it counted) is lifted when fewer than soft_limit remain;
 * - a feedback report (ARF, RFC 5965) is never a bounce: it neither
 *   counts nor ends a streak, but one whose Feedback-Type (section 7.3
 *   registry) is in the policy's complaint_types suppresses (complaint);
 *   not-spam (RFC 6430) never does;
 * - sender-side reasons, failures of our own delivery path (local) and
 *   auto-replies (RFC 3834) never move the address; a final one still
 *   settles its message (no longer pending);
 * - an operator's suppress/unsuppress always wins: automatic events dated
 *   before the last manual action change nothing;
 * - an untrusted input changes nothing (DESIGN.md "Trust").
 *
 * Pure: no I/O, no clock, no logging.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict/classify.h"
#include "verdict/ourside.h"
#include "verdict/state.h"

/*
 * state_init - the state of an address with no history
 *
 * Arguments: st, filled with active, count 0, no dates.
 */
void
state_init(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->kind = STATE_ACTIVE;
	st->reason = STATE_REASON_NONE;
}

static size_t
count_kind(const struct state *st, enum state_mark_kind k)
{
	size_t	 i, n = 0;

	for (i = 0; i < st->nmarks; i++)
		if (st->marks[i].kind == k)
			n++;
	return n;
}

/* state_soft_count - the soft-bounced messages of the current streak */
size_t
state_soft_count(const struct state *st)
{
	return count_kind(st, STATE_MARK_SOFT);
}

/* state_pending_count - messages deferred whose outcome is not known */
size_t
state_pending_count(const struct state *st)
{
	return count_kind(st, STATE_MARK_PENDING);
}

/*
 * Drop the marks for which drop() says so; keeps their order (the order
 * is part of the state, so that a fold is the same live and replayed).
 */
static bool
drop_marks(struct state *st, bool (*drop)(const struct state_mark *,
    const void *), const void *arg)
{
	size_t	 i, j;
	bool	 any = false;

	for (i = j = 0; i < st->nmarks; i++) {
		if (drop(&st->marks[i], arg))
			any = true;
		else
			st->marks[j++] = st->marks[i];
	}
	st->nmarks = j;
	return any;
}

static bool
soft_upto(const struct state_mark *m, const void *arg)
{
	return m->kind == STATE_MARK_SOFT && m->when <= *(const int64_t *)arg;
}

static bool
soft_before(const struct state_mark *m, const void *arg)
{
	return m->kind == STATE_MARK_SOFT && m->when < *(const int64_t *)arg;
}

static bool
pending_before(const struct state_mark *m, const void *arg)
{
	return m->kind == STATE_MARK_PENDING && m->when < *(const int64_t *)arg;
}

static bool
key_is(const struct state_mark *m, const void *arg)
{
	return strcmp(m->key, (const char *)arg) == 0;
}

static struct state_mark *
find_mark(struct state *st, const char *key)
{
	size_t	 i;

	for (i = 0; i < st->nmarks; i++)
		if (strcmp(st->marks[i].key, key) == 0)
			return &st->marks[i];
	return NULL;
}

/* Room for one more mark: the oldest pending goes first, else the oldest. */
static void
make_room(struct state *st)
{
	size_t	 i, victim = SIZE_MAX;

	if (st->nmarks < STATE_SOFT_MARKS)
		return;
	for (i = 0; i < st->nmarks; i++)
		if (st->marks[i].kind == STATE_MARK_PENDING &&
		    (victim == SIZE_MAX ||
		    st->marks[i].when < st->marks[victim].when))
			victim = i;
	if (victim == SIZE_MAX)
		for (victim = 0, i = 1; i < st->nmarks; i++)
			if (st->marks[i].when < st->marks[victim].when)
				victim = i;
	memmove(&st->marks[victim], &st->marks[victim + 1],
	    (st->nmarks - victim - 1) * sizeof(st->marks[0]));
	st->nmarks--;
}

static struct state_mark *
add_mark(struct state *st, const struct state_input *in,
    enum state_mark_kind kind)
{
	struct state_mark	*m;

	make_room(st);
	m = &st->marks[st->nmarks++];
	memset(m, 0, sizeof(*m));
	m->when = in->when;
	m->ev = in->seq;
	m->kind = kind;
	snprintf(m->key, sizeof(m->key), "%s", in->msgkey);
	return m;
}

static bool
has_key(const struct state_input *in)
{
	return in->msgkey != NULL && in->msgkey[0] != '\0';
}

static unsigned
effective_limit(const struct state_policy *pol)
{
	unsigned	 limit = pol != NULL ? pol->soft_limit : 0;

	return limit > STATE_SOFT_MARKS ? STATE_SOFT_MARKS : limit;
}

/* Suppress for reason r at when, unless a reason as strong holds. */
static void
suppress(struct state *st, enum state_reason r, int64_t when)
{
	if (st->kind == STATE_SUPPRESSED &&
	    state_reason_rank(st->reason) >= state_reason_rank(r))
		return;
	st->kind = STATE_SUPPRESSED;
	st->reason = r;
	st->since = when;
}

/* Soft or active from the marks, unless suppressed. */
static void
settle(struct state *st, const struct state_policy *pol)
{
	unsigned	 limit = effective_limit(pol);
	size_t		 n = state_soft_count(st);

	if (st->kind == STATE_SUPPRESSED) {
		/* a soft-limit suppression whose marks were withdrawn */
		if (st->reason == STATE_REASON_SOFT_LIMIT && limit > 0 &&
		    n < limit) {
			st->reason = STATE_REASON_NONE;
			st->since = 0;
		} else
			return;
	}
	st->kind = n > 0 ? STATE_SOFT : STATE_ACTIVE;
}

/* A deferral: the message is pending until its outcome is known. */
static void
deferred(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	int64_t		 cut;

	if (pol != NULL && pol->soft_window > 0) {
		cut = in->when - pol->soft_window;
		drop_marks(st, pending_before, &cut);
	}
	if (!has_key(in) || find_mark(st, in->msgkey) != NULL)
		return;		/* nothing to withdraw later; or known */
	add_mark(st, in, STATE_MARK_PENDING);
}

/* A final soft failure: the message joins the streak. */
static void
soft_bounce(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	struct state_mark	*m;
	int64_t			 cut;
	char			 tkey[32];
	struct state_input	 tin;
	unsigned		 limit = effective_limit(pol);

	if (!has_key(in)) {
		/* no id: the date stands for the message */
		snprintf(tkey, sizeof(tkey), "t:%" PRId64, in->when);
		tin = *in;
		tin.msgkey = tkey;
		in = &tin;
	}
	if (pol != NULL && pol->soft_window > 0) {
		cut = in->when - pol->soft_window;
		drop_marks(st, soft_before, &cut);
		drop_marks(st, pending_before, &cut);
	}
	if ((m = find_mark(st, in->msgkey)) != NULL) {
		if (m->kind == STATE_MARK_SOFT)
			return;		/* given up twice: once */
		m->kind = STATE_MARK_SOFT;
		m->when = in->when;
		m->ev = in->seq;
	} else
		add_mark(st, in, STATE_MARK_SOFT);
	if (st->kind != STATE_SUPPRESSED && limit > 0 &&
	    state_soft_count(st) >= limit)
		suppress(st, STATE_REASON_SOFT_LIMIT, in->when);
	else
		settle(st, pol);
}

/* A delivery: withdraws its message's mark and ends the soft streak. */
static void
delivered(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	if (in->when > st->reset_at)
		st->reset_at = in->when;
	if (has_key(in))
		drop_marks(st, key_is, in->msgkey);
	if (st->kind != STATE_SUPPRESSED)
		drop_marks(st, soft_upto, &in->when);
	settle(st, pol);
}

/* Does this feedback report suppress under pol?  not-spam never does. */
static bool
complaint_suppresses(const struct state_input *in,
    const struct state_policy *pol)
{
	enum state_feedback	 t;
	const char		*v = in->feedback_type;

	if (pol == NULL || v == NULL)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!state_feedback_parse(v, strcspn(v, " \t;("), &t) ||
	    t == STATE_FB_NOT_SPAM)
		return false;
	return (pol->complaint_types & STATE_FB_BIT(t)) != 0;
}

static void
bounce_dates(struct state *st, int64_t when)
{
	if (st->first_bounce == 0 || when < st->first_bounce)
		st->first_bounce = when;
	if (when > st->last_bounce)
		st->last_bounce = when;
}

/*
 * state_apply - fold one input into a recipient's state
 *
 * Arguments: st, the state so far (state_init() for a new address);
 * in, the event as the rule sees it; pol, soft_limit, soft_window
 * (a soft_limit of 0 never suppresses on soft bounces; a window of 0 is
 * unbounded) and complaint_types (NULL: no complaint suppresses).
 * Returns true when the kind, the reason or the soft count changed.
 * Notes: inputs must come in state_input_order() (the store sees to
 * it); then the result does not depend on the order events arrived in.
 * Automatic inputs dated before the last manual action change nothing;
 * an untrusted input changes nothing.  A suppression ends only by
 * STATE_IN_UNSUPPRESS, or (soft-limit) when a delivery withdraws the
 * marks it rested on.
 */
bool
state_apply(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	enum state_kind		 k0 = st->kind;
	enum state_reason	 r0 = st->reason;
	size_t			 n0 = state_soft_count(st);

	if (in->untrusted)
		return false;
	if (in->when > st->newest)
		st->newest = in->when;
	if (!in->manual && in->kind != STATE_IN_IGNORE &&
	    in->when < st->manual_at)
		return false;
	switch (in->kind) {
	case STATE_IN_IGNORE:
		return false;
	case STATE_IN_SUPPRESS:
		if (in->manual && in->when > st->manual_at)
			st->manual_at = in->when;
		if (st->kind != STATE_SUPPRESSED || st->reason != in->reason)
			st->since = in->when;
		st->kind = STATE_SUPPRESSED;
		st->reason = in->reason == STATE_REASON_NONE ?
		    STATE_REASON_MANUAL : in->reason;
		break;
	case STATE_IN_UNSUPPRESS:
		if (in->when > st->manual_at)
			st->manual_at = in->when;
		if (in->when >= st->reset_at)
			st->reset_at = in->when;
		st->kind = STATE_ACTIVE;
		st->reason = STATE_REASON_NONE;
		st->since = 0;
		st->nmarks = 0;
		break;
	case STATE_IN_SENDER:
	case STATE_IN_LOCAL:
		if (in->kind == STATE_IN_SENDER)
			bounce_dates(st, in->when);
		/* not the recipient's doing; a final one settles its message */
		if (has_key(in))
			drop_marks(st, key_is, in->msgkey);
		if (st->kind != STATE_SUPPRESSED)
			settle(st, pol);
		break;
	case STATE_IN_DEFERRED:
		bounce_dates(st, in->when);
		deferred(st, in, pol);
		break;
	case STATE_IN_HARD:
		bounce_dates(st, in->when);
		if (has_key(in))
			drop_marks(st, key_is, in->msgkey);
		suppress(st, STATE_REASON_HARD, in->when);
		break;
	case STATE_IN_SOFT:
		bounce_dates(st, in->when);
		soft_bounce(st, in, pol);
		break;
	case STATE_IN_FEEDBACK:
		/* Not a bounce: first/last_bounce and the streak stay. */
		if (!complaint_suppresses(in, pol) ||
		    (st->manual_at > 0 && in->when <= st->manual_at))
			break;
		suppress(st, STATE_REASON_COMPLAINT, in->when);
		break;
	case STATE_IN_DELIVERED:
		delivered(st, in, pol);
		break;
	}
	return st->kind != k0 || st->reason != r0 ||
	    state_soft_count(st) != n0;
}

/*
 * state_input_rank - order of inputs dated the same second
 *
 * Returns a small number: failures first, then deliveries (a delivery
 * dated the second of a failure ends the streak), feedback, and an
 * operator's action last (it wins every tie).
 */
int
state_input_rank(enum state_input_kind k)
{
	switch (k) {
	case STATE_IN_IGNORE:		return 0;
	case STATE_IN_DEFERRED:		return 1;
	case STATE_IN_SOFT:		return 2;
	case STATE_IN_HARD:		return 3;
	case STATE_IN_SENDER:		return 4;
	case STATE_IN_LOCAL:		return 4;
	case STATE_IN_DELIVERED:	return 5;
	case STATE_IN_FEEDBACK:		return 6;
	case STATE_IN_SUPPRESS:		return 7;
	case STATE_IN_UNSUPPRESS:	return 7;
	}
	return 0;
}

/*
 * state_reason_rank - how strong a suppression reason is
 *
 * Returns 0 for none, 1 soft-limit, 2 hard, 3 complaint, 4 for an
 * operator's (manual, imported), which no automatic reason replaces.
 */
int
state_reason_rank(enum state_reason r)
{
	switch (r) {
	case STATE_REASON_NONE:		return 0;
	case STATE_REASON_SOFT_LIMIT:	return 1;
	case STATE_REASON_HARD:		return 2;
	case STATE_REASON_COMPLAINT:	return 3;
	case STATE_REASON_MANUAL:
	case STATE_REASON_IMPORTED:	return 4;
	}
	return 0;
}

static bool
reason_is(const char *reason, const char *word)
{
	return reason != NULL && strcasecmp(reason, word) == 0;
}

/*
 * state_event_kind - what a recorded event means to the rule
 *
 * Arguments: ev, an event with its verdict; pol, for its hops (NULL:
 * loopback ones).
 * Returns STATE_IN_FEEDBACK for a feedback report with a Feedback-Type
 * (RFC 5965 section 3.1), whatever its action; STATE_IN_DELIVERED for
 * "delivered"; STATE_IN_IGNORE for relayed/expanded (RFC 3464 section
 * 2.3.3: no final outcome; a hand-off to a content filter or relayhost
 * is "relayed"), a feedback verdict without a type and auto-replies;
 * STATE_IN_LOCAL for a failure of our own delivery path (who = local,
 * or ourside_failure() says so); STATE_IN_SENDER when the reason is
 * about the sender (classify_reason_sender_side() or who == sender);
 * STATE_IN_DEFERRED for "delayed" (whatever its verdict: the MTA is
 * still trying, RFC 3464 section 2.3.3); STATE_IN_HARD for a hard
 * verdict on a failed recipient; STATE_IN_SOFT otherwise.
 */
enum state_input_kind
state_event_kind(const struct bd_event *ev, const struct state_policy *pol)
{
	static char *const	 none[1] = { NULL };
	struct ourside_hops	 h = { NULL, 0 };
	const char		*reason = ev->verdict.reason;

	if (pol != NULL && pol->hops_set) {
		h.pats = pol->hops != NULL ? pol->hops : none;
		h.n = pol->nhops;
	}
	if (ev->feedback_type != NULL && ev->feedback_type[0] != '\0')
		return STATE_IN_FEEDBACK;
	switch (ev->action) {
	case EV_ACT_DELIVERED:
		return STATE_IN_DELIVERED;
	case EV_ACT_RELAYED:
	case EV_ACT_EXPANDED:
		return STATE_IN_IGNORE;
	case EV_ACT_FAILED:
	case EV_ACT_DELAYED:
	case EV_ACT_UNKNOWN:
		break;
	}
	if (reason_is(reason, "feedback") || reason_is(reason, "complaint") ||
	    reason_is(reason, "vacation") || reason_is(reason, "autoreply") ||
	    reason_is(reason, "delivered"))
		return STATE_IN_IGNORE;
	if (ev->verdict.who == EV_WHO_LOCAL || ourside_failure(&h,
	    ev->diagnostic))
		return STATE_IN_LOCAL;
	if ((reason != NULL && classify_reason_sender_side(reason)) ||
	    ev->verdict.who == EV_WHO_SENDER)
		return STATE_IN_SENDER;
	if (ev->action == EV_ACT_DELAYED)
		return STATE_IN_DEFERRED;
	if (ev->verdict.hard)
		return STATE_IN_HARD;
	return STATE_IN_SOFT;
}

/* "tag:value", value trimmed of white space and (Message-ID) <>. */
static void
put_key(char *out, size_t outlen, char tag, const char *v)
{
	size_t	 n, i;

	out[0] = '\0';
	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t' || (tag == 'm' && *v == '<'))
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    (tag == 'm' && v[n - 1] == '>')))
		n--;
	if (n == 0)
		return;
	if (n > outlen - 3)
		n = outlen - 3;
	out[0] = tag;
	out[1] = ':';
	memcpy(out + 2, v, n);
	out[n + 2] = '\0';
	/* one key a line in storage: no white space nor control bytes */
	for (i = 2; out[i] != '\0'; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

/*
 * state_msgkeys - every key of the original message an event names
 *
 * Arguments: ev; k, receives "q:QUEUEID", "m:MESSAGE-ID" (angle brackets
 * and white space removed: the log keeps them, a DSN parser may not)
 * and "e:ENVID", each "" when absent.
 * Notes: white space and control bytes inside become '?'.
 */
void
state_msgkeys(const struct bd_event *ev, struct state_keys *k)
{
	put_key(k->q, sizeof(k->q), 'q', ev->queue_id);
	put_key(k->m, sizeof(k->m), 'm', ev->message_id);
	put_key(k->e, sizeof(k->e), 'e', ev->envelope_id);
}

/*
 * state_msgkey - the first key of the original message an event names
 *
 * Arguments: ev; out/outlen receive "q:QUEUEID", "m:MESSAGE-ID" or
 * "e:ENVID" (the first present), or "" when the event names none.
 */
void
state_msgkey(const struct bd_event *ev, char *out, size_t outlen)
{
	struct state_keys	 k;
	const char		*v;

	if (outlen == 0)
		return;
	state_msgkeys(ev, &k);
	v = k.q[0] ? k.q : k.m[0] ? k.m : k.e;
	snprintf(out, outlen, "%s", v);
}

static int
key_tag_rank(const char *k)
{
	switch (k[0]) {
	case 'm':	return 0;
	case 'e':	return 1;
	case 'q':	return 2;
	default:	return 3;
	}
}

/*
 * state_key_better - which of two keys of one message stands for it
 *
 * Returns true when a comes first: a Message-ID before an ENVID before
 * a queue id (the Message-ID survives hand-offs and appears in remote
 * DSNs), then byte order; "" never wins.  A total order, so the key of
 * a set of linked keys does not depend on the order they were linked.
 */
bool
state_key_better(const char *a, const char *b)
{
	int	 ra, rb;

	if (a[0] == '\0')
		return false;
	if (b[0] == '\0')
		return true;
	ra = key_tag_rank(a);
	rb = key_tag_rank(b);
	if (ra != rb)
		return ra < rb;
	return strcmp(a, b) < 0;
}

/*
 * state_equal - do two states say the same
 *
 * Arguments: a, b; ids, also compare the event ids of the marks (they
 * are the same only for folds of the same stored events).
 */
bool
state_equal(const struct state *a, const struct state *b, bool ids)
{
	size_t	 i;

	if (a->kind != b->kind || a->reason != b->reason ||
	    a->since != b->since || a->reset_at != b->reset_at ||
	    a->manual_at != b->manual_at ||
	    a->first_bounce != b->first_bounce ||
	    a->last_bounce != b->last_bounce || a->newest != b->newest ||
	    a->nmarks != b->nmarks)
		return false;
	for (i = 0; i < a->nmarks; i++)
		if (a->marks[i].when != b->marks[i].when ||
		    a->marks[i].kind != b->marks[i].kind ||
		    strcmp(a->marks[i].key, b->marks[i].key) != 0 ||
		    (ids && a->marks[i].ev != b->marks[i].ev))
			return false;
	return true;
}
