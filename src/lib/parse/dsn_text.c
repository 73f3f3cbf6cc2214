/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_text.c - non-standard bounces: recipients, status, reply code and
 * diagnostic read from the human-readable text that MTAs (Sendmail,
 * Exim, qmail, Courier, Exchange, Domino, DragonFly, OpenSMTPD ...) and
 * providers (Gmail, Yahoo, Outlook.com, Amazon SES ...) write when they
 * do not send an RFC 3464 report; ARF recipients from the returned
 * message (RFC 5965 section 2 item 3); RFC 3834 auto-replies.
 *
 * The method is generic: cut the text where the returned original
 * begins, find "recipient anchors" (a line that starts with an address,
 * the X-Failed-Recipients header, a transcript's RCPT TO), take the
 * paragraph that follows each as its diagnostic and look for an RFC
 * 3463 status code and an RFC 5321 reply code inside it.  Tables of
 * literal signatures name the MTA.
 *
 * It must not: log, do I/O, compile patterns per message or scan
 * quadratically (every search is a bounded linear scan).
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "parse/dsn_int.h"
#include "util/strci.h"
#include "parse/smtpcmd.h"

#define MAX_ANCHORS	64

static bool
is_local_char(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || strchr(".!#$%&'*+/=?^_`{|}~-",
	    ch) != NULL;
}

static bool
is_domain_char(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || ch == '.' || ch == '-' ||
	    ch == '_';
}

/*
 * An address starting exactly at p (within [p, end)): sets *len.  The
 * domain needs a dot; the local part may not start or end with a dot.
 */
static bool
addr_at(const char *p, const char *end, size_t *len)
{
	const char	*q = p, *at, *d;
	bool		 dot = false;

	if (*p == '"') {
		/* quoted local part */
		for (q = p + 1; q < end && *q != '"' && *q != '\n'; q++)
			;
		if (q >= end || *q != '"')
			return false;
		q++;
	} else {
		while (q < end && is_local_char((unsigned char)*q) &&
		    *q != '\'' && *q != '`')
			q++;
	}
	if (q == p || q >= end || *q != '@')
		return false;
	at = q;
	for (d = at + 1; d < end && is_domain_char((unsigned char)*d); d++)
		if (*d == '.')
			dot = true;
	while (d > at + 1 && (d[-1] == '.' || d[-1] == '-'))
		d--;
	if (d == at + 1 || !dot)
		return false;
	if (p[0] == '.' || at[-1] == '.')
		return false;
	if (d - p > ADDR_MAX)
		return false;
	*len = d - p;
	return true;
}

static bool
boring_addr(const char *a)
{
	static const char *const locals[] = { "mailer-daemon@",
	    "postmaster@", "mailer_daemon@", "mail-daemon@",
	    "maildaemon@", "noreply@", "no-reply@", "abuse@", NULL };
	size_t	 i;

	for (i = 0; locals[i] != NULL; i++)
		if (strncasecmp(a, locals[i], strlen(locals[i])) == 0)
			return true;
	return false;
}

static char	*header_addr(struct dsn_ctx *, const char *);

/* A new failed recipient owning a (malloc'd, freed on failure), or NULL. */
static struct dsn_rcpt *
add_failed(struct dsn_ctx *c, char *a)
{
	struct dsn_rcpt	*rc;

	if ((rc = dsn_add_rcpt(c)) == NULL) {
		free(a);
		return NULL;
	}
	rc->final_recipient = a;
	rc->action = EV_ACT_FAILED;
	return rc;
}

struct anchor {
	size_t	 addr, alen;	/* the address in the text */
	size_t	 body;		/* where its paragraph starts */
	bool	 line_only;	/* the diagnostic is this line alone */
};

static bool
anchor_dup(const char *t, const struct anchor *a, size_t na,
    const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < na; i++)
		if (a[i].alen == len && strncasecmp(t + a[i].addr, p,
		    len) == 0)
			return true;
	return false;
}

