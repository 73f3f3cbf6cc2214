/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_text_facts.c - what a non-standard bounce says besides its
 * recipients: whether the message is a bounce at all (From a mailer
 * daemon, a bounce Subject, bounce wording), which MTA or provider wrote
 * it (tables of literal signatures), the Message-ID of the original it
 * returns, and the SMTP command that failed.  dsn_text.c finds the
 * recipients and calls these.
 *
 * It must not: log, do I/O, or scan more than SIG_WINDOW bytes for a
 * signature.
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "parse/dsn_int.h"
#include "util/strci.h"
#include "parse/smtpcmd.h"

#define SIG_WINDOW	4096		/* bytes searched for MTA signatures */

struct sig {
	const char	*needle;	/* literal, case-insensitive */
	const char	*mta;
};

/* Signatures looked for in From, Subject and Received (in order). */
static const struct sig hdr_sigs[] = {
	{ "googlegroups.com", "googlegroups" },
	{ "amazonses.com", "amazonses" },
	{ "mailer-daemon@googlemail.com", "gmail" },
	{ "mailer-daemon@gmail.com", "gmail" },
	{ "yahoo", "yahoo" },
	{ "mail.ru", "mailru" },
	{ "gmx.", "gmx" },
	{ "ezweb.ne.jp", "ezweb" },
	{ "outlook.com", "outlook" },
	{ "hotmail.com", "outlook" },
	{ "yandex", "yandex" },
	{ "zoho", "zoho" },
	{ "verizon", "verizon" },
	{ "@vtext.com", "verizon" },	/* Verizon Wireless's gateway */
	{ NULL, NULL }
};

/* Signatures (exact case) in the first SIG_WINDOW bytes of the text. */
static const struct sig text_sigs[] = {
	/* Google Groups: sent by Gmail, in the poster's language. */
	{ "https://groups.google.com/support", "googlegroups" },
	{ "This is the mail system at host", "postfix" },
	{ "This is the qmail-send program", "qmail" },
	{ "DragonFly Mail Agent", "dragonfly" },
	{ "This message was created automatically by mail delivery software",
	    "exim" },
	{ "----- Transcript of session follows -----", "sendmail" },
	{ "The following addresses had permanent fatal errors", "sendmail" },
	{ "The original message was received at", "sendmail" },
	{ "Courier mail server", "courier" },
	{ "This is the MAILER-DAEMON, please DO NOT REPLY", "opensmtpd" },
	{ "Google tried to deliver your message", "gmail" },
	{ "Delivery to the following recipient", "gmail" },
	{ "Microsoft Exchange", "exchange" },
	{ "Lotus Domino", "domino" },
	{ "Sorry, we were unable to deliver your message", "yahoo" },
	{ NULL, NULL }
};

/* Phrases (exact case) that only bounces use, in the first text bytes. */
static const char *const bounce_phrases[] = {
	"could not be delivered", "Could not be delivered",
	"was not delivered", "delivery has failed", "Delivery has failed",
	"permanent error", "Undeliverable", "undeliverable",
	"Delivery to the following recipient", NULL
};

static bool
subject_bounce(const char *s)
{
	static const char *const words[] = { "undeliver", "undelivered",
	    "delivery", "failure", "failed", "returned", "bounce",
	    "not delivered", "rejected", "error", "non remis",
	    "unzustellbar", "could not", "warning", "mail system",
	    "notification", "problem", "unable", "nicht zugestellt",
	    "nondeliverable", "non-deliver", "no se puede", "echec",
	    "loop alert", "\xe4\xb8\x8d\xe9\x81\x94",	/* "fu-tatsu" */
	    "\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",	/* "error" */
	    NULL };
	size_t	 i, n;

	if (s == NULL)
		return false;
	n = strlen(s);
	for (i = 0; words[i] != NULL; i++)
		if (strci_has(s, n, words[i]))
			return true;
	return false;
}

static bool
from_daemon(const char *f)
{
	size_t	 n;

	if (f == NULL)
		return false;
	n = strlen(f);
	return strci_has(f, n, "mailer-daemon") ||
	    strci_has(f, n, "postmaster") ||
	    strci_has(f, n, "mail delivery") ||
	    strci_has(f, n, "mail-daemon") ||
	    strci_has(f, n, "mailer_daemon") ||
	    strci_has(f, n, "mail daemon") ||
	    strci_has(f, n, "post_master");
}

bool
dsn_text_looks_bounce_text(const char *t, size_t n)
{
	size_t	 i;

	if (n > SIG_WINDOW)
		n = SIG_WINDOW;
	for (i = 0; bounce_phrases[i] != NULL; i++)
		if (memmem(t, n, bounce_phrases[i],
		    strlen(bounce_phrases[i])) != NULL)
			return true;
	return false;
}

bool
dsn_text_looks_bounce(struct dsn_ctx *c)
{
	if (mime_header(&c->doc, "X-Failed-Recipients") != NULL)
		return true;
	if (c->doc.top_type != NULL &&
	    strcmp(c->doc.top_type, "multipart/report") == 0)
		return true;
	if (from_daemon(c->r->from))
		return true;
	if (subject_bounce(c->r->subject))
		return true;
	return false;
}

