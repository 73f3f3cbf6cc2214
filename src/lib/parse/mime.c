/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * mime.c - a thin wrapper around GMime 3 for the bounce parser.
 *
 * It parses one message held in memory and flattens its MIME tree into
 * a bounded list of leaf parts, each with its content transfer-decoded
 * (RFC 2045 section 6, GMime's decoders) and, for text parts, converted to
 * UTF-8 from its declared charset (RFC 2046 section 4.1.2; ISO-2022-JP,
 * Shift_JIS and friends through GMime's iconv layer).
 *
 * Where the time goes is GMime's object tree, so GMime is given only
 * what needs it: the MIME structure.  The top header block is indexed
 * here (RFC 5322 section 2.2 fields) and GMime parses the Content-*
 * fields (RFC 2045 section 3) with the body; a field's value is unfolded
 * and RFC 2047-decoded by GMime's decoder when first asked for.  Enclosed
 * messages (message/rfc822, message/global, RFC 6532; text/rfc822-headers,
 * RFC 6522 section 4) are kept opaque: their header block is read the
 * same way when a field is looked up, their body parsed by GMime only
 * when the caller asks (a forwarded bounce, mime_expand).  Content that
 * needs no transfer decoding is read in place; HTML is converted only
 * when the bounce has no text/plain.
 *
 * It must not: log, do I/O, keep state between calls (other than the
 * parser options made once by mime_init), or trust any byte of input.
 * Thread-safe after mime_init.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "parse/mime.h"
#include "parse/mime_int.h"
#include "util/strci.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(BD_ASAN)
#include <sanitizer/lsan_interface.h>
#define LSAN_DISABLE()	__lsan_disable()
#define LSAN_ENABLE()	__lsan_enable()
#else
#define LSAN_DISABLE()	do { } while (0)
#define LSAN_ENABLE()	do { } while (0)
#endif

static GMimeParserOptions *popts;

/*
 * mime_parser_options - the parser options mime_init() made (RFC 2047
 * decoding of header values uses them too)
 */
GMimeParserOptions *
mime_parser_options(void)
{
	return popts;
}

/* The media types GMime would parse as an enclosed message (RFC 2046
 * section 5.2.1, RFC 6532 section 3.5); mime_init makes them leaves. */
static const char *const message_types[] = { "rfc822", "global",
    "rfc2822", "news", NULL };


/*
 * mime_init - initialise GMime once per process
 *
 * Notes: must run before any other mime_* call and before threads that
 * parse are started.
 */
void
mime_init(void)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	size_t		 i;

	if (popts != NULL)
		return;
	/*
	 * g_mime_object_register_type() below replaces the entries that
	 * g_mime_init() made for message/rfc822 ...; GMime drops the old
	 * entry without freeing it (a few bytes, once per process).  Under
	 * AddressSanitizer tell LeakSanitizer that GMime's own set-up is not
	 * a leak, so that sanitized test runs stay meaningful.
	 */
	LSAN_DISABLE();
	g_mime_init();
	LSAN_ENABLE();
	popts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(popts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	/*
	 * Enclosed messages become plain leaves: GMime would otherwise
	 * build the whole object tree of every returned original (most of
	 * a bounce's bytes) only for a Message-ID.  mime_part_header()
	 * and mime_expand() parse them when, and as far as, needed.  The
	 * registry is process-wide: nothing else in bounced uses GMime.
	 */
	for (i = 0; message_types[i] != NULL; i++)
		g_mime_object_register_type("message", message_types[i],
		    GMIME_TYPE_PART);
}

/*
 * mime_shutdown - release GMime
 *
 * Notes: only after the last parse.
 */
void
mime_shutdown(void)
{
	if (popts == NULL)
		return;
	g_mime_parser_options_free(popts);
	popts = NULL;
	g_mime_shutdown();
}

struct walk {
	struct mime_doc	*doc;
	GByteArray	*ba;		/* the bytes GMime is reading */
	size_t		 max_text;
};

/*
 * A GMime memory stream reading p[0..len) in place: GMimeStreamMem over a
 * GByteArray that does not own the bytes (they belong to the caller), so
 * the message is never copied; the parts' content streams are substreams
 * of it (see leaf_view).  *bap receives the wrapper to release with
 * g_byte_array_free(ba, FALSE) once every object parsed from it is gone.
 */
/*
 * The length of p that holds at most MIME_MAX_DELIMS lines starting with
 * "--": where the next such line starts, or len.  One memchr() pass.
 */
static size_t
delim_cut(const char *p, size_t len, bool *cut)
{
	const char	*q = p, *end = p + len, *nl;
	unsigned	 n = 0;

	*cut = false;
	while (q < end) {
		if (end - q >= 2 && q[0] == '-' && q[1] == '-' &&
		    ++n > MIME_MAX_DELIMS) {
			*cut = true;
			return (size_t)(q - p);
		}
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			break;
		q = nl + 1;
	}
	return len;
}

/*
 * GMime's tree of p, len bytes (not copied: p must outlive it); at most
 * MIME_MAX_DELIMS delimiter lines of it (MIME_DEFECT_PARTS in *defects
 * when cut).
 */
static GMimeObject *
parse_buffer(const char *p, size_t len, GByteArray **bap, unsigned *defects)
{
	GMimeStream	*st;
	GMimeParser	*ps;
	GMimeObject	*m;
	GByteArray	*ba;
	bool		 cut;

	*bap = NULL;
	len = delim_cut(p, len, &cut);
	if (cut)
		*defects |= MIME_DEFECT_PARTS;
	if (len > G_MAXUINT)
		len = G_MAXUINT;
	ba = g_byte_array_new_take((guint8 *)(uintptr_t)p, len);
	st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	ps = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(ps, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_part(ps, popts);
	g_object_unref(ps);
	g_object_unref(st);
	if (m == NULL)
		(void)g_byte_array_free(ba, FALSE);
	else
		*bap = ba;
	return m;
}

static void
release_parse(GMimeObject *m, GByteArray *ba)
{
	if (m != NULL)
		g_object_unref(m);
	if (ba != NULL)
		(void)g_byte_array_free(ba, FALSE);
}

/*
 * The content of a leaf without a copy when it needs no transfer decoding
 * (7bit, 8bit, binary): a substream of the memory stream parse_buffer made
 * (GMime keeps content as substreams of a seekable input).  Sets *p, *n
 * (bounded by max); false when the bytes are not in ba as they are.
 */
static bool
raw_view(GMimeDataWrapper *w, GByteArray *ba, const char **p, size_t *n)
{
	GMimeStream	*s;
	gint64		 start, end;

	/* A substream of a memory stream shares its buffer; its bounds are
	 * offsets into that buffer. */
	s = g_mime_data_wrapper_get_stream(w);
	if (s == NULL || !GMIME_IS_STREAM_MEM(s) ||
	    g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s)) != ba)
		return false;
	start = s->bound_start;
	end = s->bound_end < 0 ? (gint64)ba->len : s->bound_end;
	if (start < 0 || end > (gint64)ba->len || start > end)
		return false;
	*p = ba->data != NULL ? (const char *)ba->data + start : "";
	*n = (size_t)(end - start);
	return true;
}

static bool
identity_encoding(GMimeContentEncoding e)
{
	return e == GMIME_CONTENT_ENCODING_DEFAULT ||
	    e == GMIME_CONTENT_ENCODING_7BIT ||
	    e == GMIME_CONTENT_ENCODING_8BIT ||
	    e == GMIME_CONTENT_ENCODING_BINARY;
}

static bool
leaf_view(GMimePart *part, GByteArray *ba, size_t max, const char **p,
    size_t *n)
{
	GMimeDataWrapper	*w;

	if (ba == NULL || (w = g_mime_part_get_content(part)) == NULL ||
	    !identity_encoding(g_mime_data_wrapper_get_encoding(w)) ||
	    !raw_view(w, ba, p, n))
		return false;
	if (*n > max)
		*n = max;
	return true;
}

/* Transfer-decoded content of a leaf through GMime streams; sets *n. */
static char *
leaf_bytes(GMimePart *part, size_t max, size_t *n)
{
	GMimeDataWrapper	*w;
	GMimeStream		*ms;
	GByteArray		*ba;
	char			*out;
	size_t			 len;

	*n = 0;
	if ((w = g_mime_part_get_content(part)) == NULL)
		return NULL;
	ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, ms);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	len = ba->len < max ? ba->len : max;
	if ((out = malloc(len + 1)) != NULL) {
		if (len > 0)
			memcpy(out, ba->data, len);
		out[len] = '\0';
		*n = len;
	}
	g_object_unref(ms);
	return out;
}

