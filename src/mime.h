/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.h - a thin GMime 3 wrapper: one message in, a flat list of
 * decoded parts out.  Used by the bounce parser only.
 */
#ifndef BD_MIME_H
#define BD_MIME_H

#include "bd.h"

#define MIME_TYPE_MAX	64
#define MIME_MAX_PARTS	64	/* leaf parts kept per message */
#define MIME_MAX_DEPTH	8	/* nesting of multiparts and messages */

/* Defects (same bit values as DSN_DEFECT_MIME / DSN_DEFECT_8BIT). */
#define MIME_DEFECT_MIME	0x02
#define MIME_DEFECT_8BIT	0x20

struct mime_part {
	char		 type[MIME_TYPE_MAX];	/* "text/plain", lower-case */
	char		*text;		/* decoded content, NUL-terminated; UTF-8
					   for text parts; NULL for an enclosed
					   message and for text inside one */
	size_t		 len;
	unsigned	 depth;		/* enclosing messages: 0 = the bounce */
	void		*msg;		/* enclosed GMimeMessage for message/rfc822
					   and text/rfc822-headers, else NULL */
};

struct mime_doc {
	void		*msg;		/* the GMimeMessage */
	char		*report_type;	/* multipart/report report-type, lower-case */
	char		*top_type;	/* top-level Content-Type, lower-case */
	struct mime_part parts[MIME_MAX_PARTS];
	size_t		 nparts;
	unsigned	 defects;
};

/* mime_init - once per process: g_mime_init and shared parser options */
void mime_init(void);
/* mime_shutdown - at exit */
void mime_shutdown(void);
/* mime_open - parse len bytes into doc; BD_OK, BD_ENOMEM or BD_EPARSE */
enum bd_status mime_open(const char *p, size_t len, size_t max_text,
    struct mime_doc *doc);
/* mime_close - release everything mime_open made */
void mime_close(struct mime_doc *doc);
/* mime_header - decoded value of a header of msg (NULL: the top message) */
const char *mime_header(const struct mime_doc *doc, void *msg,
    const char *name);
/* mime_message_id - Message-ID of msg without brackets, or NULL */
const char *mime_message_id(void *msg);
/* mime_date - unix seconds of an RFC 5322 date, 0 if invalid */
int64_t mime_date(const char *s);
/* mime_to_utf8 - malloc'd UTF-8 copy of n bytes in charset cs (NULL: guess) */
char *mime_to_utf8(const char *s, size_t n, const char *cs);

#endif
