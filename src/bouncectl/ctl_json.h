/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_json.h - bouncectl's JSON output through json-glib (ctl_json.c):
 * strings made valid UTF-8 first, documents written to a FILE.
 */
#ifndef BD_CTL_JSON_H
#define BD_CTL_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include <json-glib/json-glib.h>

/* ctl_json_utf8 - s as valid UTF-8: s itself, or a copy in *tmp (U+FFFD
 * for each invalid byte) that the caller g_free()s */
const char *ctl_json_utf8(const char *s, char **tmp);
/* ctl_json_set_str - member name of o: s (NULL -> null), made valid */
void ctl_json_set_str(JsonObject *o, const char *name, const char *s);
/* ctl_json_add_str - a string value (NULL -> null) to b, made valid */
void ctl_json_add_str(JsonBuilder *b, const char *s);
/* ctl_json_print - b's document and a newline to fp; b is unref'd */
void ctl_json_print(FILE *fp, JsonBuilder *b);

/* ctl_json_put - o and a newline to fp; o is unref'd */
void ctl_json_put(FILE *fp, JsonObject *o);
/* ctl_json_open - o's members as the start of an object left open, then
 * the name of the member whose value the caller streams ({"a":1,"rows":);
 * o is unref'd */
void ctl_json_open(FILE *fp, JsonObject *o, const char *inner);
/* ctl_json_close - o's members after the streamed value, the object's
 * end and a newline (,"n":2}); o is unref'd */
void ctl_json_close(FILE *fp, JsonObject *o);

/*
 * A line writer for a stream of flat objects (classify --json): each
 * call appends one member, in the order called, and ctl_jline_put()
 * ends the object.  The line is the text json-glib's generator makes of
 * the same object, without the nodes that cost more than the
 * classifying (ctl_json.c).
 */
struct ctl_jline;
struct ctl_jline *ctl_jline_new(void);
void ctl_jline_reset(struct ctl_jline *jl);
void ctl_jline_str(struct ctl_jline *jl, const char *name, const char *s);
void ctl_jline_int(struct ctl_jline *jl, const char *name, gint64 v);
void ctl_jline_bool(struct ctl_jline *jl, const char *name, bool v);
void ctl_jline_null(struct ctl_jline *jl, const char *name);
void ctl_jline_put(struct ctl_jline *jl, FILE *fp);
void ctl_jline_free(struct ctl_jline *jl);

#endif