/*
 * Transfer-decoded content (RFC 2045 section 6: base64, quoted-printable,
 * and uuencode) of encoded bytes raw[0..rawlen) in encoding e: GMime's
 * decoder state machine (g_mime_encoding_*) run straight over them,
 * without the stream and filter objects of
 * g_mime_data_wrapper_write_to_stream.  Bounded by max; sets *n.
 */
static char *
decode_view(GMimeContentEncoding e, const char *raw, size_t rawlen,
    size_t max, size_t *n)
{
	GMimeEncoding	 st;
	size_t		 k;
	char		*out;

	*n = 0;
	g_mime_encoding_init_decode(&st, e);
	if ((out = malloc(g_mime_encoding_outlen(&st, rawlen) + 1)) == NULL)
		return NULL;
	k = g_mime_encoding_flush(&st, raw, rawlen, out);
	if (k > max)
		k = max;
	out[k] = '\0';
	*n = k;
	return out;
}

static bool
decodable(GMimeContentEncoding e)
{
	return e == GMIME_CONTENT_ENCODING_BASE64 ||
	    e == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    e == GMIME_CONTENT_ENCODING_UUENCODE;
}

/*
 * Transfer-decoded content of a GMime leaf whose encoded bytes are in
 * ba (decode_view), else through GMime's streams (leaf_bytes).
 */
