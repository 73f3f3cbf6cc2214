/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.h - the little JSON writing bounced needs (bouncectl --json).
 */
#ifndef BD_JSON_H
#define BD_JSON_H

#include <stdio.h>

#include "util/bd.h"

/* json_string - write s (NULL -> null) as a JSON string, escaping controls
 * and replacing invalid UTF-8 with U+FFFD so the output always parses */
void json_string(FILE *fp, const char *s);
/* json_key - write ,"key": (the comma unless *first; clears *first) */
void json_key(FILE *fp, const char *key, bool *first);

#endif
