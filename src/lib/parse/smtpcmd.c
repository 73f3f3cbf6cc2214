/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * smtpcmd.c - which SMTP command (RFC 5321 section 4.1.1) a failure
 * answered, read from the text a bounce puts around the reply:
 *	Postfix	"... (in reply to RCPT TO command)",
 *		"(in reply to end of DATA command)"
 *	Exim	"SMTP error from remote mail server after MAIL FROM:<..>",
 *		"after end of data", "after initial connection"
 *	Sendmail, Courier, transcripts: ">>> DATA" then "<<< 550 ..."
 *	qmail	"Connected to ... but sender was rejected", "Failed after
 *		I sent the message", "... does not like recipient."
 *	GMX	"SMTP error from remote server after RCPT command"
 *	others	"SMTP:RCPT host mx.example: 553 ..."
 *	m-FILTER "-------SMTP command" followed by "DATA"
 * The classifier needs it: "User unknown" in reply to RCPT is a missing
 * mailbox, the same words after DATA are a filter's refusal, and after
 * MAIL FROM they are about the sender.
 *
 * Pure: no I/O, no logging, no allocation; one bounded linear pass over
 * the text (smtpcmd_scan(), once per bounce however many recipients it
 * has) plus, when several commands are named, a bounded search for each
 * recipient (smtpcmd_pick()).  It must not guess: prose that only resembles a
 * command ("after data was lost") does not count.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "parse/smtpcmd.h"
#include "util/strci.h"

#define MAX_MARKS	SMTPCMD_MAX_MARKS
#define NEAR		1024	/* bytes after a recipient a mention counts */

static const char *const cmd_words[] = {
	"connect", "helo", "starttls", "auth", "mail", "rcpt", "data", NULL
};

/* A command mention: where, which, and the transcript lines it spans. */
#define mark	smtpcmd_mark

static bool
is_sp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Does t[i..n) start with the words of pat (lower case; one space in
 * pat matches any run of white space)?  Returns the index after the
 * match, or 0.  A match must end at a word boundary.
 */
static size_t
words_at(const char *t, size_t i, size_t n, const char *pat)
{
	const unsigned char *u = (const unsigned char *)t;

	for (; *pat != '\0'; pat++) {
		if (*pat == ' ') {
			if (i >= n || !is_sp(u[i]))
				return 0;
			while (i < n && is_sp(u[i]))
				i++;
			continue;
		}
		if (i >= n || tolower(u[i]) != (unsigned char)*pat)
			return 0;
		i++;
	}
	if (i < n && isalnum(u[i]) && isalnum((unsigned char)pat[-1]))
		return 0;
	return i;
}

/* Skip white space from i. */
static size_t
skip_sp(const char *t, size_t i, size_t n)
{
	while (i < n && is_sp((unsigned char)t[i]))
		i++;
	return i;
}

struct cmd_name {
	const char	*words;
	const char	*cmd;
};

/* Command names as written after "in reply to", "after", ">>>". */
static const struct cmd_name names[] = {
	{ "rcpt to", "rcpt" },
	{ "pipelined rcpt to", "rcpt" },
	{ "rcpt", "rcpt" },
	{ "mail from", "mail" },
	{ "pipelined mail from", "mail" },
	{ "end of data", "data" },
	{ "pipelined end of data", "data" },
	{ "end of message", "data" },
	{ "data", "data" },
	{ "bdat", "data" },
	{ "ehlo", "helo" },
	{ "helo", "helo" },
	{ "lhlo", "helo" },
	{ "starttls", "starttls" },
	{ "auth", "auth" },
	{ "initial connection", "connect" },
	{ "initial greeting", "connect" },
	{ "greeting", "connect" },
	{ "sending data block", "data" },
	{ NULL, NULL }
};

/* Is t[i..e) written in capitals, as a command verb is? */
static bool
upper(const char *t, size_t i, size_t e)
{
	for (; i < e; i++)
		if (islower((unsigned char)t[i]))
			return false;
	return true;
}

/*
 * The command named at t[i..n); *end gets the index after it.  With
 * strict (after "after", which prose uses too), a one-word command
 * counts only in capitals ("after DATA", not "after data was read").
 */
