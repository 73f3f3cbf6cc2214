/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter_commit.c - group commit: the bounces that arrive while one
 * commit is on its way to the disk share the next one.
 *
 * Every recorded bounce must be on disk before the MTA is told so
 * (synchronous=FULL: an fsync per commit), and SQLite has one writer:
 * with eight bounces at once each waited for the others' commits one
 * after the other (p99 26 ms, make bench-milter).  Here a thread that
 * finds no leader leads: it takes every request queued so far (its own
 * among them), records them in one transaction on the recorder
 * connection (dbpool_recorder(): the same for every group, so that its
 * pages stay in memory; the leader's own when that cannot be opened),
 * each in a savepoint, so one failure undoes only its own bounce,
 * commits once and hands each thread its own result; a thread still
 * waiting then leads the next group.  The others sleep until their
 * request is done, each on its own condition variable: the leader wakes
 * the threads it answered and the one that leads next, not every thread
 * waiting (a broadcast woke the threads queued for the next group too,
 * only for them to sleep again: two context switches each).  No bounce
 * is answered before the commit that holds it, so durability is as
 * before; a failed commit fails every request of the group, which the
 * callers then TEMPFAIL, and a group that waited out the busy timeout
 * takes the queued requests with it (fail_queued()).
 *
 * On PostgreSQL (dbpool.c: the threads share one handle) the group is
 * not used: the server orders the writers, and a shared handle's batch
 * would take in other threads' calls.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bounced/dbpool.h"
#include "bounced/milter_int.h"

/* One thread's bounce, queued for the leader. */
struct gc_req {
	const struct bd_event		*evs;
	size_t				 n;
	const struct state_policy	*pol;
	int64_t				 now;
	size_t				 n_new;		/* out */
	enum bd_status			 status;	/* out */
	char				 err[256];	/* out, on failure */
	bool				 done;
	pthread_cond_t			 wake;		/* done, or lead */
	struct gc_req			*next;
};

/* Requests wait at most this many per transaction (MILTER_PARSE_MAX-ish). */
#define GC_GROUP_MAX	64

static pthread_mutex_t	 gc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gc_req	*gc_head, **gc_tail = &gc_head;
static bool		 gc_leading;

/* Take up to GC_GROUP_MAX queued requests (gc_lock held). */
static struct gc_req *
take_group(void)
{
	struct gc_req	*g = gc_head, *r = gc_head;
	size_t		 i;

	for (i = 1; r != NULL && r->next != NULL && i < GC_GROUP_MAX; i++)
		r = r->next;
	if (r == NULL)
		return NULL;
	gc_head = r->next;
	if (gc_head == NULL)
		gc_tail = &gc_head;
	r->next = NULL;
	return g;
}

/*
 * Record a group in one transaction on st; every request gets a result.
 * Returns the transaction's failure (BD_OK when it committed).
 */
static enum bd_status
record_group(struct store *st, struct gc_req *g)
{
	struct gc_req	*r;
	enum bd_status	 s;

	if ((s = store_batch_begin(st)) != BD_OK) {
		for (r = g; r != NULL; r = r->next) {
			r->status = s;
			(void)snprintf(r->err, sizeof(r->err), "%s",
			    store_errmsg(st));
		}
		return s;
	}
	for (r = g; r != NULL; r = r->next) {
		r->status = store_record(st, r->evs, r->n, r->pol, r->now,
		    &r->n_new);
		if (r->status != BD_OK)
			(void)snprintf(r->err, sizeof(r->err), "%s",
			    store_errmsg(st));
	}
	if ((s = store_batch_end(st, true)) != BD_OK) {
		/* nothing of the group is on disk: none was recorded */
		for (r = g; r != NULL; r = r->next) {
			r->status = s;
			r->n_new = 0;
			(void)snprintf(r->err, sizeof(r->err), "%s",
			    store_errmsg(st));
		}
	}
	return s;
}

/*
 * The group before waited out the busy timeout (gc_lock held): the
 * requests queued meanwhile fail with it rather than wait as long again
 * as the next group, and again after it.  Each waited for part of that
 * timeout already, and the MTA's milter timeouts must not go off: with
 * the database locked for 25 s, a bounce that waited for two or three
 * groups in turn (3 s each) went past Postfix's milter_content_timeout
 * of 10 s (make check-faults, f-locked).  The MTA tries them again.
 */
static void
fail_queued(const struct gc_req *failed)
{
	struct gc_req	*r;

	for (r = gc_head; r != NULL; r = r->next) {
		r->status = failed->status;
		r->n_new = 0;
		(void)snprintf(r->err, sizeof(r->err), "%.200s (given up "
		    "with the group before)", failed->err);
		r->done = true;
		pthread_cond_signal(&r->wake);
	}
	gc_head = NULL;
	gc_tail = &gc_head;
}

/*
 * milter_commit_record - store_record() in the next group commit
 *
 * Arguments: st, the calling thread's connection (a leader records on
 * it only when dbpool_recorder() has none); evs/n, pol, now, n_new as
 * store_record(); err/errlen, the store's text on failure.
 * Returns store_record()'s status for this bounce, or the group's commit
 * failure.
 */
enum bd_status
milter_commit_record(struct store *st, const struct bd_event *evs, size_t n,
    const struct state_policy *pol, int64_t now, size_t *n_new, char *err,
    size_t errlen)
{
	struct gc_req	 me, *g, *r;
	struct store	*rec;
	enum bd_status	 s;

	if (dbpool_shared()) {
		if ((s = store_record(st, evs, n, pol, now, n_new)) != BD_OK)
			(void)snprintf(err, errlen, "%s", store_errmsg(st));
		return s;
	}
	memset(&me, 0, sizeof(me));
	me.evs = evs;
	me.n = n;
	me.pol = pol;
	me.now = now;
	pthread_cond_init(&me.wake, NULL);
	pthread_mutex_lock(&gc_lock);
	*gc_tail = &me;
	gc_tail = &me.next;
	while (!me.done) {
		if (gc_leading) {
			pthread_cond_wait(&me.wake, &gc_lock);
			continue;
		}
		/*
		 * Lead one group (ours is in it: it is queued and not
		 * done), then let a waiting thread lead the next, so that
		 * no thread's answer waits for other threads' groups.
		 */
		gc_leading = true;
		g = take_group();
		pthread_mutex_unlock(&gc_lock);
		if ((rec = dbpool_recorder()) == NULL)
			rec = st;
		s = record_group(rec, g);
		pthread_mutex_lock(&gc_lock);
		if (s == BD_EBUSY)
			fail_queued(g);
		for (r = g; r != NULL; r = g) {
			g = r->next;
			r->done = true;
			if (r != &me)
				pthread_cond_signal(&r->wake);
		}
		gc_leading = false;
		/* the first still queued leads the next group */
		if (gc_head != NULL)
			pthread_cond_signal(&gc_head->wake);
	}
	pthread_mutex_unlock(&gc_lock);
	pthread_cond_destroy(&me.wake);
	*n_new = me.n_new;
	if (me.status != BD_OK)
		(void)snprintf(err, errlen, "%s", me.err);
	return me.status;
}
