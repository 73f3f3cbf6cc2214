/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * trust.c - the trust policy of DESIGN.md "Trust", as pure functions:
 *
 * - trust_decide(): whether a report about one recipient may change its
 *   state.  Anyone can send the relay a null-sender message that parses
 *   as a DSN, an ARF report or an auto-reply, and a local user can inject
 *   one with "sendmail -f '<>'" that reaches the milter exactly as
 *   Postfix's own DSNs do (same bare "" sender, same emulated macros,
 *   measured on Postfix 3.7: bounced(8) SECURITY).  So a report counts
 *   only when it is tied to mail this relay sent to that recipient (a
 *   recorded send with the same queue id, Message-ID or RFC 3461 ENVID),
 *   arrives at a valid signed return address, or is an ARF report from a
 *   configured feedback-loop source.
 * - trust_when(): a trusted report's own date, kept between the send it
 *   is tied to and now: a report "from 2100" must not pin a suppression
 *   date, one "from 1990" must not look older than the mail it is about.
 * - prvs_sign()/prvs_check(): BATV-style signed envelope senders
 *   (draft-levine-smtp-batv-01, "prvs=KDDDSSSSSS=local@domain": K the key
 *   number, DDD the day number modulo 1000, SSSSSS the first six hex
 *   digits of an HMAC-SHA256 (RFC 2104, FIPS 180-4) over "KDDD" and the
 *   address, lower-cased).  GLib's GHmac does the HMAC: GLib is already
 *   linked through GMime, and hashing is not code to write by hand.
 * - trust_nets_*(): the IPv4/IPv6 address list of FeedbackSources.
 *
 * It must not: log, read the clock, or touch a file.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "verdict/trust.h"

static const char *const why_names[TRUST_WHY_N] = {
	[TRUST_WHY_POLICY_OFF] = "policy-off",
	[TRUST_WHY_QUEUE_ID] = "send:queue-id",
	[TRUST_WHY_MESSAGE_ID] = "send:message-id",
	[TRUST_WHY_ENVELOPE_ID] = "send:envelope-id",
	[TRUST_WHY_SIGNED] = "signed-return-path",
	[TRUST_WHY_FEEDBACK_SOURCE] = "feedback-source",
	[TRUST_WHY_LOCAL] = "local-path",
	[TRUST_WHY_NO_SEND] = "no-matching-send",
	[TRUST_WHY_BAD_SIGNATURE] = "bad-signature",
	[TRUST_WHY_EXPIRED_SIGNATURE] = "expired-signature",
};

/*
 * trust_why_name - the word of a reason, as stored and shown
 *
 * Arguments: w.
 * Returns a static string; "unknown" out of range.
 */
const char *
trust_why_name(enum trust_why w)
{
	return (unsigned)w < TRUST_WHY_N ? why_names[w] : "unknown";
}

/*
 * trust_policy_name - the TrustPolicy word of p
 */
const char *
trust_policy_name(enum trust_policy p)
{
	switch (p) {
	case TRUST_POLICY_SENT:
		return "sent";
	case TRUST_POLICY_LOCAL:
		return "local";
	case TRUST_POLICY_OFF:
		return "off";
	}
	return "unknown";
}

/*
 * trust_needs_send - whether the decision depends on a send lookup
 *
 * Arguments: f, with everything but f->send filled in.
 * Returns false when trust_decide() is settled without it (policy off,
 * a bad or expired signature), so that the caller spares the database.
 */
bool
trust_needs_send(const struct trust_facts *f)
{
	return f->policy != TRUST_POLICY_OFF && f->signature != PRVS_BAD &&
	    f->signature != PRVS_EXPIRED;
}

/*
 * trust_decide - whether a report about one recipient may act
 *
 * Arguments: f, the facts; why (may be NULL), the reason either way.
 * Returns true when the report may change the recipient's state.
 * Notes: in this order - the policy off trusts all; a return address
 * signed with a wrong or expired tag is forged or replayed whatever else
 * the report says; a recorded send of that message to that recipient;
 * a valid signature; an ARF report from a feedback-loop source; the
 * non-SMTP path when the policy trusts it (no untrusted local users).
 * Postfix's own DSNs are tied to their send like any other report: on
 * the milter's side they cannot be told from a local user's injection.
 */
bool
trust_decide(const struct trust_facts *f, enum trust_why *why)
{
	enum trust_why	 w;

	if (f->policy == TRUST_POLICY_OFF)
		w = TRUST_WHY_POLICY_OFF;
	else if (f->signature == PRVS_BAD)
		w = TRUST_WHY_BAD_SIGNATURE;
	else if (f->signature == PRVS_EXPIRED)
		w = TRUST_WHY_EXPIRED_SIGNATURE;
	else if (f->send == TRUST_MATCH_QUEUE_ID)
		w = TRUST_WHY_QUEUE_ID;
	else if (f->send == TRUST_MATCH_MESSAGE_ID)
		w = TRUST_WHY_MESSAGE_ID;
	else if (f->send == TRUST_MATCH_ENVELOPE_ID)
		w = TRUST_WHY_ENVELOPE_ID;
	else if (f->signature == PRVS_VALID)
		w = TRUST_WHY_SIGNED;
	else if (f->feedback && f->feedback_source)
		w = TRUST_WHY_FEEDBACK_SOURCE;
	else if (f->local_path && f->policy == TRUST_POLICY_LOCAL)
		w = TRUST_WHY_LOCAL;
	else
		w = TRUST_WHY_NO_SEND;
	if (why != NULL)
		*why = w;
	return w < TRUST_WHY_NO_SEND;
}