static bool
is_daemon_addr(const char *p, size_t len)
{
	static const char *const locals[] = { "mailer-daemon@",
	    "mailer_daemon@", "mail-daemon@", "maildaemon@", NULL };
	size_t	 i, l;

	for (i = 0; locals[i] != NULL; i++) {
		l = strlen(locals[i]);
		if (len > l && strncasecmp(p, locals[i], l) == 0)
			return true;
	}
	return false;
}

/* Labels that introduce a recipient at the start of a line. */
static const char *const rcpt_labels[] = {
	"RCPT TO:", "Recipient address:", "Recipient:", "Original-Recipient:",
	"Final-Recipient:", "Failed recipient:", "Addressee:",
	"Recipient Address:", NULL
};

/*
 * Line anchors: a line whose first token is an address (optionally in
 * angle brackets or quotes, followed by ':' or text), as Postfix, qmail,
 * Exim, Sendmail and many others print each failed recipient; a label
 * such as "RCPT TO:" or "Recipient address:" before it; or an SMTP reply
 * "550 <addr>... reason" (Sendmail).
 */
static size_t
find_line_anchors(const char *t, size_t n, struct anchor *a, size_t max)
{
	const char	*p = t, *end = t + n, *eol, *q, *code;
	size_t		 na = 0, len, i, l;

	while (p < end && na < max) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		q = p;
		code = NULL;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '*' ||
		    *q == '-' || *q == '>'))
			q++;
		for (i = 0; rcpt_labels[i] != NULL; i++) {
			l = strlen(rcpt_labels[i]);
			if ((size_t)(eol - q) > l &&
			    strncasecmp(q, rcpt_labels[i], l) == 0) {
				q += l;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				if (eol - q > 7 &&
				    strncasecmp(q, "rfc822;", 7) == 0)
					q += 7;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				break;
			}
		}
		if (rcpt_labels[i] == NULL && eol - q > 5 &&
		    dsn_reply_code(q) != 0 && q[3] == ' ') {
			/* "550 <addr>... User unknown" */
			const char *r = q + 4;
			char st[16];

			if (dsn_find_status(r, eol - r < 12 ? eol - r : 12,
			    st, sizeof(st)) && strncmp(r, st, strlen(st)) == 0)
				r += strlen(st) + 1;
			if (r < eol && *r == '<') {
				code = q;
				q = r;
			}
		}
		if (q < eol && (*q == '<' || *q == '"'))
			q++;
		if (q < eol && addr_at(q, eol, &len)) {
			const char *r = q + len;

			if (r < eol && (*r == '>' || *r == '"'))
				r++;
			/* The address must stand alone or end a label. */
			if ((r == eol || *r == ':' || *r == ' ' ||
			    *r == '\t' || *r == ',' || *r == '.' ||
			    *r == ';' || *r == '(') &&
			    !anchor_dup(t, a, na, q, len) &&
			    !is_daemon_addr(q, len)) {
				a[na].addr = q - t;
				a[na].alen = len;
				a[na].body = code != NULL ? code - t : r - t;
				a[na].line_only = code != NULL;
				na++;
			}
		}
		p = eol + 1;
	}
	return na;
}

/* Does the line before p talk about a recipient ("... to <addr>")? */
static bool
rcpt_context(const char *t, const char *p)
{
	const char	*s = p;
	size_t		 n;

	while (s > t && s[-1] != '\n' && p - s < 80)
		s--;
	n = p - s;
	return strci_find(s, n, " to") != NULL ||
	    strci_find(s, n, "recipient") != NULL ||
	    strci_find(s, n, "address") != NULL ||
	    strci_find(s, n, "user") != NULL;
}

/*
 * The fallback: an address in angle brackets that the text says is a
 * recipient, else any bracketed one, else any bare address; never the
 * bounce's own To (the original sender) nor role addresses.
 */
static size_t
find_any_anchor(struct dsn_ctx *c, const char *t, size_t n,
    struct anchor *a, int pass)
{
	const char	*p, *end = t + n;
	const char	*to = mime_header(&c->doc, "To");
	size_t		 len;
	char		 tmp[ADDR_MAX + 1];

