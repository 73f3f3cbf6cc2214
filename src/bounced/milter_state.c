/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter_state.c - the daemon-facing half of the libmilter glue: the
 * state every connection shares (the current configuration snapshot,
 * the store handles, the recipient cache, the clock), its life cycle
 * (init, reload swap, fini), and the hand-over to libmilter (the socket
 * and smfi_main()).  The callbacks are in milter.c.
 *
 * Snapshots are reference-counted (STYLE.md 3.8, OpenDMARC's pattern):
 * a connection takes one in mlfi_negotiate and drops it in mlfi_close;
 * a reload swaps the pointer under g_lock, and the old snapshot is freed
 * when its last connection closes.
 *
 * It must not: touch a message, or hold g_lock across anything slower
 * than a pointer copy (every callback takes it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounced/dbpool.h"
#include "log/log.h"
#include "bounced/milter.h"
#include "bounced/milter_int.h"

static pthread_mutex_t	 g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bd_config	*g_conf;
static struct store	*g_store;
static char		*g_conn;
static int64_t		(*g_now)(void);
static struct store	*g_lookup_store;	/* RCPT TO, or NULL */
static struct rcache	*g_rcache;		/* SuppressedRecipients */

/* Bounces being parsed now (milter_parse_begin()), under g_parse_lock. */
static pthread_mutex_t	 g_parse_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 g_parse_cond = PTHREAD_COND_INITIALIZER;
static unsigned		 g_parsing;

/*
 * milter_init - set up the shared state
 *
 * Arguments: conf, the first snapshot (its reference is taken over);
 * store, one handle shared by every thread (borrowed, must outlive
 * milter_run()), or NULL: each thread uses its own connections from
 * dbpool.c (bounced itself), none until dbpool_start().
 */
void
milter_init(struct bd_config *conf, struct store *store)
{
	struct rcache	*rc = NULL;

	if (g_rcache == NULL && rcache_new(RCACHE_SLOTS, RCACHE_TTL, &rc) !=
	    BD_OK)
		log_err("out of memory for the recipient cache: "
		    "SuppressedRecipients is not enforced");
	pthread_mutex_lock(&g_lock);
	config_unref(g_conf);
	g_conf = conf;
	g_store = store;
	if (g_rcache == NULL)
		g_rcache = rc;
	else
		rcache_clear(g_rcache);	/* maybe another store */
	pthread_mutex_unlock(&g_lock);
}

/*
 * milter_set_lookup_store - a store handle for RCPT TO lookups only
 *
 * Arguments: store, borrowed (must outlive milter_run()), typically
 * opened STORE_RDONLY with a short busy timeout so that lookups never
 * queue behind recording; NULL: use the main store.
 */
void
milter_set_lookup_store(struct store *store)
{
	pthread_mutex_lock(&g_lock);
	g_lookup_store = store;
	if (g_rcache != NULL)
		rcache_clear(g_rcache);
	pthread_mutex_unlock(&g_lock);
}

/*
 * milter_swap_config - install a new snapshot
 *
 * Arguments: conf, whose reference is taken over.
 * Notes: connections that started earlier keep the snapshot they took;
 * the old one is freed when the last of them closes.
 */
void
milter_swap_config(struct bd_config *conf)
{
	struct bd_config	*old;

	pthread_mutex_lock(&g_lock);
	old = g_conf;
	g_conf = conf;
	pthread_mutex_unlock(&g_lock);
	config_unref(old);
}

/*
 * milter_current_config - the snapshot new connections get
 *
 * Returns a new reference (config_unref() it), or NULL before
 * milter_init().
 */
struct bd_config *
milter_current_config(void)
{
	struct bd_config	*c;

	pthread_mutex_lock(&g_lock);
	c = g_conf ? config_ref(g_conf) : NULL;
	pthread_mutex_unlock(&g_lock);
	return c;
}

/*
 * milter_cache_forget - drop a cached answer, or all of them
 *
 * Arguments: addr, as recorded (any form rcache_forget() takes); NULL
 * to drop every answer.
 * Notes: the cache outlives no swap of g_rcache: it is read under
 * g_lock, and rcache's own stripes guard its sets.
 */
void
milter_cache_forget(const char *addr)
{
	pthread_mutex_lock(&g_lock);
	if (g_rcache != NULL) {
		if (addr != NULL)
			rcache_forget(g_rcache, addr);
		else
			rcache_clear(g_rcache);
	}
	pthread_mutex_unlock(&g_lock);
}

/*
 * milter_fini - release the current snapshot and forget the store
 */
void
milter_fini(void)
{
	milter_send_stop();	/* the queued sends, with the store still here */
	pthread_mutex_lock(&g_lock);
	config_unref(g_conf);
	g_conf = NULL;
	g_store = NULL;
	g_lookup_store = NULL;
	rcache_free(g_rcache);
	g_rcache = NULL;
	pthread_mutex_unlock(&g_lock);
	free(g_conn);
	g_conn = NULL;
}

/*
 * milter_set_clock - replace time(3) as the source of "now"
 *
 * Arguments: now, or NULL for time(3).  For tests.
 */
void
milter_set_clock(int64_t (*now)(void))
{
	g_now = now;
}

/*
 * milter_now - "now" for events and the recipient cache
 *
 * Returns the clock set by milter_set_clock(), else time(3).
 */
int64_t
milter_now(void)
{
	return g_now ? g_now() : (int64_t)time(NULL);
}

/*
 * milter_shared - the handles of the calling thread, as of now
 *
 * Arguments: out, filled in: the recording store, the RCPT TO lookup
 * store (the recording one unless milter_set_lookup_store() gave
 * another), the recipient cache; all borrowed, any may be NULL (before
 * milter_init(), the database not open, no memory for the cache).
 * Notes: without a shared handle (milter_init() with NULL), the stores
 * are the calling thread's own connections (dbpool.c): opened here on
 * the thread's first bounce, outside g_lock, and never to be handed to
 * another thread.
 */
void
milter_shared(struct milter_handles *out)
{
	pthread_mutex_lock(&g_lock);
	out->store = g_store;
	out->lookup = g_lookup_store != NULL ? g_lookup_store : g_store;
	out->rcache = g_rcache;
	pthread_mutex_unlock(&g_lock);
	if (out->store == NULL)
		out->store = dbpool_worker();
	if (out->lookup == NULL)
		out->lookup = dbpool_lookup();
}

/*
 * milter_parse_begin - wait for a turn to parse a bounce
 *
 * Returns true when the caller may parse (then call milter_parse_end()),
 * false after MILTER_PARSE_WAIT seconds without a turn.
 * Notes: at most MILTER_PARSE_MAX bounces are parsed at once, whatever
 * the number of sessions: with the MIME cap (mime.h MIME_MAX_DELIMS)
 * this bounds the memory of parsing to MILTER_PARSE_MAX times the cost
 * of one message; the waiting ones hold only their buffered bytes.
 */
bool
milter_parse_begin(void)
{
	struct timespec	 until;
	bool		 ok = true;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MILTER_PARSE_WAIT;
	pthread_mutex_lock(&g_parse_lock);
	while (g_parsing >= MILTER_PARSE_MAX) {
		if (pthread_cond_timedwait(&g_parse_cond, &g_parse_lock,
		    &until) != 0 && g_parsing >= MILTER_PARSE_MAX) {
			ok = false;
			break;
		}
	}
	if (ok)
		g_parsing++;
	pthread_mutex_unlock(&g_parse_lock);
	return ok;
}

/*
 * milter_parse_end - give the turn of milter_parse_begin() back
 */
void
milter_parse_end(void)
{
	pthread_mutex_lock(&g_parse_lock);
	g_parsing--;
	pthread_cond_signal(&g_parse_cond);
	pthread_mutex_unlock(&g_parse_lock);
}

/*
 * milter_listen - create the milter socket
 *
 * Arguments: conn, the Socket value; err and errlen, why not.
 *
 * Returns BD_OK or BD_EIO.  A stale unix socket is removed first.
 */
enum bd_status
milter_listen(const char *conn, char *err, size_t errlen)
{
	free(g_conn);
	if ((g_conn = strdup(conn)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return BD_ENOMEM;
	}
	if (smfi_setconn(g_conn) != MI_SUCCESS) {
		(void)snprintf(err, errlen, "smfi_setconn refused it");
		return BD_EIO;
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		(void)snprintf(err, errlen, "cannot create the socket "
		    "(in use, or no permission on its folder)");
		return BD_EIO;
	}
	return BD_OK;
}

/*
 * milter_run - hand control to the milter engine until SIGTERM/SIGHUP
 *
 * Returns 0 on a clean stop, -1 otherwise.
 */
int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

/*
 * milter_qid - the queue id of the message for log lines
 *
 * Returns the MTA's macro i as last seen (non-alphanumerics shown as
 * '?'), or "NOQUEUE" before the MTA gave one.
 */
const char *
milter_qid(const struct msg_ctx *mc)
{
	return mc->qid[0] ? mc->qid : "NOQUEUE";
}
