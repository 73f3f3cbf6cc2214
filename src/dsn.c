/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn.c - the bounce parser: one message in, one report per recipient out.
 *
 * It reads RFC 3464 message/delivery-status (section 2: per-message and
 * per-recipient field groups, section 2.1.1 folding, 2.3 recipient
 * fields), RFC 6533 message/global-delivery-status (UTF-8 fields), RFC
 * 5965 ARF feedback reports (section 3.1/3.2 fields) and, through
 * dsn_text.c, the human-readable text of non-standard bounces and RFC
 * 3834 auto-replies.  MIME (RFC 2045-2047, RFC 6522 multipart/report)
 * is GMime's job (mime.c).  The returned original (RFC 6522 section 4:
 * message/rfc822 or text/rfc822-headers) gives the Message-ID and the
 * configured campaign header.
 *
 * It must not: log, do I/O, read the clock, keep per-message state in
 * globals, or let any input make it crash, loop or allocate without
 * bound (every value is capped by struct dsn_options).  Thread-safe
 * after dsn_init().
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dsn_priv.h"

#define FIELD_NAME_MAX	64

/*
 * dsn_init - initialise the parser (GMime) once per process
 *
 * Notes: call before starting threads that call dsn_parse().
 */
void
dsn_init(void)
{
	mime_init();
}

/*
 * dsn_shutdown - release what dsn_init made
 *
 * Notes: after the last dsn_parse().
 */
void
dsn_shutdown(void)
{
	mime_shutdown();
}

/*
 * dsn_kind_name - printable name of a report kind
 *
 * Returns: "none", "report", "text", "arf", "autoreply" (static).
 */
const char *
dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_KIND_REPORT:
		return "report";
	case DSN_KIND_TEXT:
		return "text";
	case DSN_KIND_ARF:
		return "arf";
	case DSN_KIND_AUTOREPLY:
		return "autoreply";
	case DSN_KIND_NONE:
	default:
		return "none";
	}
}

static void
rcpt_free(struct dsn_rcpt *rc)
{
	free(rc->final_recipient);
	free(rc->original_recipient);
	free(rc->status);
	free(rc->diagnostic_type);
	free(rc->diagnostic);
	free(rc->remote_mta);
	free(rc->status_comment);
}

/*
 * dsn_report_free - release a report and everything it owns
 *
 * Arguments: r: a report from dsn_parse(), or NULL.
 */
void
dsn_report_free(struct dsn_report *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrcpts; i++)
		rcpt_free(&r->rcpts[i]);
	free(r->rcpts);
	free(r->mta);
	free(r->reporting_mta);
	free(r->queue_id);
	free(r->envelope_id);
	free(r->sender);
	free(r->orig_message_id);
	free(r->campaign);
	free(r->subject);
	free(r->from);
	free(r->feedback_type);
	free(r);
}

/*
 * dsn_dup - copy a value, trimmed of surrounding white space, bounded
 *
 * Arguments: c: context (defects, out-of-memory); s, n: the bytes; max:
 * bytes kept (cut at a UTF-8 character boundary; sets DSN_DEFECT_BAD_FIELD).
 * Returns: malloc'd NUL-terminated string, or NULL if empty or no memory.
 * Notes: control bytes other than TAB become spaces.
 */
