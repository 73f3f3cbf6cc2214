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

/* smtpcmd_word - the static word for a command name (any case), or NULL */
const char *smtpcmd_word(const char *name);
/* smtpcmd_index - 0..SMTPCMD_N-1 for a word smtpcmd_find() returns, or -1 */
int smtpcmd_index(const char *word);
#define SMTPCMD_N	7

#endif
