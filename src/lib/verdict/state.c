/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * state.c - the suppression rule.  A recipient's state (active, soft,
 * suppressed) is a fold of its events through state_apply(); the store
 * calls it once per new event and could replay it over all of history.
 *
 * The rule (DESIGN.md, "Recipient state"):
 * - a hard verdict on a failed recipient suppresses at once (hard);
 * - a soft failure (failed or delayed, recipient-side reason) counts its
 *   original message once (queue id, else Message-ID, else ENVID), so
 *   retries and delay notices of one message are one; soft_limit distinct
 *   messages inside soft_window suppress (soft-limit);
 * - a delivery (RFC 3464 section 2.3.3 action "delivered") ends the streak;
 * - a feedback report (ARF, RFC 5965) is never a bounce: it neither counts
 *   nor ends a streak, but one whose Feedback-Type (section 7.3 registry)
 *   is in the policy's complaint_types suppresses (complaint); not-spam
 *   (RFC 6430) never does;
 * - sender-side reasons and auto-replies (RFC 3834) never move the
 *   address;
 * - an operator's suppress/unsuppress always wins: automatic events dated
 *   before the last manual action change nothing.
 * Events may arrive out of order (a DSN after the log line), so the rule
 * compares event dates first.  Dates are whole seconds, so a tie between
 * a delivery and a soft bounce is broken by recording order (the event
 * id, state_input.seq): a soft bounce recorded after a delivery dated the
 * same second counts (the log's "sent" and the next "deferred" often
 * share a second).  An operator's unsuppress wins every tie (also
 * against a complaint dated its second).
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

/* Drop the marks dated at or before t (recorded before a delivery at t). */
static void
drop_marks_upto(struct state *st, int64_t t)
{
	size_t	 i, j;

	for (i = j = 0; i < st->nmarks; i++)
		if (st->marks[i].when > t)
			st->marks[j++] = st->marks[i];
	st->nmarks = j;
}

/* Drop the marks older than the window ending at the newest mark. */
static void
drop_marks_outside(struct state *st, int64_t newest, int64_t window)
{
	size_t	 i, j;

	if (window <= 0)
		return;
	for (i = j = 0; i < st->nmarks; i++)
		if (st->marks[i].when >= newest - window)
			st->marks[j++] = st->marks[i];
	st->nmarks = j;
}

static void
add_mark(struct state *st, int64_t when, const char *key)
{
	size_t	 i, oldest = 0;

	for (i = 0; i < st->nmarks; i++) {
		if (strcmp(st->marks[i].key, key) == 0) {
			if (when > st->marks[i].when)
				st->marks[i].when = when;
			return;
		}
	}
	if (st->nmarks == STATE_SOFT_MARKS) {
		for (i = 1; i < st->nmarks; i++)
			if (st->marks[i].when < st->marks[oldest].when)
				oldest = i;
		st->marks[oldest] = st->marks[--st->nmarks];
	}
	st->marks[st->nmarks].when = when;
	snprintf(st->marks[st->nmarks].key, STATE_KEY_MAX, "%s", key);
	st->nmarks++;
}

