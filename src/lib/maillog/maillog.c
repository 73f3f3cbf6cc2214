/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * maillog.c - parse one line of the MTA's mail log into a maillog_rec.
 *
 * Postfix writes no DSN for a deferral (unless delay_warning_time is set)
 * and none for a delivery: those exist only as log lines.  This module
 * reads the lines that matter to bounced:
 *
 *   Postfix  QID: to=<r>, [orig_to=<o>,] relay=..., ..., dsn=x.y.z,
 *                 status=sent|deferred|bounced|expired|undeliverable (text)
 *            QID: message-id=<m>          (cleanup)
 *            QID: from=<s>, size=n, ...   (qmgr)
 *            QID: from=<s>, status=expired, returned to sender   (qmgr)
 *            QID: removed                 (qmgr)
 *   Sendmail QID: to=<r>[,<r2>...], ..., dsn=x.y.z, stat=Sent (...)|
 *                 Deferred: ...|<error text>
 *            QID: from=<s>, size=n, ..., msgid=<m>, ...
 *
 * behind a classic syslog stamp ("Nov 23 18:10:58 host prog[pid]: ",
 * which is also what Postfix 3.7's own maillog_file writes: measured on a
 * private instance; journalctl -o short-precise adds ".uuuuuu") or an
 * RFC 3339 stamp ("2026-11-23T18:10:58.123456+00:00 host prog[pid]: ",
 * journalctl -o short-iso(-precise), rsyslog's RSYSLOG_FileFormat).
 *
 * Pure: no I/O, no logging, no clock (the caller passes now and the
 * local zone offset, which only classic stamps need), no allocation.
 * Every input is bounded: at most MAILLOG_LINE_MAX bytes of a line are
 * looked at, each loop moves forward, and every copy is size-checked.
 * The reply codes follow RFC 5321 section 4.2, the enhanced status codes
 * RFC 3463 section 2.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "maillog/maillog.h"

struct span {
	const char	*p;
	size_t		 n;
};

static bool
span_eq(struct span s, const char *lit)
{
	size_t	 n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool
span_caseeq(struct span s, const char *lit)
{
	size_t	 n = strlen(lit);

	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static bool
span_prefix(struct span s, const char *lit)
{
	size_t	 n = strlen(lit);

	return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct span
span_trim(struct span s)
{
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' ||
	    s.p[s.n - 1] == '\r'))
		s.n--;
	return s;
}

/* Find lit in s; returns its offset or (size_t)-1. */
static size_t
span_find(struct span s, const char *lit)
{
	size_t	 n = strlen(lit), i;

	if (n == 0 || s.n < n)
		return (size_t)-1;
	for (i = 0; i + n <= s.n; i++) {
		const char *q = memchr(s.p + i, lit[0], s.n - n + 1 - i);
		if (q == NULL)
			return (size_t)-1;
		i = (size_t)(q - s.p);
		if (memcmp(q, lit, n) == 0)
			return i;
	}
	return (size_t)-1;
}

/* Same, the last occurrence. */
static size_t
span_rfind(struct span s, const char *lit)
{
	size_t	 n = strlen(lit), i;

	if (n == 0 || s.n < n)
		return (size_t)-1;
	for (i = s.n - n + 1; i-- > 0;)
		if (s.p[i] == lit[0] && memcmp(s.p + i, lit, n) == 0)
			return i;
	return (size_t)-1;
}

/*
 * Copy a span into a fixed field: cut at the field's size, control bytes
 * (NUL included) become '?' so that a field is always one printable C
 * string.  Bytes >= 0x80 are kept: SMTPUTF8 addresses and replies.
 */
static void
copy_span(char *dst, size_t dstsz, struct span s, unsigned *defects)
{
	size_t	 i, n;

	n = s.n;
	if (n >= dstsz) {
		n = dstsz - 1;
		*defects |= ML_DEF_TRUNCATED;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == 0x7f) {
			dst[i] = '?';
			*defects |= ML_DEF_CTRL;
		} else
			dst[i] = (char)c;
	}
	dst[n] = '\0';
}

static void
lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- fields ---------------------------------------------------------- */

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_' || c == '-';
}