char *
dsn_dup(struct dsn_ctx *c, const char *s, size_t n, size_t max)
{
	char	*out;
	size_t	 i;

	if (s == NULL)
		return NULL;
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	if (max > 0 && n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		c->r->defects |= DSN_DEFECT_BAD_FIELD;
	}
	if ((out = malloc(n + 1)) == NULL) {
		c->nomem = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f ? ' ' : s[i];
	out[n] = '\0';
	return out;
}

/*
 * dsn_set - replace *dst by a bounded copy of s (see dsn_dup)
 */
void
dsn_set(struct dsn_ctx *c, char **dst, const char *s, size_t n, size_t max)
{
	char	*v;

	if ((v = dsn_dup(c, s, n, max)) == NULL)
		return;
	free(*dst);
	*dst = v;
}

/*
 * dsn_add_rcpt - append a zeroed recipient to the report
 *
 * Returns: the recipient, or NULL when max_recipients is reached
 * (DSN_DEFECT_TOO_MANY) or memory ran out.
 */
struct dsn_rcpt *
dsn_add_rcpt(struct dsn_ctx *c)
{
	struct dsn_report	*r = c->r;
	struct dsn_rcpt		*n;
	size_t			 cap;

	if (r->nrcpts >= c->opt->max_recipients) {
		r->defects |= DSN_DEFECT_TOO_MANY;
		return NULL;
	}
	/* Capacity 4, then doubling: full when nrcpts is 4, 8, 16 ... */
	if (r->nrcpts == 0 ||
	    (r->nrcpts >= 4 && (r->nrcpts & (r->nrcpts - 1)) == 0)) {
		cap = r->nrcpts == 0 ? 4 : r->nrcpts * 2;
		if ((n = realloc(r->rcpts, cap * sizeof(*n))) == NULL) {
			c->nomem = true;
			return NULL;
		}
		r->rcpts = n;
	}
	n = &r->rcpts[r->nrcpts++];
	memset(n, 0, sizeof(*n));
	return n;
}

/*
 * dsn_has_rcpt - whether addr is already reported (case-insensitive)
 */
bool
dsn_has_rcpt(const struct dsn_report *r, const char *addr)
{
	size_t	 i;

	for (i = 0; i < r->nrcpts; i++)
		if (r->rcpts[i].final_recipient != NULL &&
		    strcasecmp(r->rcpts[i].final_recipient, addr) == 0)
			return true;
	return false;
}

static bool
status_at(const char *s, const char *end, size_t *len)
{
	const char	*p = s;
	int		 d;

	if (p >= end || (*p != '2' && *p != '4' && *p != '5'))
		return false;
	p++;
	if (p >= end || *p != '.')
		return false;
	p++;
	for (d = 0; p < end && isdigit((unsigned char)*p) && d < 4; p++)
		d++;
	if (d == 0 || d > 3 || p >= end || *p != '.')
		return false;
	p++;
	for (d = 0; p < end && isdigit((unsigned char)*p) && d < 4; p++)
		d++;
	if (d == 0 || d > 3)
		return false;
	/* Not part of a longer dotted number (an IP address, a version). */
	if (p < end && (*p == '.' && p + 1 < end &&
	    isdigit((unsigned char)p[1])))
		return false;
	if (p < end && isalnum((unsigned char)*p))
		return false;
	*len = p - s;
	return true;
}

/*
 * dsn_find_status - find the first RFC 3463 status code in a text
 *
 * Arguments: s, n: the text; out, outlen: receives "x.y.z".
 * Returns: true if one was found.
 * Notes: class must be 2, 4 or 5; subject and detail 1-3 digits; codes
 * inside dotted numbers (IP addresses) are skipped.  Linear.
 */
bool
dsn_find_status(const char *s, size_t n, char *out, size_t outlen)
{
	return dsn_find_status2(s, n, out, outlen, false);
}

/*
 * dsn_find_status2 - dsn_find_status, optionally skipping class 2 codes
 * (a failure's transcript also shows the commands that succeeded).
 */
bool
dsn_find_status2(const char *s, size_t n, char *out, size_t outlen,
    bool skip2)
{
	const char	*p, *end = s + n;
	size_t		 len;

	for (p = s; p < end; p++) {
		if (*p != '2' && *p != '4' && *p != '5')
			continue;
		if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.' ||
		    p[-1] == '_' || p[-1] == '/' || (p[-1] == '-' &&
		    p > s + 1 && isalnum((unsigned char)p[-2]))))
			continue;
		if (skip2 && *p == '2')
			continue;
		if (status_at(p, end, &len)) {
			if (len >= outlen)
				return false;
			memcpy(out, p, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

static int
code_at(const char *p, const char *end)
{
	if (end - p < 3)
		return 0;
	if (p[0] < '2' || p[0] > '5' || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]))
		return 0;
	if (p + 3 < end && p[3] != ' ' && p[3] != '-' && p[3] != '\t' &&
	    p[3] != '\r' && p[3] != '\n' && p[3] != ',' && p[3] != ':' &&
	    p[3] != ']' && p[3] != ')' && p[3] != '"')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * dsn_reply_code - the RFC 5321 section 4.2 reply code starting a text
 *
 * Returns: 200-599, or 0 if the text does not start with one.
 */
int
dsn_reply_code(const char *s)
{
	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '"' || *s == '(' || *s == '[')
		s++;
	return code_at(s, s + strnlen(s, 4));
}

/*
 * dsn_find_reply_code - the first reply code standing alone in a text
 *
 * Returns: 200-599, or 0.  Notes: a code must follow a space, '(', ':',
 * '#' or the start and not be part of a longer number or status code.
 */
int
dsn_find_reply_code(const char *s, size_t n)
{
	return dsn_find_reply_code2(s, n, 200);
}

/*
 * dsn_find_reply_code2 - the first reply code >= min in a text, or 0
 */
int
dsn_find_reply_code2(const char *s, size_t n, int min)
{
	const char	*p, *end = s + n;
	int		 code;

	for (p = s; p + 3 <= end; p++) {
		if (*p < '2' || *p > '5')
			continue;
		if (p > s && p[-1] != ' ' && p[-1] != '(' && p[-1] != ':' &&
		    p[-1] != '\t' && p[-1] != '\n' && p[-1] != '"' &&
		    p[-1] != '[' && p[-1] != '#' && p[-1] != '<')
			continue;
		if ((code = code_at(p, end)) == 0)
			continue;
		if (p > s && p[-1] == ':' && p + 3 < end && p[3] == ':')
			continue;	/* inside an IPv6 address */
		if (code % 100 >= 60 || code < min)
			continue;	/* 2xx..5xx with tens 0-5 only */
		return code;
	}
	return 0;
}

/*
 * dsn_clean_addr - the address in a recipient field or text fragment
 *
 * Arguments: s, n: "rfc822; <bob@example.org>" or similar.
 * Returns: malloc'd address without type prefix, brackets or trailing
 * punctuation, or NULL when nothing that looks like an address remains.
 */
char *
dsn_clean_addr(struct dsn_ctx *c, const char *s, size_t n)
{
	const char	*semi, *end = s + n, *lt, *gt;

	if ((semi = memchr(s, ';', n)) != NULL) {
		/* "rfc822;" type prefix (RFC 3464 section 2.3.2) */
		const char *q;
		bool token = true;

		for (q = s; q < semi; q++)
			if (isspace((unsigned char)*q) || *q == '@' ||
			    *q == '<')
				token = false;
		if (token || semi - s < 16) {
			s = semi + 1;
			n = end - s;
		}
	}
	if ((lt = memchr(s, '<', n)) != NULL &&
	    (gt = memchr(lt, '>', end - lt)) != NULL && gt - lt > 1) {
		s = lt + 1;
		n = gt - s;
	}
	while (n > 0 && (isspace((unsigned char)*s) || *s == '<' ||
	    *s == '"' || *s == '\'' || *s == '(' || *s == '['))
		s++, n--;
	while (n > 0 && (isspace((unsigned char)s[n - 1]) ||
	    s[n - 1] == '>' || s[n - 1] == '"' || s[n - 1] == '\'' ||
	    s[n - 1] == '.' || s[n - 1] == ',' || s[n - 1] == ':' ||
	    s[n - 1] == ';' || s[n - 1] == ')' || s[n - 1] == ']'))
		n--;
	if (n == 0)
		return NULL;
	return dsn_dup(c, s, n, ADDR_MAX);
}

/* Value after "type;" (RFC 3464 section 2.1.2 address/mta/diagnostic). */
static const char *
after_type(const char *v, char *type, size_t typelen)
{
	const char	*semi, *q;

	if (type != NULL && typelen > 0)
		type[0] = '\0';
	if ((semi = strchr(v, ';')) == NULL)
		return v;
	for (q = v; q < semi; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' &&
		    *q != ' ' && *q != '.')
			return v;
	if (semi - v > 24)
		return v;
	if (type != NULL && typelen > 0) {
		size_t i, n = 0;

		for (i = 0; v + i < semi && n + 1 < typelen; i++)
			if (!isspace((unsigned char)v[i]))
				type[n++] = tolower((unsigned char)v[i]);
		type[n] = '\0';
	}
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}

/* Keep the status token of a Status field ("5.1.1 (bad mailbox)"). */
static void
set_status(struct dsn_ctx *c, struct dsn_rcpt *rc, const char *v)
{
	char	 st[16];
	size_t	 n;

	while (*v == ' ' || *v == '\t')
		v++;
	if (status_at(v, v + strnlen(v, 16), &n) && n < sizeof(st)) {
		const char *cm = v + n, *ce;

		memcpy(st, v, n);
		st[n] = '\0';
		dsn_set(c, &rc->status, st, n, sizeof(st));
		/* RFC 5322 3.2.2 comment: the MTA's gloss of the code. */
		while (*cm == ' ' || *cm == '\t')
			cm++;
		if (*cm == '(' && (ce = strchr(cm, ')')) != NULL &&
		    ce > cm + 1)
			dsn_set(c, &rc->status_comment, cm + 1,
			    (size_t)(ce - cm - 1), 256);
	} else if (dsn_find_status(v, strnlen(v, 64), st, sizeof(st)))
		dsn_set(c, &rc->status, st, strlen(st), sizeof(st));
	else
		c->r->defects |= DSN_DEFECT_BAD_FIELD;
}

static void
set_diagnostic(struct dsn_ctx *c, struct dsn_rcpt *rc, const char *v)
{
	char		 type[32];
	const char	*t;

	t = after_type(v, type, sizeof(type));
	if (type[0] != '\0')
		dsn_set(c, &rc->diagnostic_type, type, strlen(type), 32);
	dsn_set(c, &rc->diagnostic, t, strlen(t), c->opt->max_diagnostic);
}

struct ds_state {
	struct dsn_rcpt	*cur;		/* recipient of the current group */
	bool		 feedback;	/* ARF field set */
};

static bool
name_is(const char *name, const char *want)
{
	return strcasecmp(name, want) == 0;
}

static struct dsn_rcpt *
group_rcpt(struct dsn_ctx *c, struct ds_state *st)
{
	if (st->cur == NULL)
		st->cur = dsn_add_rcpt(c);
	return st->cur;
}

/* One unfolded field of a delivery-status or feedback-report part. */
static void
ds_field(struct dsn_ctx *c, struct ds_state *st, const char *name,
    const char *v)
{
	struct dsn_report	*r = c->r;
	struct dsn_rcpt		*rc;
	size_t			 maxf = c->opt->max_field;
	size_t			 vl = strlen(v);
	char			*a;

	/* RFC 3464 section 2.2: per-message fields. */
	if (name_is(name, "Reporting-MTA")) {
		v = after_type(v, NULL, 0);
		dsn_set(c, &r->reporting_mta, v, strlen(v), maxf);
		return;
	}
	if (name_is(name, "Arrival-Date")) {
		if (r->arrival_date == 0)
			r->arrival_date = mime_date(v);
		return;
	}
	if (name_is(name, "Original-Envelope-Id")) {
		dsn_set(c, &r->envelope_id, v, vl, maxf);
		return;
	}
	if (name_is(name, "X-Postfix-Queue-ID")) {
		dsn_set(c, &r->queue_id, v, vl, maxf);
		return;
	}
	if (name_is(name, "X-Postfix-Sender") ||
	    (st->feedback && name_is(name, "Original-Mail-From"))) {
		if ((a = dsn_clean_addr(c, v, vl)) != NULL) {
			free(r->sender);
			r->sender = a;
		}
		return;
	}
	if (st->feedback) {
		/* RFC 5965 section 3.1/3.2 */
		if (name_is(name, "Feedback-Type")) {
			char *p;

			dsn_set(c, &r->feedback_type, v, vl, 64);
			for (p = r->feedback_type; p != NULL && *p; p++)
				*p = tolower((unsigned char)*p);
		} else if (name_is(name, "Original-Rcpt-To") ||
		    name_is(name, "Removal-Recipient")) {
			if ((a = dsn_clean_addr(c, v, vl)) == NULL)
				return;
			if (dsn_has_rcpt(r, a) ||
			    (rc = dsn_add_rcpt(c)) == NULL) {
				free(a);
				return;
			}
			rc->final_recipient = a;
			rc->action = EV_ACT_FAILED;
		}
		return;
	}
	/* RFC 3464 section 2.3: per-recipient fields. */
	if (name_is(name, "Final-Recipient") ||
	    name_is(name, "Original-Recipient")) {
		bool fin = name[0] == 'F' || name[0] == 'f';
		char **dst;

		if (st->cur != NULL && (fin ? st->cur->final_recipient :
		    st->cur->original_recipient) != NULL)
			st->cur = NULL;	/* no blank line between groups */
		if ((rc = group_rcpt(c, st)) == NULL)
			return;
		dst = fin ? &rc->final_recipient : &rc->original_recipient;
		if ((a = dsn_clean_addr(c, v, vl)) != NULL) {
			free(*dst);
			*dst = a;
		}
		return;
	}
	if (name_is(name, "Action")) {
		if ((rc = group_rcpt(c, st)) != NULL)
			rc->action = ev_action_parse(v);
	} else if (name_is(name, "Status")) {
		if ((rc = group_rcpt(c, st)) != NULL)
			set_status(c, rc, v);
	} else if (name_is(name, "Remote-MTA")) {
		if ((rc = group_rcpt(c, st)) != NULL) {
			v = after_type(v, NULL, 0);
			dsn_set(c, &rc->remote_mta, v, strlen(v), maxf);
		}
	} else if (name_is(name, "Diagnostic-Code")) {
		if ((rc = group_rcpt(c, st)) != NULL)
			set_diagnostic(c, rc, v);
	} else if (name_is(name, "Last-Attempt-Date")) {
		if ((rc = group_rcpt(c, st)) != NULL)
			rc->last_attempt = mime_date(v);
	} else if (name_is(name, "Will-Retry-Until")) {
		if ((rc = group_rcpt(c, st)) != NULL)
			rc->will_retry_until = mime_date(v);
	}
}

/*
 * Read the field groups of a delivery-status (or feedback-report) body:
 * lines "Name: value", continuation lines start with white space (RFC
 * 5322 section 2.2.3, unfolded to one space), a blank line ends a group.
 */
static void
ds_parse(struct dsn_ctx *c, const char *t, size_t n, bool feedback)
{
	struct ds_state	 st;
	struct buf	 val;
	const char	*p = t, *end = t + n, *line, *eol, *colon;
	char		 name[FIELD_NAME_MAX];
	size_t		 llen, nl, lim;
	bool		 infield = false;

	memset(&st, 0, sizeof(st));
	st.feedback = feedback;
	lim = c->opt->max_field > c->opt->max_diagnostic ?
	    c->opt->max_field : c->opt->max_diagnostic;
	buf_init(&val, lim + 1);
	while (p < end && !c->nomem) {
		line = p;
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		p = eol < end ? eol + 1 : end;
		llen = eol - line;
		while (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > 0 && (line[0] == ' ' || line[0] == '\t')) {
			while (llen > 0 && (*line == ' ' || *line == '\t'))
				line++, llen--;
			if (llen == 0) {
				/* white space only: treat as a blank line */
			} else {
				if (infield) {
					buf_append(&val, " ", 1);
					buf_append(&val, line, llen);
				}
				continue;
			}
		}
		if (infield) {
			if (val.truncated)
				c->r->defects |= DSN_DEFECT_BAD_FIELD;
			ds_field(c, &st, name, val.data ? val.data : "");
			infield = false;
			buf_reset(&val);
		}
		if (llen == 0) {
			st.cur = NULL;	/* end of a group */
			continue;
		}
		colon = memchr(line, ':', llen);
		if (colon == NULL || colon == line ||
		    (size_t)(colon - line) >= sizeof(name)) {
			c->r->defects |= DSN_DEFECT_BAD_FIELD;
			continue;
		}
		nl = colon - line;
		memcpy(name, line, nl);
		while (nl > 0 && isspace((unsigned char)name[nl - 1]))
			nl--;
		name[nl] = '\0';
		colon++;
		while (colon < line + llen && (*colon == ' ' || *colon == '\t'))
			colon++;
		buf_reset(&val);
		buf_append(&val, colon, line + llen - colon);
		infield = true;
	}
	if (infield && !c->nomem) {
		if (val.truncated)
			c->r->defects |= DSN_DEFECT_BAD_FIELD;
		ds_field(c, &st, name, val.data ? val.data : "");
	}
	buf_free(&val);
}

/*
 * dsn_dsn_status_from_text - take the status code a diagnostic text gives
 * when the Status field is missing or only says x.0.0 (RFC 3463 section
 * 3.1: "other undefined status"), or names another code: the remote
 * server's own code is the more specific one.
 */
void
dsn_status_from_text(struct dsn_rcpt *rc, const char *text)
{
	char	 st[16];
	bool	 skip2 = rc->action == EV_ACT_FAILED ||
	    rc->action == EV_ACT_DELAYED;
	char	*n;

	if (text == NULL || !dsn_find_status2(text, strlen(text), st,
	    sizeof(st), skip2))
		return;
	if (rc->status != NULL && strcmp(rc->status, st) == 0)
		return;
	if ((n = strdup(st)) == NULL)
		return;
	free(rc->status);
	rc->status = n;
}

/* Drop recipients without an address; fill what the fields imply. */
static void
finish_rcpts(struct dsn_ctx *c)
{
	struct dsn_report	*r = c->r;
	struct dsn_rcpt		*rc;
	size_t			 i, j;

	for (i = j = 0; i < r->nrcpts; i++) {
		rc = &r->rcpts[i];
		if (rc->final_recipient == NULL &&
		    rc->original_recipient != NULL)
			rc->final_recipient = strdup(rc->original_recipient);
		if (rc->final_recipient == NULL) {
			rcpt_free(rc);
			r->defects |= DSN_DEFECT_NO_RCPT;
			continue;
		}
		if (rc->diagnostic != NULL) {
			if (rc->reply_code == 0)
				rc->reply_code = dsn_reply_code(rc->diagnostic);
			dsn_status_from_text(rc, rc->diagnostic);
		}
		if (i != j)
			r->rcpts[j] = *rc;
		j++;
	}
	r->nrcpts = j;
}

/* A text part that holds delivery-status fields at line starts. */
static bool
looks_like_ds(const char *t, size_t n)
{
	const char	*p, *end, *eol;
	bool		 rcpt = false, act = false;

	if (t == NULL)
		return false;
	end = t + n;
	for (p = t; p < end && !(rcpt && act); p = eol + 1) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		switch (*p) {
		case 'F': case 'f': case 'O': case 'o':
			if (strncasecmp(p, "Final-Recipient:", 16) == 0 ||
			    strncasecmp(p, "Original-Recipient:", 19) == 0)
				rcpt = true;
			break;
		case 'A': case 'a': case 'S': case 's':
			if (strncasecmp(p, "Action:", 7) == 0 ||
			    strncasecmp(p, "Status:", 7) == 0)
				act = true;
			break;
		}
	}
	return rcpt && act;
}