	for (p = t; p < end; p++) {
		if (pass < 2) {
			if (*p != '<' || p + 1 >= end)
				continue;
			if (!addr_at(p + 1, end, &len) || p + 1 + len >= end ||
			    p[1 + len] != '>')
				continue;
			p++;
			if (pass == 0 && !rcpt_context(t, p))
				continue;
		} else {
			if (*p != '@' || p == t)
				continue;
			while (p > t && is_local_char((unsigned char)p[-1]))
				p--;
			if (!addr_at(p, end, &len)) {
				p = memchr(p, '@', end - p);
				continue;
			}
		}
		memcpy(tmp, p, len);
		tmp[len] = '\0';
		if (!is_daemon_addr(p, len) && (pass == 0 || !boring_addr(tmp)) &&
		    (to == NULL || strci_find(to, strlen(to), tmp) == NULL)) {
			a->addr = p - t;
			a->alen = len;
			a->body = p + len - t;
			a->line_only = false;
			return 1;
		}
		p += len - 1;
	}
	return 0;
}

/* Unfold [s, e) into one line, collapse white space. */
static void
unfold(struct buf *b, const char *s, const char *e)
{
	bool	 sp = false;

	for (; s < e; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			sp = b->len > 0;
			continue;
		}
		if (sp)
			buf_append(b, " ", 1);
		sp = false;
		buf_append(b, s, 1);
	}
}

/*
 * Start of the paragraph that ends at e: just after a blank line, or lo.
 * The counterpart of para_end(), scanning back no further than lo.
 */
static const char *
para_start(const char *e, const char *lo)
{
	const char	*s, *q;

	for (s = e; s > lo; s--) {
		if (s[-1] != '\n')
			continue;
		for (q = s - 1; q > lo && (q[-1] == ' ' || q[-1] == '\t' ||
		    q[-1] == '\r'); q--)
			;
		if (q == lo || q[-1] == '\n')
			break;
	}
	return s;
}

/* End of the paragraph starting at p: a blank line, or end. */
static const char *
para_end(const char *p, const char *end)
{
	const char	*q;

	while (p < end) {
		if ((q = memchr(p, '\n', end - p)) == NULL)
			return end;
		p = q + 1;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < end && *p == '\n')
			return p;
	}
	return end;
}

/*
 * Sendmail's transcript of a local delivery: the delivery agent's own
 * message stands between the "----- Transcript of session follows
 * -----" line and Sendmail's reply ("mail.local: unknown user: neko"
 * above "554 <neko@example.org>... Service unavailable"); it names the
 * cause, so the diagnostic starts there.  Not when SMTP dialogue
 * (">>> RCPT", "<<< 550") is in between.  Returns the new start.
 */
static size_t
transcript_lead(const char *d, size_t off)
{
	const char	*sep = NULL, *q;
	size_t		 i;

	for (q = d; (q = strstr(q, "session follows")) != NULL &&
	    q < d + off; q++)
		sep = q;
	if (sep == NULL)
		return off;
	for (i = (size_t)(sep - d) + 15; i < off && (d[i] == '-' ||
	    d[i] == ' '); i++)
		;
	if (off - i < 4 || off - i > 200 ||
	    memchr(d + i, '<', off - i) != NULL ||
	    memchr(d + i, '>', off - i) != NULL ||
	    memchr(d + i, ':', off - i) == NULL)
		return off;
	return i;
}

