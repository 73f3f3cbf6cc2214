/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * classify.h - the verdict on one recipient, a pure function of its
 * status, reply code, diagnostic text and report context, under a rules
 * table.  No I/O, no clock, no logging.  The milter, bouncectl classify,
 * rules-test and the log follower all call classify().
 */
#ifndef BD_CLASSIFY_H
#define BD_CLASSIFY_H

#include "util/bd.h"
#include "parse/dsn.h"
#include "util/event.h"
#include "verdict/rules.h"

struct classify_input {
	const char	*status;	/* "x.y.z" or NULL */
	int		 reply_code;	/* 0 if none */
	const char	*diagnostic;	/* NUL-terminated raw text, or NULL */
	enum ev_action	 action;
	enum dsn_kind	 kind;		/* report/text/arf/autoreply; NONE for a log line */
	const char	*mta;		/* producing MTA hint, or NULL */
	const char	*feedback_type;	/* ARF only */
	const char	*smtp_command;	/* "rcpt", "data"... (smtpcmd.h);
					   NULL: read from the diagnostic
					   when kind is DSN_KIND_NONE */
	const char	*diagnostic_type; /* "smtp", "x-unix"..., or NULL */
	const char	*remote_mta;	/* Remote-MTA name, or NULL */
	const char	*status_comment; /* comment of the Status field,
					   or NULL: read as more text */
};

/* classify - fill *out; always succeeds (reason "undefined" at worst) */
void classify(const struct rules *rules, const struct classify_input *in,
    struct verdict *out);
/* classify_reason_word - canonical static vocabulary word, or NULL if unknown */
const char *classify_reason_word(const char *word);
/* classify_reason_sender_side - reason is about the sender, never the address */
bool classify_reason_sender_side(const char *reason);

#endif
