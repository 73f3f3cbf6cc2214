/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * mime_fast.c - the MIME structure of a well-formed message without
 * GMime's object tree.
 *
 * GMime's parser builds a GObject per part, header and content stream,
 * and tears them down again: that was most of the CPU time of parsing a
 * bounce (about 250,000 instructions a message, against a few thousand
 * for the rest).  A bounce is nearly always plain multipart/report, so
 * this file reads the structure itself, following GMime 3's parser rule
 * for rule (gmime-parser.c: check_boundary, parser_scan_content,
 * parser_scan_multipart_subparts, parser_construct_multipart): boundary
 * lines (RFC 2046 section 5.1.1) of every enclosing multipart end a
 * part, the line break before a boundary belongs to it, a part's header
 * block (RFC 2045 section 3) ends at the first empty line.
 *
 * It only takes what it is sure to read as GMime does; anything else
 * (a header line that is not a plain field, a header block or part that
 * meets the end of the input, a multipart without parts or boundary,
 * duplicate Content-Type or Content-Transfer-Encoding fields, encoded
 * words or 8-bit bytes in them, a line too long for GMime's 4 KiB scan
 * buffer, more parts or nesting than the walk keeps) makes it give up,
 * and mime.c hands the message to GMime as before.  Field values are
 * interpreted by GMime's own functions (g_mime_content_encoding_from_string,
 * and g_mime_content_type_parse unless the value is in the plainest form,
 * mime_simple_ctype), on the value GMime would give them.  tests/check_mime.c compares both paths on every test message.
 *
 * It must not: log, allocate for the structure (the tree is on the
 * caller's stack; only GMime's content-type objects are allocated), or
 * trust any byte of input.  Thread-safe after mime_init.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "parse/mime.h"
#include "parse/mime_int.h"

/* GMime scans content in a 4 KiB buffer: a longer line is cut into
 * pieces, and a piece may then be taken for a boundary line. */
#define FAST_MAX_LINE	4000
#define FAST_MAX_BOUND	256	/* bytes of a boundary parameter */

enum bnd {
	BND_NONE = 0,
	BND_EOS,
	BND_IMMEDIATE,
	BND_IMMEDIATE_END,
	BND_PARENT,
	BND_PARENT_END,
};

struct fscan {
	const char	*b;
	size_t		 n;
	size_t		 pos;
	enum bnd	 bnd;
	/* the boundaries of the enclosing multiparts, innermost last:
	 * "--" boundary "--" */
	char		 stack[MIME_MAX_DEPTH + 1][FAST_MAX_BOUND + 5];
	size_t		 blen[MIME_MAX_DEPTH + 1];
	size_t		 nb;
	struct mime_ftree *t;
	bool		 bad;		/* give up: GMime reads it */
};

/* The fields of a header block that decide the structure. */
struct fhead {
	struct mime_field *ctype;	/* Content-Type, or NULL */
	struct mime_field *cte;		/* Content-Transfer-Encoding */
	struct mime_field f[2];
};

static bool
is_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* GMime's is_boundary(): the boundary, then only white space. */
static bool
is_boundary(const char *s, size_t len, const char *bnd, size_t blen)
{
	size_t	 i;

	if (blen > len || memcmp(s, bnd, blen) != 0)
		return false;
	for (i = blen; i < len; i++)
		if (!is_lwsp(s[i]))
			return false;
	return true;
}

/* GMime's check_boundary(): which boundary, if any, line s[0..len) is. */
static enum bnd
check_boundary(const struct fscan *fs, const char *s, size_t len)
{
	size_t	 i;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len < 2 || s[0] != '-' || s[1] != '-')
		return BND_NONE;
	for (i = fs->nb; i-- > 0;) {
		if (is_boundary(s, len, fs->stack[i], fs->blen[i] + 2))
			return i + 1 == fs->nb ? BND_IMMEDIATE_END :
			    BND_PARENT_END;
		if (is_boundary(s, len, fs->stack[i], fs->blen[i]))
			return i + 1 == fs->nb ? BND_IMMEDIATE : BND_PARENT;
	}
	return BND_NONE;
}

/* Is the line at fs->pos the innermost boundary (end: its end form)? */
static bool
immediate_boundary(const struct fscan *fs, bool end)
{
	const char	*s = fs->b + fs->pos, *e;
	size_t		 i;

	if (fs->nb == 0)
		return false;
	i = fs->nb - 1;
	e = memchr(s, '\n', fs->n - fs->pos);
	return is_boundary(s, e != NULL ? (size_t)(e - s) : fs->n - fs->pos,
	    fs->stack[i], fs->blen[i] + (end ? 2 : 0));
}