static void
soft_bounce(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	int64_t		 newest = in->when;
	size_t		 i, limit;
	char		 key[STATE_KEY_MAX];

	if (st->reset_at > 0 && (in->when < st->reset_at ||
	    (in->when == st->reset_at && in->seq <= st->reset_seq)))
		return;		/* a later delivery or unsuppress wins */
	for (i = 0; i < st->nmarks; i++)
		if (st->marks[i].when > newest)
			newest = st->marks[i].when;
	if (pol->soft_window > 0 && in->when < newest - pol->soft_window)
		return;		/* too old to belong to the current window */
	if (in->msgkey != NULL && in->msgkey[0] != '\0')
		snprintf(key, sizeof(key), "%s", in->msgkey);
	else
		snprintf(key, sizeof(key), "t:%" PRId64, in->when);
	add_mark(st, in->when, key);
	drop_marks_outside(st, newest, pol->soft_window);
	limit = pol->soft_limit;
	if (limit > STATE_SOFT_MARKS)
		limit = STATE_SOFT_MARKS;
	if (limit > 0 && st->nmarks >= limit) {
		st->kind = STATE_SUPPRESSED;
		st->reason = STATE_REASON_SOFT_LIMIT;
		st->since = in->when;
	} else
		st->kind = st->nmarks > 0 ? STATE_SOFT : STATE_ACTIVE;
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

/*
 * state_apply - fold one input into a recipient's state
 *
 * Arguments: st, the state so far (state_init() for a new address);
 * in, the event as the rule sees it; pol, soft_limit, soft_window
 * (a soft_limit of 0 never suppresses on soft bounces; a window of 0 is
 * unbounded) and complaint_types (NULL: no complaint suppresses).
 * Returns true when the kind, the reason or the soft count changed.
 * Notes: an already suppressed address stays suppressed whatever
 * automatic event comes; only STATE_IN_UNSUPPRESS makes it active.
 * A feedback report whose type is in pol->complaint_types suppresses
 * (STATE_REASON_COMPLAINT) unless an operator acted at or after its
 * date; any other leaves the state, the streak and the bounce dates be.
 * Inputs are compared by date, then by in->seq (recording order): a soft
 * bounce dated the second of the last delivery counts only when its seq
 * is greater (never with seq 0, never after an unsuppress).
 */
bool
state_apply(struct state *st, const struct state_input *in,
    const struct state_policy *pol)
{
	enum state_kind		 k0 = st->kind;
	enum state_reason	 r0 = st->reason;
	size_t			 n0 = st->nmarks;

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
		if (in->when >= st->reset_at) {
			st->reset_at = in->when;
			st->reset_seq = STATE_SEQ_MANUAL;
		}
		st->kind = STATE_ACTIVE;
		st->reason = STATE_REASON_NONE;
		st->since = 0;
		st->nmarks = 0;
		break;
	case STATE_IN_SENDER:
	case STATE_IN_HARD:
	case STATE_IN_SOFT:
		if (st->first_bounce == 0 || in->when < st->first_bounce)
			st->first_bounce = in->when;
		if (in->when > st->last_bounce)
			st->last_bounce = in->when;
		if (in->kind == STATE_IN_SENDER ||
		    st->kind == STATE_SUPPRESSED || in->when < st->manual_at)
			break;
		if (in->kind == STATE_IN_HARD) {
			st->kind = STATE_SUPPRESSED;
			st->reason = STATE_REASON_HARD;
			st->since = in->when;
		} else
			soft_bounce(st, in, pol);
		break;
	case STATE_IN_FEEDBACK:
		/* Not a bounce: first/last_bounce and the streak stay. */
		if (!complaint_suppresses(in, pol) ||
		    st->kind == STATE_SUPPRESSED ||
		    (st->manual_at > 0 && in->when <= st->manual_at))
			break;
		st->kind = STATE_SUPPRESSED;
		st->reason = STATE_REASON_COMPLAINT;
		st->since = in->when;
		break;
	case STATE_IN_DELIVERED:
		if (in->when < st->manual_at)
			break;
		if (in->when > st->reset_at || (in->when == st->reset_at &&
		    in->seq > st->reset_seq)) {
			st->reset_at = in->when;
			st->reset_seq = in->seq;
		}
		/*
		 * The marks of its second were recorded before it; a late
		 * older delivery keeps those of a newer reset's second.
		 */
		drop_marks_upto(st, in->when);
		if (st->kind != STATE_SUPPRESSED)
			st->kind = st->nmarks > 0 ? STATE_SOFT : STATE_ACTIVE;
		break;
	}
	return st->kind != k0 || st->reason != r0 || st->nmarks != n0;
}

static bool
reason_is(const char *reason, const char *word)
{
	return reason != NULL && strcasecmp(reason, word) == 0;
}

/*
 * state_event_kind - what a recorded event means to the rule
 *
 * Arguments: ev, an event with its verdict.
 * Returns STATE_IN_FEEDBACK for a feedback report with a Feedback-Type
 * (RFC 5965 section 3.1), whatever its action; STATE_IN_DELIVERED for
 * "delivered"; STATE_IN_IGNORE for relayed/expanded (RFC 3464 section
 * 2.3.3: no final outcome), a feedback verdict without a type and
 * auto-replies; STATE_IN_SENDER when the reason is about the
 * sender (classify_reason_sender_side() or who == sender); STATE_IN_HARD
 * for a hard verdict on a failed recipient; STATE_IN_SOFT otherwise.
 * Notes: a hard verdict on a "delayed" action is soft: the MTA is still
 * trying (RFC 3464 section 2.3.3).
 */
enum state_input_kind
state_event_kind(const struct bd_event *ev)
{
	const char	*reason = ev->verdict.reason;

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
	if ((reason != NULL && classify_reason_sender_side(reason)) ||
	    ev->verdict.who == EV_WHO_SENDER)
		return STATE_IN_SENDER;
	if (ev->verdict.hard && ev->action != EV_ACT_DELAYED)
		return STATE_IN_HARD;
	return STATE_IN_SOFT;
}

/*
 * state_msgkey - the key of the original message an event is about
 *
 * Arguments: ev; out/outlen receive "q:QUEUEID", "m:MESSAGE-ID" or
 * "e:ENVID" (the first present), or "" when the event names none.
 * Notes: white space and control bytes in the key become '?', so the
 * key can be stored one per line.
 */
