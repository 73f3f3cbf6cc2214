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

/* ---- a stream of objects of one shape ---- */

struct ctl_jline {
	JsonObject	*o;
	JsonNode	*root;
	JsonGenerator	*gen;
	GString		*buf;
};

/* ctl_jline_new - an empty line writer (aborts without memory, as GLib) */
struct ctl_jline *
ctl_jline_new(void)
{
	struct ctl_jline *jl = g_new0(struct ctl_jline, 1);

	jl->gen = json_generator_new();
	jl->buf = g_string_new(NULL);
	ctl_jline_reset(jl);
	return jl;
}

/* ctl_jline_reset - start again from an object without members */
void
ctl_jline_reset(struct ctl_jline *jl)
{
	if (jl->root != NULL)
		json_node_unref(jl->root);
	jl->o = json_object_new();
	jl->root = json_node_init_object(json_node_alloc(), jl->o);
	json_object_unref(jl->o);	/* the root holds it */
}

/*
 * The value node of member name, to set in place; NULL when the member
 * is missing or null, and the caller gives it a new node.  json-glib 1.6
 * frees a node's value in json_node_init_*() without forgetting it, so a
 * node is never initialised twice: a value is set in place or the node
 * replaced (json_object_set_member() keeps the member's place).
 */
static JsonNode *
jline_value(struct ctl_jline *jl, const char *name)
{
	JsonNode	*n = json_object_get_member(jl->o, name);

	return n != NULL && JSON_NODE_TYPE(n) == JSON_NODE_VALUE ? n : NULL;
}

/* ctl_jline_null - member name: null */
void
ctl_jline_null(struct ctl_jline *jl, const char *name)
{
	JsonNode	*n = json_object_get_member(jl->o, name);

	if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_NULL)
		json_object_set_member(jl->o, name,
		    json_node_init_null(json_node_alloc()));
}

/* ctl_jline_str - member name: s as a string (UTF-8 made valid), NULL null */
void
ctl_jline_str(struct ctl_jline *jl, const char *name, const char *s)
{
	JsonNode	*n;
	const char	*v;
	char		*tmp;

	if (s == NULL) {
		ctl_jline_null(jl, name);
		return;
	}
	v = ctl_json_utf8(s, &tmp);
	if ((n = jline_value(jl, name)) != NULL)
		json_node_set_string(n, v);	/* only the text is copied */
	else
		json_object_set_member(jl->o, name,
		    json_node_init_string(json_node_alloc(), v));
	g_free(tmp);
}

/* ctl_jline_int - member name: v */
void
ctl_jline_int(struct ctl_jline *jl, const char *name, gint64 v)
{
	JsonNode	*n;

	if ((n = jline_value(jl, name)) != NULL)
		json_node_set_int(n, v);
	else
		json_object_set_member(jl->o, name,
		    json_node_init_int(json_node_alloc(), v));
}

/* ctl_jline_bool - member name: v */
void
ctl_jline_bool(struct ctl_jline *jl, const char *name, bool v)
{
	JsonNode	*n;

	if ((n = jline_value(jl, name)) != NULL)
		json_node_set_boolean(n, v);
	else
		json_object_set_member(jl->o, name,
		    json_node_init_boolean(json_node_alloc(), v));
}

/* ctl_jline_put - the object as one line to fp */
void
ctl_jline_put(struct ctl_jline *jl, FILE *fp)
{
	g_string_truncate(jl->buf, 0);
	jsontext_append(jl->gen, jl->root, jl->buf);
	g_string_append_c(jl->buf, '\n');
	fwrite(jl->buf->str, 1, jl->buf->len, fp);
}

/* ctl_jline_free - the writer and what it holds */
void
ctl_jline_free(struct ctl_jline *jl)
{
	if (jl == NULL)
		return;
	json_node_unref(jl->root);
	g_object_unref(jl->gen);
	g_string_free(jl->buf, TRUE);
	g_free(jl);
}
