/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ourside.h - failures of our own delivery path, and hand-offs.
 *
 * A content filter on loopback that refuses connections, a master.cf
 * transport that is missing, our resolver failing: the mail is stuck on
 * our side, and no recipient's address is at fault (DESIGN.md
 * "Recipient state": such failures never move an address; they are
 * recorded with who = local).  A "sent" to a content filter or a
 * relayhost is a hand-off, not a delivery.  Pure: no I/O, no logging.
 */
#ifndef BD_OURSIDE_H
#define BD_OURSIDE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The next hops of ours (HandOffRelays): glob patterns matched against
 * a relay's host name, its address and "address:port"; pats NULL: the
 * loopback addresses (the default); n 0 with pats not NULL: none.
 */
struct ourside_hops {
	char *const	*pats;
	size_t		 n;
};

/*
 * ourside_is_hop - is the peer host/addr/port (NULL, "" or 0: unknown) a
 * next hop of ours
 */
bool ourside_is_hop(const struct ourside_hops *h, const char *host,
    const char *addr, unsigned port);
/*
 * ourside_failure - does a failure's text (Postfix's or a DSN's
 * diagnostic) say our own path failed: "mail transport unavailable",
 * our lookups failing ("Temporary lookup failure", a name service error
 * that says "try again"), no route of ours ("Network is unreachable"),
 * or a connection to a next hop of ours that failed ("connect to
 * H[A]:P: ...", "lost connection with H[A]", "conversation with H[A]
 * timed out", also after "delivery temporarily suspended: ")?  An SMTP
 * reply of the hop ("host H[A] said: ...") is about the recipient and
 * is not ours.  h NULL: loopback hops; diag NULL: false.
 */
bool ourside_failure(const struct ourside_hops *h, const char *diag);
/* ourside_loopback - "127.x.y.z", "::1", "localhost" (any case) */
bool ourside_loopback(const char *host);
/*
 * ourside_handoff - is a "sent" through program (the log's program
 * name, "postfix/smtp") to the relay a hand-off to a next hop of ours:
 * ourside_is_hop(), and the program is not a final delivery agent
 * (lmtp, local, virtual, pipe)
 */
bool ourside_handoff(const struct ourside_hops *h, const char *program,
    const char *host, const char *addr, unsigned port);

#endif