/* The returned original: its Message-ID and campaign header. */
static void
find_original(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	const char		*v;
	size_t			 i;

	for (i = 0; i < d->nparts; i++) {
		if (!d->parts[i].message)
			continue;
		if ((v = mime_part_message_id(d, i)) != NULL &&
		    c->r->orig_message_id == NULL)
			dsn_set(c, &c->r->orig_message_id, v, strlen(v),
			    c->opt->max_field);
		if (c->opt->campaign_header != NULL &&
		    c->r->campaign == NULL && (v = mime_part_header(d, i,
		    c->opt->campaign_header)) != NULL)
			dsn_set(c, &c->r->campaign, v, strlen(v),
			    c->opt->max_field);
		if (c->r->orig_message_id != NULL)
			break;
	}
}

/* Copy the input: drop an mbox "From " line, CRLF to LF, bound it. */
static char *
normalise(struct dsn_ctx *c, const char *msg, size_t len, size_t *outlen)
{
	const char	*p = msg, *end;
	char		*out, *o;
	size_t		 i;

	if (len > c->opt->max_bytes) {
		len = c->opt->max_bytes;
		c->r->defects |= DSN_DEFECT_TRUNCATED;
	}
	end = msg + len;
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		p = memchr(msg, '\n', len);
		p = p != NULL ? p + 1 : end;
	}
	if ((out = malloc(end - p + 1)) == NULL)
		return NULL;
	/* Copy runs between CRs with memcpy; drop the CR of each CRLF. */
	for (o = out; p < end; ) {
		const char *cr = memchr(p, '\r', end - p);

		if (cr == NULL)
			cr = end;
		memcpy(o, p, cr - p);
		o += cr - p;
		p = cr;
		if (p < end) {
			if (p + 1 >= end || p[1] != '\n')
				*o++ = '\r';
			p++;
		}
	}
	*o = '\0';
	*outlen = o - out;
	for (o = out; (o = memchr(o, '\0', out + *outlen - o)) != NULL; ) {
		c->r->defects |= DSN_DEFECT_8BIT;
		*o = ' ';
	}
	/* Any byte >= 0x80?  Eight at a time. */
	for (i = 0; i + 8 <= *outlen; i += 8) {
		uint64_t w;

		memcpy(&w, out + i, 8);
		if (w & UINT64_C(0x8080808080808080))
			break;
	}
	for (; i < *outlen; i++)
		if ((unsigned char)out[i] >= 0x80) {
			c->r->defects |= DSN_DEFECT_8BIT;
			break;
		}
	return out;
}