static const char *
cmd_at(const char *t, size_t i, size_t n, bool transcript, bool strict,
    size_t *end)
{
	size_t	 k, e;

	i = skip_sp(t, i, n);
	if (transcript) {
		/* ">>> RCPT To:<a>", ">>> MAIL From:<>", ">>> ." */
		if (words_at(t, i, n, "rcpt") != 0)
			return "rcpt";
		if (words_at(t, i, n, "mail") != 0)
			return "mail";
		if (i < n && t[i] == '.' && (i + 1 == n || is_sp(
		    (unsigned char)t[i + 1])))
			return "data";
	}
	for (k = 0; names[k].words != NULL; k++)
		if ((e = words_at(t, i, n, names[k].words)) != 0) {
			if (strict && strchr(names[k].words, ' ') == NULL &&
			    !upper(t, i, e))
				continue;
			*end = e;
			return names[k].cmd;
		}
	return NULL;
}

/* Index of the start of the line holding t[i]. */
static size_t
line_start(const char *t, size_t i)
{
	while (i > 0 && t[i - 1] != '\n')
		i--;
	return i;
}

/* Index of the end (the '\n' or n) of the line holding t[i]. */
static size_t
line_end(const char *t, size_t i, size_t n)
{
	const char *e = memchr(t + i, '\n', n - i);

	return e != NULL ? (size_t)(e - t) : n;
}

/* The first match of s in t[from..to), ignoring case, or (size_t)-1. */
static size_t
ci_find(const char *t, size_t from, size_t to, const char *s)
{
	const char	*p;

	if (from > to || (p = strci_find(t + from, to - from, s)) == NULL)
		return (size_t)-1;
	return (size_t)(p - t);
}

/* qmail-remote's sentences (the command is implied). */
static const struct cmd_name qmail[] = {
	{ "but greeting failed", "connect" },
	{ "but my name was rejected", "helo" },
	{ "but sender was rejected", "mail" },
	{ "failed after i sent the message", "data" },
	{ "failed on data command", "data" },
	{ "does not like recipient", "rcpt" },
	{ NULL, NULL }
};

/* A transcript block: a ">>>" command and the replies read after it. */
struct block {
	const char	*cmd;
	size_t		 line;		/* offset of the ">>>" line */
	size_t		 first;		/* its first mark */
	unsigned	 replies;	/* replies read (any code) */
	bool		 last_failed;	/* the last reply made a mark */
	int		 cont;		/* code of an unfinished "NNN-" reply */
};

/*
 * Close a block.  With PIPELINING (RFC 2920) Sendmail logs only the last
 * command it sent (">>> DATA") and then the replies to all of them: the
 * last reply answers DATA, the failures before it answered RCPT TO.
 */
static void
block_end(struct block *b, struct mark *m, size_t nm)
{
	size_t	 k, last;

	if (b->cmd != NULL && strcmp(b->cmd, "data") == 0 &&
	    b->replies >= 2) {
		last = b->last_failed ? nm - 1 : nm;
		for (k = b->first; k < last; k++)
			m[k].cmd = "rcpt";
	}
	memset(b, 0, sizeof(*b));
}

/* A transcript line at t[i] ("<<< " or ">>> "); may add a mark. */
static size_t
transcript_line(const char *t, size_t i, size_t n, struct block *b,
    struct mark *m, size_t nm)
{
	size_t	 e, k;
	int	 code;

	if (t[i] == '>') {
		block_end(b, m, nm);
		b->cmd = cmd_at(t, i + 4, n, true, false, &e);
		b->line = i;
		b->first = nm;
		return nm;
	}
	e = skip_sp(t, i + 4, n);
	if (e + 4 > n || t[e] < '2' || t[e] > '5' ||
	    !isdigit((unsigned char)t[e + 1]) ||
	    !isdigit((unsigned char)t[e + 2]))
		return nm;
	code = (t[e] - '0') * 100 + (t[e + 1] - '0') * 10 + (t[e + 2] - '0');
	if (b->cont == code) {
		/* a continuation line of the same reply */
		if (t[e + 3] != '-')
			b->cont = 0;
		return nm;
	}
	b->cont = t[e + 3] == '-' ? code : 0;
	b->replies++;
	b->last_failed = false;
	if (t[e] != '4' && t[e] != '5')
		return nm;
	k = nm;
	m[k].pos = i;
	m[k].cmd = b->cmd != NULL ? b->cmd : b->replies == 1 &&
	    b->line == 0 && nm == 0 ? "connect" : NULL;
	if (m[k].cmd == NULL)
		return nm;
	m[k].from = b->cmd != NULL ? b->line : i;
	m[k].to = line_end(t, i, n);
	m[k].transcript = true;
	b->last_failed = true;
	return nm + 1;
}