static char *
leaf_decoded(GMimePart *part, GByteArray *ba, size_t max, size_t *n)
{
	GMimeDataWrapper	*w;
	GMimeContentEncoding	 e;
	const char		*raw;
	size_t			 rawlen;

	*n = 0;
	if ((w = g_mime_part_get_content(part)) == NULL)
		return NULL;
	e = g_mime_data_wrapper_get_encoding(w);
	if (ba == NULL || identity_encoding(e) || !decodable(e) ||
	    !raw_view(w, ba, &raw, &rawlen))
		return leaf_bytes(part, max, n);
	return decode_view(e, raw, rawlen, max, n);
}

/*
 * A leaf as the walk reads it: GMime's part (GMime's path), or its type,
 * charset, encoding and bytes as mime_fast.c read them.
 */
struct leaf_src {
	GMimePart	*part;		/* GMime's path, or NULL */
	GByteArray	*ba;		/* the bytes GMime read, or NULL */
	const char	*cs;		/* fast path: charset, or NULL */
	int		 enc;		/* fast path: GMimeContentEncoding */
	const char	*raw;		/* fast path: content as in the input */
	size_t		 rawlen;
};

/* The content without a copy when it needs no transfer decoding. */
static bool
src_view(const struct leaf_src *src, size_t max, const char **p, size_t *n)
{
	if (src->part != NULL)
		return leaf_view(src->part, src->ba, max, p, n);
	if (!identity_encoding(src->enc))
		return false;
	*p = src->raw;
	*n = src->rawlen < max ? src->rawlen : max;
	return true;
}

/* The transfer-decoded content, malloc'd; sets *n. */
static char *
src_decoded(const struct leaf_src *src, size_t max, size_t *n)
{
	if (src->part != NULL)
		return leaf_decoded(src->part, src->ba, max, n);
	return decode_view(src->enc, src->raw, src->rawlen, max, n);
}

/* The charset parameter of the leaf, or NULL. */
static const char *
src_charset(const struct leaf_src *src)
{
	GMimeContentType	*ct;

	if (src->part == NULL)
		return src->cs;
	ct = g_mime_object_get_content_type(GMIME_OBJECT(src->part));
	return ct != NULL ? g_mime_content_type_get_parameter(ct, "charset") :
	    NULL;
}