static bool
is_ds_type(const char *t)
{
	return strcmp(t, "message/delivery-status") == 0 ||
	    strcmp(t, "message/global-delivery-status") == 0;
}

static void
parse_doc(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	struct dsn_report	*r = c->r;
	const char		*v;
	size_t			 i;
	unsigned		 depth;
	bool			 arf;

	if ((v = mime_header(d, "Subject")) != NULL)
		dsn_set(c, &r->subject, v, strlen(v), c->opt->max_field);
	if ((v = mime_header(d, "From")) != NULL)
		dsn_set(c, &r->from, v, strlen(v), c->opt->max_field);
	r->date = mime_date(mime_header(d, "Date"));
	find_original(c);

	/* RFC 5965 section 2: multipart/report; report-type=feedback-report */
	arf = d->report_type != NULL &&
	    strcmp(d->report_type, "feedback-report") == 0;
	for (i = 0; i < d->nparts && !arf; i++)
		if (d->parts[i].depth == 0 &&
		    strcmp(d->parts[i].type, "message/feedback-report") == 0)
			arf = true;
	/* Hotmail's JMRP complaints: the original alone, no report part. */
	if (!arf && r->subject != NULL &&
	    dsn_ci_find(r->subject, strlen(r->subject),
	    "complaint about message") != NULL) {
		for (i = 0; i < d->nparts && !arf; i++)
			if (d->parts[i].message)
				arf = true;
		if (arf)
			r->feedback_type = strdup("abuse");
	}
	if (arf) {
		r->kind = DSN_KIND_ARF;
		r->mta = strdup("arf");
		for (i = 0; i < d->nparts; i++)
			if (strcmp(d->parts[i].type,
			    "message/feedback-report") == 0 &&
			    d->parts[i].text != NULL) {
				ds_parse(c, d->parts[i].text, d->parts[i].len,
				    true);
				break;
			}
		dsn_text_arf(c);
		return;
	}

	/*
	 * RFC 3464 / RFC 6533: the shallowest delivery-status parts (a
	 * bounce forwarded inside message/rfc822 still counts).
	 */
	for (depth = 0; depth <= MIME_MAX_DEPTH && r->nrcpts == 0; depth++) {
		bool seen = false;

		/*
		 * Open the enclosed messages only when nothing was found,
		 * and only those that can hold a report part.
		 */
		if (depth > 0 && mime_expand(d, depth - 1,
		    "delivery-status") == 0)
			break;

		for (i = 0; i < d->nparts; i++) {
			if (d->parts[i].depth != depth)
				continue;
			if (is_ds_type(d->parts[i].type) ||
			    (strncmp(d->parts[i].type, "text/", 5) == 0 &&
			    strcmp(d->parts[i].type, "text/html") != 0 &&
			    looks_like_ds(d->parts[i].text, d->parts[i].len))) {
				seen = true;
				if (d->parts[i].text != NULL)
					ds_parse(c, d->parts[i].text,
					    d->parts[i].len, false);
			}
		}
		finish_rcpts(c);
		if (seen)
			break;
	}
	/* A forwarded bounce: the original is inside the opened message. */
	if (r->nrcpts > 0 && depth > 0 && r->orig_message_id == NULL)
		find_original(c);
	if (r->nrcpts > 0) {
		r->kind = DSN_KIND_REPORT;
		dsn_text_enrich(c);
		return;
	}
	dsn_text_scan(c);
	if (r->nrcpts > 0) {
		r->kind = DSN_KIND_TEXT;
		return;
	}
	if (dsn_autoreply(c)) {
		r->kind = DSN_KIND_AUTOREPLY;
		/* Apple Mail's "unsubscribe" message: an opt-out request. */
		if ((v = mime_header(d, "X-Apple-Unsubscribe")) != NULL &&
		    strncasecmp(v, "true", 4) == 0 &&
		    (r->feedback_type = strdup("opt-out")) != NULL)
			r->kind = DSN_KIND_ARF;
	}
}

