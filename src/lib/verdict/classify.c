/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * classify.c - the verdict on one reported recipient: reason word,
 * whether the address itself is permanently bad (hard), who can act,
 * what to do, the deciding rule and whether the status code and the
 * text disagreed.  The rules table decides the reason (first match in
 * file order, rules_match()); this file prepares the facts and turns
 * the reason into a verdict through the vocabulary (rules_vocab.c).
 *
 * Pure: no I/O, no logging, no clock, no allocation; thread-safe.
 * RFC 3463 (enhanced status codes: class 2 success, 4 persistent
 * transient, 5 permanent, section 3.1), RFC 5321 section 4.2 (reply
 * codes), RFC 3464 section 2.3.3 (Action), RFC 5965 (ARF),
 * RFC 3834 (auto-replies).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verdict/classify.h"
#include "parse/smtpcmd.h"

/* Copy a valid "c.s.d" starting at s into out; false if none. */
static bool
status_copy(const char *s, size_t n, char *out, size_t outlen)
{
	size_t	 i = 0, parts, d;

	if (n == 0 || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
		return false;
	for (parts = 0; parts < 3; parts++) {
		for (d = 0; i < n && isdigit((unsigned char)s[i]); i++)
			d++;
		if (d == 0 || d > 3 || (parts == 0 && d != 1))
			return false;
		if (parts < 2) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		return false;
	if (i >= outlen)
		return false;
	memcpy(out, s, i);
	out[i] = '\0';
	return true;
}

/*
 * The first RFC 3463 code in the (normalised) text, standing alone
 * (not inside a version number or an IP address).
 */
static bool
status_in_text(const char *t, size_t n, char *out, size_t outlen)
{
	const char	*d;
	size_t		 i;

	/* From dot to dot (memchr): a code is a digit before one. */
	for (d = n >= 5 ? memchr(t + 1, '.', n - 1) : NULL; d != NULL &&
	    (i = (size_t)(d - t) - 1) + 5 <= n;
	    d = memchr(d + 1, '.', n - (size_t)(d + 1 - t))) {
		if (t[i] != '2' && t[i] != '4' && t[i] != '5')
			continue;
		if (i > 0 && (isalnum((unsigned char)t[i - 1]) ||
		    t[i - 1] == '.' || t[i - 1] == '-'))
			continue;
		if (status_copy(t + i, n - i, out, outlen))
			return true;
	}
	return false;
}

/* A reply code at the start of the text: "550 ...", "550-...". */
static int
code_in_text(const char *t, size_t n)
{
	if (n < 3 || t[0] < '2' || t[0] > '5' ||
	    !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[2]))
		return 0;
	if (n > 3 && t[3] != ' ' && t[3] != '-')
		return 0;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/*
 * The host name of a Remote-MTA value ("mx.example.jp (192.0.2.1)",
 * "[192.0.2.1]", "mx.example.jp."): lower-case, up to white space or a
 * parenthesis, brackets and a trailing dot dropped.  Empty if none.
 */
static void
remote_host(const char *v, char *out, size_t outlen)
{
	size_t	 n = 0;

	out[0] = '\0';
	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t' || *v == '[')
		v++;
	while (*v != '\0' && *v != ' ' && *v != '\t' && *v != '(' &&
	    *v != ']' && *v != ';' && n + 1 < outlen)
		out[n++] = (char)tolower((unsigned char)*v++);
	while (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

/*
 * The sysexits(3) status a local delivery agent exited with: an X-Unix
 * diagnostic (RFC 3464 section 2.3.6) that is a bare number ("71"),
 * as Sendmail writes it.  0 if none.
 */
static int
unix_exit(const char *dtype, const char *t, size_t n)
{
	size_t	 i;
	int	 x = 0;

	if (dtype == NULL || strcasecmp(dtype, "x-unix") != 0)
		return 0;
	for (i = 0; i < n && i < 4 && isdigit((unsigned char)t[i]); i++)
		x = x * 10 + (t[i] - '0');
	if (i == 0 || i > 3 || x > 255 ||
	    (i < n && isalnum((unsigned char)t[i])))
		return 0;
	return x;
}

/*
 * A tiny string builder: snprintf() costs more than the rest of a
 * classify() call, which is meant to take well under a microsecond.
 */
struct sb {
	char	*p;
	size_t	 cap, len;
};

static void
sb_cat(struct sb *b, const char *s)
{
	size_t	 n = strlen(s);

	if (n > b->cap - b->len - 1)
		n = b->cap - b->len - 1;	/* cut, as snprintf() would */
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_uint(struct sb *b, unsigned v)
{
	char	 d[12];
	size_t	 i = sizeof(d) - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && i > 0);
	sb_cat(b, d + i);
}

static const char *
sel_name(enum rules_sel s)
{
	switch (s) {
	case RULES_SEL_ANY:	return "any";
	case RULES_SEL_ACTION:	return "action";
	case RULES_SEL_KIND:	return "report kind";
	case RULES_SEL_STATUS:	return "status";
	case RULES_SEL_CODE:	return "reply code";
	case RULES_SEL_TEXT:	return "text";
	}
	return "rule";
}

/*
 * classify - the verdict on one recipient under a rules table
 *
 * Arguments: rules (NULL: everything is "undefined"); in, the facts of
 * the recipient; out, filled completely.
 * Returns nothing: it always succeeds, with reason "undefined" when no
 * rule matched.
 * Notes: out->status is the status as sent, else the first RFC 3463
 * code in the diagnostic, else derived from the reason and the class
 * (reply code or Action).  Sender-side reasons are never hard.  Rules
 * may look at in->smtp_command (the command the failure answered).
 * Pure and thread-safe; uses about 28 KiB of stack (the text and
 * PCRE2's scratch memory, see rules_match()).
 */
void
classify(const struct rules *rules, const struct classify_input *in,
    struct verdict *out)
{
	char			 text[RULES_TEXT_MAX + 1], host[256];
	struct rules_query	 q;
	struct rules_result	 res;
	struct sb		 why;
	const struct rules_reason *rr;
	bool			 sent = false, perm;
	int			 cls;

	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	q.textlen = rules_normalize(in->diagnostic, text, sizeof(text));
	/* The Status comment ("5.2.1 (mailbox disabled)") is more text. */
	if (in->status_comment != NULL && in->status_comment[0] != '\0' &&
	    q.textlen + 2 < sizeof(text)) {
		size_t	 at = q.textlen > 0 ? q.textlen + 1 : 0, n;

		n = rules_normalize(in->status_comment, text + at,
		    sizeof(text) - at);
		if (n > 0) {
			if (at > 0)
				text[q.textlen] = ' ';
			q.textlen = at + n;
		} else
			text[q.textlen] = '\0';
	}
	q.text = text;
	if (in->status != NULL && status_copy(in->status,
	    strnlen(in->status, VERDICT_STATUS_MAX), out->status,
	    sizeof(out->status)))
		sent = true;
	else
		(void)status_in_text(text, q.textlen, out->status,
		    sizeof(out->status));
	q.status = out->status[0] != '\0' ? out->status : NULL;
	q.reply_code = in->reply_code > 0 ? in->reply_code :
	    code_in_text(text, q.textlen);
	q.action = in->action;
	q.kind = in->kind;
	q.mta = in->mta;
	q.command = in->smtp_command;
	/* A log line: the command is in its text, as in a report's. */
	if (q.command == NULL && in->kind == DSN_KIND_NONE &&
	    in->diagnostic != NULL)
		q.command = smtpcmd_find(in->diagnostic,
		    strnlen(in->diagnostic, RULES_TEXT_MAX), NULL);
	q.dtype = in->diagnostic_type;
	remote_host(in->remote_mta, host, sizeof(host));
	q.remote = host[0] != '\0' ? host : NULL;
	q.exit_status = unix_exit(in->diagnostic_type, text, q.textlen);
	(void)rules_match(rules, &q, &res);

	rr = rules_reason_lookup(res.win.reason);
	if (rr == NULL)
		rr = rules_reason_lookup("undefined");
	out->reason = rr->word;
	if (res.win.reason != NULL) {
		struct sb b = { out->rule, sizeof(out->rule), 0 };

		sb_cat(&b, rules_name(rules));
		sb_cat(&b, ":");
		sb_uint(&b, res.win.line);
	}

	/* RFC 3463 3.1 class, else the reply code, else the Action. */
	if (q.status != NULL)
		cls = q.status[0] - '0';
	else if (q.reply_code >= 200)
		cls = q.reply_code / 100;
	else
		cls = in->action == EV_ACT_DELAYED ? 4 :
		    in->action == EV_ACT_DELIVERED ||
		    in->action == EV_ACT_RELAYED ||
		    in->action == EV_ACT_EXPANDED ? 2 : 5;
	perm = cls == 5;
	switch (rr->hardness) {
	case RULES_HARD:
		out->hard = in->action != EV_ACT_DELAYED;
		break;
	case RULES_HARD_PERM:
		out->hard = perm && in->action != EV_ACT_DELAYED;
		break;
	case RULES_SOFT:
		out->hard = false;
		break;
	}
	if (rr->sender_side)
		out->hard = false;	/* never, whatever the code says */
	out->who = rr->who;
	out->advice = rr->advice;
	if (rr->hardness == RULES_HARD_PERM && !out->hard)
		out->advice = EV_ADV_RETRY;
	if (res.win.reason != NULL && res.win.advice >= 0)
		out->advice = (enum ev_advice)res.win.advice;	/* advice= */

	/* Derive a status from the reason when none was found. */
	if (out->status[0] == '\0' && (cls == 4 || cls == 5) &&
	    strcmp(rr->word, "feedback") != 0 &&
	    strcmp(rr->word, "vacation") != 0 &&
	    strcmp(rr->word, "delivered") != 0) {
		struct sb b = { out->status, sizeof(out->status), 0 };

		sb_uint(&b, (unsigned)cls);
		sb_cat(&b, ".");
		sb_cat(&b, rr->detail);
	}

	/* Did the status code and the text point different ways? */
	why.p = out->why;
	why.cap = sizeof(out->why);
	why.len = 0;
	out->why[0] = '\0';
	if (res.win.sel == RULES_SEL_TEXT && res.status.reason != NULL &&
	    !res.status.generic && res.status.reason != res.win.reason) {
		out->conflict = true;
		sb_cat(&why, "text (line ");
		sb_uint(&why, res.win.line);
		sb_cat(&why, ") beat status ");
		sb_cat(&why, q.status);
		sb_cat(&why, sent ? " (" : " from text (");
		sb_cat(&why, res.status.reason);
		sb_cat(&why, ", line ");
		sb_uint(&why, res.status.line);
		sb_cat(&why, ")");
	} else if (res.win.sel == RULES_SEL_STATUS &&
	    res.text.reason != NULL && res.text.reason != res.win.reason) {
		out->conflict = true;
		sb_cat(&why, "status ");
		sb_cat(&why, q.status);
		sb_cat(&why, " beat text (");
		sb_cat(&why, res.text.reason);
		sb_cat(&why, ", line ");
		sb_uint(&why, res.text.line);
		sb_cat(&why, ")");
	} else if (res.win.reason == NULL)
		sb_cat(&why, "no rule matched");
	else if (res.win.sel == RULES_SEL_STATUS) {
		sb_cat(&why, "status ");
		sb_cat(&why, q.status);
		if (!sent)
			sb_cat(&why, " (from text)");
	} else if (res.win.sel == RULES_SEL_CODE) {
		sb_cat(&why, "reply code ");
		sb_uint(&why, (unsigned)q.reply_code);
	} else if (res.win.sel == RULES_SEL_TEXT && res.status.reason != NULL) {
		sb_cat(&why, res.status.reason == res.win.reason ?
		    "text agrees with status " : "text beat general status ");
		sb_cat(&why, q.status);
	} else if (res.win.sel == RULES_SEL_TEXT)
		sb_cat(&why, q.status != NULL ? "text; no status rule" :
		    "text; no status");
	else
		sb_cat(&why, sel_name(res.win.sel));
	if (q.command != NULL && res.win.reason != NULL) {
		sb_cat(&why, "; in reply to ");
		sb_cat(&why, q.command);
	}
}

/*
 * classify_reason_word - the canonical spelling of a reason word
 *
 * Returns the static vocabulary word (compared without case), or NULL.
 */
const char *
classify_reason_word(const char *word)
{
	const struct rules_reason *rr = rules_reason_lookup(word);

	return rr != NULL ? rr->word : NULL;
}

/*
 * classify_reason_sender_side - is the reason about the sender?
 *
 * Returns true for reasons that never move an address (blocked,
 * authfailure, spamdetected, ...): see bounced.rules(5).
 */
bool
classify_reason_sender_side(const char *reason)
{
	const struct rules_reason *rr = rules_reason_lookup(reason);

	return rr != NULL && rr->sender_side;
}
