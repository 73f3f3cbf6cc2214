/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - persistence of events and recipient state in SQLite.
 *
 * The store owns its locking: one handle may be shared by threads.
 * It never logs; failures come back as a status plus store_errmsg().
 */
#ifndef BD_STORE_H
#define BD_STORE_H

#include "bd.h"
#include "event.h"

struct store;

#define STORE_RDONLY	0x01	/* bouncectl read-only commands */

/* Suppression rules that apply when an event is recorded. */
struct store_policy {
	unsigned	 soft_limit;	/* consecutive soft-bounced sends that suppress */
	int64_t		 soft_window;	/* seconds a soft bounce counts */
};

/*
 * store_open - open (and create/migrate unless STORE_RDONLY) the database
 * at path; WAL mode, busy timeout busy_ms.  On failure *out is NULL and
 * err holds why.
 */
enum bd_status store_open(const char *path, unsigned flags, int busy_ms,
    struct store **out, char *err, size_t errlen);
/* store_close - NULL is fine */
void store_close(struct store *s);
/* store_errmsg - text of the last failure on this handle (thread-local copy not kept) */
const char *store_errmsg(struct store *s);
/*
 * store_record - record n events (the recipients of one message) in one
 * transaction and apply the suppression rules; idempotent: an event
 * already recorded changes nothing.  *n_new (may be NULL) counts the events
 * that were new.  now is the time used for state changes.
 */
enum bd_status store_record(struct store *s, const struct bd_event *evs,
    size_t n, const struct store_policy *pol, int64_t now, size_t *n_new);

#endif