/*
 * Length of the first message of an mbox: up to the next "From " line
 * (a separator ends in a 4-digit year, RFC 4155 section 2).
 */
static size_t
mbox_next(const char *p, size_t n)
{
	const char	*q = p, *end = p + n, *eol;

	while (q < end && (q = memmem(q, end - q, "\nFrom ", 6)) != NULL) {
		q++;
		if ((eol = memchr(q, '\n', end - q)) == NULL)
			eol = end;
		while (eol > q && isspace((unsigned char)eol[-1]))
			eol--;
		if (eol - q > 10 && isdigit((unsigned char)eol[-1]) &&
		    isdigit((unsigned char)eol[-2]) &&
		    isdigit((unsigned char)eol[-3]) &&
		    isdigit((unsigned char)eol[-4]) && eol[-5] == ' ')
			return q - p;
	}
	return n;
}

/* Parse a later message of an mbox and append its recipients. */
static void
more_messages(struct dsn_ctx *c, const char *p, size_t n)
{
	struct dsn_ctx	 sub;
	size_t		 i;
	struct dsn_rcpt	*rc;

	DSN_CTX_ZERO(&sub);
	sub.opt = c->opt;
	if ((sub.r = calloc(1, sizeof(*sub.r))) == NULL) {
		c->nomem = true;
		return;
	}
	if (mime_open(p, n, c->opt->max_bytes, &sub.doc) == BD_OK)
		parse_doc(&sub);
	mime_close(&sub.doc);
	if (sub.nomem)
		c->nomem = true;
	if (c->r->kind == DSN_KIND_NONE)
		c->r->kind = sub.r->kind;
	for (i = 0; i < sub.r->nrcpts && !c->nomem; i++) {
		if ((rc = dsn_add_rcpt(c)) == NULL)
			break;
		*rc = sub.r->rcpts[i];
		memset(&sub.r->rcpts[i], 0, sizeof(*rc));
	}
	c->r->defects |= sub.r->defects;
	dsn_report_free(sub.r);
}

