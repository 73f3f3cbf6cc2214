/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_text_body.c - the human-readable text of a bounce, as the text
 * reader (dsn_text.c) searches it: the top-level text parts joined
 * (text/plain, else the other text parts with HTML tags stripped),
 * capped at TEXT_MAX bytes, and where in that text the returned
 * original begins.
 *
 * It must not: log, do I/O, or grow the text (one allocation).
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/dsn_int.h"

#define TEXT_MAX	(256u << 10)	/* bytes of bounce text examined */

/*
 * Where the returned original starts in the human-readable text: a line
 * that begins (after white space and dashes) with one of these.
 */
static const char *const cut_markers[] = {
	"This is a copy of the message",
	"Below this line is a copy of the message",
	"Message headers follow",
	"Original message",
	"Returned Message",
	"The header of the original message is following",
	"Content-Type: message/rfc822",
	"The following is a copy of",
	"Below is a copy of the original message",
	"The text you sent follows",
	"The headers of your original message",
	"Unsent message follows",
	"Message header follows",
	"Non-delivered message follows",
	"Forwarded message",
	"Return-Path:",
	"Received: from",
	"Received: by",
	NULL
};

/*
 * Crude, linear tag stripping of an HTML part into o (before lim): line
 * breaks for <br>, <p>, <div> and <tr>, the four common entities; the
 * rest of the markup is dropped.  Returns where the output stopped.
 */
static char *
strip_html(const char *p, char *o, const char *lim)
{
	bool	 tag = false;

#define PUT(ch)	do { if (o < lim) *o++ = (ch); } while (0)
	for (; *p != '\0' && o < lim; p++) {
		if (*p == '<') {
			tag = true;
			if (strncasecmp(p, "<br", 3) == 0 ||
			    strncasecmp(p, "<p", 2) == 0 ||
			    strncasecmp(p, "<div", 4) == 0 ||
			    strncasecmp(p, "<tr", 3) == 0)
				PUT('\n');
		} else if (*p == '>' && tag)
			tag = false;
		else if (tag)
			continue;
		else if (*p != '&')
			PUT(*p);
		else if (strncmp(p, "&lt;", 4) == 0) {
			PUT('<');
			p += 3;
		} else if (strncmp(p, "&gt;", 4) == 0) {
			PUT('>');
			p += 3;
		} else if (strncmp(p, "&nbsp;", 6) == 0) {
			PUT(' ');
			p += 5;
		} else if (strncmp(p, "&amp;", 5) == 0) {
			PUT('&');
			p += 4;
		} else
			PUT(*p);
	}
#undef PUT
	return o;
}

/* The bounce text: depth-0 text parts, HTML stripped when nothing else. */
char *
dsn_text_body(struct dsn_ctx *c, size_t *outlen)
{
	struct mime_doc	*d = &c->doc;
	const struct mime_part *mp;
	char		*out, *o, *lim;
	size_t		 i, cap = 0;
	bool		 plain = false;

	for (i = 0; i < d->nparts; i++)
		if (d->parts[i].depth == 0 &&
		    strcmp(d->parts[i].type, "text/plain") == 0)
			plain = true;
	/* One allocation: the text never grows (tags only shrink it). */
	for (i = 0; i < d->nparts; i++) {
		mp = &d->parts[i];
		if (mp->depth == 0 && mp->text != NULL && !mp->message &&
		    (strcmp(mp->type, "text/plain") == 0 ||
		    (!plain && strncmp(mp->type, "text/", 5) == 0)))
			cap += mp->len + 2;
	}
	if (cap > TEXT_MAX)
		cap = TEXT_MAX;
	if ((out = malloc(cap + 1)) == NULL)
		return NULL;
	o = out;
	lim = out + cap;
#define PUT(ch)	do { if (o < lim) *o++ = (ch); } while (0)
	for (i = 0; i < d->nparts && o < lim; i++) {
		mp = &d->parts[i];
		if (mp->depth != 0 || mp->text == NULL || mp->message)
			continue;
		if (strcmp(mp->type, "text/plain") != 0 &&
		    (plain || strncmp(mp->type, "text/", 5) != 0))
			continue;
		if (strcmp(mp->type, "text/html") == 0)
			o = strip_html(mp->text, o, lim);
		else {
			size_t n = mp->len < (size_t)(lim - o) ? mp->len :
			    (size_t)(lim - o);

			memcpy(o, mp->text, n);
			o += n;
		}
		PUT('\n');
		PUT('\n');
	}
#undef PUT
	*o = '\0';
	*outlen = o - out;
	return out;
}

/* Offset of the start of the returned original in t, or n. */
size_t
dsn_text_cut_point(const char *t, size_t n)
{
	const char	*p = t, *end = t + n, *eol, *q;
	size_t		 i, l;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		for (q = p; q < eol && (*q == ' ' || *q == '\t' || *q == '-');
		    q++)
			;
		if (q == eol || !isalpha((unsigned char)*q))
			continue;
		for (i = 0; cut_markers[i] != NULL; i++) {
			if (toupper((unsigned char)*q) != cut_markers[i][0] &&
			    tolower((unsigned char)*q) != cut_markers[i][0])
				continue;
			l = strlen(cut_markers[i]);
			if ((size_t)(eol - q) >= l &&
			    strncasecmp(q, cut_markers[i], l) == 0)
				return p - t;
		}
	}
	return n;
}