/*
 * The end of the value that starts at s.p: the first ", " followed by
 * "key=".  A ", " inside a quoted local part or a diagnostic is not
 * followed by a key and does not end the value.
 */
static size_t
value_end(struct span s)
{
	size_t	 i, k;

	for (i = 0; i + 1 < s.n; i++) {
		const char *q = memchr(s.p + i, ',', s.n - i - 1);
		if (q == NULL)
			break;
		i = (size_t)(q - s.p);
		if (s.p[i + 1] != ' ')
			continue;
		for (k = i + 2; k < s.n && is_key_char(s.p[k]); k++)
			;
		if (k > i + 2 && k < s.n && s.p[k] == '=')
			return i;
	}
	return s.n;
}

/*
 * Split "key=value" off the front of *rest.  Returns false when *rest
 * does not start with a key.  The last keys (status, stat) take the rest
 * of the line: their text may hold anything.
 */
static bool
next_field(struct span *rest, struct span *key, struct span *val)
{
	size_t	 k, e;

	for (k = 0; k < rest->n && is_key_char(rest->p[k]); k++)
		;
	if (k == 0 || k >= rest->n || rest->p[k] != '=')
		return false;
	key->p = rest->p;
	key->n = k;
	val->p = rest->p + k + 1;
	val->n = rest->n - k - 1;
	if (span_eq(*key, "status") || span_eq(*key, "stat"))
		e = val->n;
	else
		e = value_end(*val);
	rest->p = val->p + e;
	rest->n = val->n - e;
	val->n = e;
	if (rest->n >= 2) {		/* skip ", " */
		rest->p += 2;
		rest->n -= 2;
	}
	return true;
}

/* The address inside <...>, or the value itself when bare. */
static struct span
unbracket(struct span v)
{
	v = span_trim(v);
	if (v.n >= 2 && v.p[0] == '<' && v.p[v.n - 1] == '>') {
		v.p++;
		v.n -= 2;
	}
	return v;
}

/*
 * Store an address (normalised: domain lower-cased) or, if it does not
 * normalise (a quoted local part with a space, no domain), a sanitised
 * copy with ML_DEF_RCPT_RAW.
 */
static void
put_addr(char *dst, size_t dstsz, struct span a, unsigned *defects)
{
	char	 tmp[MAILLOG_ADDR_MAX], *at;
	unsigned junk = 0;

	copy_span(tmp, sizeof(tmp), a, &junk);
	/* as logged, domain lower-cased; the store makes the key */
	if (junk == 0 && addr_display(tmp, dst, dstsz)) {
		if ((at = strrchr(dst, '@')) != NULL)
			lower_ascii(at + 1);
		return;
	}
	*defects |= ML_DEF_RCPT_RAW | junk;
	copy_span(dst, dstsz, a, defects);
}

static void
add_rcpt(struct maillog_rec *r, struct span a, size_t *used)
{
	size_t	 room;

	a = unbracket(a);
	if (a.n == 0)
		return;
	if (r->nrcpt >= MAILLOG_RCPT_NMAX || *used >= sizeof(r->rcpts) - 1) {
		r->defects |= ML_DEF_TOO_MANY_RCPTS;
		return;
	}
	room = sizeof(r->rcpts) - *used;
	if (room > MAILLOG_ADDR_MAX)
		room = MAILLOG_ADDR_MAX;
	r->rcpt_off[r->nrcpt++] = (uint16_t)*used;
	put_addr(r->rcpts + *used, room, a, &r->defects);
	*used += strlen(r->rcpts + *used) + 1;
}

/* Sendmail's to= is a list: "<a>,<b>" or "a,b"; commas in <> or "" stay. */
static void
split_rcpts(struct maillog_rec *r, struct span v)
{
	size_t	 i, start = 0, used = 0;
	int	 angle = 0;
	bool	 quote = false;

	for (i = 0; i <= v.n; i++) {
		if (i == v.n || (v.p[i] == ',' && angle == 0 && !quote)) {
			struct span a = { v.p + start, i - start };
			add_rcpt(r, a, &used);
			start = i + 1;
			continue;
		}
		if (v.p[i] == '"')
			quote = !quote;
		else if (!quote && v.p[i] == '<')
			angle++;
		else if (!quote && v.p[i] == '>' && angle > 0)
			angle--;
	}
}

