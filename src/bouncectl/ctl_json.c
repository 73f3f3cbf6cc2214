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
 * leaves raw.
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
	*tmp = NULL;
	if (g_utf8_validate(s, -1, NULL))
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