static void
fill_from_block(struct dsn_ctx *c, struct dsn_rcpt *rc, const char *s,
    const char *e)
{
	struct buf	 b;
	char		 st[16];
	const char	*code;
	int		 rcode = 0;
	size_t		 off;

	buf_init(&b, c->opt->max_diagnostic + 1);
	unfold(&b, s, e);
	if (b.data == NULL) {
		buf_free(&b);
		return;
	}
	if (rc->status == NULL && (dsn_find_status2(b.data, b.len, st,
	    sizeof(st), true) || dsn_find_status(b.data, b.len, st,
	    sizeof(st))))
		rc->status = strdup(st);
	/* The first failure code, else the first code at all. */
	if ((rcode = dsn_find_reply_code2(b.data, b.len, 400)) == 0)
		rcode = dsn_find_reply_code(b.data, b.len);
	if (rc->reply_code == 0)
		rc->reply_code = rcode;
	off = b.len;
	if (rcode != 0) {
		char num[4];

		num[0] = '0' + rcode / 100;
		num[1] = '0' + rcode / 10 % 10;
		num[2] = '0' + rcode % 10;
		num[3] = '\0';
		for (code = b.data; (code = strstr(code, num)) != NULL;
		    code++)
			if (dsn_reply_code(code) == rcode &&
			    (code == b.data || !isalnum((unsigned char)code[-1]))) {
				off = code - b.data;
				break;
			}
	}
	if (rc->status != NULL && (code = strstr(b.data, rc->status)) !=
	    NULL && (size_t)(code - b.data) < off)
		off = code - b.data;
	if (off == b.len)
		off = 0;
	else if (off > 0)
		off = transcript_lead(b.data, off);
	while (off < b.len && (b.data[off] == ':' || b.data[off] == ' ' ||
	    b.data[off] == '(' || b.data[off] == '.' || b.data[off] == '>' ||
	    b.data[off] == '"' || b.data[off] == ','))
		off++;
	if (rc->diagnostic == NULL)
		rc->diagnostic = dsn_dup(c, b.data + off, b.len - off,
		    c->opt->max_diagnostic);
	buf_free(&b);
}

/* Does s[0..n) hold a failure status or reply code? */
static bool
has_failure_code(const char *s, size_t n)
{
	char	 st[16];

	return dsn_find_status2(s, n, st, sizeof(st), true) ||
	    dsn_find_reply_code2(s, n, 400) != 0;
}

/*
 * Fill rc from the paragraph of anchor i (up to the next anchor); with
 * need_code, only when it holds a failure code.
 */
static void
anchor_block(struct dsn_ctx *c, struct dsn_rcpt *rc, const char *t,
    size_t n, const struct anchor *a, size_t na, size_t i, bool need_code)
{
	const char	*end = t + n, *s, *e, *lim;
	size_t		 k;

	lim = i + 1 < na ? t + a[i + 1].addr : end;
	/* X-Failed-Recipients order: the next anchor may come before. */
	if (lim < t + a[i].body)
		lim = end;
	/* back up to the start of the next anchor's line */
	while (lim > t + a[i].body && lim[-1] != '\n')
		lim--;
	s = t + a[i].body;
	if (a[i].line_only) {
		if ((e = memchr(s, '\n', end - s)) == NULL)
			e = end;
		fill_from_block(c, rc, s, e);
		return;
	}
	e = para_end(s, lim);
	/* No code in the paragraph: take up to two more. */
	for (k = 0; k < 2 && e < lim; k++) {
		char st[16];

		if (dsn_find_status(s, e - s, st, sizeof(st)) ||
		    dsn_find_reply_code(s, e - s) != 0)
			break;
		e = para_end(e + 1, lim);
	}
	if (need_code && !has_failure_code(s, e - s))
		return;
	fill_from_block(c, rc, s, e);
}

/*
 * Nothing follows the address: the words before it are the reason
 * ("User mailbox exceeds allowed size: a@b", or a paragraph above the
 * address, as Lotus Notes and au write), back to the previous anchor
 * and at most BEFORE_MAX bytes.
 */
#define BEFORE_MAX	1024