/*
 * GMime's parser_scan_content(): the content from fs->pos up to the next
 * boundary line of any enclosing multipart (fs->bnd says which), less
 * the line break before it; fs->pos is left at the boundary line.
 */
static void
scan_content(struct fscan *fs, const char **raw, size_t *rawlen)
{
	const char	*s, *e;
	size_t		 start = fs->pos, ls = fs->pos, w;

	*raw = fs->b + start;
	*rawlen = 0;
	for (;;) {
		if (ls >= fs->n)
			break;
		s = fs->b + ls;
		e = memchr(s, '\n', fs->n - ls);
		if (e == NULL)
			e = fs->b + fs->n;
		if ((size_t)(e - s) >= FAST_MAX_LINE) {
			fs->bad = true;
			return;
		}
		if ((fs->bnd = check_boundary(fs, s, (size_t)(e - s))) !=
		    BND_NONE) {
			/* "the last \r\n belongs to the boundary": as much
			 * as the boundary line's own line end */
			w = ls - start;
			if (w > 0) {
				size_t crlf = e[-1] == '\r' ? 2 : 1;

				if (w < crlf) {
					fs->bad = true;
					return;
				}
				w -= crlf;
			}
			*rawlen = w;
			fs->pos = ls;
			return;
		}
		if (e == fs->b + fs->n)
			break;
		ls = (size_t)(e - fs->b) + 1;
	}
	fs->bnd = BND_EOS;
	*rawlen = fs->n - start;
	fs->pos = fs->n;
}

/* GMime's parser_skip_line(); false at the end of the input. */
static bool
skip_line(struct fscan *fs)
{
	const char	*e = memchr(fs->b + fs->pos, '\n', fs->n - fs->pos);

	if (e == NULL) {
		fs->pos = fs->n;
		return false;
	}
	fs->pos = (size_t)(e - fs->b) + 1;
	return true;
}

/*
 * A field name as GMime takes it: visible ASCII up to the colon, white
 * space only right before it.  Anything else gives up.
 */
static bool
plain_field_line(const char *s, const char *eol)
{
	const char	*p = s;

	while (p < eol && *p > ' ' && *p < 0x7f && *p != ':')
		p++;
	if (p == s)
		return false;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	return p < eol && *p == ':';
}

static bool
name_is(const struct mime_field *f, const char *name)
{
	return f->nlen == strlen(name) &&
	    g_ascii_strncasecmp(f->name, name, f->nlen) == 0;
}

/*
 * A part's header block at fs->pos, up to and past its empty line: the
 * structural fields in h.  Gives up on a line that is not a plain field
 * or its continuation, a line that may be a boundary, the end of input.
 */
static void
read_head(struct fscan *fs, struct fhead *h)
{
	const char		*s, *e, *c, *end = fs->b + fs->n;
	struct mime_field	*cur = NULL, f;
	bool			 ct, first = true;

	h->ctype = h->cte = NULL;
	for (;;) {
		s = fs->b + fs->pos;
		if (s >= end || (e = memchr(s, '\n', end - s)) == NULL) {
			fs->bad = true;
			return;
		}
		fs->pos = (size_t)(e - fs->b) + 1;
		if (e == s || (e == s + 1 && *s == '\r'))
			return;
		if ((e - s >= 2 && s[0] == '-' && s[1] == '-') ||
		    (size_t)(e - s) >= FAST_MAX_LINE ||
		    ((*s == ' ' || *s == '\t') ? first :
		    !plain_field_line(s, e))) {
			fs->bad = true;
			return;
		}
		first = false;
		if (*s == ' ' || *s == '\t') {
			/* a continuation: of a field kept, or of another */
			if (cur != NULL)
				cur->end = e + 1;
			continue;
		}
		c = memchr(s, ':', (size_t)(e - s));
		f.name = s;
		for (f.nlen = (size_t)(c - s); s[f.nlen - 1] == ' ' ||
		    s[f.nlen - 1] == '\t'; f.nlen--)
			;
		f.val = c + 1;
		f.end = e + 1;
		f.dec = NULL;
		cur = NULL;
		if (!name_is(&f, "Content-Type") &&
		    !name_is(&f, "Content-Transfer-Encoding"))
			continue;
		ct = name_is(&f, "Content-Type");
		if ((ct ? h->ctype : h->cte) != NULL) {
			fs->bad = true;		/* which one wins: GMime's */
			return;
		}
		cur = &h->f[ct ? 0 : 1];
		*cur = f;
		if (ct)
			h->ctype = cur;
		else
			h->cte = cur;
	}
}