/*
 * trust_when - the date a trusted report is recorded with
 *
 * Arguments: reported, the report's own date (0 or less: none); now;
 * sent, the date of the send it is tied to (0 or less: none).
 * Returns reported, moved into [sent, now].
 */
int64_t
trust_when(int64_t reported, int64_t now, int64_t sent)
{
	if (reported <= 0 || reported > now)
		reported = now;
	if (sent > 0 && reported < sent)
		reported = sent > now ? now : sent;
	return reported;
}

/* ---- prvs= ---- */

/* A plain address: local@domain, printable, no brackets or blanks. */
static bool
plain_address(const char *a, size_t len)
{
	const char	*at = memchr(a, '@', len);
	size_t		 i;

	if (at == NULL || at == a || at == a + len - 1)
		return false;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)a[i]) || a[i] == '<' ||
		    a[i] == '>')
			return false;
	return true;
}

/*
 * The six hex digits for key number k, day ddd and address a (len
 * bytes), into hex[7]; false when out of memory or too long.
 */
static bool
prvs_hash(const unsigned char *key, size_t keylen, char k, unsigned ddd,
    const char *a, size_t len, char hex[7])
{
	char		 data[4 + 320 + 1];
	gchar		*h;
	size_t		 i;

	if (len > 320)
		return false;
	data[0] = k;
	data[1] = (char)('0' + ddd / 100);
	data[2] = (char)('0' + ddd / 10 % 10);
	data[3] = (char)('0' + ddd % 10);
	/* Remote MTAs may change the case of what they were given. */
	for (i = 0; i < len; i++)
		data[4 + i] = (char)tolower((unsigned char)a[i]);
	h = g_compute_hmac_for_data(G_CHECKSUM_SHA256, key, keylen,
	    (const guchar *)data, 4 + len);
	if (h == NULL)
		return false;
	memcpy(hex, h, 6);
	hex[6] = '\0';
	g_free(h);
	return true;
}

static unsigned
day_number(int64_t now)
{
	return (unsigned)((now < 0 ? 0 : now) / 86400 % 1000);
}

/*
 * prvs_sign - sign an envelope sender
 *
 * Arguments: key/keylen, the secret (at least PRVS_KEY_MIN bytes);
 * addr, "local@domain"; now, seconds; out/outlen.
 * Returns true with "prvs=KDDDHHHHHH=local@domain" in out.
 * Notes: key number 0 always (one key; a new key invalidates the tags
 * in flight, which then count as bad).
 */
bool
prvs_sign(const unsigned char *key, size_t keylen, const char *addr,
    int64_t now, char *out, size_t outlen)
{
	char		 hex[7];
	size_t		 len;
	unsigned	 ddd = day_number(now);
	int		 n;

	if (key == NULL || keylen < PRVS_KEY_MIN || addr == NULL)
		return false;
	len = strlen(addr);
	if (!plain_address(addr, len) || strncasecmp(addr, "prvs=", 5) == 0)
		return false;
	if (!prvs_hash(key, keylen, '0', ddd, addr, len, hex))
		return false;
	n = snprintf(out, outlen, "prvs=0%03u%s=%s", ddd, hex, addr);
	return n > 0 && (size_t)n < outlen;
}

/*
 * prvs_check - judge a possibly signed address
 *
 * Arguments: key/keylen (NULL: no key); addr, as the envelope gave it
 * (angle brackets allowed); now; max_days, the age a tag may have;
 * orig/origlen (orig may be NULL), the address without its tag.
 * Returns PRVS_NONE (no "prvs=" prefix), PRVS_NOKEY, PRVS_BAD
 * (malformed, unknown key number, wrong hash), PRVS_EXPIRED (older than
 * max_days, or a day number from the future) or PRVS_VALID.
 * Notes: the hash is compared in constant time.
 */