/*
 * mime_lower_type - "type/subtype" lower-cased into dst
 *
 * Arguments: dst, dstlen: the result (cut to fit, NUL-terminated); type,
 * subtype: as GMime or the header gave them (NULL is empty).
 */
void
mime_lower_type(char *dst, size_t dstlen, const char *a, const char *b)
{
	size_t	 i = 0;

	for (; a != NULL && *a != '\0' && i + 1 < dstlen; a++)
		dst[i++] = tolower((unsigned char)*a);
	if (i + 1 < dstlen)
		dst[i++] = '/';
	for (; b != NULL && *b != '\0' && i + 1 < dstlen; b++)
		dst[i++] = tolower((unsigned char)*b);
	dst[i] = '\0';
}

/* A new part of media type type (lower-case); NULL when full. */
static struct mime_part *
new_part(struct walk *w, const char *type, unsigned depth)
{
	struct mime_part	*mp;

	if (w->doc->nparts >= MIME_MAX_PARTS) {
		w->doc->defects |= MIME_DEFECT_MIME;
		return NULL;
	}
	mp = &w->doc->parts[w->doc->nparts++];
	memset(mp, 0, sizeof(*mp));
	mp->depth = depth;
	(void)snprintf(mp->type, sizeof(mp->type), "%s", type);
	return mp;
}

/* The lower-case media type of a GMime object. */
static void
object_type(GMimeObject *obj, char *buf, size_t len)
{
	GMimeContentType	*ct;

	ct = g_mime_object_get_content_type(obj);
	if (ct != NULL)
		mime_lower_type(buf, len,
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct));
	else
		mime_lower_type(buf, len, "text", "plain");
}

static bool
is_message_type(const char *t)
{
	size_t	 i;

	if (strncmp(t, "message/", 8) != 0)
		return false;
	for (i = 0; message_types[i] != NULL; i++)
		if (strcmp(t + 8, message_types[i]) == 0)
			return true;
	return false;
}

/* Decode a text part's content to UTF-8 into mp->text. */
static void
read_text(struct mime_part *mp, const struct leaf_src *src, size_t max)
{
	const char		*cs, *view;
	char			*raw;
	size_t			 n;

	cs = src_charset(src);
	if (src_view(src, max, &view, &n))
		mp->text = mime_to_utf8(view, n, cs);
	else {
		if ((raw = src_decoded(src, max, &n)) == NULL)
			return;
		mp->text = mime_to_utf8(raw, n, cs);
		free(raw);
	}
	mp->len = mp->text != NULL ? strlen(mp->text) : 0;
}

/* Keep the HTML alternative of the bounce to read after the walk. */
static void
defer_html(struct mime_part *mp, const struct leaf_src *src)
{
	mp->html = true;
	mp->hpart = src->part;
	mp->hraw = src->raw;
	mp->hrawlen = src->rawlen;
	mp->henc = src->enc;
	mp->hcs = src->cs;
}

/* Read a deferred HTML alternative (the walk's sources still alive). */
static void
read_html(struct mime_part *mp, GByteArray *ba, size_t max)
{
	struct leaf_src	 src;

	src.part = mp->hpart;
	src.ba = ba;
	src.cs = mp->hcs;
	src.enc = mp->henc;
	src.raw = mp->hraw;
	src.rawlen = mp->hrawlen;
	read_text(mp, &src, max);
}

