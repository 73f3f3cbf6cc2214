/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_json.c - the JSON that bouncectl(8) writes goes through json-glib
 * (JsonObject or JsonBuilder, then JsonGenerator).  Its strings come
 * from hostile peers (diagnostics, addresses) and may hold any byte;
 * json-glib escapes controls, quotes and backslashes but copies other
 * bytes as they are, assuming UTF-8.  So every string passes through
 * ctl_json_utf8() first: bytes that are not UTF-8 become U+FFFD and the
 * output is always valid JSON (RFC 8259 section 8.1).  The generated
 * text passes through util/jsontext.c, for the U+001F json-glib 1.6
 * leaves raw.  Rows of one shape, many of them (classify --json), go
 * through the line writer at the end instead: the same text, without
 * building nodes.
 *
 * Nothing here logs; output goes to the FILE given.
 */
#include <stdio.h>
#include <string.h>

#include "bouncectl/ctl_json.h"
#include "util/jsontext.h"

/*
 * ctl_json_utf8 - text json-glib can take
 *
 * Arguments: s (not NULL); tmp receives NULL or a copy to g_free().
 * Returns s when it is valid UTF-8 (the common case costs one scan and
 * no copy), else the copy with U+FFFD for each invalid byte.
 */
const char *
ctl_json_utf8(const char *s, char **tmp)
{
	const unsigned char *p = (const unsigned char *)s;

	*tmp = NULL;
	/* ASCII, nearly every string, is UTF-8: only the rest is checked. */
	while (*p != '\0' && *p < 0x80)
		p++;
	if (*p == '\0' || g_utf8_validate((const char *)p, -1, NULL))
		return s;
	*tmp = g_utf8_make_valid(s, -1);
	return *tmp;
}

/* ctl_json_set_str - see ctl_json.h */
void
ctl_json_set_str(JsonObject *o, const char *name, const char *s)
{
	char	*tmp;

	if (s == NULL) {
		json_object_set_null_member(o, name);
		return;
	}
	json_object_set_string_member(o, name, ctl_json_utf8(s, &tmp));
	g_free(tmp);
}

/* ctl_json_add_str - see ctl_json.h */
void
ctl_json_add_str(JsonBuilder *b, const char *s)
{
	char	*tmp;

	if (s == NULL) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_add_string_value(b, ctl_json_utf8(s, &tmp));
	g_free(tmp);
}

/* root's text, a newline, to fp (the caller still owns root). */
static void
json_write(FILE *fp, JsonNode *root)
{
	JsonGenerator	*gen = json_generator_new();
	GString		*buf = g_string_new(NULL);

	jsontext_append(gen, root, buf);
	g_string_append_c(buf, '\n');
	fwrite(buf->str, 1, buf->len, fp);
	g_string_free(buf, TRUE);
	g_object_unref(gen);
}

/*
 * ctl_json_print - the document b built, as one line
 *
 * Arguments: fp; b, complete (every object and array ended), unref'd.
 */
void
ctl_json_print(FILE *fp, JsonBuilder *b)
{
	JsonNode	*root = json_builder_get_root(b);

	if (root != NULL) {
		json_write(fp, root);
		json_node_unref(root);
	}
	g_object_unref(b);
}

/* The text of o, "{...}", into buf; o is unref'd. */
static void
object_text(JsonObject *o, GString *buf)
{
	JsonGenerator	*gen = json_generator_new();
	JsonNode	*node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, o);
	jsontext_append(gen, node, buf);
	json_node_unref(node);
	g_object_unref(gen);
}

/*
 * ctl_json_put - one object as one line
 *
 * Arguments: fp; o, unref'd.
 */
void
ctl_json_put(FILE *fp, JsonObject *o)
{
	JsonNode	*node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, o);
	json_write(fp, node);
	json_node_unref(node);
}

/*
 * ctl_json_open - the head of a document whose last member is streamed
 *
 * Arguments: fp; o, the members before it (may be empty), unref'd;
 * inner, that member's name.
 * Notes: a document holding a list of any length (rebuild, expire,
 * migrate, stats) is written as it goes, never built whole: json-glib
 * generates the head object, which is left open after its last member.
 */
void
ctl_json_open(FILE *fp, JsonObject *o, const char *inner)
{
	GString		*buf = g_string_new(NULL);
	JsonGenerator	*gen = json_generator_new();
	JsonNode	*name = json_node_init_string(json_node_alloc(), inner);

	object_text(o, buf);
	g_string_truncate(buf, buf->len - 1);		/* the final '}' */
	if (buf->len > 1)
		g_string_append_c(buf, ',');
	jsontext_append(gen, name, buf);
	g_string_append_c(buf, ':');
	fwrite(buf->str, 1, buf->len, fp);
	json_node_unref(name);
	g_object_unref(gen);
	g_string_free(buf, TRUE);
}

