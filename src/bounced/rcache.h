/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rcache.h - is this recipient suppressed?  The RCPT TO lookup of
 * SuppressedRecipients: a small, bounded, thread-safe cache of
 * address -> (suppressed, reason) with a short time to live, in front of
 * store_lookup().  It never logs: the caller logs the incidents it
 * reports (one warning when lookups start failing, one line when they
 * work again).
 */
#ifndef BD_RCACHE_H
#define BD_RCACHE_H

#include <stdint.h>

#include "util/bd.h"
#include "store/store.h"

#define RCACHE_SLOTS	8192	/* default number of cached addresses */
#define RCACHE_TTL	10	/* default seconds an answer is kept */
#define RCACHE_BACKOFF	2	/* seconds of rest after a failure */

struct rcache;

enum rcache_answer {
	RCACHE_ACTIVE = 0,	/* not suppressed, or never seen */
	RCACHE_SUPPRESSED,	/* suppressed: reason says why */
	RCACHE_FAILED,		/* no answer (error, busy): accept */
};

/* What changed with this lookup, for the caller's log. */
enum rcache_incident {
	RCACHE_STEADY = 0,	/* nothing new */
	RCACHE_STARTED,		/* the first failure after answers */
	RCACHE_RECOVERED,	/* the first answer after failures */
};

struct rcache_stats {
	uint64_t	 hits;		/* answered from the cache */
	uint64_t	 misses;	/* asked the store */
	uint64_t	 failures;	/* failed, or left alone */
	uint64_t	 evictions;	/* live entries replaced */
};

/*
 * rcache_new - a cache of about slots addresses (0: RCACHE_SLOTS, rounded
 * up to a power of two, at most 1 << 20) keeping answers ttl seconds
 * (0: RCACHE_TTL); BD_ENOMEM
 */
enum bd_status rcache_new(size_t slots, int ttl, struct rcache **out);
/* rcache_free - NULL is fine; no other thread may be using it */
void rcache_free(struct rcache *rc);
/*
 * rcache_lookup - the answer for rcpt (any form addr_normalize() takes;
 * not an address is RCACHE_ACTIVE) as of now (seconds), from the cache
 * or from st; reason (reasonlen bytes, may be NULL) gets the suppression
 * reason; *incident (may be NULL) what changed, *err (may be NULL) the
 * store's status on RCACHE_FAILED.  Thread-safe.
 */
enum rcache_answer rcache_lookup(struct rcache *rc, struct store *st,
    const char *rcpt, int64_t now, char *reason, size_t reasonlen,
    enum rcache_incident *incident, enum bd_status *err);
/*
 * rcache_lookup_msg - rcache_lookup(), and errmsg (errmsglen bytes, may be
 * NULL) gets the store's own text of a failure when this call asked the
 * store (store_errmsg(), unsanitised), else ""
 */
enum rcache_answer rcache_lookup_msg(struct rcache *rc, struct store *st,
    const char *rcpt, int64_t now, char *reason, size_t reasonlen,
    enum rcache_incident *incident, enum bd_status *err, char *errmsg,
    size_t errmsglen);
/* rcache_forget - drop the cached answer for rcpt (its state changed) */
void rcache_forget(struct rcache *rc, const char *rcpt);
/* rcache_clear - drop every cached answer */
void rcache_clear(struct rcache *rc);
/* rcache_get_stats - a copy of the counters */
void rcache_get_stats(struct rcache *rc, struct rcache_stats *out);

#endif