static void
walk_leaf(struct walk *w, const char *type, const struct leaf_src *src,
    unsigned depth)
{
	struct mime_part	*mp;
	bool			 msg, hdrs;

	if ((mp = new_part(w, type, depth)) == NULL)
		return;
	/* Inside a returned message only report parts are of interest. */
	if (depth > 0 && strncmp(mp->type, "message/", 8) != 0 &&
	    strcmp(mp->type, "text/rfc822-headers") != 0)
		return;
	msg = is_message_type(mp->type);
	hdrs = strcmp(mp->type, "text/rfc822-headers") == 0;
	if (msg || hdrs) {
		/* Kept opaque: headers parsed on demand, body on expand. */
		mp->message = true;
		mp->expandable = msg;
		if (src_view(src, w->max_text, &mp->raw, &mp->rawlen))
			return;
		mp->rawbuf = src_decoded(src, w->max_text, &mp->rawlen);
		mp->raw = mp->rawbuf;
		if (mp->raw == NULL)
			mp->rawlen = 0;
		return;
	}
	/*
	 * Only text and the report parts are read (images, archives,
	 * other message/ types never are).  HTML is read only when the
	 * bounce has no text/plain: decided after the walk.
	 */
	if (strcmp(mp->type, "text/html") == 0 && depth == 0) {
		defer_html(mp, src);
		return;
	}
	if (strncmp(mp->type, "text/", 5) == 0 ||
	    strcmp(mp->type, "application/json") == 0 ||
	    strcmp(mp->type, "message/global-delivery-status") == 0 ||
	    strcmp(mp->type, "message/delivery-status") == 0 ||
	    strcmp(mp->type, "message/feedback-report") == 0)
		read_text(mp, src, w->max_text);
}

static void
walk_object(struct walk *w, GMimeObject *obj, unsigned depth, unsigned nest)
{
	struct mime_part	*mp;
	struct leaf_src		 src;
	char			 type[MIME_TYPE_MAX];
	int			 i, n;

	if (obj == NULL)
		return;
	if (nest > MIME_MAX_DEPTH) {
		w->doc->defects |= MIME_DEFECT_MIME;
		return;
	}
	object_type(obj, type, sizeof(type));
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		if (n == 0) {
			/* No boundary found: the body is all prologue. */
			const char *pro = g_mime_multipart_get_prologue(
			    GMIME_MULTIPART(obj));

			w->doc->defects |= MIME_DEFECT_MIME;
			if (pro != NULL &&
			    (mp = new_part(w, "text/plain", depth)) != NULL) {
				size_t plen = strlen(pro);

				if (plen > w->max_text)
					plen = w->max_text;
				mp->text = mime_to_utf8(pro, plen, NULL);
				mp->len = mp->text ? strlen(mp->text) : 0;
			}
		}
		for (i = 0; i < n; i++)
			walk_object(w, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), depth, nest + 1);
	} else if (GMIME_IS_PART(obj)) {
		memset(&src, 0, sizeof(src));
		src.part = GMIME_PART(obj);
		src.ba = w->ba;
		walk_leaf(w, type, &src, depth);
	}
	/* GMimeMessagePart cannot occur: see mime_init. */
}

/* The leaves mime_fast_tree() read, as walk_object() would walk them. */
static void
walk_fast(struct walk *w, const struct mime_ftree *t, unsigned depth)
{
	struct leaf_src	 src;
	size_t		 i;

	for (i = 0; i < t->nleaves; i++) {
		const struct mime_fleaf *lf = &t->leaves[i];

		src.part = NULL;
		src.ba = NULL;
		src.cs = lf->charset;
		src.enc = lf->enc;
		src.raw = lf->raw;
		src.rawlen = lf->rawlen;
		walk_leaf(w, lf->type, &src, depth);
	}
}

/*
 * The top header block is read here, not by GMime: GMime would make an
 * object per field and decode it, for the ten or so fields the parser
 * looks at.  The fields are indexed in doc->fields (values decoded by
 * GMime on first use, mime_header); GMime gets the Content-* fields (RFC
 * 2045 section 3: all that MIME structure depends on) and the body, in
 * doc->gbuf.
 */
