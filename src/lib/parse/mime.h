/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime.h - a thin GMime 3 wrapper: one message in, a flat list of
 * decoded parts out.  Used by the bounce parser only.
 */
#ifndef BD_MIME_H
#define BD_MIME_H

#include "util/bd.h"

#define MIME_TYPE_MAX	64
#define MIME_MAX_PARTS	64	/* leaf parts kept per message */
#define MIME_MAX_DEPTH	8	/* nesting of multiparts and messages */
/*
 * Lines starting with "--" (boundary delimiters, RFC 2046 section 5.1.1)
 * that GMime is given per parse: the input is cut before the next one.
 * GMime builds an object tree of every part before we walk it, so this
 * is what bounds the parts and the nesting it makes (100,000 tiny parts
 * in 1 MB cost 130 MB and 3.5 s; issue 11).  A bounce needs three parts
 * and the headers of the returned message; the cut falls in the
 * returned message's body in all but hostile input.
 */
#define MIME_MAX_DELIMS	256

/* Defects (same bit values as DSN_DEFECT_MIME / 8BIT / PARTS). */
#define MIME_DEFECT_MIME	0x02
#define MIME_DEFECT_8BIT	0x20
#define MIME_DEFECT_PARTS	0x40	/* cut at MIME_MAX_DELIMS */

struct mime_field;

struct mime_part {
	char		 type[MIME_TYPE_MAX];	/* "text/plain", lower-case */
	char		*text;		/* decoded content, NUL-terminated;
					   UTF-8 for text parts; NULL for an
					   enclosed message and for text
					   inside one */
	size_t		 len;
	unsigned	 depth;		/* enclosing messages: 0 = the bounce */
	bool		 message;	/* an enclosed message (message/rfc822,
					   message/global ...) or header block
					   (text/rfc822-headers): see
					   mime_part_header() */
	/* The rest is private to mime.c. */
	const char	*raw;		/* the enclosed message's bytes */
	size_t		 rawlen;
	char		*rawbuf;	/* raw, when it had to be decoded */
	bool		 html;		/* text/html of the bounce, unread: */
	void		*hpart;		/* its GMimePart (GMime's path), */
	const char	*hraw;		/* or its bytes (mime_fast.c) */
	size_t		 hrawlen;
	int		 henc;
	const char	*hcs;
	bool		 expandable;	/* a message whose body may be walked */
	bool		 expanded;	/* its body parts are in the doc */
	struct mime_field *fields;	/* raw's header block, indexed at the
					   first mime_part_header() */
	size_t		 nfields;	/* at most MIME_MAX_FIELDS */
	bool		 indexed;
};

#define MIME_MAX_FIELDS	256	/* header fields of the top message indexed */

/* A header field in the input (private to mime.c). */
struct mime_field {
	const char	*name;		/* at a line start */
	size_t		 nlen;
	const char	*val;		/* after the colon, folded */
	const char	*end;		/* one past the field's last line */
	const char	*dec;		/* decoded value, once asked for */
};

struct mime_str;

struct mime_doc {
	void		*msg;		/* top GMimeObject (Content-* only) */
	void		*ba;		/* GByteArray wrapping gbuf */
	char		*gbuf;		/* GMime's input: Content-* + body */
	size_t		 glen;
	char		*report_type;	/* multipart/report report-type,
					   lower-case */
	char		*top_type;	/* top-level Content-Type, lower-case */
	size_t		 nparts;
	size_t		 max_text;	/* bytes kept per part */
	unsigned	 defects;
	struct mime_str	*strs;		/* values handed out, freed on close */
	bool		 gmime_only;	/* no fast path (tests compare) */
	size_t		 nfields;
	/* Last: only fields[0..nfields) and parts[0..nparts) are set. */
	struct mime_field fields[MIME_MAX_FIELDS]; /* top header block */
	struct mime_part parts[MIME_MAX_PARTS];
};

/* mime_init - once per process: g_mime_init and shared parser options */
void mime_init(void);
/* mime_shutdown - at exit */
void mime_shutdown(void);
/*
 * mime_open - parse len bytes into doc; BD_OK, BD_ENOMEM or BD_EPARSE.
 * p must stay valid and unchanged until mime_close (header values are
 * read in place).
 */
enum bd_status mime_open(const char *p, size_t len, size_t max_text,
    struct mime_doc *doc);
/* mime_close - release everything mime_open made */
void mime_close(struct mime_doc *doc);
/* mime_header - decoded value of a header of the top message */
const char *mime_header(struct mime_doc *doc, const char *name);
/* mime_part_header - decoded value of a header of enclosed message i */
const char *mime_part_header(struct mime_doc *doc, size_t i,
    const char *name);
/* mime_part_message_id - Message-ID of enclosed message i, no brackets */
const char *mime_part_message_id(struct mime_doc *doc, size_t i);
/* mime_expand - add the parts of the enclosed messages at depth holding
   needle (any case; NULL: all); returns the number of parts added */
size_t mime_expand(struct mime_doc *doc, unsigned depth, const char *needle);
/* mime_date - unix seconds of an RFC 5322 date, 0 if invalid */
int64_t mime_date(const char *s);
/* mime_to_utf8 - malloc'd UTF-8 copy of n bytes in charset cs (NULL: guess) */
char *mime_to_utf8(const char *s, size_t n, const char *cs);

#endif