/*
 * The value GMime's header gives its parsers (g_mime_header_get_value:
 * unfolded, trimmed, RFC 2047-decoded) into buf; false (give up) when
 * decoding could change it (an encoded word, 8-bit or NUL bytes) or it
 * does not fit.
 */
static bool
plain_value(const struct mime_field *f, char *buf, size_t buflen)
{
	const char	*s = f->val, *e = f->end;
	size_t		 o = 0;

	while (s < e && is_lwsp(*s))
		s++;
	while (e > s && is_lwsp(e[-1]))
		e--;
	for (; s < e; s++) {
		if (*s == '\r' || *s == '\n')
			continue;
		if ((unsigned char)*s >= 0x80 || *s == '\0' ||
		    (*s == '?' && o > 0 && buf[o - 1] == '=') || o + 1 >= buflen)
			return false;
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return true;
}

static bool
is_token(char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * "type/subtype" at the start of v, then nothing or parameters: the form
 * on which GMime's parser (which decides multipart or not) and its
 * content-type object (which the walk reads) cannot disagree.
 */
/* Is word a (any case) the n bytes at s? */
static bool
same_word(const char *a, const char *s, size_t n)
{
	return strlen(a) == n && g_ascii_strncasecmp(a, s, n) == 0;
}

/*
 * "type/subtype" at the start of v, then nothing or parameters, and ct
 * (GMime's reading of v) says the same: the form on which GMime's
 * parser (which decides multipart or not) and its content-type object
 * (which the walk reads) cannot disagree.
 */
static bool
plain_type(const char *v, GMimeContentType *ct)
{
	const char	*p = v, *st, *se;

	while (is_token(*p))
		p++;
	if (p == v || *p != '/')
		return false;
	st = ++p;
	while (is_token(*p))
		p++;
	if ((se = p) == st)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != ';')
		return false;
	return same_word(g_mime_content_type_get_media_type(ct), v,
	    (size_t)(st - 1 - v)) &&
	    same_word(g_mime_content_type_get_media_subtype(ct), st,
	    (size_t)(se - st));
}

/* Keep ct until mime_fast_free; false (give up) when full. */
static bool
keep_ct(struct fscan *fs, GMimeContentType *ct)
{
	struct mime_ftree *t = fs->t;

	if (t->ncts == MIME_FAST_CTS) {
		g_object_unref(ct);
		return false;
	}
	t->cts[t->ncts++] = ct;
	return true;
}

/* A copy of s[0..n) in the pool; NULL when it is full. */
static const char *
pool_dup(char *pool, size_t *used, size_t size, const char *s, size_t n)
{
	char	*d;

	if (n + 1 > size - *used)
		return NULL;
	d = pool + *used;
	memcpy(d, s, n);
	d[n] = '\0';
	*used += n + 1;
	return d;
}

/* Skip a token at *pp; its length (0: none). */
static size_t
token(const char **pp)
{
	const char	*s = *pp, *p = s;

	while (is_token(*p))
		p++;
	*pp = p;
	return (size_t)(p - s);
}

/*
 * mime_simple_ctype - a Content-Type value (unfolded) in its plainest
 * form, read without GMime
 *
 * Arguments: v, the value; c, filled in (strings in pool, size bytes,
 * *used of them taken).
 * Returns: true when v is "type/subtype" then parameters each
 * "name=token" or "name=\"quoted\"" (no backslash, not empty), separated
 * by ";" with spaces around the ";" only, distinct names without "*"
 * (RFC 2231): the form GMime's content-type parser reads to the same
 * strings (tests/check_mime.c holds them side by side).  False for
 * anything else: GMime reads it.
 */
bool
mime_simple_ctype(const char *v, struct mime_ctype *c, char *pool,
    size_t *used, size_t size)
{
	const char	*p = v, *t, *names[16], *val, **slot;
	size_t		 tl, sl, nl, vl, nn = 0, k;

	memset(c, 0, sizeof(*c));
	t = p;
	if ((tl = token(&p)) == 0 || *p++ != '/')
		return false;
	if ((c->type = pool_dup(pool, used, size, t, tl)) == NULL)
		return false;
	t = p;
	if ((sl = token(&p)) == 0 ||
	    (c->subtype = pool_dup(pool, used, size, t, sl)) == NULL)
		return false;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return true;
		if (*p++ != ';')
			return false;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return true;
		t = p;
		if ((nl = token(&p)) == 0 || memchr(t, '*', nl) != NULL ||
		    *p++ != '=' || nn == 16)
			return false;
		for (k = 0; k < nn; k++)
			if (strlen(names[k]) == nl &&
			    g_ascii_strncasecmp(names[k], t, nl) == 0)
				return false;
		if ((names[nn++] = pool_dup(pool, used, size, t, nl)) == NULL)
			return false;
		if (*p == '"') {
			val = ++p;
			/* no escapes, no encoded words or 8-bit bytes
			 * (GMime decodes them) */
			while (*p != '"' && *p != '\\' && *p != '\0' &&
			    (unsigned char)*p < 0x80 && (*p != '?' ||
			    p == val || p[-1] != '='))
				p++;
			if (*p != '"')
				return false;
			vl = (size_t)(p++ - val);
		} else {
			val = p;
			vl = token(&p);
		}
		if (vl == 0)
			return false;
		slot = nl == 7 && g_ascii_strncasecmp(t, "charset", 7) == 0 ?
		    &c->charset : nl == 8 &&
		    g_ascii_strncasecmp(t, "boundary", 8) == 0 ? &c->boundary :
		    nl == 11 && g_ascii_strncasecmp(t, "report-type", 11) == 0 ?
		    &c->report_type : NULL;
		if (slot != NULL &&
		    (*slot = pool_dup(pool, used, size, val, vl)) == NULL)
			return false;
	}
}