void
state_msgkey(const struct bd_event *ev, char *out, size_t outlen)
{
	const char	*v = NULL;
	char		 tag = '\0';
	size_t		 i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ev->queue_id != NULL && ev->queue_id[0] != '\0') {
		v = ev->queue_id;
		tag = 'q';
	} else if (ev->message_id != NULL && ev->message_id[0] != '\0') {
		v = ev->message_id;
		tag = 'm';
	} else if (ev->envelope_id != NULL && ev->envelope_id[0] != '\0') {
		v = ev->envelope_id;
		tag = 'e';
	}
	if (v == NULL)
		return;
	snprintf(out, outlen, "%c:%s", tag, v);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

static const char *const kind_names[] = {
	[STATE_ACTIVE] = "active",
	[STATE_SOFT] = "soft",
	[STATE_SUPPRESSED] = "suppressed",
};

static const char *const reason_names[] = {
	[STATE_REASON_NONE] = "",
	[STATE_REASON_HARD] = "hard",
	[STATE_REASON_SOFT_LIMIT] = "soft-limit",
	[STATE_REASON_COMPLAINT] = "complaint",
	[STATE_REASON_MANUAL] = "manual",
	[STATE_REASON_IMPORTED] = "imported",
};

static const char *const input_names[] = {
	[STATE_IN_IGNORE] = "ignore",
	[STATE_IN_SENDER] = "sender",
	[STATE_IN_HARD] = "hard",
	[STATE_IN_SOFT] = "soft",
	[STATE_IN_DELIVERED] = "delivered",
	[STATE_IN_SUPPRESS] = "suppress",
	[STATE_IN_UNSUPPRESS] = "unsuppress",
	[STATE_IN_FEEDBACK] = "feedback",
};

static const char *const feedback_names[] = {
	[STATE_FB_ABUSE] = "abuse",
	[STATE_FB_AUTH_FAILURE] = "auth-failure",
	[STATE_FB_FRAUD] = "fraud",
	[STATE_FB_NOT_SPAM] = "not-spam",
	[STATE_FB_OPT_OUT] = "opt-out",
	[STATE_FB_OTHER] = "other",
	[STATE_FB_VIRUS] = "virus",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * state_kind_name - name of a state kind
 *
 * Returns a static string; "active" for an out-of-range value.
 */
const char *
state_kind_name(enum state_kind k)
{
	if ((size_t)k >= NELEM(kind_names))
		return "active";
	return kind_names[k];
}

/*
 * state_kind_parse - state name to enum
 *
 * Returns false (and leaves *out alone) for an unknown name.
 */
bool
state_kind_parse(const char *s, enum state_kind *out)
{
	size_t	 i;

	for (i = 0; s != NULL && i < NELEM(kind_names); i++) {
		if (strcasecmp(s, kind_names[i]) == 0) {
			*out = (enum state_kind)i;
			return true;
		}
	}
	return false;
}

/*
 * state_reason_name - name of a suppression reason
 *
 * Returns a static string; "" for none or an out-of-range value.
 */
const char *
state_reason_name(enum state_reason r)
{
	if ((size_t)r >= NELEM(reason_names))
		return "";
	return reason_names[r];
}

/*
 * state_reason_parse - suppression reason name to enum
 *
 * Returns false (and leaves *out alone) for an unknown name; NULL and ""
 * are STATE_REASON_NONE.
 */
bool
state_reason_parse(const char *s, enum state_reason *out)
{
	size_t	 i;

	if (s == NULL || *s == '\0') {
		*out = STATE_REASON_NONE;
		return true;
	}
	for (i = 1; i < NELEM(reason_names); i++) {
		if (strcasecmp(s, reason_names[i]) == 0) {
			*out = (enum state_reason)i;
			return true;
		}
	}
	return false;
}

/*
 * state_input_name - name of an input kind (the events.class column)
 *
 * Returns a static string; "ignore" for an out-of-range value.
 */
const char *
state_input_name(enum state_input_kind k)
{
	if ((size_t)k >= NELEM(input_names))
		return "ignore";
	return input_names[k];
}

/*
 * state_feedback_parse - an ARF Feedback-Type to enum
 *
 * Arguments: s, the name (any case, need not be NUL-terminated); len,
 * its bytes; out, set on success.
 * Returns false (and leaves *out alone) for a type outside the RFC 5965
 * section 7.3 registry and opt-out.
 */
bool
state_feedback_parse(const char *s, size_t len, enum state_feedback *out)
{
	size_t	 i;

	for (i = 0; s != NULL && i < NELEM(feedback_names); i++) {
		if (strlen(feedback_names[i]) == len &&
		    strncasecmp(s, feedback_names[i], len) == 0) {
			*out = (enum state_feedback)i;
			return true;
		}
	}
	return false;
}

/*
 * state_feedback_name - name of an ARF Feedback-Type
 *
 * Returns a static string; "" for an out-of-range value.
 */
const char *
state_feedback_name(enum state_feedback t)
{
	if ((size_t)t >= NELEM(feedback_names))
		return "";
	return feedback_names[t];
}

/*
 * state_complaint_parse - a ComplaintSuppress list to a mask
 *
 * Arguments: list, Feedback-Types separated by commas, white space
 * around them ignored ("" or only white space: none); mask, receives
 * STATE_FB_BIT() of each; why/whylen, why the list is refused.
 * Returns false for an empty item, a type not in the RFC 5965 section
 * 7.3 registry (nor opt-out) and not-spam (RFC 6430: the recipient
 * wants the mail); *mask is then 0.  Items are bounded: at most 64
 * bytes each are quoted back.
 */
bool
state_complaint_parse(const char *list, unsigned *mask, char *why,
    size_t whylen)
{
	enum state_feedback	 t;
	const char		*p = list, *e;
	size_t			 n;

	*mask = 0;
	if (list == NULL)
		return true;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ",");
		e = p + n;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0) {
			(void)snprintf(why, whylen, "empty item in the list");
			goto bad;
		}
		if (!state_feedback_parse(p, n, &t)) {
			(void)snprintf(why, whylen, "\"%.*s\" is not a "
			    "Feedback-Type (abuse, auth-failure, fraud, "
			    "opt-out, other, virus)", (int)(n > 64 ? 64 : n),
			    p);
			goto bad;
		}
		if (t == STATE_FB_NOT_SPAM) {
			(void)snprintf(why, whylen, "not-spam says the mail "
			    "was wanted: it never suppresses");
			goto bad;
		}
		*mask |= STATE_FB_BIT(t);
		if (*e == '\0')
			return true;
		p = e + 1;
	}