/*
 * ctl_json_close - the tail of a document opened by ctl_json_open()
 *
 * Arguments: fp; o, the members after the streamed one, unref'd.
 */
void
ctl_json_close(FILE *fp, JsonObject *o)
{
	GString	*buf = g_string_new(NULL);

	object_text(o, buf);
	if (buf->len > 2)
		buf->str[0] = ',';			/* the '{' */
	else
		g_string_erase(buf, 0, 1);
	g_string_append_c(buf, '\n');
	fwrite(buf->str, 1, buf->len, fp);
	g_string_free(buf, TRUE);
}

/* ---- a stream of objects of one shape ---- */

/*
 * The line writer (classify --json) builds no nodes: for `classify
 * --json` over many files, a JsonObject per line (its members' nodes,
 * their hash table) and the generator walking it cost 15% of the whole
 * process's instructions (callgrind, 613 bounces).  It writes what
 * json-glib's generator writes for the same flat object, byte for byte
 * (check_ctl compares them): the punctuation and the literals (true,
 * false, null, integers) itself; a string that holds nothing to escape
 * (no quotation mark, reverse solidus, or byte below 0x20 or 0x7f, as
 * json-glib 1.6 escapes them) as it is, between quotation marks; any
 * other string through json-glib, one string node, and util/jsontext.c.
 * Strings are made valid UTF-8 first (ctl_json_utf8()).
 */
struct ctl_jline {
	GString		*buf;		/* the line so far, from its '{' */
	JsonGenerator	*gen;		/* for strings with escapes */
	JsonNode	*str;
};

/* Bytes json-glib's generator escapes in a string. */
static const bool jescape[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1,
	[0x05] = 1, [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1,
	[0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1, [0x0e] = 1,
	[0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1,
	[0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1,
	[0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* s, valid UTF-8, as a JSON string. */
static void
jstring(struct ctl_jline *jl, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0' && !jescape[*p])
		p++;
	if (*p == '\0') {
		g_string_append_c(jl->buf, '"');
		g_string_append_len(jl->buf, s,
		    (gssize)(p - (const unsigned char *)s));
		g_string_append_c(jl->buf, '"');
		return;
	}
	json_node_set_string(jl->str, s);
	jsontext_append(jl->gen, jl->str, jl->buf);
}

/* The separator and name of the next member. */
static void
jname(struct ctl_jline *jl, const char *name)
{
	g_string_append_c(jl->buf, jl->buf->len == 0 ? '{' : ',');
	jstring(jl, name);
	g_string_append_c(jl->buf, ':');
}

/* ctl_jline_new - an empty line writer (aborts without memory, as GLib) */
struct ctl_jline *
ctl_jline_new(void)
{
	struct ctl_jline *jl = g_new0(struct ctl_jline, 1);

	jl->buf = g_string_new(NULL);
	jl->gen = json_generator_new();
	jl->str = json_node_init_string(json_node_alloc(), "");
	return jl;
}

/* ctl_jline_reset - drop the members written since the last line */
void
ctl_jline_reset(struct ctl_jline *jl)
{
	g_string_truncate(jl->buf, 0);
}

/* ctl_jline_null - member name: null */
void
ctl_jline_null(struct ctl_jline *jl, const char *name)
{
	jname(jl, name);
	g_string_append(jl->buf, "null");
}

/* ctl_jline_str - member name: s as a string (UTF-8 made valid), NULL null */
void
ctl_jline_str(struct ctl_jline *jl, const char *name, const char *s)
{
	char	*tmp;

	if (s == NULL) {
		ctl_jline_null(jl, name);
		return;
	}
	jname(jl, name);
	jstring(jl, ctl_json_utf8(s, &tmp));
	g_free(tmp);
}

/* ctl_jline_int - member name: v, in json-glib's format */
void
ctl_jline_int(struct ctl_jline *jl, const char *name, gint64 v)
{
	jname(jl, name);
	g_string_append_printf(jl->buf, "%" G_GINT64_FORMAT, v);
}

/* ctl_jline_bool - member name: v */
void
ctl_jline_bool(struct ctl_jline *jl, const char *name, bool v)
{
	jname(jl, name);
	g_string_append(jl->buf, v ? "true" : "false");
}

/* ctl_jline_put - the members written since the last line, as one object
 * and a newline, to fp */
void
ctl_jline_put(struct ctl_jline *jl, FILE *fp)
{
	if (jl->buf->len == 0)
		g_string_append_c(jl->buf, '{');
	g_string_append(jl->buf, "}\n");
	fwrite(jl->buf->str, 1, jl->buf->len, fp);
	g_string_truncate(jl->buf, 0);
}

/* ctl_jline_free - the writer and what it holds */
void
ctl_jline_free(struct ctl_jline *jl)
{
	if (jl == NULL)
		return;
	g_string_free(jl->buf, TRUE);
	json_node_unref(jl->str);
	g_object_unref(jl->gen);
	g_free(jl);
}