/* The parameters walk and structure need, from GMime's object. */
static void
ctype_from_gmime(struct mime_ctype *c, GMimeContentType *ct)
{
	c->type = g_mime_content_type_get_media_type(ct);
	c->subtype = g_mime_content_type_get_media_subtype(ct);
	c->charset = g_mime_content_type_get_parameter(ct, "charset");
	c->boundary = g_mime_content_type_get_parameter(ct, "boundary");
	c->report_type = g_mime_content_type_get_parameter(ct,
	    "report-type");
}

/*
 * The content type of a part (GMime's parser_content_type and the
 * object's own): from its field, else message/rfc822 in a digest (RFC
 * 2046 section 5.1.5), else text/plain.  Read here when plain
 * (mime_simple_ctype), by GMime's content-type parser otherwise.
 */
static bool
part_type(struct fscan *fs, const struct fhead *h, bool digest,
    struct mime_ctype *c)
{
	struct mime_ftree *t = fs->t;
	char		 v[1024];
	GMimeContentType *ct;

	if (h->ctype == NULL) {
		memset(c, 0, sizeof(*c));
		c->type = digest ? "message" : "text";
		c->subtype = digest ? "rfc822" : "plain";
		return true;
	}
	if (!plain_value(h->ctype, v, sizeof(v)))
		return false;
	if (mime_simple_ctype(v, c, t->pool, &t->pooled, sizeof(t->pool)))
		return true;
	if ((ct = g_mime_content_type_parse(mime_parser_options(), v)) ==
	    NULL)
		return false;
	if (!keep_ct(fs, ct) || !plain_type(v, ct))
		return false;
	ctype_from_gmime(c, ct);
	return true;
}

static void construct(struct fscan *, const struct fhead *,
    const struct mime_ctype *, unsigned);

