/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * smtpcmd.h - which SMTP command a failure answered, read from the
 * wording MTAs put around the reply: Postfix "(in reply to RCPT TO
 * command)", Exim "SMTP error from remote mail server after end of
 * data", Sendmail and Courier transcripts (">>> DATA" / "<<< 550 ..."),
 * qmail "Connected to ... but sender was rejected".  Pure.
 */
#ifndef BD_SMTPCMD_H
#define BD_SMTPCMD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * smtpcmd_find - the command a failure in text[0..n) answered
 *
 * Returns a static lower-case word: "connect" (the greeting), "helo"
 * (HELO, EHLO, LHLO), "starttls", "auth", "mail", "rcpt", "data" (DATA,
 * end of data, BDAT), or NULL when the text names none, or names
 * several different ones and rcpt (an address, or NULL) does not tell
 * which one is about it.
 */
const char *smtpcmd_find(const char *text, size_t n, const char *rcpt);

#define SMTPCMD_MAX_MARKS	32	/* command mentions remembered */

/* The command mentions of one text, read once (private to smtpcmd.c). */
struct smtpcmd_marks {
	size_t		 n;
	struct smtpcmd_mark {
		size_t		 pos;
		const char	*cmd;
		size_t		 from, to;	/* transcript: command line
						   to reply */
		bool		 transcript;
	}		 m[SMTPCMD_MAX_MARKS];
};

/*
 * smtpcmd_scan - read the command mentions of text[0..n) into *ms once,
 * for smtpcmd_pick() to answer for each recipient of a bounce without
 * reading the whole text again.
 */
void smtpcmd_scan(const char *text, size_t n, struct smtpcmd_marks *ms);
/*
 * smtpcmd_pick - smtpcmd_find(text, n, rcpt) from the marks that
 * smtpcmd_scan() read from the same text
 */
const char *smtpcmd_pick(const char *text, size_t n,
    const struct smtpcmd_marks *ms, const char *rcpt);

/* smtpcmd_word - the static word for a command name (any case), or NULL */
const char *smtpcmd_word(const char *name);
/* smtpcmd_index - 0..SMTPCMD_N-1 for a word smtpcmd_find() returns, or -1 */
int smtpcmd_index(const char *word);
#define SMTPCMD_N	7

#endif
