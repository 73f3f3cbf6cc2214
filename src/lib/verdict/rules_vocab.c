/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules_vocab.c - the vocabulary of bounce reasons and the default
 * handling of each: whether the address itself is bad (hard), who can
 * act, what to do, and the RFC 3463 subject.detail used to derive a
 * status when the report carried none (RFC 3463 sections 3.1-3.8).
 *
 * Pure: a constant table, no I/O, no logging.  Rules files name reasons
 * only from this table; bounced.rules(5) documents every word.
 */
#include <stddef.h>
#include <strings.h>

#include "verdict/rules.h"

#define R_RCPT	EV_WHO_RECIPIENT
#define R_SEND	EV_WHO_SENDER
#define R_BOTH	EV_WHO_BOTH
#define R_NONE	EV_WHO_NONE

static const struct rules_reason vocab[] = {
	/* The address itself. */
	{ "userunknown", RULES_HARD, R_RCPT, EV_ADV_SUPPRESS, false, "1.1",
	    "the mailbox does not exist" },
	/* A name lookup that failed in a transient (4) class may succeed
	 * later: hard only when permanent. */
	{ "hostunknown", RULES_HARD_PERM, R_RCPT, EV_ADV_SUPPRESS, false,
	    "1.2",
	    "the recipient's domain does not exist or has no mail host" },
	{ "hasmoved", RULES_HARD, R_RCPT, EV_ADV_SUPPRESS, false, "1.6",
	    "the mailbox moved and no forwarding address is kept" },
	{ "notaccept", RULES_HARD_PERM, R_RCPT, EV_ADV_SUPPRESS, false, "1.10",
	    "the domain accepts no mail (null MX)" },
	/* The recipient's mailbox or system, usually temporary. */
	{ "mailboxfull", RULES_SOFT, R_RCPT, EV_ADV_RETRY, false, "2.2",
	    "the mailbox is full" },
	{ "suspend", RULES_SOFT, R_RCPT, EV_ADV_RETRY, false, "2.1",
	    "the mailbox is disabled or suspended" },
	{ "filtered", RULES_SOFT, R_RCPT, EV_ADV_INVESTIGATE, false, "2.0",
	    "the recipient's filter or preferences refused the message" },
	{ "exceedlimit", RULES_SOFT, R_BOTH, EV_ADV_FIX_CONTENT, true, "2.3",
	    "the message exceeds the recipient's size limit" },
	{ "systemerror", RULES_SOFT, R_RCPT, EV_ADV_RETRY, false, "3.0",
	    "the receiving system failed" },
	{ "systemfull", RULES_SOFT, R_RCPT, EV_ADV_RETRY, false, "3.1",
	    "the receiving system is out of storage" },
	{ "mailererror", RULES_SOFT, R_RCPT, EV_ADV_INVESTIGATE, false, "3.0",
	    "the local delivery agent (program, pipe) failed" },
	{ "networkerror", RULES_SOFT, R_BOTH, EV_ADV_RETRY, false, "4.0",
	    "network or DNS trouble, routing loop" },
	{ "expired", RULES_SOFT, R_BOTH, EV_ADV_RETRY, false, "4.7",
	    "delivery time expired while the message was queued" },
	/* The sender: never moves an address. */
	{ "mesgtoobig", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true, "3.4",
	    "the message is larger than the receiving system accepts" },
	{ "toomanyconn", RULES_SOFT, R_SEND, EV_ADV_SLOW_DOWN, true, "4.5",
	    "too many connections or recipients at once" },
	{ "speeding", RULES_SOFT, R_SEND, EV_ADV_SLOW_DOWN, true, "7.1",
	    "sending rate limited" },
	{ "blocked", RULES_SOFT, R_SEND, EV_ADV_INVESTIGATE, true, "7.1",
	    "the sending IP or host is blocked (block list, banned)" },
	{ "badreputation", RULES_SOFT, R_SEND, EV_ADV_SLOW_DOWN, true, "7.1",
	    "the sending IP or domain has a poor reputation" },
	{ "requireptr", RULES_SOFT, R_SEND, EV_ADV_FIX_AUTH, true, "7.25",
	    "the sending IP lacks valid reverse DNS" },
	{ "authfailure", RULES_SOFT, R_SEND, EV_ADV_FIX_AUTH, true, "7.26",
	    "SPF, DKIM or DMARC checks failed" },
	{ "securityerror", RULES_SOFT, R_SEND, EV_ADV_FIX_AUTH, true, "7.0",
	    "authentication or another security requirement was not met" },
	{ "failedstarttls", RULES_SOFT, R_SEND, EV_ADV_FIX_AUTH, true, "7.10",
	    "TLS was required and could not be negotiated" },
	{ "spamdetected", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true, "7.1",
	    "the message was judged to be spam" },
	{ "virusdetected", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true, "7.1",
	    "the message was judged to carry malware" },
	{ "policyviolation", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true,
	    "7.0", "the message broke the receiving site's policy" },
	{ "contenterror", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true, "6.0",
	    "the content could not be converted or is invalid" },
	{ "notcompliantrfc", RULES_SOFT, R_SEND, EV_ADV_FIX_CONTENT, true,
	    "7.1", "the message is not RFC 5322 compliant" },
	{ "rejected", RULES_SOFT, R_SEND, EV_ADV_INVESTIGATE, true, "1.8",
	    "the envelope sender was refused" },
	{ "norelaying", RULES_SOFT, R_SEND, EV_ADV_INVESTIGATE, true, "7.1",
	    "the host refused to relay" },
	{ "syntaxerror", RULES_SOFT, R_SEND, EV_ADV_INVESTIGATE, true, "5.2",
	    "a command was malformed or out of sequence" },
	/* Neither side is known; keep watching. */
	{ "onhold", RULES_SOFT, R_NONE, EV_ADV_INVESTIGATE, false, "0.0",
	    "the failure could not be decided yet" },
	{ "undefined", RULES_SOFT, R_NONE, EV_ADV_INVESTIGATE, false, "0.0",
	    "no rule recognised the failure" },
	/* Not failures. */
	{ "delivered", RULES_SOFT, R_NONE, EV_ADV_NONE, false, "0.0",
	    "the message was delivered or relayed" },
	{ "feedback", RULES_SOFT, R_RCPT, EV_ADV_SUPPRESS, false, "0.0",
	    "a complaint (ARF feedback report)" },
	{ "vacation", RULES_SOFT, R_NONE, EV_ADV_NONE, false, "0.0",
	    "an automatic reply (vacation, out of office)" },
};
#define NVOCAB	(sizeof(vocab) / sizeof(vocab[0]))

/*
 * rules_reason_lookup - the vocabulary entry of a reason word
 *
 * Arguments: word, compared without regard to case.
 * Returns the static entry, or NULL when word is not in the vocabulary.
 */
const struct rules_reason *
rules_reason_lookup(const char *word)
{
	size_t	 i;

	if (word == NULL)
		return NULL;
	/* The usual case: one of our own pointers. */
	for (i = 0; i < NVOCAB; i++)
		if (word == vocab[i].word)
			return &vocab[i];
	for (i = 0; i < NVOCAB; i++)
		if (strcasecmp(word, vocab[i].word) == 0)
			return &vocab[i];
	return NULL;
}

/*
 * rules_reason_at - walk the vocabulary
 *
 * Arguments: i, 0-based.
 * Returns the i-th entry, or NULL past the end.
 */
const struct rules_reason *
rules_reason_at(size_t i)
{
	return i < NVOCAB ? &vocab[i] : NULL;
}