/* "mx.b[1.2.3.4]:25" -> "mx.b"; Sendmail "mx.b. [1.2.3.4]" -> "mx.b". */
static void
put_relay(struct maillog_rec *r, struct span v)
{
	struct span	 h = v;
	const char	*b;

	struct span	 a;
	const char	*e;
	size_t		 i;
	unsigned	 port = 0;

	copy_span(r->relay, sizeof(r->relay), v, &r->defects);
	r->relay_host[0] = r->relay_addr[0] = '\0';
	r->relay_port = 0;
	if ((b = memchr(v.p, '[', v.n)) == NULL)
		return;		/* none, local, a transport name */
	h.n = (size_t)(b - v.p);
	h = span_trim(h);
	while (h.n > 0 && h.p[h.n - 1] == '.')
		h.n--;
	copy_span(r->relay_host, sizeof(r->relay_host), h, &r->defects);
	lower_ascii(r->relay_host);
	if ((e = memchr(b, ']', v.n - (size_t)(b - v.p))) == NULL)
		return;
	a.p = b + 1;
	a.n = (size_t)(e - b - 1);
	if (a.n < sizeof(r->relay_addr))
		copy_span(r->relay_addr, sizeof(r->relay_addr), a, &r->defects);
	/* ":25" */
	if ((size_t)(e - v.p) + 1 < v.n && e[1] == ':')
		for (i = (size_t)(e - v.p) + 2; i < v.n &&
		    isdigit((unsigned char)v.p[i]) && port < 65536; i++)
			port = port * 10 + (unsigned)(v.p[i] - '0');
	r->relay_port = port < 65536 ? port : 0;
}

/* "queued as QID" in a reply (the last one: a filter quotes the next). */
static void
put_queued_as(struct maillog_rec *r, struct span d)
{
	struct span	 q;
	size_t		 at, n;

	r->queued_as[0] = '\0';
	if ((at = span_rfind(d, "queued as ")) == (size_t)-1)
		return;
	q.p = d.p + at + 10;
	q.n = d.n - at - 10;
	for (n = 0; n < q.n && isalnum((unsigned char)q.p[n]); n++)
		;
	q.n = n;
	if (n >= 5 && n < sizeof(r->queued_as))
		copy_span(r->queued_as, sizeof(r->queued_as), q, &r->defects);
}