static void
before_block(struct dsn_ctx *c, struct dsn_rcpt *rc, const char *t,
    const struct anchor *a, size_t i)
{
	const char	*lo = i > 0 ? t + a[i - 1].addr + a[i - 1].alen : t;
	const char	*s, *e = t + a[i].addr, *ps, *pe;
	size_t		 alnum = 0;

	if (e - lo > BEFORE_MAX)
		lo = e - BEFORE_MAX;
	for (s = e; s > lo && s[-1] != '\n'; s--)
		if (isalnum((unsigned char)s[-1]))
			alnum++;
	if (alnum < 8) {
		/* the paragraph above: skip blank lines, then back to one */
		for (e = s; e > lo && isspace((unsigned char)e[-1]); e--)
			;
		s = para_start(e, lo);
		/*
		 * No code there ("The following recipients were affected:"
		 * introducing the list): the nearest paragraph above that
		 * has one (MailMarshal, Verizon), else, above a one-line
		 * introduction, the paragraph before it (au).
		 */
		for (pe = s, ps = NULL; pe > lo && !has_failure_code(s,
		    e - s); pe = ps) {
			while (pe > lo && isspace((unsigned char)pe[-1]))
				pe--;
			ps = para_start(pe, lo);
			if (ps == pe)
				break;
			if (has_failure_code(ps, pe - ps)) {
				s = ps;
				e = pe;
				break;
			}
		}
		if (!has_failure_code(s, e - s) && e > s && e[-1] == ':' &&
		    memchr(s, '\n', e - s) == NULL) {
			for (pe = s; pe > lo && isspace((unsigned char)pe[-1]);
			    pe--)
				;
			for (ps = pe; ps > lo && !(ps[-1] == '\n' &&
			    ps - 1 > lo && ps[-2] == '\n'); ps--)
				;
			if (pe > ps)
				s = ps;
		}
	}
	if (e > s)
		fill_from_block(c, rc, s, e);
}

/* Start of the line holding p (t is the start of the text). */
static const char *
line_start_of(const char *t, const char *p)
{
	while (p > t && p[-1] != '\n')
		p--;
	return p;
}

static void
add_anchor_rcpts(struct dsn_ctx *c, const char *t, size_t n,
    const struct anchor *a, size_t na)
{
	struct dsn_rcpt	*rc;
	size_t		 i;

	for (i = 0; i < na; i++) {
		char tmp[ADDR_MAX + 1];

		memcpy(tmp, t + a[i].addr, a[i].alen);
		tmp[a[i].alen] = '\0';
		if (dsn_has_rcpt(c->r, tmp))
			continue;
		if ((rc = dsn_add_rcpt(c)) == NULL)
			return;
		rc->final_recipient = dsn_dup(c, tmp, a[i].alen, ADDR_MAX);
		rc->action = EV_ACT_FAILED;
		/*
		 * Above the first address, a failure code is the reason of
		 * all ("Could not be delivered because of 550 ...") when the
		 * lines after it hold none.
		 */
		anchor_block(c, rc, t, n, a, na, i, i == 0 &&
		    has_failure_code(t, line_start_of(t, t + a[i].addr) - t));
		if (rc->diagnostic == NULL)
			before_block(c, rc, t, a, i);
		if (rc->diagnostic == NULL)
			anchor_block(c, rc, t, n, a, na, i, false);
	}
}

/* Exim's X-Failed-Recipients header (comma-separated). */
static void
failed_recipients_header(struct dsn_ctx *c, struct anchor *a, size_t *na,
    const char *t, size_t n)
{
	const char	*h, *p, *q;
	size_t		 len, i;
	struct anchor	 tmp[MAX_ANCHORS];
	size_t		 nt = 0;

	if ((h = mime_header(&c->doc, "X-Failed-Recipients")) == NULL)
		return;
	for (p = h; *p != '\0' && nt < MAX_ANCHORS; p++) {
		if (!addr_at(p, p + strlen(p), &len))
			continue;
		/* Find where the text talks about it, for the paragraph. */
		for (i = 0; i < *na; i++)
			if (a[i].alen == len &&
			    strncasecmp(t + a[i].addr, p, len) == 0)
				break;
		if (i < *na)
			tmp[nt++] = a[i];
		else if ((q = strci_find(t, n, p)) != NULL && len < ADDR_MAX) {
			tmp[nt].addr = q - t;
			tmp[nt].alen = len;
			tmp[nt].body = q - t + len;
			tmp[nt].line_only = false;
			nt++;
		}
		p += len - 1;
	}
	if (nt > 0) {
		memcpy(a, tmp, nt * sizeof(*a));
		*na = nt;
	}
}