/*
 * dsn_text_mta - name the MTA or provider that wrote a bounce
 *
 * Arguments: c: context (headers); text: the bounce text or NULL.
 * Returns: static lower-case name, or NULL.
 * Notes: only literal signatures in From/Subject/Received and the first
 * SIG_WINDOW bytes of the text are looked at.
 */
const char *
dsn_text_mta(struct dsn_ctx *c, const char *text)
{
	const char	*f = c->r->from, *v;
	size_t		 i, n;

	if (text != NULL) {
		n = strnlen(text, SIG_WINDOW);
		for (i = 0; text_sigs[i].needle != NULL; i++)
			if (memmem(text, n, text_sigs[i].needle,
			    strlen(text_sigs[i].needle)) != NULL)
				return text_sigs[i].mta;
	}
	if (f != NULL) {
		n = strlen(f);
		for (i = 0; hdr_sigs[i].needle != NULL; i++)
			if (strci_has(f, n, hdr_sigs[i].needle))
				return hdr_sigs[i].mta;
	}
	if (mime_header(&c->doc, "X-Failed-Recipients") != NULL)
		return "exim";
	if ((v = mime_header(&c->doc, "X-Postfix-Queue-ID")) != NULL ||
	    (c->r->queue_id != NULL))
		return "postfix";
	return NULL;
}

/*
 * Message-ID (and campaign header) of an original returned as text, and
 * its kind: "bulk" when it names a list (List-Unsubscribe, List-Id,
 * Precedence: bulk, list or junk), else "transactional" once its
 * Message-ID is seen.
 */
void
dsn_text_original_id(struct dsn_ctx *c, const char *t, size_t n)
{
	const char	*p, *end = t + n, *eol, *pv;
	size_t		 hl;
	bool		 bulk = false;

	for (p = t; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		if (strncasecmp(p, "List-Unsubscribe:", 17) == 0 ||
		    strncasecmp(p, "List-Id:", 8) == 0)
			bulk = true;
		else if (strncasecmp(p, "Precedence:", 11) == 0) {
			for (pv = p + 11; pv < eol && (*pv == ' ' ||
			    *pv == '\t'); pv++)
				;
			if (eol - pv >= 4 && (strncasecmp(pv, "bulk", 4) == 0 ||
			    strncasecmp(pv, "list", 4) == 0 ||
			    strncasecmp(pv, "junk", 4) == 0))
				bulk = true;
		}
		if (c->r->orig_message_id == NULL &&
		    strncasecmp(p, "Message-ID:", 11) == 0) {
			const char *v = p + 11, *lt, *gt;

			lt = memchr(v, '<', eol - v);
			gt = lt != NULL ? memchr(lt, '>', eol - lt) : NULL;
			if (lt != NULL && gt != NULL)
				dsn_set(c, &c->r->orig_message_id, lt + 1,
				    gt - lt - 1, c->opt->max_field);
			else
				dsn_set(c, &c->r->orig_message_id, v, eol - v,
				    c->opt->max_field);
		}
		if (c->opt->campaign_header != NULL &&
		    c->r->campaign == NULL &&
		    (hl = strlen(c->opt->campaign_header)) > 0 &&
		    (size_t)(eol - p) > hl && p[hl] == ':' &&
		    strncasecmp(p, c->opt->campaign_header, hl) == 0)
			dsn_set(c, &c->r->campaign, p + hl + 1,
			    eol - p - hl - 1, c->opt->max_field);
	}
	if (c->r->mail_kind == NULL && (bulk || c->r->orig_message_id != NULL))
		c->r->mail_kind = strdup(bulk ? "bulk" : "transactional");
}

void
dsn_text_set_mta(struct dsn_ctx *c, const char *text)
{
	const char	*m;

	if (c->r->mta != NULL)
		return;
	if ((m = dsn_text_mta(c, text)) != NULL)
		c->r->mta = strdup(m);
}

/*
 * The SMTP command each recipient's failure answered: named in its
 * diagnostic, else in the bounce text t[0..n) (smtpcmd.h).
 */
void
dsn_text_set_commands(struct dsn_ctx *c, const char *t, size_t n)
{
	struct smtpcmd_marks	 ms;
	struct dsn_rcpt		*rc;
	size_t			 i;
	bool			 scanned = false;

	for (i = 0; i < c->r->nrcpts; i++) {
		rc = &c->r->rcpts[i];
		if (rc->smtp_command != NULL)
			continue;
		if (rc->diagnostic != NULL)
			rc->smtp_command = smtpcmd_find(rc->diagnostic,
			    strlen(rc->diagnostic), NULL);
		if (rc->smtp_command != NULL)
			continue;
		/* The bounce text is read once for all recipients. */
		if (!scanned) {
			smtpcmd_scan(t, n, &ms);
			scanned = true;
		}
		rc->smtp_command = smtpcmd_pick(t, n, &ms,
		    rc->final_recipient);
	}
}