/*
 * The bytes collect() stops at: a line end, a blank, the '>' and '<' of
 * a transcript, and the first letters of its phrases ("in reply to",
 * "after", "smtp", qmail's "but", "does", "failed"); everything else is
 * C_OTHER and only ends a line's indentation.
 */
enum { C_OTHER, C_BLANK, C_ANGLE, C_NL, C_LETTER };	/* in this order */

static const unsigned char ctab[256] = {
	['\n'] = C_NL, [' '] = C_BLANK, ['\t'] = C_BLANK,
	['<'] = C_ANGLE, ['>'] = C_ANGLE,
	['a'] = C_LETTER, ['b'] = C_LETTER, ['d'] = C_LETTER,
	['f'] = C_LETTER, ['i'] = C_LETTER, ['s'] = C_LETTER,
	['A'] = C_LETTER, ['B'] = C_LETTER, ['D'] = C_LETTER,
	['F'] = C_LETTER, ['I'] = C_LETTER, ['S'] = C_LETTER,
};

/*
 * The command named by a phrase that starts at t[i] (its first letter),
 * or NULL: "in reply to RCPT TO", "after RCPT TO", "SMTP command: DATA",
 * "SMTP:RCPT", and qmail's fixed phrases.
 */
static const char *
phrase_at(const char *t, size_t i, size_t n)
{
	const char	*cmd = NULL;
	unsigned char	 c = (unsigned char)t[i];
	size_t		 e, k;

	switch (c | 0x20) {
	case 'i':
		if (i + 1 < n && (t[i + 1] | 0x20) == 'n' &&
		    (e = words_at(t, i, n, "in reply to")) != 0)
			cmd = cmd_at(t, e, n, false, false, &e);
		break;
	case 'a':
		if ((i == 0 || !isalnum((unsigned char)t[i - 1])) &&
		    (e = words_at(t, i, n, "after")) != 0 &&
		    e < n && is_sp((unsigned char)t[e]))
			cmd = cmd_at(t, e, n, false, true, &e);
		break;
	case 's':
		if (i > 0 && isalnum((unsigned char)t[i - 1]))
			break;
		/* m-FILTER: "-------SMTP command" then "DATA" */
		if ((e = words_at(t, i, n, "smtp command")) != 0) {
			while (e < n && (t[e] == '-' || t[e] == ':' ||
			    t[e] == '=' || is_sp((unsigned char)t[e])))
				e++;
			cmd = cmd_at(t, e, n, false, false, &e);
		} else if ((e = words_at(t, i, n, "smtp:")) != 0)
			/* "SMTP:RCPT host mx.example: 553 ..." */
			cmd = cmd_at(t, e, n, false, true, &e);
		break;
	case 'b':
	case 'd':
	case 'f':
		if (i > 0 && isalnum((unsigned char)t[i - 1]))
			break;
		for (k = 0; qmail[k].words != NULL && cmd == NULL;
		    k++)
			if ((c | 0x20) == qmail[k].words[0] &&
			    words_at(t, i, n, qmail[k].words) != 0)
				cmd = qmail[k].cmd;
		break;
	}
	return cmd;
}

/* Collect the command mentions of t[0..n) into m; returns how many. */
static size_t
collect(const char *t, size_t n, struct mark *m)
{
	struct block	 b;
	size_t		 nm = 0, i;
	bool		 bol = true;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < n && nm < MAX_MARKS; i++) {
		unsigned char c;
		const char *cmd;

		/* Within a line only a phrase's first letter matters. */
		if (!bol)
			while (i < n && ctab[(unsigned char)t[i]] < C_NL)
				i++;
		if (i == n)
			break;
		c = (unsigned char)t[i];
		switch (ctab[c]) {
		case C_OTHER:
			bol = false;
			continue;
		case C_NL:
			bol = true;
			continue;
		case C_BLANK:
			continue;	/* indentation, or between words */
		case C_ANGLE:
			if (bol && i + 4 <= n && t[i + 1] == c &&
			    t[i + 2] == c && t[i + 3] == ' ')
				nm = transcript_line(t, i, n, &b, m, nm);
			bol = false;
			continue;
		}
		bol = false;
		cmd = phrase_at(t, i, n);
		if (cmd != NULL) {
			m[nm].pos = i;
			m[nm].cmd = cmd;
			m[nm].from = m[nm].to = i;
			m[nm].transcript = false;
			nm++;
		}
	}
	block_end(&b, m, nm);
	return nm;
}