static enum bd_status
split_headers(struct mime_doc *doc, const char *p, size_t len)
{
	struct mime_field	 f;
	const char		*q = p, *end = p + len;
	char			*o;

	if ((doc->gbuf = malloc(len + 2)) == NULL)
		return BD_ENOMEM;
	o = doc->gbuf;
	while (mime_next_field(&q, end, &f)) {
		if (doc->nfields < MIME_MAX_FIELDS)
			doc->fields[doc->nfields++] = f;
		if (f.nlen < 8 ||
		    g_ascii_strncasecmp(f.name, "Content-", 8) != 0)
			continue;
		memcpy(o, f.name, f.end - f.name);
		o += f.end - f.name;
		if (o[-1] != '\n')
			*o++ = '\n';
	}
	*o++ = '\n';
	memcpy(o, q, end - q);
	o += end - q;
	doc->glen = o - doc->gbuf;
	return BD_OK;
}

/* The top-level type and report-type (lower-case) into doc. */
static void
set_top_type(struct mime_doc *doc, const char *type, const char *rt)
{
	char	*q;

	doc->top_type = strdup(type);
	if (rt != NULL && (doc->report_type = strdup(rt)) != NULL)
		for (q = doc->report_type; *q != '\0'; q++)
			*q = tolower((unsigned char)*q);
}

/* HTML alternatives of the bounce: read only when there is no plain text. */
static void
read_deferred_html(struct mime_doc *doc, GByteArray *ba)
{
	size_t	 i;

	for (i = 0; i < doc->nparts; i++)
		if (doc->parts[i].depth == 0 &&
		    strcmp(doc->parts[i].type, "text/plain") == 0)
			return;
	for (i = 0; i < doc->nparts; i++)
		if (doc->parts[i].html)
			read_html(&doc->parts[i], ba, doc->max_text);
}

/*
 * The structure of gbuf through mime_fast.c: true when it could read it
 * (doc then holds its parts), false when GMime must.
 */
static bool
open_fast(struct mime_doc *doc, const char *p, size_t len)
{
	struct mime_ftree	 t;
	struct walk		 w;
	bool			 cut, ok;

	len = delim_cut(p, len, &cut);
	if (!(ok = mime_fast_tree(p, len, &t))) {
		mime_fast_free(&t);
		return false;
	}
	if (cut)
		doc->defects |= MIME_DEFECT_PARTS;
	set_top_type(doc, t.top_type, t.report_type);
	w.doc = doc;
	w.ba = NULL;
	w.max_text = doc->max_text;
	walk_fast(&w, &t, 0);
	read_deferred_html(doc, NULL);
	mime_fast_free(&t);
	return true;
}

/* The structure of gbuf through GMime's parser. */
static enum bd_status
open_gmime(struct mime_doc *doc)
{
	struct walk		 w;
	GMimeObject		*top;
	GMimeContentType	*ct;
	GByteArray		*ba;
	char			 buf[MIME_TYPE_MAX];

	if ((top = parse_buffer(doc->gbuf, doc->glen, &ba, &doc->defects)) ==
	    NULL) {
		doc->defects |= MIME_DEFECT_MIME;
		return BD_EPARSE;
	}
	doc->msg = top;
	doc->ba = ba;
	w.doc = doc;
	w.ba = ba;
	w.max_text = doc->max_text;
	ct = g_mime_object_get_content_type(top);
	if (ct != NULL) {
		mime_lower_type(buf, sizeof(buf),
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct));
		set_top_type(doc, buf,
		    g_mime_content_type_get_parameter(ct, "report-type"));
	}
	walk_object(&w, top, 0, 0);
	read_deferred_html(doc, ba);
	return BD_OK;
}

static enum bd_status
open_doc(const char *p, size_t len, size_t max_text, struct mime_doc *doc,
    bool gmime_only)
{
	/* fields and parts are set one by one as they fill. */
	memset(doc, 0, offsetof(struct mime_doc, fields));
	doc->max_text = max_text;
	doc->gmime_only = gmime_only;
	if (split_headers(doc, p, len) != BD_OK)
		return BD_ENOMEM;
	if (!gmime_only && open_fast(doc, doc->gbuf, doc->glen))
		return BD_OK;
	return open_gmime(doc);
}