static bool
is_dsn_code(struct span s)
{
	size_t	 i, dots = 0, run = 0;

	if (s.n < 5 || s.n >= MAILLOG_WORD_MAX ||
	    (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5') || s.p[1] != '.')
		return false;
	for (i = 1; i < s.n; i++) {
		if (s.p[i] == '.') {
			if (run == 0 && i > 1)
				return false;
			dots++;
			run = 0;
		} else if (isdigit((unsigned char)s.p[i])) {
			if (++run > 3)
				return false;
		} else
			return false;
	}
	return dots == 2 && run > 0;
}

/*
 * The diagnostic: "host X said: " or "host X refused to talk to me: "
 * and " (in reply to ... command)" removed; then the reply code (RFC 5321
 * section 4.2: three digits, then a space or '-') and the enhanced code
 * after it (RFC 3463 section 2) are read but left in the text, as in a
 * DSN's Diagnostic-Code.
 */
static void
put_diagnostic(struct maillog_rec *r, struct span raw)
{
	struct span	 d = span_trim(raw), c;
	size_t		 at, e;
	unsigned	 code;

	copy_span(r->raw, sizeof(r->raw), d, &r->defects);
	if (span_prefix(d, "host ")) {
		c.p = d.p + 5;
		c.n = d.n - 5;
		if ((e = span_find(c, " said: ")) != (size_t)-1 &&
		    memchr(c.p, ' ', e) == NULL) {
			d.p = c.p + e + 7;
			d.n = c.n - e - 7;
		} else if ((e = span_find(c, " refused to talk to me: ")) !=
		    (size_t)-1 && memchr(c.p, ' ', e) == NULL) {
			d.p = c.p + e + 24;
			d.n = c.n - e - 24;
		}
	}
	if ((at = span_rfind(d, " (in reply to ")) != (size_t)-1 &&
	    d.n >= 9 && memcmp(d.p + d.n - 9, " command)", 9) == 0)
		d.n = at;
	d = span_trim(d);
	copy_span(r->diagnostic, sizeof(r->diagnostic), d, &r->defects);

	r->reply_code = 0;
	r->diag_status[0] = '\0';
	if (d.n >= 3 && bd_digits(d.p, 3, &code) && code >= 200 && code < 600 &&
	    (d.n == 3 || d.p[3] == ' ' || d.p[3] == '-')) {
		r->reply_code = (int)code;
		c.p = d.p + 4;
		c.n = d.n > 4 ? d.n - 4 : 0;
		for (e = 0; e < c.n && c.p[e] != ' '; e++)
			;
		c.n = e;
		if (is_dsn_code(c))
			copy_span(r->diag_status, sizeof(r->diag_status), c,
			    &r->defects);
	}
}

/* Postfix status word -> action.  False if the word is not one. */
static bool
postfix_status(struct maillog_rec *r, struct span w)
{
	static const struct {
		const char	*word;
		enum ev_action	 action;
		bool		 probe;
	} tab[] = {
		{ "sent",		EV_ACT_DELIVERED,	false },
		{ "deferred",		EV_ACT_DELAYED,	false },
		{ "bounced",		EV_ACT_FAILED,	false },
		{ "expired",		EV_ACT_FAILED,	false },
		{ "undeliverable",	EV_ACT_FAILED,	true },
		{ "deliverable",	EV_ACT_DELIVERED,	true },
		/* soft_bounce = yes turns a bounce into this deferral */
		{ "softbounce",		EV_ACT_DELAYED,	false },
	};
	size_t	 i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (span_caseeq(w, tab[i].word)) {
			r->action = tab[i].action;
			r->probe = tab[i].probe;
			copy_span(r->status_word, sizeof(r->status_word), w,
			    &r->defects);
			lower_ascii(r->status_word);
			return true;
		}
	}
	return false;
}

static void
set_word(struct maillog_rec *r, const char *w, enum ev_action a)
{
	struct span s = { w, strlen(w) };

	copy_span(r->status_word, sizeof(r->status_word), s, &r->defects);
	r->action = a;
}

/*
 * Sendmail stat= (deliver.c, logdelivery()): "Sent (reply)", "Deferred",
 * "Deferred: text", "queued", or the error text of a failure.  Returns
 * false for "queued", which reports no attempt.
 */
static bool
sendmail_stat(struct maillog_rec *r, struct span v)
{
	struct span	 d;
	size_t		 close;

	v = span_trim(v);
	if (span_caseeq(v, "queued"))
		return false;
	copy_span(r->raw, sizeof(r->raw), v, &r->defects);
	if (v.n >= 4 && strncasecmp(v.p, "Sent", 4) == 0 &&
	    (v.n == 4 || v.p[4] == ' ' || v.p[4] == ':')) {
		set_word(r, "sent", EV_ACT_DELIVERED);
		d.p = v.p + 4;
		d.n = v.n - 4;
		d = span_trim(d);
		if (d.n >= 2 && d.p[0] == '(' &&
		    (close = span_rfind(d, ")")) != (size_t)-1) {
			d.p++;
			d.n = close - 1;
		}
	} else if (v.n >= 8 && strncasecmp(v.p, "Deferred", 8) == 0) {
		set_word(r, "deferred", EV_ACT_DELAYED);
		d.p = v.p + 8;
		d.n = v.n - 8;
		if (d.n > 0 && d.p[0] == ':') {
			d.p++;
			d.n--;
		}
	} else {
		if (r->dsn[0] == '4')
			set_word(r, "deferred", EV_ACT_DELAYED);
		else if (r->dsn[0] == '2')
			set_word(r, "sent", EV_ACT_DELIVERED);
		else
			set_word(r, "bounced", EV_ACT_FAILED);
		d = v;
	}
	put_diagnostic(r, d);
	/* put_diagnostic keeps d as raw; keep the whole stat= instead */
	copy_span(r->raw, sizeof(r->raw), v, &r->defects);
	return true;
}

/* QID: to=<r>, ... status=word (text)   and Sendmail's stat= form */
static enum maillog_result
parse_delivery(struct maillog_rec *r, struct span rest)
{
	struct span	 key, val, to = { NULL, 0 }, status = { NULL, 0 };
	bool		 sendmail = false;

	while (rest.n > 0) {
		if (!next_field(&rest, &key, &val))
			break;
		if (span_eq(key, "to"))
			to = val;
		else if (span_eq(key, "orig_to")) {
			val = unbracket(val);
			if (val.n > 0)
				put_addr(r->orig_recipient,
				    sizeof(r->orig_recipient), val,
				    &r->defects);
		} else if (span_eq(key, "relay"))
			put_relay(r, span_trim(val));
		else if (span_eq(key, "dsn")) {
			val = span_trim(val);
			if (is_dsn_code(val))
				copy_span(r->dsn, sizeof(r->dsn), val,
				    &r->defects);
		} else if (span_eq(key, "status"))
			status = val;
		else if (span_eq(key, "stat")) {
			status = val;
			sendmail = true;
		}
		/* delay, delays, conn_use, ctladdr, mailer, pri, ...: unused */
	}
	if (to.p == NULL || status.p == NULL)
		return MAILLOG_EMALFORMED;

	if (sendmail) {
		r->mta = ML_MTA_SENDMAIL;
		split_rcpts(r, to);
		if (r->nrcpt == 0)
			return MAILLOG_EMALFORMED;
		if (!sendmail_stat(r, status))
			return MAILLOG_IGNORED;
	} else {
		struct span	 w = status, d;
		size_t		 i, close;

		r->mta = ML_MTA_POSTFIX;
		add_rcpt(r, to, &(size_t){ 0 });
		if (r->nrcpt == 0)
			return MAILLOG_EMALFORMED;
		for (i = 0; i < w.n && w.p[i] != ' '; i++)
			;
		w.n = i;
		if (!postfix_status(r, w))
			return MAILLOG_EMALFORMED;
		d.p = status.p + i;
		d.n = status.n - i;
		d = span_trim(d);
		if (d.n > 0 && d.p[0] == '(') {
			d.p++;
			d.n--;
			/* the text runs to the last ')': it may hold more */
			if ((close = span_rfind(d, ")")) != (size_t)-1)
				d.n = close;
			else
				r->defects |= ML_DEF_TRUNCATED;
		}
		put_diagnostic(r, d);
		if (r->action == EV_ACT_DELIVERED)
			put_queued_as(r, d);
	}
	r->kind = ML_DELIVERY;
	return MAILLOG_RECORD;
}

/* QID: from=<s>, size=n, ...  |  from=<s>, status=expired, returned ... */
static enum maillog_result
parse_from(struct maillog_rec *r, struct span rest)
{
	struct span	 key, val, from = { NULL, 0 };
	bool		 expired = false;
	unsigned	 junk = 0;

	while (rest.n > 0 && next_field(&rest, &key, &val)) {
		if (span_eq(key, "from"))
			from = val;
		else if (span_eq(key, "size")) {
			long long	 v = 0;
			size_t		 i;

			val = span_trim(val);
			for (i = 0; i < val.n && i < 18 &&
			    isdigit((unsigned char)val.p[i]); i++)
				v = v * 10 + (val.p[i] - '0');
			if (i > 0)
				r->size = v;
		} else if (span_eq(key, "msgid")) {
			val = span_trim(val);
			copy_span(r->message_id, sizeof(r->message_id), val,
			    &r->defects);
		} else if (span_eq(key, "status")) {
			struct span w = span_trim(val);
			size_t	 i;

			for (i = 0; i < w.n && w.p[i] != ',' &&
			    w.p[i] != ' '; i++)
				;
			w.n = i;
			if (span_caseeq(w, "expired"))
				expired = true;
		}
	}
	if (from.p == NULL)
		return MAILLOG_EMALFORMED;
	from = unbracket(from);
	if (from.n > 0) {
		put_addr(r->sender, sizeof(r->sender), from, &junk);
		r->defects |= junk & ~ML_DEF_RCPT_RAW;
	}
	if (expired) {
		r->kind = ML_EXPIRED;
		set_word(r, "expired", EV_ACT_FAILED);
	} else
		r->kind = ML_FROM;
	return MAILLOG_RECORD;
}

/* A queue id: Postfix short (hex) or long (base 52 + 'z' + inode), or
 * Sendmail's (8.12+: 14 alphanumerics). */
static bool
is_queue_id(struct span q)
{
	size_t	 i;

	if (q.n < 5 || q.n >= MAILLOG_QID_MAX || span_eq(q, "NOQUEUE"))
		return false;
	for (i = 0; i < q.n; i++)
		if (!isalnum((unsigned char)q.p[i]))
			return false;
	return true;
}

static void
rec_reset(struct maillog_rec *r)
{
	r->kind = ML_NONE;
	r->mta = ML_MTA_UNKNOWN;
	r->when = 0;
	r->defects = 0;
	r->host[0] = r->program[0] = r->queue_id[0] = '\0';
	r->nrcpt = 0;
	r->rcpts[0] = r->orig_recipient[0] = '\0';
	r->relay[0] = r->relay_host[0] = r->relay_addr[0] = '\0';
	r->relay_port = 0;
	r->queued_as[0] = '\0';
	r->status_word[0] = r->dsn[0] = r->diag_status[0] = '\0';
	r->action = EV_ACT_UNKNOWN;
	r->probe = false;
	r->reply_code = 0;
	r->diagnostic[0] = r->raw[0] = '\0';
	r->message_id[0] = r->sender[0] = '\0';
	r->size = -1;
}

/*
 * maillog_parse - parse one line of the mail log
 *
 * Arguments: line/len, one line without its newline (NUL bytes allowed,
 * no terminator needed); now, the caller's clock in unix seconds, and
 * gmtoff, the local zone's offset east of UTC in seconds (both only for
 * classic syslog stamps, which carry no year and no zone); out, the
 * record to fill (it is reset first; it may be reused line after line).
 * Returns MAILLOG_RECORD with out->kind set; MAILLOG_IGNORED for any line
 * bounced has no use for (other programs, connect lines, warnings, an
 * unknown stamp); MAILLOG_EMALFORMED for a line that has the shape of a
 * delivery, from= or message-id= line but cannot be read (the caller
 * counts these).
 * Notes: pure and thread-safe; at most MAILLOG_LINE_MAX bytes are looked
 * at (a longer line gets ML_DEF_TRUNCATED and its diagnostic is cut).
 * The program name is not trusted to decide anything: Postfix's
 * syslog_name may be "postfix-out" or "postfix/submission".
 */
enum maillog_result
maillog_parse(const char *line, size_t len, int64_t now, long gmtoff,
    struct maillog_rec *out)
{
	struct span	 s, tok, q, body;
	size_t		 n, i;

	rec_reset(out);
	if (line == NULL)
		return MAILLOG_IGNORED;
	if (len > MAILLOG_LINE_MAX) {
		len = MAILLOG_LINE_MAX;
		out->defects |= ML_DEF_TRUNCATED;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if ((n = maillog_parse_stamp(line, len, now, gmtoff, &out->when,
	    &out->defects)) == 0 || n >= len || line[n] != ' ')
		return MAILLOG_IGNORED;
	s.p = line + n + 1;
	s.n = len - n - 1;

	/* host */
	for (i = 0; i < s.n && s.p[i] != ' '; i++)
		;
	if (i == 0 || i >= s.n)
		return MAILLOG_IGNORED;
	tok.p = s.p;
	tok.n = i;
	copy_span(out->host, sizeof(out->host), tok, &out->defects);
	s.p += i + 1;
	s.n -= i + 1;

	/* program[pid]: or program: */
	for (i = 0; i < s.n && s.p[i] != '[' && s.p[i] != ':' &&
	    s.p[i] != ' '; i++)
		;
	if (i == 0 || i >= s.n || s.p[i] == ' ')
		return MAILLOG_IGNORED;
	tok.p = s.p;
	tok.n = i;
	copy_span(out->program, sizeof(out->program), tok, &out->defects);
	if (s.p[i] == '[') {
		for (i++; i < s.n && isdigit((unsigned char)s.p[i]); i++)
			;
		if (i >= s.n || s.p[i] != ']')
			return MAILLOG_IGNORED;
		i++;
	}
	if (i + 1 >= s.n || s.p[i] != ':' || s.p[i + 1] != ' ')
		return MAILLOG_IGNORED;
	s.p += i + 2;
	s.n -= i + 2;

	/* QUEUEID: */
	for (i = 0; i < s.n && s.p[i] != ':' && s.p[i] != ' '; i++)
		;
	if (i + 1 >= s.n || s.p[i] != ':' || s.p[i + 1] != ' ')
		return MAILLOG_IGNORED;
	q.p = s.p;
	q.n = i;
	if (!is_queue_id(q))
		return MAILLOG_IGNORED;
	copy_span(out->queue_id, sizeof(out->queue_id), q, &out->defects);
	body.p = s.p + i + 2;
	body.n = s.n - i - 2;

	if (span_prefix(body, "to="))
		return parse_delivery(out, body);
	if (span_prefix(body, "from=")) {
		/* sendmail's from= line has msgid=; mark the MTA from it */
		if (span_find(body, ", msgid=") != (size_t)-1 ||
		    span_find(body, ", class=") != (size_t)-1)
			out->mta = ML_MTA_SENDMAIL;
		else
			out->mta = ML_MTA_POSTFIX;
		return parse_from(out, body);
	}
	if (span_prefix(body, "message-id=")) {
		body.p += 11;
		body.n -= 11;
		body = span_trim(body);
		if (body.n == 0)
			return MAILLOG_IGNORED;	/* a message without */
		out->mta = ML_MTA_POSTFIX;
		copy_span(out->message_id, sizeof(out->message_id), body,
		    &out->defects);
		out->kind = ML_MESSAGE_ID;
		return MAILLOG_RECORD;
	}
	if (span_eq(span_trim(body), "removed")) {
		out->mta = ML_MTA_POSTFIX;
		out->kind = ML_REMOVED;
		return MAILLOG_RECORD;
	}
	return MAILLOG_IGNORED;
}

/*
 * maillog_recipient - the i-th recipient of a delivery record
 *
 * Arguments: r, a record; i, from 0.
 * Returns a NUL-terminated address inside r, or NULL when i >= r->nrcpt.
 */
const char *
maillog_recipient(const struct maillog_rec *r, size_t i)
{
	if (r == NULL || i >= r->nrcpt || i >= MAILLOG_RCPT_NMAX)
		return NULL;
	return r->rcpts + r->rcpt_off[i];
}

static const char *
nonempty(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/*
 * maillog_event - the event for one recipient of a record
 *
 * Arguments: r, a record (normally ML_DELIVERY; for ML_EXPIRED the
 * recipient is NULL and the caller supplies it from its own memory of
 * the queue id's deferrals); i, the recipient index; ev, filled.
 * Notes: ev's strings point into r and live as long as it does.  The
 * verdict is left empty (the caller runs classify()); message_id and
 * sender are set only when the line itself carried them: the caller
 * attaches them from the cleanup and qmgr lines of the same queue id.
 * Log lines come from the local MTA about mail it sent: trusted.
 */
void
maillog_event(const struct maillog_rec *r, size_t i, struct bd_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->when = r->when;
	ev->recipient = maillog_recipient(r, i);
	ev->original_recipient = nonempty(r->orig_recipient);
	ev->action = r->action;
	ev->status = r->dsn[0] != '\0' ? r->dsn : nonempty(r->diag_status);
	ev->reply_code = r->reply_code;
	ev->diagnostic = r->diagnostic[0] != '\0' ? r->diagnostic :
	    nonempty(r->raw);
	ev->remote_mta = nonempty(r->relay_host);
	ev->reporting_mta = nonempty(r->host);
	ev->queue_id = nonempty(r->queue_id);
	ev->message_id = nonempty(r->message_id);
	if (r->kind == ML_FROM || r->kind == ML_EXPIRED)
		ev->sender = r->sender;
	ev->source = EV_SRC_LOG;
	ev->trusted = true;
}

/*
 * maillog_kind_name - the name of a record kind, for logs and JSON
 *
 * Arguments: k.  Returns a static string.
 */
const char *
maillog_kind_name(enum maillog_kind k)
{
	switch (k) {
	case ML_NONE:		return "none";
	case ML_DELIVERY:	return "delivery";
	case ML_MESSAGE_ID:	return "message-id";
	case ML_FROM:		return "from";
	case ML_REMOVED:	return "removed";
	case ML_EXPIRED:	return "expired";
	}
	return "none";
}
