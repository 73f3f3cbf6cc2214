/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * event.c - names of the event enums and address normalisation.
 * Pure: no I/O, no logging.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/event.h"

static const char *const action_names[] = {
	[EV_ACT_UNKNOWN] = "unknown",
	[EV_ACT_FAILED] = "failed",
	[EV_ACT_DELAYED] = "delayed",
	[EV_ACT_DELIVERED] = "delivered",
	[EV_ACT_RELAYED] = "relayed",
	[EV_ACT_EXPANDED] = "expanded",
};

const char *
ev_action_name(enum ev_action a)
{
	if ((size_t)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "unknown";
	return action_names[a];
}

enum ev_action
ev_action_parse(const char *s)
{
	size_t	 i, n;

	if (s == NULL)
		return EV_ACT_UNKNOWN;
	while (isspace((unsigned char)*s))
		s++;
	for (i = 1; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		n = strlen(action_names[i]);
		if (strncasecmp(s, action_names[i], n) == 0 &&
		    !isalnum((unsigned char)s[n]))
			return (enum ev_action)i;
	}
	return EV_ACT_UNKNOWN;
}

const char *
ev_source_name(enum ev_source s)
{
	switch (s) {
	case EV_SRC_DSN_INTERNAL:	return "dsn-internal";
	case EV_SRC_DSN_REMOTE:		return "dsn-remote";
	case EV_SRC_LOG:		return "log";
	case EV_SRC_MANUAL:		return "manual";
	case EV_SRC_IMPORT:		return "import";
	case EV_SRC_CLI:		return "cli";
	}
	return "unknown";
}

const char *
ev_who_name(enum ev_who w)
{
	switch (w) {
	case EV_WHO_NONE:	return "none";
	case EV_WHO_SENDER:	return "sender";
	case EV_WHO_RECIPIENT:	return "recipient";
	case EV_WHO_BOTH:	return "both";
	}
	return "none";
}

const char *
ev_advice_name(enum ev_advice a)
{
	switch (a) {
	case EV_ADV_NONE:	return "none";
	case EV_ADV_SUPPRESS:	return "suppress";
	case EV_ADV_RETRY:	return "retry";
	case EV_ADV_SLOW_DOWN:	return "slow-down";
	case EV_ADV_FIX_AUTH:	return "fix-auth";
	case EV_ADV_FIX_CONTENT: return "fix-content";
	case EV_ADV_INVESTIGATE: return "investigate";
	}
	return "none";
}

/*
 * addr_normalize - canonical mailbox form for storage and lookup
 *
 * Arguments: in, any of "rfc822; a@B", "<a@B>", " a@B "; out/outlen.
 * Returns true and writes "a@b"-style output (domain lower-cased) when
 * the input looks like an address; false otherwise (out is then "").
 * Notes: the local part keeps its case (RFC 5321 section 2.4 lets the
 * receiving host decide), so "Bob@X" and "bob@x" stay distinct.
 */
bool
addr_normalize(const char *in, char *out, size_t outlen)
{
	const char	*p, *end, *at = NULL;
	size_t		 n, i;

	if (outlen)
		out[0] = '\0';
	if (in == NULL || outlen == 0)
		return false;
	p = in;
	while (isspace((unsigned char)*p))
		p++;
	/* RFC 3464 section 2.3.2: "address-type ; address" */
	if (strncasecmp(p, "rfc822", 6) == 0) {
		const char *q = p + 6;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == ';')
			p = q + 1;
	}
	while (isspace((unsigned char)*p) || *p == '<')
		p++;
	end = p + strlen(p);
	while (end > p && (isspace((unsigned char)end[-1]) || end[-1] == '>' ||
	    end[-1] == '.'))
		end--;
	n = (size_t)(end - p);
	if (n == 0 || n >= outlen || n > ADDR_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>')
			return false;
		if (c == '@')
			at = p + i;
	}
	if (at == NULL || at == p || at == end - 1)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		out[i] = (p + i > at) ? (char)tolower(c) : (char)c;
	}
	out[n] = '\0';
	return true;
}

/*
 * event_sender_is_null - whether an envelope sender is the null sender
 *
 * Arguments: s, as the MTA or the log gave it, or NULL (unknown);
 * bare, when not NULL, is set when s is empty (no angle brackets at
 * all, as Postfix passes its own DSNs to a milter).
 * Returns true for "" and "<>", white space allowed around and inside
 * the brackets (RFC 5321 section 4.5.5: a bounce has the null
 * reverse-path); false for NULL and any other sender.
 */
bool
event_sender_is_null(const char *s, bool *bare)
{
	if (bare != NULL)
		*bare = false;
	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		if (bare != NULL)
			*bare = true;
		return true;
	}
	if (*s != '<')
		return false;
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	if (*s != '>')
		return false;
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	return *s == '\0';
}

/*
 * event_held - whether an event is to be kept but never acted on
 *
 * Arguments: ev.
 * Returns true when the trust policy judged it (trust_why set) and did
 * not trust it (DESIGN.md "Trust": untrusted reports are recorded and
 * counted, never change a state, never move a date).  Events of
 * producers that are trusted as such (the log, operators) carry no
 * trust_why and are never held.
 */
bool
event_held(const struct bd_event *ev)
{
	return ev->trust_why != NULL && !ev->trusted;
}