/*
 * Last resort: the To of the returned original (an enclosed message, or
 * a "To:" line after the cut), its diagnostic the whole notice.
 */
static void
original_to(struct dsn_ctx *c, const char *t, size_t cut, size_t n)
{
	struct dsn_rcpt	*rc;
	const char	*p, *end = t + n, *eol;
	char		*a = NULL;
	size_t		 i;

	for (i = 0; i < c->doc.nparts && a == NULL; i++)
		a = header_addr(c, mime_part_header(&c->doc, i, "To"));
	for (p = t + cut; p < end && a == NULL; p = eol + 1) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		if (eol - p > 3 && strncasecmp(p, "To:", 3) == 0) {
			char *v = dsn_dup(c, p + 3, eol - p - 3, ADDR_MAX);

			a = header_addr(c, v);
			free(v);
		}
	}
	if (a == NULL || (rc = add_failed(c, a)) == NULL)
		return;
	fill_from_block(c, rc, t, t + cut);
}

/*
 * dsn_text_scan - read recipients from a non-standard bounce's text
 *
 * Arguments: c: context; the report gets recipients (action failed),
 * status, reply code and diagnostic as found, plus the MTA name.
 * Notes: does nothing unless the message looks like a bounce (From a
 * mailer daemon, a bounce Subject, X-Failed-Recipients, multipart/report).
 */
void
dsn_text_scan(struct dsn_ctx *c)
{
	struct anchor	 a[MAX_ANCHORS];
	char		*t;
	size_t		 n, cut, na;

	if ((t = dsn_text_body(c, &n)) == NULL) {
		c->nomem = true;
		return;
	}
	if (!dsn_text_looks_bounce(c) && !dsn_text_looks_bounce_text(t, n)) {
		free(t);
		return;
	}
	cut = dsn_text_cut_point(t, n);
	na = find_line_anchors(t, cut, a, MAX_ANCHORS);
	failed_recipients_header(c, a, &na, t, cut);
	if (na == 0)
		na = find_any_anchor(c, t, cut, a, 0);
	if (na == 0)
		na = find_any_anchor(c, t, cut, a, 1);
	if (na == 0)
		na = find_any_anchor(c, t, cut, a, 2);
	add_anchor_rcpts(c, t, cut, a, na);
	if (c->r->nrcpts == 0)
		original_to(c, t, cut, n);
	if (c->r->orig_message_id == NULL && cut < n)
		dsn_text_original_id(c, t + cut, n - cut);
	dsn_text_set_mta(c, t);
	dsn_text_set_commands(c, t, cut);
	free(t);
}

/*
 * dsn_text_enrich - extras for an RFC 3464 report from its text part
 *
 * Notes: names the MTA; finds the original's Message-ID in the text when
 * no message/rfc822 part gave it.
 */
void
dsn_text_enrich(struct dsn_ctx *c)
{
	struct anchor	 a[MAX_ANCHORS];
	const char	*p;
	char		*t;
	size_t		 n, cut, na, i, k;

	if ((t = dsn_text_body(c, &n)) == NULL) {
		c->nomem = true;
		return;
	}
	cut = dsn_text_cut_point(t, n);
	if (c->r->orig_message_id == NULL && cut < n)
		dsn_text_original_id(c, t + cut, n - cut);
	dsn_text_set_mta(c, t);
	for (i = 0; i < c->r->nrcpts; i++)
		if (c->r->rcpts[i].diagnostic == NULL)
			break;
	if (i < c->r->nrcpts) {
		na = find_line_anchors(t, cut, a, MAX_ANCHORS);
		for (i = 0; i < c->r->nrcpts; i++) {
			struct dsn_rcpt *rc = &c->r->rcpts[i];

			if (rc->diagnostic != NULL ||
			    rc->final_recipient == NULL)
				continue;
			for (k = 0; k < na; k++)
				if (a[k].alen == strlen(rc->final_recipient) &&
				    strncasecmp(t + a[k].addr,
				    rc->final_recipient, a[k].alen) == 0)
					break;
			if (k < na) {
				anchor_block(c, rc, t, cut, a, na, k, false);
				dsn_status_from_text(rc, rc->diagnostic);
			} else if (rc->final_recipient[0] == '/' &&
			    (p = strci_find(t, cut,
			    rc->final_recipient)) != NULL) {
				/* Exim's "save to /path": a file delivery. */
				p += strlen(rc->final_recipient);
				fill_from_block(c, rc, p, para_end(p, t + cut));
				dsn_status_from_text(rc, rc->diagnostic);
			}
		}
	}
	dsn_text_set_commands(c, t, cut);
	free(t);
}

