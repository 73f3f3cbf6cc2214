/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsn_int.h - what the bounce parser's modules share (not a public API).
 */
#ifndef BD_DSN_PRIV_H
#define BD_DSN_PRIV_H

#include <stddef.h>
#include <string.h>

#include "parse/dsn.h"
#include "parse/mime.h"

struct dsn_ctx {
	const struct dsn_options *opt;
	struct dsn_report	*r;
	bool			 nomem;		/* an allocation failed */
	/* Last, and set up by mime_open() only (it is large). */
	struct mime_doc		 doc;
};
#define DSN_CTX_ZERO(c)	memset((c), 0, offsetof(struct dsn_ctx, doc))

/* dsn_rcpt_free - free what rc holds (not rc itself) */
void dsn_rcpt_free(struct dsn_rcpt *rc);
/* dsn_add_rcpt - a new zeroed recipient, or NULL (too many / no memory) */
struct dsn_rcpt *dsn_add_rcpt(struct dsn_ctx *c);
/* dsn_dup - trimmed copy of n bytes bounded to max (defect if cut) */
char *dsn_dup(struct dsn_ctx *c, const char *s, size_t n, size_t max);
/* dsn_set - replace *dst with dsn_dup(s, n, max) */
void dsn_set(struct dsn_ctx *c, char **dst, const char *s, size_t n,
    size_t max);
/* dsn_status_at - whether an RFC 3463 code starts at s (before end); *len */
bool dsn_status_at(const char *s, const char *end, size_t *len);
/* dsn_find_status - first x.y.z status code in s[0..n); true if found */
bool dsn_find_status(const char *s, size_t n, char *out, size_t outlen);
/* dsn_find_status2 - the same, skipping class 2 codes when skip2 */
bool dsn_find_status2(const char *s, size_t n, char *out, size_t outlen,
    bool skip2);
/* dsn_status_from_text - prefer a specific code found in text over x.0.0 */
void dsn_status_from_text(struct dsn_rcpt *rc, const char *text);
/* dsn_reply_code - SMTP reply code at the start of s, or 0 */
int dsn_reply_code(const char *s);
/* dsn_find_reply_code - first plausible SMTP reply code in s[0..n), or 0 */
int dsn_find_reply_code(const char *s, size_t n);
/* dsn_find_reply_code2 - the first reply code >= min, or 0 */
int dsn_find_reply_code2(const char *s, size_t n, int min);
/* dsn_clean_addr - strip type prefix, brackets, quotes; NULL if none */
char *dsn_clean_addr(struct dsn_ctx *c, const char *s, size_t n);
/* dsn_has_rcpt - is addr already a recipient of the report */
bool dsn_has_rcpt(const struct dsn_report *r, const char *addr);


/* dsn_text_scan - non-standard bounce: fill recipients from text */
/*
 * dsn_fields_parse - read the RFC 3464/6533 fields (or, feedback, RFC 5965
 * ones) of text t into c's report (dsn_fields.c)
 */
void dsn_fields_parse(struct dsn_ctx *c, const char *t, size_t n,
    bool feedback);
/* dsn_text_body - the bounce's text parts joined, capped; *outlen; NULL: memory */
char *dsn_text_body(struct dsn_ctx *c, size_t *outlen);
/* dsn_text_cut_point - where the returned original starts in t, or n */
size_t dsn_text_cut_point(const char *t, size_t n);
/* dsn_text_looks_bounce - From, Subject or headers of a bounce */
bool dsn_text_looks_bounce(struct dsn_ctx *c);
/* dsn_text_looks_bounce_text - bounce wording in t[0..n) */
bool dsn_text_looks_bounce_text(const char *t, size_t n);
/* dsn_text_original_id - the returned original's Message-ID in t[0..n) */
void dsn_text_original_id(struct dsn_ctx *c, const char *t, size_t n);
/* dsn_text_set_mta - name the MTA from headers and text signatures */
void dsn_text_set_mta(struct dsn_ctx *c, const char *text);
/* dsn_text_set_commands - the SMTP command each recipient failed at */
void dsn_text_set_commands(struct dsn_ctx *c, const char *t, size_t n);
void dsn_text_scan(struct dsn_ctx *c);
/* dsn_text_mta - recognise the producing MTA from headers and text */
const char *dsn_text_mta(struct dsn_ctx *c, const char *text);
/* dsn_text_arf - ARF: recipients from the returned message if none */
void dsn_text_arf(struct dsn_ctx *c);
/* dsn_text_enrich - RFC 3464 report: MTA hint, original from text */
void dsn_text_enrich(struct dsn_ctx *c);
/* dsn_json - an ESP's JSON notification in the body (dsn_json.c) */
bool dsn_json(struct dsn_ctx *c);
/* dsn_autoreply - is this an RFC 3834 auto-reply; fills a recipient */
bool dsn_autoreply(struct dsn_ctx *c);

#endif