/* GMime's parser_construct_multipart() and its subparts loop. */
static void
construct_multipart(struct fscan *fs, const struct mime_ctype *c,
    unsigned nest)
{
	struct mime_ctype sub;
	struct fhead	 h;
	const char	*bnd = c->boundary, *raw;
	size_t		 rawlen, nparts = 0, bl;
	bool		 digest;

	if (bnd == NULL || (bl = strlen(bnd)) > FAST_MAX_BOUND ||
	    fs->nb > MIME_MAX_DEPTH) {
		fs->bad = true;
		return;
	}
	digest = g_ascii_strcasecmp(c->subtype, "digest") == 0;
	fs->stack[fs->nb][0] = fs->stack[fs->nb][1] = '-';
	memcpy(fs->stack[fs->nb] + 2, bnd, bl);
	fs->stack[fs->nb][bl + 2] = fs->stack[fs->nb][bl + 3] = '-';
	fs->blen[fs->nb++] = bl + 2;
	scan_content(fs, &raw, &rawlen);		/* the prologue */
	while (!fs->bad && fs->bnd == BND_IMMEDIATE) {
		if (!skip_line(fs)) {
			fs->bnd = BND_EOS;
			break;
		}
		read_head(fs, &h);
		if (fs->bad || !part_type(fs, &h, digest, &sub)) {
			fs->bad = true;
			return;
		}
		construct(fs, &h, &sub, nest + 1);
		nparts++;
	}
	if (fs->bad || nparts == 0) {
		/* no part: GMime keeps the body as a prologue */
		fs->bad = true;
		return;
	}
	if (fs->bnd == BND_IMMEDIATE_END) {
		(void)skip_line(fs);
		fs->nb--;
		scan_content(fs, &raw, &rawlen);	/* the epilogue */
		return;
	}
	fs->nb--;
	if (fs->bnd == BND_PARENT_END && immediate_boundary(fs, true))
		fs->bnd = BND_IMMEDIATE_END;
	else if (fs->bnd == BND_PARENT && immediate_boundary(fs, false))
		fs->bnd = BND_IMMEDIATE;
}

/* One leaf, as mime.c's walk will read it. */
static void
add_leaf(struct fscan *fs, const struct mime_ctype *c,
    const struct fhead *h, unsigned nest)
{
	struct mime_ftree	*t = fs->t;
	struct mime_fleaf	*lf;
	char			 v[256];

	if (t->nleaves == MIME_MAX_PARTS) {
		fs->bad = true;		/* the walk's defect: GMime's path */
		return;
	}
	lf = &t->leaves[t->nleaves++];
	mime_lower_type(lf->type, sizeof(lf->type), c->type, c->subtype);
	lf->nest = nest;
	lf->charset = c->charset;
	lf->enc = GMIME_CONTENT_ENCODING_DEFAULT;
	if (h->cte != NULL) {
		if (!plain_value(h->cte, v, sizeof(v))) {
			fs->bad = true;
			return;
		}
		lf->enc = g_mime_content_encoding_from_string(v);
	}
	scan_content(fs, &lf->raw, &lf->rawlen);
}

/* GMime's parser_construct_part(): a multipart or a leaf. */
static void
construct(struct fscan *fs, const struct fhead *h,
    const struct mime_ctype *c, unsigned nest)
{
	if (nest > MIME_MAX_DEPTH) {
		fs->bad = true;
		return;
	}
	if (g_ascii_strcasecmp(c->type, "multipart") == 0)
		construct_multipart(fs, c, nest);
	else
		add_leaf(fs, c, h, nest);
}

/*
 * mime_fast_tree - the leaves of p[0..len) in walk order
 *
 * Arguments: p, len: a message (header block, empty line, body), as
 * GMime would be given it; t: filled in (release with mime_fast_free,
 * whatever the result).
 * Returns: true when the structure was read, false when GMime must
 * read it (nothing in t is then of use).
 * Notes: leaves point into p; their charsets into t.
 */
bool
mime_fast_tree(const char *p, size_t len, struct mime_ftree *t)
{
	struct mime_ctype c;
	struct fscan	 fs;
	struct fhead	 h;

	t->nleaves = 0;
	t->ncts = 0;
	t->pooled = 0;
	t->top_type[0] = '\0';
	t->report_type = NULL;
	fs.b = p;
	fs.n = len;
	fs.pos = 0;
	fs.bnd = BND_NONE;
	fs.nb = 0;
	fs.t = t;
	fs.bad = false;
	read_head(&fs, &h);
	if (fs.bad || !part_type(&fs, &h, false, &c))
		return false;
	mime_lower_type(t->top_type, sizeof(t->top_type), c.type, c.subtype);
	t->report_type = c.report_type;
	construct(&fs, &h, &c, 0);
	return !fs.bad;
}

/* mime_fast_free - release what mime_fast_tree kept */
void
mime_fast_free(struct mime_ftree *t)
{
	size_t	 i;

	for (i = 0; i < t->ncts; i++)
		g_object_unref(t->cts[i]);
	t->ncts = 0;
	t->nleaves = 0;
}