enum prvs_result
prvs_check(const unsigned char *key, size_t keylen, const char *addr,
    int64_t now, unsigned max_days, char *orig, size_t origlen)
{
	const char	*a, *tag;
	char		 hex[7];
	size_t		 len, i;
	unsigned	 ddd, today, age, diff = 0;

	if (orig != NULL && origlen > 0)
		orig[0] = '\0';
	if (addr == NULL)
		return PRVS_NONE;
	a = addr;
	len = strlen(a);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	if (len < 5 || strncasecmp(a, "prvs=", 5) != 0)
		return PRVS_NONE;
	tag = a + 5;
	if (len < 5 + PRVS_TAG_LEN + 1 || tag[PRVS_TAG_LEN] != '=')
		return PRVS_BAD;
	a = tag + PRVS_TAG_LEN + 1;
	len -= 5 + PRVS_TAG_LEN + 1;
	if (!plain_address(a, len))
		return PRVS_BAD;
	if (orig != NULL && origlen > 0)
		(void)snprintf(orig, origlen, "%.*s", (int)len, a);
	if (key == NULL)
		return PRVS_NOKEY;
	if (tag[0] != '0' || !isdigit((unsigned char)tag[1]) ||
	    !isdigit((unsigned char)tag[2]) || !isdigit((unsigned char)tag[3]))
		return PRVS_BAD;
	for (i = 4; i < PRVS_TAG_LEN; i++)
		if (!isxdigit((unsigned char)tag[i]))
			return PRVS_BAD;
	ddd = (unsigned)((tag[1] - '0') * 100 + (tag[2] - '0') * 10 +
	    (tag[3] - '0'));
	if (!prvs_hash(key, keylen, tag[0], ddd, a, len, hex))
		return PRVS_BAD;
	for (i = 0; i < 6; i++)
		diff |= (unsigned)(tolower((unsigned char)tag[4 + i]) ^ hex[i]);
	if (diff != 0)
		return PRVS_BAD;
	today = day_number(now);
	age = (today + 1000 - ddd) % 1000;
	return age <= max_days ? PRVS_VALID : PRVS_EXPIRED;
}

/*
 * prvs_result_name - a word for r, for log lines
 */
const char *
prvs_result_name(enum prvs_result r)
{
	switch (r) {
	case PRVS_NONE:
		return "none";
	case PRVS_VALID:
		return "valid";
	case PRVS_BAD:
		return "bad";
	case PRVS_EXPIRED:
		return "expired";
	case PRVS_NOKEY:
		return "no-key";
	}
	return "unknown";
}

/* ---- FeedbackSources ---- */

/* "[1.2.3.4]", "IPv6:2001:db8::1" (Sendmail) and plain forms. */
static bool
parse_ip(const char *s, size_t len, struct trust_net *n)
{
	char	 buf[64];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0,
		    0, 0, 0, 0, 0xff, 0xff };

		/* ::ffff:192.0.2.1 is 192.0.2.1 (RFC 4291 2.5.5.2) */
		if (memcmp(n->addr, mapped, sizeof(mapped)) == 0) {
			memmove(n->addr, n->addr + 12, 4);
			memset(n->addr + 4, 0, 12);
			n->family = AF_INET;
			n->bits = 32;
		} else {
			n->family = AF_INET6;
			n->bits = 128;
		}
		return true;
	}
	return false;
}

/*
 * trust_nets_parse - the FeedbackSources list
 *
 * Arguments: text, addresses and networks separated by commas or blanks;
 * nets[max]; *n receives the count; why/whylen, what is wrong.
 * Returns true, or false with why set (nothing usable in nets then).
 */
bool
trust_nets_parse(const char *text, struct trust_net *nets, size_t max,
    size_t *n, char *why, size_t whylen)
{
	const char	*p = text, *e, *slash;
	unsigned	 bits;
	size_t		 len, i;

	*n = 0;
	while (p != NULL && *p != '\0') {
		p += strspn(p, ", \t");
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		e = p + len;
		if (*n == max) {
			(void)snprintf(why, whylen, "more than %zu items", max);
			return false;
		}
		slash = memchr(p, '/', len);
		if (!parse_ip(p, slash ? (size_t)(slash - p) : len,
		    &nets[*n])) {
			(void)snprintf(why, whylen, "\"%.*s\" is not an IP "
			    "address or network", (int)(len > 60 ? 60 : len),
			    p);
			return false;
		}
		if (slash != NULL) {
			bits = 0;
			for (i = 1; slash + i < e; i++) {
				if (!isdigit((unsigned char)slash[i]) ||
				    i > 3)
					break;
				bits = bits * 10 + (unsigned)(slash[i] - '0');
			}
			if (slash + i != e || i == 1 ||
			    bits > nets[*n].bits) {
				(void)snprintf(why, whylen, "\"%.*s\": bad "
				    "prefix length", (int)(len > 60 ? 60 :
				    len), p);
				return false;
			}
			nets[*n].bits = bits;
		}
		(*n)++;
		p = e;
	}
	return true;
}

/*
 * trust_nets_match - whether ip falls in one of the networks
 *
 * Arguments: nets/n; ip, an address as text (the MTA's {client_addr},
 * "[a.b.c.d]" and "IPv6:..." forms too).
 * Returns false for anything that is not an address.
 */
bool
trust_nets_match(const struct trust_net *nets, size_t n, const char *ip)
{
	struct trust_net	 a;
	size_t			 i;
	unsigned		 full, rest;

	if (ip == NULL || n == 0 || !parse_ip(ip, strlen(ip), &a))
		return false;
	for (i = 0; i < n; i++) {
		if (nets[i].family != a.family)
			continue;
		full = nets[i].bits / 8;
		rest = nets[i].bits % 8;
		if (memcmp(nets[i].addr, a.addr, full) != 0)
			continue;
		if (rest == 0 || ((nets[i].addr[full] ^ a.addr[full]) &
		    (0xff << (8 - rest)) & 0xff) == 0)
			return true;
	}
	return false;
}
