/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_fields.c - the fields of RFC 3464 message/delivery-status (section
 * 2: the per-message group, then one group per recipient; section 2.1.1
 * folding; section 2.3 recipient fields), RFC 6533 message/global-
 * delivery-status (UTF-8 values) and RFC 5965 ARF feedback reports
 * (sections 3.1 and 3.2), read into the report.
 *
 * It must not: log, do I/O, or keep state beyond one call.
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "parse/dsn_int.h"

#define FIELD_NAME_MAX	64

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
	if (dsn_status_at(v, v + strnlen(v, 16), &n) && n < sizeof(st)) {
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

/* Is field name want (any case)?  A field is tried against a dozen
 * names: the first letter turns most of them away without a call. */
static bool
name_is(const char *name, const char *want)
{
	return (name[0] | 0x20) == (want[0] | 0x20) &&
	    strcasecmp(name, want) == 0;
}

static struct dsn_rcpt *
group_rcpt(struct dsn_ctx *c, struct ds_state *st)
{
	if (st->cur == NULL)
		st->cur = dsn_add_rcpt(c);
	return st->cur;
}

/* RFC 3464 section 2.2: the per-message fields; false: not one of them. */
static bool
message_field(struct dsn_ctx *c, struct ds_state *st, const char *name,
    const char *v)
{
	struct dsn_report	*r = c->r;
	size_t			 maxf = c->opt->max_field;
	size_t			 vl = strlen(v);
	char			*a;

	if (name_is(name, "Reporting-MTA")) {
		v = after_type(v, NULL, 0);
		dsn_set(c, &r->reporting_mta, v, strlen(v), maxf);
	} else if (name_is(name, "Arrival-Date")) {
		if (r->arrival_date.raw == NULL)
			dsn_set(c, &r->arrival_date.raw, v, strlen(v), maxf);
	} else if (name_is(name, "Original-Envelope-Id"))
		dsn_set(c, &r->envelope_id, v, vl, maxf);
	else if (name_is(name, "X-Postfix-Queue-ID"))
		dsn_set(c, &r->queue_id, v, vl, maxf);
	else if (name_is(name, "X-Postfix-Sender") ||
	    (st->feedback && name_is(name, "Original-Mail-From"))) {
		if ((a = dsn_clean_addr(c, v, vl)) != NULL) {
			free(r->sender);
			r->sender = a;
		}
	} else
		return false;
	return true;
}

/* RFC 5965 sections 3.1 and 3.2: the fields of a feedback report. */
static void
feedback_field(struct dsn_ctx *c, const char *name, const char *v)
{
	struct dsn_report	*r = c->r;
	struct dsn_rcpt		*rc;
	size_t			 vl = strlen(v);
	char			*a, *p;

	if (name_is(name, "Feedback-Type")) {
		dsn_set(c, &r->feedback_type, v, vl, 64);
		for (p = r->feedback_type; p != NULL && *p; p++)
			*p = tolower((unsigned char)*p);
	} else if (name_is(name, "Original-Rcpt-To") ||
	    name_is(name, "Removal-Recipient")) {
		if ((a = dsn_clean_addr(c, v, vl)) == NULL)
			return;
		if (dsn_has_rcpt(r, a) || (rc = dsn_add_rcpt(c)) == NULL) {
			free(a);
			return;
		}
		rc->final_recipient = a;
		rc->action = EV_ACT_FAILED;
	}
}

/* RFC 3464 section 2.3: the per-recipient fields. */
static void
recipient_field(struct dsn_ctx *c, struct ds_state *st, const char *name,
    const char *v)
{
	struct dsn_rcpt	*rc;
	char		*a, **dst;
	bool		 fin;

	if (name_is(name, "Final-Recipient") ||
	    name_is(name, "Original-Recipient")) {
		fin = name[0] == 'F' || name[0] == 'f';
		if (st->cur != NULL && (fin ? st->cur->final_recipient :
		    st->cur->original_recipient) != NULL)
			st->cur = NULL;	/* no blank line between groups */
		if ((rc = group_rcpt(c, st)) == NULL)
			return;
		dst = fin ? &rc->final_recipient : &rc->original_recipient;
		if ((a = dsn_clean_addr(c, v, strlen(v))) != NULL) {
			free(*dst);
			*dst = a;
		}
		return;
	}
	/* Other fields open no recipient group. */
	if (!name_is(name, "Action") && !name_is(name, "Status") &&
	    !name_is(name, "Remote-MTA") && !name_is(name, "Diagnostic-Code") &&
	    !name_is(name, "Last-Attempt-Date") &&
	    !name_is(name, "Will-Retry-Until"))
		return;
	if ((rc = group_rcpt(c, st)) == NULL)
		return;
	if (name_is(name, "Action"))
		rc->action = ev_action_parse(v);
	else if (name_is(name, "Status"))
		set_status(c, rc, v);
	else if (name_is(name, "Remote-MTA")) {
		v = after_type(v, NULL, 0);
		dsn_set(c, &rc->remote_mta, v, strlen(v), c->opt->max_field);
	} else if (name_is(name, "Diagnostic-Code"))
		set_diagnostic(c, rc, v);
	else if (name_is(name, "Last-Attempt-Date"))
		dsn_set(c, &rc->last_attempt.raw, v, strlen(v),
		    c->opt->max_field);
	else
		dsn_set(c, &rc->will_retry_until.raw, v, strlen(v),
		    c->opt->max_field);
}

/* One unfolded field of a delivery-status or feedback-report part. */
static void
ds_field(struct dsn_ctx *c, struct ds_state *st, const char *name,
    const char *v)
{
	if (message_field(c, st, name, v))
		return;
	if (st->feedback)
		feedback_field(c, name, v);
	else
		recipient_field(c, st, name, v);
}

/*
 * Read the field groups of a delivery-status (or feedback-report) body:
 * lines "Name: value", continuation lines start with white space (RFC
 * 5322 section 2.2.3, unfolded to one space), a blank line ends a group.
 */
void
dsn_fields_parse(struct dsn_ctx *c, const char *t, size_t n, bool feedback)
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
