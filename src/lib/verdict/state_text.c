/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025, 2026 The bounced authors.
 *
 * state_text.c - the suppression state rule's words: the names of its
 * states, reasons, inputs and feedback types and their parsers, the
 * ComplaintSuppress list, and the text form a state is stored in
 * (state_encode(), state_decode(): the store's recipients rows).  The
 * rule itself is state.c.  Pure: no logging, no I/O; every input is
 * bounded and checked, as it comes back from a database.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict/state.h"

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
	[STATE_IN_DEFERRED] = "deferred",
	[STATE_IN_LOCAL] = "local",
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

static const char mark_letters[] = { 'p', 's' };

/*
 * state_marks_encode - the marks as text
 *
 * Arguments: st; out/outlen (STATE_MARKS_TEXT_MAX always suffices).
 * Notes: one "WHEN KIND EVENT KEY\n" line per mark, KIND p (pending) or
 * s (soft); keys hold no white space (put_key() and soft_bounce() see
 * to it).
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
		n = snprintf(out + len, outlen - len, "%" PRId64 " %c %" PRId64
		    " %s\n", st->marks[i].when,
		    mark_letters[st->marks[i].kind == STATE_MARK_SOFT],
		    st->marks[i].ev, st->marks[i].key);
		if (n < 0 || (size_t)n >= outlen - len) {
			out[len] = '\0';	/* drop the mark that did not fit */
			return;
		}
		len += (size_t)n;
	}
}

/* One mark line; false if malformed.  "WHEN KEY" (schema v3) is soft. */
static bool
mark_decode(const char *p, const char *eol, struct state_mark *m)
{
	char		*end;
	const char	*k;
	size_t		 klen;

	memset(m, 0, sizeof(*m));
	m->kind = STATE_MARK_SOFT;
	m->when = strtoll(p, &end, 10);
	if (end == p || *end != ' ')
		return false;
	k = end + 1;
	if (eol - k > 2 && (k[0] == 'p' || k[0] == 's') && k[1] == ' ') {
		m->kind = k[0] == 'p' ? STATE_MARK_PENDING : STATE_MARK_SOFT;
		m->ev = strtoll(k + 2, &end, 10);
		if (end == k + 2 || *end != ' ')
			return false;
		k = end + 1;
	}
	klen = (size_t)(eol - k);
	if (klen == 0 || klen >= STATE_KEY_MAX || memchr(k, ' ', klen) != NULL)
		return false;
	memcpy(m->key, k, klen);
	m->key[klen] = '\0';
	return true;
}

/*
 * state_marks_decode - restore the marks from state_marks_encode()
 *
 * Arguments: st (its marks are replaced); text, NULL for none.
 * Notes: malformed lines and keys with white space are skipped, at most
 * STATE_SOFT_MARKS are kept; the older "WHEN KEY" lines are soft marks.
 */
void
state_marks_decode(struct state *st, const char *text)
{
	const char	*p = text, *eol;

	st->nmarks = 0;
	while (p != NULL && *p != '\0' && st->nmarks < STATE_SOFT_MARKS) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		if (mark_decode(p, eol, &st->marks[st->nmarks]))
			st->nmarks++;
		p = *eol ? eol + 1 : eol;
	}
}

/*
 * state_encode - a whole state as text, for a checkpoint
 *
 * Arguments: st; out/outlen (STATE_TEXT_MAX always suffices).
 * Notes: "kind reason since reset manual first last newest\n" then the
 * marks as state_marks_encode() writes them.
 */
void
state_encode(const struct state *st, char *out, size_t outlen)
{
	int	 n;

	if (outlen == 0)
		return;
	n = snprintf(out, outlen, "%d %d %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 "\n", (int)st->kind,
	    (int)st->reason, st->since, st->reset_at, st->manual_at,
	    st->first_bounce, st->last_bounce, st->newest);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return;
	}
	state_marks_encode(st, out + n, outlen - (size_t)n);
}

/*
 * state_decode - a state from state_encode()
 *
 * Arguments: st, replaced; text.
 * Returns false for text that is not a state (st is then state_init()).
 */
bool
state_decode(struct state *st, const char *text)
{
	long long	 v[8];
	int		 used = 0;
	const char	*nl;

	state_init(st);
	if (text == NULL || sscanf(text, "%lld %lld %lld %lld %lld %lld %lld "
	    "%lld%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
	    &used) != 8 || v[0] < STATE_ACTIVE || v[0] > STATE_SUPPRESSED ||
	    v[1] < STATE_REASON_NONE || v[1] > STATE_REASON_IMPORTED)
		return false;
	st->kind = (enum state_kind)v[0];
	st->reason = (enum state_reason)v[1];
	st->since = v[2];
	st->reset_at = v[3];
	st->manual_at = v[4];
	st->first_bounce = v[5];
	st->last_bounce = v[6];
	st->newest = v[7];
	if ((nl = strchr(text + used, '\n')) != NULL)
		state_marks_decode(st, nl + 1);
	return true;
}