/*
 * smtpcmd_scan - read the command mentions of a text once
 *
 * Arguments: text (need not be NUL-terminated), n its length; ms
 * receives the mentions (at most SMTPCMD_MAX_MARKS).
 * Notes: one bounded linear pass; see smtpcmd_pick().
 */
void
smtpcmd_scan(const char *text, size_t n, struct smtpcmd_marks *ms)
{
	ms->n = text != NULL && n > 0 ? collect(text, n, ms->m) : 0;
}

/*
 * smtpcmd_pick - the command a failure answered, from scanned mentions
 *
 * Arguments: text and n, as given to smtpcmd_scan(); ms, what it read;
 * rcpt, the recipient's address or NULL.
 * Returns a static word ("connect", "helo", "starttls", "auth", "mail",
 * "rcpt", "data") or NULL.
 * Notes: when the text names one command, or names several that agree,
 * that is the answer.  Otherwise a transcript reply that quotes rcpt
 * decides, else the first mention that follows rcpt (within NEAR
 * bytes), else there is no answer.
 */
const char *
smtpcmd_pick(const char *text, size_t n, const struct smtpcmd_marks *ms,
    const char *rcpt)
{
	const struct mark *m = ms->m;
	size_t		 nm = ms->n, k, rl, p, ls;
	bool		 agree = true;

	if (nm == 0)
		return NULL;
	for (k = 1; k < nm; k++)
		if (m[k].cmd != m[0].cmd)
			agree = false;
	if (agree)
		return m[0].cmd;
	if (rcpt == NULL || (rl = strlen(rcpt)) < 3)
		return NULL;
	for (k = 0; k < nm; k++)
		if (m[k].transcript && ci_find(text, m[k].from, m[k].to,
		    rcpt) != (size_t)-1)
			return m[k].cmd;
	/* The first mention that follows a mention of rcpt. */
	for (p = ci_find(text, 0, n, rcpt); p != (size_t)-1;
	    p = ci_find(text, p + rl, n, rcpt)) {
		ls = line_start(text, p);
		for (k = 0; k < nm; k++)
			if (m[k].pos >= ls && m[k].pos < p + rl + NEAR)
				return m[k].cmd;
	}
	return NULL;
}

/*
 * smtpcmd_find - the command a failure in text[0..n) answered
 *
 * Arguments: text (need not be NUL-terminated), n its length; rcpt,
 * the recipient's address or NULL.
 * Returns a static word or NULL, as smtpcmd_pick().
 * Notes: smtpcmd_scan() and smtpcmd_pick() in one; for several
 * recipients of one text, call those instead.
 */
const char *
smtpcmd_find(const char *text, size_t n, const char *rcpt)
{
	struct smtpcmd_marks	 ms;

	if (text == NULL || n == 0)
		return NULL;
	smtpcmd_scan(text, n, &ms);
	return smtpcmd_pick(text, n, &ms, rcpt);
}

/*
 * smtpcmd_word - the static spelling of a command word
 *
 * Arguments: name, e.g. "RCPT" (any case).
 * Returns the static word from the list smtpcmd_find() returns, or NULL.
 */
const char *
smtpcmd_word(const char *name)
{
	size_t	 k;

	if (name == NULL)
		return NULL;
	for (k = 0; cmd_words[k] != NULL; k++)
		if (strcasecmp(name, cmd_words[k]) == 0)
			return cmd_words[k];
	return NULL;
}

/*
 * smtpcmd_index - a small number for a command word
 *
 * Arguments: word, any case, or NULL.
 * Returns 0 .. SMTPCMD_N - 1 in the order connect, helo, starttls,
 * auth, mail, rcpt, data; -1 for NULL or another word.
 */
int
smtpcmd_index(const char *word)
{
	int	 k;

	if (word == NULL)
		return -1;
	for (k = 0; cmd_words[k] != NULL; k++)
		if (word == cmd_words[k])
			return k;
	for (k = 0; cmd_words[k] != NULL; k++)
		if (strcasecmp(word, cmd_words[k]) == 0)
			return k;
	return -1;
}
