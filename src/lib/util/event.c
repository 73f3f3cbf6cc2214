/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * event.c - names of the event enums and address normalisation.
 * Pure: no I/O, no logging.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

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
	case EV_WHO_LOCAL:	return "local";
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

/* RFC 5322 section 3.2.3 atext, but for ALPHA and DIGIT. */
static bool
is_atext(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Bytes of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if none. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t		 n, i;
	unsigned	 cp;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, cp = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, cp = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, cp = *p & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * The local part (RFC 5321 section 4.1.2 Local-part, RFC 6531 section
 * 3.3 for UTF-8): a dot-string of atext and UTF-8, or a quoted string
 * of printable ASCII, UTF-8 and quoted pairs; at most 64 bytes (section
 * 4.5.3.1.1).  Dots are taken as they come (leading, doubled): real
 * mailboxes have them and the receiving host decides.
 */
static bool
local_ok(const unsigned char *p, const unsigned char *end)
{
	size_t	 n;

	if (p == end || end - p > 64)
		return false;
	if (*p == '"') {
		if (end - p < 2 || end[-1] != '"')
			return false;
		for (p++, end--; p < end; p += n) {
			n = 1;
			if (*p == '\\') {
				if (p + 1 == end || p[1] < 0x20 || p[1] > 0x7e)
					return false;
				n = 2;
			} else if (*p >= 0x80) {
				if ((n = utf8_len(p, end)) == 0)
					return false;
			} else if (*p < 0x20 || *p > 0x7e || *p == '"')
				return false;
		}
		return true;
	}
	for (; p < end; p += n) {
		n = 1;
		if (*p >= 0x80) {
			if ((n = utf8_len(p, end)) == 0)
				return false;
		} else if (*p != '.' && !is_atext(*p))
			return false;
	}
	return true;
}

/*
 * The domain (RFC 5321 section 4.1.2 Domain / address-literal, RFC 6531
 * U-labels): labels of letters, digits, hyphens (and underscores, which
 * real host names carry) or UTF-8, 1 to 63 bytes each, 255 in all; or
 * an address literal in brackets.
 */
static bool
domain_ok(const unsigned char *p, const unsigned char *end)
{
	size_t	 label = 0, n;

	if (p == end || end - p > 255)
		return false;
	if (*p == '[') {
		if (end[-1] != ']' || end - p < 3)
			return false;
		for (p++, end--; p < end; p++)
			if (*p < 0x21 || *p > 0x7e || *p == '[' || *p == ']' ||
			    *p == '\\')
				return false;
		return true;
	}
	for (; p < end; p += n) {
		n = 1;
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (*p >= 0x80) {
			if ((n = utf8_len(p, end)) == 0)
				return false;
		} else if (!isalnum(*p) && *p != '-' && *p != '_')
			return false;
		if ((label += n) > 63)
			return false;
	}
	return label > 0;
}

/*
 * Local parts compared without case (false) unless the operator says
 * otherwise (LocalPartCaseSensitive): set once at startup.
 */
static bool local_case_sensitive;

/*
 * addr_set_local_case - keep the case of local parts in keys or not
 *
 * Arguments: sensitive, true to keep it (RFC 5321 section 2.4 lets the
 * receiving host decide; almost none tells case apart).
 * Notes: not thread-safe: call it before any thread looks up a key.
 */
void
addr_set_local_case(bool sensitive)
{
	local_case_sensitive = sensitive;
}

/*
 * The mailbox inside in: *start and *len, *at its '@' (the last one: a
 * quoted local part may hold one); false unless it is a mailbox by RFC
 * 5321 section 4.1.2 (with RFC 6531's UTF-8): garbage from a hostile or
 * broken bounce, invalid UTF-8 included, is never taken for an address.
 * A trailing dot of the domain is dropped.
 */
static bool
addr_span(const char *in, const char **start, size_t *len, const char **at)
{
	const char	*p, *end;
	size_t		 n, i;

	*at = NULL;
	if (in == NULL)
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
	if (n == 0 || n > ADDR_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] == '@')
			*at = p + i;
	if (*at == NULL || !local_ok((const unsigned char *)p,
	    (const unsigned char *)*at) || !domain_ok((const unsigned char *)*at +
	    1, (const unsigned char *)end))
		return false;
	*start = p;
	*len = n;
	return true;
}

/*
 * addr_display - a mailbox as received, without its wrapping
 *
 * Arguments: in, any of "rfc822; a@B", "<a@B>", " a@B "; out/outlen.
 * Returns true with the address, case kept; false (out "") otherwise.
 */
bool
addr_display(const char *in, char *out, size_t outlen)
{
	const char	*p, *at;
	size_t		 n;

	if (outlen == 0)
		return false;
	out[0] = '\0';
	if (!addr_span(in, &p, &n, &at) || n >= outlen)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/*
 * addr_normalize - the key of a mailbox, for storage and every lookup
 *
 * Arguments: in, any of "rfc822; a@B", "<a@B>", " a@B "; out/outlen.
 * Returns true and writes the key when the input is a mailbox by RFC
 * 5321 section 4.1.2 (with RFC 6531's UTF-8; see addr_span()): the
 * local part lower-cased (ASCII, unless addr_set_local_case(true)), the
 * domain lower-cased and, when it has non-ASCII labels, converted to its
 * A-label (IDNA 2008 with UTS #46 non-transitional mapping, libidn2:
 * "B\xc3\xbccher.test" becomes "xn--bcher-kva.test"); a domain IDNA
 * refuses is kept lower-cased.  False (out "") otherwise.
 */
bool
addr_normalize(const char *in, char *out, size_t outlen)
{
	const char	*p, *at;
	char		 dom[ADDR_MAX + 1], *ace = NULL;
	size_t		 n, i, lp, dl;
	bool		 ascii = true;

	if (outlen == 0)
		return false;
	out[0] = '\0';
	if (!addr_span(in, &p, &n, &at) || n >= outlen)
		return false;
	lp = (size_t)(at - p);
	dl = n - lp - 1;
	for (i = 0; i < dl; i++) {
		dom[i] = (char)tolower((unsigned char)at[1 + i]);
		if ((unsigned char)dom[i] >= 0x80)
			ascii = false;
	}
	dom[dl] = '\0';
	if (!ascii && idn2_to_ascii_8z(dom, &ace, IDN2_NFC_INPUT |
	    IDN2_NONTRANSITIONAL) == IDN2_OK && ace != NULL &&
	    strlen(ace) < sizeof(dom)) {
		snprintf(dom, sizeof(dom), "%s", ace);
		for (i = 0; dom[i] != '\0'; i++)
			dom[i] = (char)tolower((unsigned char)dom[i]);
	}
	idn2_free(ace);
	dl = strlen(dom);
	if (lp + 1 + dl >= outlen || lp + 1 + dl > ADDR_MAX)
		return false;
	for (i = 0; i < lp; i++)
		out[i] = local_case_sensitive ? p[i] :
		    (char)tolower((unsigned char)p[i]);
	out[lp] = '@';
	memcpy(out + lp + 1, dom, dl + 1);
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
