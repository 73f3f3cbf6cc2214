/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * jsontext.c - what every JSON text we generate with json-glib passes
 * through.  json-glib 1.6 escapes control characters below U+001F but
 * writes U+001F itself raw (its test is "< 0x1f"), and RFC 8259 section
 * 7 forbids any raw control character in a string: PostgreSQL's json
 * type and strict readers refuse the text.  A raw control byte can only
 * be inside a string (the generator writes no other), so each one found
 * is escaped in place.
 *
 * Pure: no I/O, no logging.
 */
#include <string.h>

#include "util/jsontext.h"

/*
 * jsontext_mend - escape raw U+001F in generated text
 *
 * Arguments: buf, JSON text; from, where the text to mend begins.
 */
void
jsontext_mend(GString *buf, gsize from)
{
	const char	*p;

	while ((p = memchr(buf->str + from, 0x1f, buf->len - from)) != NULL) {
		from = (gsize)(p - buf->str);
		g_string_erase(buf, from, 1);
		g_string_insert(buf, from, "\\u001f");
		from += 6;
	}
}

/*
 * jsontext_append - generate one value
 *
 * Arguments: gen, reused by the caller; node, the value (the caller
 * still owns it); buf, appended to.
 */
void
jsontext_append(JsonGenerator *gen, JsonNode *node, GString *buf)
{
	gsize	 from = buf->len;

	json_generator_set_root(gen, node);
	json_generator_to_gstring(gen, buf);
	json_generator_set_root(gen, NULL);
	jsontext_mend(buf, from);
}
