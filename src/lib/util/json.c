/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - JSON string output for bouncectl.  Diagnostic texts come from
 * hostile peers and may hold any byte: the writer must always produce
 * valid JSON (RFC 8259 section 7), whatever it is given.
 */
#include <stdio.h>

#include "util/json.h"

/* Length of a valid UTF-8 sequence at p (RFC 3629), or 0 if invalid. */
static size_t
utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (p[0] == 0xed && p[1] >= 0xa0)
			return 0;	/* surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (p[0] == 0xf0 && p[1] < 0x90)
			return 0;
		if (p[0] == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * json_string - write s as a JSON string literal
 *
 * NULL is written as null.  Control bytes are escaped; bytes that are
 * not valid UTF-8 become U+FFFD.
 */
void
json_string(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	while (*p) {
		/* plain ASCII needs no escape: written in one run */
		for (n = 0; p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' &&
		    p[n] != '\\'; n++)
			;
		if (n > 0) {
			fwrite(p, 1, n, fp);
			p += n;
			continue;
		}
		switch (*p) {
		case '"':  fputs("\\\"", fp); p++; continue;
		case '\\': fputs("\\\\", fp); p++; continue;
		case '\n': fputs("\\n", fp); p++; continue;
		case '\r': fputs("\\r", fp); p++; continue;
		case '\t': fputs("\\t", fp); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p);
			p++;
			continue;
		}
		if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", fp);
			p++;
			continue;
		}
		fwrite(p, 1, n, fp);
		p += n;
	}
	putc('"', fp);
}

void
json_key(FILE *fp, const char *key, bool *first)
{
	if (!*first)
		putc(',', fp);
	*first = false;
	json_string(fp, key);
	putc(':', fp);
}
