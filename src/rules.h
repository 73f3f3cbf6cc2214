/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules.h - classification rules as data: a compiled, immutable,
 * reference-counted table loaded from a rules file (bounced.rules(5)).
 * Pure: no logging.
 */
#ifndef BD_RULES_H
#define BD_RULES_H

#include "bd.h"

struct rules;

/*
 * rules_parse - compile rules from text; name is used in "name:line".
 * On error returns BD_ECONFIG (or BD_ENOMEM) and writes "name:line: why"
 * into err.  *out has one reference.
 */
enum bd_status rules_parse(const char *name, const char *text, size_t len,
    struct rules **out, char *err, size_t errlen);
/* rules_load - rules_parse() of a file; path used as the name */
enum bd_status rules_load(const char *path, struct rules **out,
    char *err, size_t errlen);
/* rules_default - the rules compiled into the program (etc/bounced.rules) */
enum bd_status rules_default(struct rules **out, char *err, size_t errlen);
/* rules_ref - take a reference (thread-safe) */
struct rules *rules_ref(struct rules *r);
/* rules_unref - drop a reference, free at zero; NULL is fine */
void rules_unref(struct rules *r);
/* rules_count - number of rules, for the reload log line */
size_t rules_count(const struct rules *r);

#endif
