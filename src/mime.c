/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * mime.c - a thin wrapper around GMime 3 for the bounce parser.
 *
 * It parses one message held in memory and flattens its MIME tree into
 * a bounded list of leaf parts, each with its content transfer-decoded
 * (RFC 2045 section 6) and, for text parts, converted to UTF-8 from its
 * declared charset (RFC 2046 section 4.1.2; ISO-2022-JP, Shift_JIS and
 * friends through GMime's iconv layer).  Enclosed messages (message/rfc822,
 * message/global, RFC 6532; text/rfc822-headers, RFC 6522 section 4) are
 * parsed too so that their headers can be looked up.  Header values come
 * back RFC 2047-decoded by GMime.
 *
 * It must not: log, do I/O, keep state between calls (other than the
 * parser options made once by mime_init), or trust any byte of input.
 * Thread-safe after mime_init.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mime.h"

static GMimeParserOptions *popts;

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

	if (popts != NULL)
		return;
	g_mime_init();
	popts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(popts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(popts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
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

static bool
has_jis_escape(const char *s, size_t n)
{
	const char	*p, *end = s + n;

	for (p = s; p + 2 < end; p++) {
		p = memchr(p, 0x1b, end - p);
		if (p == NULL || p + 2 >= end)
			return false;
		if (p[1] == '$' && (p[2] == 'B' || p[2] == '@'))
			return true;
	}
	return false;
}

static char *
iconv_dup(const char *s, size_t n, const char *cs)
{
	iconv_t	 cd;
	char	*out;

	cd = g_mime_iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1)
		return NULL;
	out = g_mime_iconv_strndup(cd, s, n);
	g_mime_iconv_close(cd);
	if (out != NULL && !g_utf8_validate(out, -1, NULL)) {
		g_free(out);
		out = NULL;
	}
	return out;
}

static char *
gdup(char *g)
{
	char	*s;

	if (g == NULL)
		return NULL;
	s = strdup(g);
	g_free(g);
	return s;
}

/*
 * mime_to_utf8 - convert n bytes to a malloc'd NUL-terminated UTF-8 string
 *
 * Arguments: s, n: the bytes; cs: declared charset or NULL.
 * Returns: the string (free() it) or NULL on allocation failure.
 * Notes: a charset GMime cannot convert, or text that is not what its
 * label says, falls back to UTF-8 if valid, ISO-2022-JP when its escapes
 * are present, else GMime's 8-bit guess over the fallback charsets.
 * NUL bytes become spaces.
 */
char *
mime_to_utf8(const char *s, size_t n, const char *cs)
{
	char	*out = NULL;
	size_t	 i;

	if (cs != NULL && g_ascii_strcasecmp(cs, "us-ascii") != 0 &&
	    g_ascii_strcasecmp(cs, "utf-8") != 0 &&
	    g_ascii_strcasecmp(cs, "utf8") != 0)
		out = gdup(iconv_dup(s, n, cs));
	if (out == NULL && has_jis_escape(s, n))
		out = gdup(iconv_dup(s, n, "iso-2022-jp"));
	if (out == NULL && memchr(s, '\0', n) == NULL &&
	    g_utf8_validate(s, n, NULL)) {
		if ((out = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(out, s, n);
		out[n] = '\0';
	}
	if (out == NULL)
		out = gdup(g_mime_utils_decode_8bit(popts, s, n));
	if (out == NULL) {
		/* Last resort: keep ASCII only. */
		if ((out = malloc(n + 1)) == NULL)
			return NULL;
		for (i = 0; i < n; i++)
			out[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
		out[n] = '\0';
	}
	return out;
}

struct walk {
	struct mime_doc	*doc;
	size_t		 max_text;
};

static GMimeMessage *
parse_buffer(const char *p, size_t len)
{
	GMimeStream	*st;
	GMimeParser	*ps;
	GMimeMessage	*m;

	st = g_mime_stream_mem_new_with_buffer(p, len);
	ps = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(ps, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(ps, popts);
	g_object_unref(ps);
	g_object_unref(st);
	return m;
}

/* Transfer-decoded content of a leaf, bounded; sets *n. */
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
		memcpy(out, ba->data, len);
		out[len] = '\0';
		*n = len;
	}
	g_object_unref(ms);
	return out;
}

static void
lower_copy(char *dst, size_t dstlen, const char *a, const char *b)
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

static void	walk_object(struct walk *, GMimeObject *, unsigned, unsigned);

static struct mime_part *
new_part(struct walk *w, GMimeObject *obj, unsigned depth)
{
	struct mime_part	*mp;
	GMimeContentType	*ct;

	if (w->doc->nparts >= MIME_MAX_PARTS) {
		w->doc->defects |= MIME_DEFECT_MIME;
		return NULL;
	}
	mp = &w->doc->parts[w->doc->nparts++];
	memset(mp, 0, sizeof(*mp));
	mp->depth = depth;
	ct = g_mime_object_get_content_type(obj);
	if (ct != NULL)
		lower_copy(mp->type, sizeof(mp->type),
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct));
	else
		lower_copy(mp->type, sizeof(mp->type), "text", "plain");
	return mp;
}

static void
nul_to_space(struct walk *w, char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0') {
			s[i] = ' ';
			w->doc->defects |= MIME_DEFECT_8BIT;
		}
}

static void
add_message(struct mime_part *mp, GMimeMessage *m)
{
	mp->msg = m;
}

static void
walk_leaf(struct walk *w, GMimePart *part, unsigned depth)
{
	struct mime_part	*mp;
	GMimeContentType	*ct;
	const char		*cs;
	char			*raw;
	size_t			 n;

	if ((mp = new_part(w, GMIME_OBJECT(part), depth)) == NULL)
		return;
	/* Inside a returned message only report parts are of interest. */
	if (depth > 0 && strncmp(mp->type, "message/", 8) != 0 &&
	    strcmp(mp->type, "text/rfc822-headers") != 0)
		return;
	if (strncmp(mp->type, "text/", 5) != 0 &&
	    strncmp(mp->type, "message/", 8) != 0 &&
	    strcmp(mp->type, "application/octet-stream") != 0)
		return;		/* images, archives: nothing to read */
	if ((raw = leaf_bytes(part, w->max_text, &n)) == NULL)
		return;
	if (strcmp(mp->type, "text/rfc822-headers") == 0) {
		GMimeMessage *m = parse_buffer(raw, n);

		if (m != NULL) {
			add_message(mp, m);
			free(raw);
			return;
		}
	}
	if (strncmp(mp->type, "text/", 5) == 0 ||
	    strcmp(mp->type, "message/global-delivery-status") == 0 ||
	    strcmp(mp->type, "message/delivery-status") == 0 ||
	    strcmp(mp->type, "message/feedback-report") == 0) {
		ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
		cs = ct != NULL ?
		    g_mime_content_type_get_parameter(ct, "charset") : NULL;
		mp->text = mime_to_utf8(raw, n, cs);
		free(raw);
		mp->len = mp->text != NULL ? strlen(mp->text) : 0;
		return;
	}
	nul_to_space(w, raw, n);
	mp->text = raw;
	mp->len = n;
}

static void
walk_object(struct walk *w, GMimeObject *obj, unsigned depth, unsigned nest)
{
	struct mime_part	*mp;
	GMimeMessage		*m;
	int			 i, n;

	if (obj == NULL)
		return;
	if (nest > MIME_MAX_DEPTH) {
		w->doc->defects |= MIME_DEFECT_MIME;
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		if (n == 0) {
			/* No boundary found: the body is all prologue. */
			const char *pro = g_mime_multipart_get_prologue(
			    GMIME_MULTIPART(obj));

			w->doc->defects |= MIME_DEFECT_MIME;
			if (pro != NULL && (mp = new_part(w, obj, depth)) !=
			    NULL) {
				size_t plen = strlen(pro);

				if (plen > w->max_text)
					plen = w->max_text;
				(void)snprintf(mp->type, sizeof(mp->type), "%s",
				    "text/plain");
				mp->text = mime_to_utf8(pro, plen, NULL);
				mp->len = mp->text ? strlen(mp->text) : 0;
			}
		}
		for (i = 0; i < n; i++)
			walk_object(w, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), depth, nest + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		if ((mp = new_part(w, obj, depth)) == NULL)
			return;
		m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (m == NULL)
			return;
		g_object_ref(m);
		add_message(mp, m);
		walk_object(w, g_mime_message_get_mime_part(m), depth + 1,
		    nest + 1);
	} else if (GMIME_IS_PART(obj))
		walk_leaf(w, GMIME_PART(obj), depth);
}

/*
 * mime_open - parse a message held in memory
 *
 * Arguments: p, len: the message (LF or CRLF line ends); max_text: bytes
 * kept per part; doc: filled in, release with mime_close().
 * Returns: BD_OK (defects in doc->defects), BD_EPARSE when GMime could not
 * make a message at all (doc is still safe to close).
 * Notes: thread-safe.
 */
enum bd_status
mime_open(const char *p, size_t len, size_t max_text, struct mime_doc *doc)
{
	struct walk		 w;
	GMimeMessage		*m;
	GMimeObject		*top;
	GMimeContentType	*ct;
	const char		*rt;
	char			 buf[MIME_TYPE_MAX];

	memset(doc, 0, sizeof(*doc));
	if ((m = parse_buffer(p, len)) == NULL) {
		doc->defects |= MIME_DEFECT_MIME;
		return BD_EPARSE;
	}
	doc->msg = m;
	w.doc = doc;
	w.max_text = max_text;
	top = g_mime_message_get_mime_part(m);
	if (top == NULL) {
		doc->defects |= MIME_DEFECT_MIME;
		return BD_OK;
	}
	ct = g_mime_object_get_content_type(top);
	if (ct != NULL) {
		lower_copy(buf, sizeof(buf),
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct));
		doc->top_type = strdup(buf);
		rt = g_mime_content_type_get_parameter(ct, "report-type");
		if (rt != NULL && (doc->report_type = strdup(rt)) != NULL) {
			char *q;

			for (q = doc->report_type; *q != '\0'; q++)
				*q = tolower((unsigned char)*q);
		}
	}
	walk_object(&w, top, 0, 0);
	return BD_OK;
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

	for (i = 0; i < doc->nparts; i++) {
		free(doc->parts[i].text);
		if (doc->parts[i].msg != NULL)
			g_object_unref(doc->parts[i].msg);
	}
	if (doc->msg != NULL)
		g_object_unref(doc->msg);
	free(doc->report_type);
	free(doc->top_type);
	memset(doc, 0, sizeof(*doc));
}

/*
 * mime_header - the decoded value of a header
 *
 * Arguments: doc; msg: an enclosed message from a part, or NULL for the
 * top message; name: header name, any case.
 * Returns: the value (owned by GMime, valid until mime_close) or NULL.
 */
const char *
mime_header(const struct mime_doc *doc, void *msg, const char *name)
{
	GMimeObject	*o = msg != NULL ? msg : doc->msg;

	if (o == NULL)
		return NULL;
	return g_mime_object_get_header(o, name);
}

/*
 * mime_message_id - the Message-ID of a message, without angle brackets
 *
 * Returns: owned by GMime, or NULL.
 */
const char *
mime_message_id(void *msg)
{
	if (msg == NULL)
		return NULL;
	return g_mime_message_get_message_id(GMIME_MESSAGE(msg));
}

/*
 * mime_date - parse an RFC 5322 section 3.3 date with GMime
 *
 * Returns: unix seconds, or 0 when s is NULL or not a date.
 */
int64_t
mime_date(const char *s)
{
	GDateTime	*dt;
	int64_t		 t;

	if (s == NULL || *s == '\0')
		return 0;
	if ((dt = g_mime_utils_header_decode_date(s)) == NULL)
		return 0;
	t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t < 0 ? 0 : t;
}