/* Address of a header value ("Name <a@b>" or "a@b"), malloc'd. */
static char *
header_addr(struct dsn_ctx *c, const char *v)
{
	const char	*p, *end;
	size_t		 len;

	if (v == NULL)
		return NULL;
	end = v + strlen(v);
	for (p = v; p < end; p++) {
		if (*p != '@')
			continue;
		while (p > v && is_local_char((unsigned char)p[-1]))
			p--;
		if (addr_at(p, end, &len))
			return dsn_dup(c, p, len, ADDR_MAX);
		p = strchr(p, '@');
		if (p == NULL)
			break;
	}
	return NULL;
}

/*
 * dsn_text_arf - recipients of an ARF report without Original-Rcpt-To
 *
 * Notes: takes the To of the returned message (RFC 5965 section 2).
 */
void
dsn_text_arf(struct dsn_ctx *c)
{
	char		*a = NULL;
	size_t		 i;

	if (c->r->nrcpts > 0)
		return;
	for (i = 0; i < c->doc.nparts && a == NULL; i++) {
		a = header_addr(c, mime_part_header(&c->doc, i,
		    "X-HmXmrOriginalRecipient"));
		if (a == NULL)
			a = header_addr(c, mime_part_header(&c->doc, i, "To"));
	}
	if (a == NULL)
		a = header_addr(c, mime_header(&c->doc, "To"));
	if (a != NULL)
		(void)add_failed(c, a);
}

/*
 * dsn_autoreply - recognise an RFC 3834 auto-reply (vacation notice)
 *
 * Returns: true with one recipient (the auto-replying address: the
 * reply's From) when Auto-Submitted: auto-replied, X-Autoreply,
 * X-Autorespond or a vacation Subject is present.
 */
bool
dsn_autoreply(struct dsn_ctx *c)
{
	static const char *const subj[] = { "auto:", "automatic reply",
	    "autoreply", "auto-reply", "auto reply", "out of office",
	    "out of the office", "vacation", "abwesenheit", "absence",
	    "autosvar", "respuesta autom", "réponse automatique", NULL };
	const char	*v, *s = c->r->subject;
	struct dsn_rcpt	*rc;
	bool		 yes = false;
	char		*a;
	size_t		 i;

	if ((v = mime_header(&c->doc, "Auto-Submitted")) != NULL &&
	    strncasecmp(v, "auto-replied", 12) == 0)
		yes = true;
	if (mime_header(&c->doc, "X-Autoreply") != NULL ||
	    mime_header(&c->doc, "X-Autorespond") != NULL)
		yes = true;
	if ((v = mime_header(&c->doc, "Precedence")) != NULL &&
	    strncasecmp(v, "auto_reply", 10) == 0)
		yes = true;
	for (i = 0; s != NULL && subj[i] != NULL && !yes; i++)
		if (strci_has(s, strlen(s), subj[i]))
			yes = true;
	if (!yes)
		return false;
	if ((a = header_addr(c, c->r->from)) == NULL)
		return false;
	if ((rc = dsn_add_rcpt(c)) == NULL) {
		free(a);
		return false;
	}
	rc->final_recipient = a;
	rc->action = EV_ACT_UNKNOWN;
	dsn_text_set_mta(c, NULL);
	return true;
}
