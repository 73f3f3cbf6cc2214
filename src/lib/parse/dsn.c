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

#include "util/buf.h"
#include "parse/dsn_int.h"
#include "util/strci.h"

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
			dsn_rcpt_free(rc);
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

/*
 * Bulk mail names itself (RFC 2369 List-Unsubscribe, RFC 2919 List-Id,
 * the de facto Precedence: bulk, list or junk): an application treats a
 * failed newsletter otherwise than a failed password reset.
 */
static bool
bulk_precedence(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	return strncasecmp(v, "bulk", 4) == 0 ||
	    strncasecmp(v, "list", 4) == 0 || strncasecmp(v, "junk", 4) == 0;
}

/* The returned original: its Message-ID, campaign header, kind. */
static void
find_original(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	const char		*v;
	size_t			 i;
	bool			 bulk;

	for (i = 0; i < d->nparts; i++) {
		if (!d->parts[i].message)
			continue;
		if (c->r->mail_kind == NULL) {
			bulk = mime_part_header(d, i, "List-Unsubscribe") !=
			    NULL || mime_part_header(d, i, "List-Id") != NULL ||
			    ((v = mime_part_header(d, i, "Precedence")) !=
			    NULL && bulk_precedence(v));
			c->r->mail_kind = strdup(bulk ? "bulk" :
			    "transactional");
		}
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

/*
 * An ARF feedback report (RFC 5965 section 2: multipart/report;
 * report-type=feedback-report) or Hotmail's JMRP complaint (the original
 * alone, no report part): read it and return true; false when the
 * message is neither.
 */
static bool
read_feedback(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	struct dsn_report	*r = c->r;
	size_t			 i;
	bool			 arf;

	arf = d->report_type != NULL &&
	    strcmp(d->report_type, "feedback-report") == 0;
	for (i = 0; i < d->nparts && !arf; i++)
		if (d->parts[i].depth == 0 &&
		    strcmp(d->parts[i].type, "message/feedback-report") == 0)
			arf = true;
	if (!arf && r->subject != NULL &&
	    strci_find(r->subject, strlen(r->subject),
	    "complaint about message") != NULL) {
		for (i = 0; i < d->nparts && !arf; i++)
			if (d->parts[i].message)
				arf = true;
		if (arf)
			r->feedback_type = strdup("abuse");
	}
	if (!arf)
		return false;
	r->kind = DSN_KIND_ARF;
	r->mta = strdup("arf");
	for (i = 0; i < d->nparts; i++)
		if (strcmp(d->parts[i].type, "message/feedback-report") == 0 &&
		    d->parts[i].text != NULL) {
			dsn_fields_parse(c, d->parts[i].text, d->parts[i].len,
			    true);
			break;
		}
	dsn_text_arf(c);
	return true;
}

/*
 * RFC 3464 / RFC 6533: read the shallowest delivery-status parts (a
 * bounce forwarded inside message/rfc822 still counts); the enclosed
 * messages are opened only when nothing was found, and only those that
 * can hold a report part.  Returns the depth the reports were found at.
 */
static unsigned
read_status_parts(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	const struct mime_part	*mp;
	size_t			 i;
	unsigned		 depth;
	bool			 seen;

	for (depth = 0; depth <= MIME_MAX_DEPTH && c->r->nrcpts == 0;
	    depth++) {
		if (depth > 0 && mime_expand(d, depth - 1,
		    "delivery-status") == 0)
			break;
		seen = false;
		for (i = 0; i < d->nparts; i++) {
			mp = &d->parts[i];
			if (mp->depth != depth)
				continue;
			if (is_ds_type(mp->type) ||
			    (strncmp(mp->type, "text/", 5) == 0 &&
			    strcmp(mp->type, "text/html") != 0 &&
			    looks_like_ds(mp->text, mp->len))) {
				seen = true;
				if (mp->text != NULL)
					dsn_fields_parse(c, mp->text, mp->len,
					    false);
			}
		}
		finish_rcpts(c);
		if (seen)
			break;
	}
	return depth;
}

static void
parse_doc(struct dsn_ctx *c)
{
	struct mime_doc		*d = &c->doc;
	struct dsn_report	*r = c->r;
	const char		*v;
	unsigned		 depth;

	if ((v = mime_header(d, "Subject")) != NULL)
		dsn_set(c, &r->subject, v, strlen(v), c->opt->max_field);
	if ((v = mime_header(d, "From")) != NULL)
		dsn_set(c, &r->from, v, strlen(v), c->opt->max_field);
	if ((v = mime_header(d, "Date")) != NULL)
		dsn_set(c, &r->date.raw, v, strlen(v), c->opt->max_field);
	find_original(c);
	if (read_feedback(c))
		return;
	depth = read_status_parts(c);
	/* A forwarded bounce: the original is inside the opened message. */
	if (r->nrcpts > 0 && depth > 0 && r->orig_message_id == NULL)
		find_original(c);
	if (r->nrcpts > 0) {
		r->kind = DSN_KIND_REPORT;
		dsn_text_enrich(c);
		return;
	}
	/* Amazon SES (direct or through SNS): JSON in the body. */
	if (dsn_json(c))
		return;
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