bad:
	*mask = 0;
	return false;
}

/*
 * state_complaint_format - a mask of Feedback-Types as text
 *
 * Arguments: mask, STATE_FB_BIT() values (others are ignored);
 * out/outlen (STATE_FB_TEXT_MAX always suffices).
 * Notes: names in registry order, comma-separated, "" for none; the
 * inverse of state_complaint_parse().
 */
void
state_complaint_format(unsigned mask, char *out, size_t outlen)
{
	size_t	 i, len = 0;
	int	 n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < NELEM(feedback_names); i++) {
		if ((mask & STATE_FB_BIT(i)) == 0)
			continue;
		n = snprintf(out + len, outlen - len, "%s%s",
		    len > 0 ? "," : "", feedback_names[i]);
		if (n < 0 || (size_t)n >= outlen - len) {
			out[len] = '\0';
			return;
		}
		len += (size_t)n;
	}
}

/*
 * state_marks_encode - the soft streak as text
 *
 * Arguments: st; out/outlen (STATE_MARKS_TEXT_MAX always suffices).
 * Notes: one "WHEN KEY\n" line per mark; keys hold no white space
 * (state_msgkey() and soft_bounce() make sure of it).
 */
void
state_marks_encode(const struct state *st, char *out, size_t outlen)
{
	size_t	 i, len = 0;
	int	 n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < st->nmarks; i++) {
		n = snprintf(out + len, outlen - len, "%" PRId64 " %s\n",
		    st->marks[i].when, st->marks[i].key);
		if (n < 0 || (size_t)n >= outlen - len) {
			out[len] = '\0';	/* drop the mark that did not fit */
			return;
		}
		len += (size_t)n;
	}
}

/*
 * state_marks_decode - restore the soft streak from state_marks_encode()
 *
 * Arguments: st (its marks are replaced); text, NULL for none.
 * Notes: malformed lines and keys with white space are skipped, at most
 * STATE_SOFT_MARKS are kept.
 */
void
state_marks_decode(struct state *st, const char *text)
{
	const char	*p = text, *eol, *sp;
	char		*end;
	long long	 when;
	size_t		 klen;

	st->nmarks = 0;
	while (p != NULL && *p != '\0' && st->nmarks < STATE_SOFT_MARKS) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		when = strtoll(p, &end, 10);
		sp = end;
		if (end != p && *sp == ' ') {
			sp++;
			klen = (size_t)(eol - sp);
			if (klen > 0 && klen < STATE_KEY_MAX &&
			    memchr(sp, ' ', klen) == NULL) {
				st->marks[st->nmarks].when = when;
				memcpy(st->marks[st->nmarks].key, sp, klen);
				st->marks[st->nmarks].key[klen] = '\0';
				st->nmarks++;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
}
