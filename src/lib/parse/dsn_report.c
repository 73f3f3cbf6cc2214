/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_report.c - the report being built: recipients added and found,
 * values copied with their caps (struct dsn_options), and the report
 * freed.  Shared by the structured reader (dsn.c, dsn_fields.c) and the
 * text reader (dsn_text.c), below both.
 *
 * It must not: log, do I/O, or allocate past the caps.
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "parse/dsn_int.h"

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

void
dsn_rcpt_free(struct dsn_rcpt *rc)
{
	free(rc->final_recipient);
	free(rc->original_recipient);
	free(rc->status);
	free(rc->diagnostic_type);
	free(rc->diagnostic);
	free(rc->remote_mta);
	free(rc->status_comment);
	free(rc->last_attempt.raw);
	free(rc->will_retry_until.raw);
}

/*
 * dsn_date_get - the time of a date field
 *
 * Arguments: d, a date of a report (not read at parse time).
 * Returns: unix seconds, 0 when the field is absent or not a date.
 * Notes: read once (mime_date()); not thread-safe for one report, like
 * the rest of a report.
 */
int64_t
dsn_date_get(struct dsn_date *d)
{
	if (!d->read) {
		d->t = mime_date(d->raw);
		d->read = true;
	}
	return d->t;
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
		dsn_rcpt_free(&r->rcpts[i]);
	free(r->rcpts);
	free(r->arrival_date.raw);
	free(r->date.raw);
	free(r->mta);
	free(r->reporting_mta);
	free(r->queue_id);
	free(r->envelope_id);
	free(r->sender);
	free(r->orig_message_id);
	free(r->campaign);
	free(r->mail_kind);
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
