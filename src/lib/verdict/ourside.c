/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ourside.c - failures of our own delivery path, and hand-offs to a
 * next hop of ours (ourside.h).
 *
 * The texts are Postfix's (src/smtp/smtp_connect.c "connect to %s[%s]:%d:
 * %m", src/qmgr "delivery temporarily suspended: %s", "mail transport
 * unavailable", src/dns "Host or domain name not found. Name service
 * error for name=%s type=%s: Host not found, try again", the "Temporary
 * lookup failure" of a table lookup).  A remote MTA's failure never
 * names a loopback address of ours, so a loopback peer in the text is
 * our own path.  Every input is bounded (texts are NUL-terminated and
 * searched without copying).  Pure: no I/O, no logging.
 */
#define _GNU_SOURCE		/* strcasestr(3) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/pattern.h"
#include "verdict/ourside.h"

/*
 * ourside_loopback - a loopback host
 *
 * Arguments: host, a name or address (NULL is not).
 * Returns true for 127.0.0.0/8 (dotted, "127." and digits), ::1,
 * localhost and localhost.localdomain, in any case.
 */
bool
ourside_loopback(const char *host)
{
	const char	*p;

	if (host == NULL || host[0] == '\0')
		return false;
	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.localdomain") == 0 ||
	    strcmp(host, "::1") == 0 || strcasecmp(host, "ipv6:::1") == 0)
		return true;
	if (strncmp(host, "127.", 4) != 0)
		return false;
	for (p = host + 4; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return false;
	return true;
}

/*
 * ourside_is_hop - a next hop of ours
 *
 * Arguments: h (NULL: loopback); host, addr (NULL or ""), port (0).
 * Returns true when a pattern matches the host name, the address or
 * "address:port", or, without patterns, when host or addr is loopback.
 */
bool
ourside_is_hop(const struct ourside_hops *h, const char *host,
    const char *addr, unsigned port)
{
	char	 ap[80];

	if (h == NULL || h->pats == NULL)
		return ourside_loopback(addr) || ourside_loopback(host);
	if (host != NULL && host[0] != '\0' &&
	    pattern_list_match(h->pats, h->n, host))
		return true;
	if (addr == NULL || addr[0] == '\0')
		return false;
	if (pattern_list_match(h->pats, h->n, addr))
		return true;
	if (port == 0)
		return false;
	snprintf(ap, sizeof(ap), "%s:%u", addr, port);
	return pattern_list_match(h->pats, h->n, ap);
}

/*
 * The peer of a Postfix connection text at p ("H[A]:P..." or "H[A]..."):
 * is it a hop of ours?
 */
static bool
peer_is_hop(const struct ourside_hops *h, const char *p)
{
	char		 host[256], addr[64];
	const char	*b, *e;
	unsigned long	 port = 0;
	size_t		 n;

	if ((b = strchr(p, '[')) == NULL || (size_t)(b - p) >= sizeof(host))
		return false;
	n = (size_t)(b - p);
	memcpy(host, p, n);
	host[n] = '\0';
	if (strchr(host, ' ') != NULL || (e = strchr(b, ']')) == NULL ||
	    (size_t)(e - b - 1) >= sizeof(addr))
		return false;
	memcpy(addr, b + 1, (size_t)(e - b - 1));
	addr[e - b - 1] = '\0';
	if (e[1] == ':')
		port = strtoul(e + 2, NULL, 10);
	if (port > 65535)
		port = 0;
	return ourside_is_hop(h, host, addr, (unsigned)port);
}

/*
 * ourside_failure - is a failure our own path's
 *
 * Arguments: h, the hops of ours (NULL: loopback); diag, the diagnostic
 * text (NULL: none).
 * Returns true for "mail transport unavailable", "Temporary lookup
 * failure", a name service error that says "try again" (our resolver
 * could not answer), "Network is unreachable" (no route of ours), and
 * a failed connection to a hop of ours.
 * Notes: "delivery temporarily suspended" alone is not enough: Postfix
 * says it of a remote destination it found dead too; what follows it
 * decides.  A reply of the hop ("said:") is not ours: a content filter
 * in proxy mode passes on the final MX's answer about the recipient.
 */
bool
ourside_failure(const struct ourside_hops *h, const char *diag)
{
	static const char *const conn[] = {
		"connect to ", "lost connection with ", "conversation with ",
	};
	const char	*p;
	size_t		 i;

	if (diag == NULL)
		return false;
	if (strcasestr(diag, "mail transport unavailable") != NULL ||
	    strcasestr(diag, "Temporary lookup failure") != NULL ||
	    strcasestr(diag, "Network is unreachable") != NULL)
		return true;
	if (strcasestr(diag, "Name service error") != NULL &&
	    strcasestr(diag, "try again") != NULL)
		return true;
	if (strstr(diag, " said: ") != NULL)
		return false;
	for (i = 0; i < sizeof(conn) / sizeof(conn[0]); i++)
		for (p = strstr(diag, conn[i]); p != NULL;
		    p = strstr(p + 1, conn[i]))
			if (peer_is_hop(h, p + strlen(conn[i])))
				return true;
	return false;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/*
 * ourside_handoff - is a "sent" a hand-off to a next hop of ours
 *
 * Arguments: h (NULL: loopback); program, the log's program name (NULL:
 * unknown); host, addr, port: the relay.
 * Returns true when the relay is a hop of ours and the program is no
 * final delivery agent: a loopback LMTP (Dovecot) or local(8) delivery
 * is a delivery.
 */
bool
ourside_handoff(const struct ourside_hops *h, const char *program,
    const char *host, const char *addr, unsigned port)
{
	static const char *const finals[] = {
		"lmtp", "local", "virtual", "pipe",
	};
	size_t	 i;

	if (program != NULL)
		for (i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
			if (ends_with(program, finals[i]))
				return false;
	return ourside_is_hop(h, host, addr, port);
}