/*
 * dsn_parse - parse one message into a report
 *
 * Arguments: msg, len: the whole message (headers and body, LF or CRLF,
 * may start with an mbox "From " line, may hold NUL bytes, need not be
 * NUL-terminated); opt: bounds (NULL: DSN_OPTIONS_DEFAULT); out: set to
 * the report.  An mbox holding several messages is read whole: the
 * report describes the first, the later ones add their recipients.
 * Returns: BD_OK (the report may be DSN_KIND_NONE with defects), or
 * BD_ENOMEM (*out is NULL).
 * Notes: thread-safe after dsn_init(); free with dsn_report_free().
 */
enum bd_status
dsn_parse(const char *msg, size_t len, const struct dsn_options *opt,
    struct dsn_report **out)
{
	static const struct dsn_options	 defopt = DSN_OPTIONS_DEFAULT;
	struct dsn_ctx			 c;
	char				*norm;
	size_t				 nlen = 0, chunk, off;
	bool				 mbox;

	*out = NULL;
	DSN_CTX_ZERO(&c);
	c.opt = opt != NULL ? opt : &defopt;
	if ((c.r = calloc(1, sizeof(*c.r))) == NULL)
		return BD_ENOMEM;
	if (msg == NULL)
		len = 0;
	if ((norm = normalise(&c, msg != NULL ? msg : "", len, &nlen)) ==
	    NULL) {
		dsn_report_free(c.r);
		return BD_ENOMEM;
	}
	mbox = len >= 5 && memcmp(msg, "From ", 5) == 0;
	chunk = mbox ? mbox_next(norm, nlen) : nlen;
	if (mime_open(norm, chunk, c.opt->max_bytes, &c.doc) == BD_OK)
		parse_doc(&c);
	c.r->defects |= c.doc.defects;
	mime_close(&c.doc);
	/* An mbox of several bounces: the later ones add recipients. */
	for (off = chunk; mbox && off < nlen && !c.nomem; off += chunk) {
		const char *p = memchr(norm + off, '\n', nlen - off);

		off = p != NULL ? (size_t)(p + 1 - norm) : nlen;
		chunk = mbox_next(norm + off, nlen - off);
		more_messages(&c, norm + off, chunk);
	}
	free(norm);
	if (c.nomem) {
		dsn_report_free(c.r);
		return BD_ENOMEM;
	}
	*out = c.r;
	return BD_OK;
}