/*
 * mime_open - parse a message held in memory
 *
 * Arguments: p, len: the message (LF or CRLF line ends), read in place:
 * it must stay valid and unchanged until mime_close(); max_text: bytes
 * kept per part; doc: filled in, release with mime_close().
 * Returns: BD_OK (defects in doc->defects), BD_EPARSE when GMime could not
 * make a message at all (doc is still safe to close).
 * Notes: thread-safe.  Enclosed messages are not parsed here: see
 * mime_part_header() and mime_expand().  The structure is read by
 * mime_fast.c when it can, by GMime's parser otherwise: the same parts.
 */
enum bd_status
mime_open(const char *p, size_t len, size_t max_text, struct mime_doc *doc)
{
	return open_doc(p, len, max_text, doc, false);
}

/*
 * mime_open_gmime - mime_open() through GMime's parser only (and
 * mime_expand() of the doc too): tests compare it with mime_open()
 */
enum bd_status
mime_open_gmime(const char *p, size_t len, size_t max_text,
    struct mime_doc *doc)
{
	return open_doc(p, len, max_text, doc, true);
}

/* The parts of one enclosed message: mime_fast.c's reading or GMime's. */
static void
expand_one(struct mime_doc *doc, const char *raw, size_t rawlen,
    unsigned depth)
{
	struct mime_ftree	 t;
	struct walk		 w;
	GMimeObject		*m;
	GByteArray		*ba;
	size_t			 len;
	bool			 cut;

	w.doc = doc;
	w.max_text = doc->max_text;
	len = delim_cut(raw, rawlen, &cut);
	if (!doc->gmime_only && mime_fast_tree(raw, len, &t)) {
		if (cut)
			doc->defects |= MIME_DEFECT_PARTS;
		w.ba = NULL;
		walk_fast(&w, &t, depth + 1);
		mime_fast_free(&t);
		return;
	}
	if (!doc->gmime_only)
		mime_fast_free(&t);
	if ((m = parse_buffer(raw, rawlen, &ba, &doc->defects)) == NULL) {
		doc->defects |= MIME_DEFECT_MIME;
		return;
	}
	w.ba = ba;
	/* Parts keep copies or views of raw, never GMime's memory. */
	walk_object(&w, m, depth + 1, 0);
	release_parse(m, ba);
}

/*
 * mime_expand - walk the bodies of the enclosed messages at a depth
 *
 * Arguments: doc; depth: the depth of the message parts to open (their
 * parts get depth + 1); needle: open only the messages whose bytes hold
 * this literal (any case), or NULL for all.
 * Returns: the number of parts added.
 * Notes: each enclosed message is parsed once, only when asked (a
 * forwarded bounce whose report is inside message/rfc822); messages
 * enclosed in it stay opaque until asked for in turn.  Bounded: at most
 * MIME_MAX_PARTS parts in all, depth below MIME_MAX_DEPTH.
 */
size_t
mime_expand(struct mime_doc *doc, unsigned depth, const char *needle)
{
	size_t	 i, n, before = doc->nparts;

	if (depth + 1 >= MIME_MAX_DEPTH)
		return 0;
	n = doc->nparts;
	for (i = 0; i < n; i++) {
		struct mime_part *mp = &doc->parts[i];

		if (mp->depth != depth || !mp->expandable || mp->expanded)
			continue;
		mp->expanded = true;
		if (mp->raw == NULL || (needle != NULL &&
		    !strci_has(mp->raw, mp->rawlen, needle)))
			continue;
		expand_one(doc, mp->raw, mp->rawlen, depth);
	}
	return doc->nparts - before;
}

/*
 * mime_close - release a parsed document
 *
 * Notes: safe on a zeroed or already closed doc.
 */
void
mime_close(struct mime_doc *doc)
{
	size_t	 i;

	struct mime_str	*ms;

	for (i = 0; i < doc->nparts; i++) {
		free(doc->parts[i].text);
		free(doc->parts[i].rawbuf);
		free(doc->parts[i].fields);
	}
	while ((ms = doc->strs) != NULL) {
		doc->strs = ms->next;
		free(ms);
	}
	release_parse(doc->msg, doc->ba);
	free(doc->gbuf);
	free(doc->report_type);
	free(doc->top_type);
	memset(doc, 0, offsetof(struct mime_doc, fields));
}
