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
 * commits once and hands each thread its own result (a group is first
 * recorded whole; only when one request fails is it recorded again,
 * each in a savepoint, so that one failure undoes only its own bounce:
 * record_group()); a thread still
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
 * A leader first waits a moment for the bounces already on their way
 * (milter_commit_coming(): being parsed now), as PostgreSQL's
 * commit_delay does for its siblings: a commit costs the same for one
 * bounce as for eight (BEGIN, COMMIT, the WAL frames of the pages they
 * share, one fdatasync), and at eight sessions at once the leader used
 * to commit while the others were still parsing (2.75 bounces a
 * commit, 9 WAL writes a bounce; make bench-milter).  It waits at most
 * GC_DELAY_US, and not at all when none is coming: one session alone
 * never waits.  A group of one is recorded in a transaction of its own,
 * without the savepoint that a group needs.
 *
 * On PostgreSQL (dbpool.c: the threads share one handle) the group is
 * not used: the server orders the writers, and a shared handle's batch
 * would take in other threads' calls.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/*
 * How long a leader waits for the bounces on their way: about the time
 * one takes to parse (make bench-milter: 30 to 70 us), with room for a
 * thread that the scheduler let wait.  Bounded: a parse may be long (a
 * 30 MB bounce), and the leader's own answer waits meanwhile.
 */
#define GC_DELAY_US	500

static pthread_mutex_t	 gc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gc_req	*gc_head, **gc_tail = &gc_head;
static size_t		 gc_queued;	/* requests in gc_head's list */
static bool		 gc_leading;
static unsigned		 gc_coming;	/* announced, not queued yet */
static bool		 gc_leader_waits;
static pthread_cond_t	 gc_leader_wake;	/* CLOCK_MONOTONIC */
static long		 gc_delay_us = GC_DELAY_US;
static unsigned long	 gc_groups;	/* commits led, for the tests */
static pthread_once_t	 gc_once = PTHREAD_ONCE_INIT;

static void
gc_init(void)
{
	pthread_condattr_t	 a;

	/* a wait of microseconds must not follow the wall clock's jumps */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&gc_leader_wake, &a);
	pthread_condattr_destroy(&a);
}

/* The waiting leader has what it waits for (gc_lock held). */
static void
wake_leader_if_complete(void)
{
	if (gc_leader_waits && (gc_coming == 0 || gc_queued >= GC_GROUP_MAX))
		pthread_cond_signal(&gc_leader_wake);
}

/*
 * The leader waits for the bounces coming, at most gc_delay_us (gc_lock
 * held).
 */
static void
wait_for_coming(void)
{
	struct timespec	 until;

	if (gc_coming == 0 || gc_queued >= GC_GROUP_MAX || gc_delay_us <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += gc_delay_us / 1000000;
	until.tv_nsec += (gc_delay_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	gc_leader_waits = true;
	while (gc_coming > 0 && gc_queued < GC_GROUP_MAX &&
	    pthread_cond_timedwait(&gc_leader_wake, &gc_lock, &until) !=
	    ETIMEDOUT)
		;
	gc_leader_waits = false;
}

/*
 * milter_commit_coming - a bounce is on its way to milter_commit_record()
 *
 * Arguments: ticket, the caller's, set here; give it to
 * milter_commit_record(), or to milter_commit_gone() when the bounce
 * turns out to have nothing to record.
 */
void
milter_commit_coming(bool *ticket)
{
	(void)pthread_once(&gc_once, gc_init);
	pthread_mutex_lock(&gc_lock);
	gc_coming++;
	*ticket = true;
	pthread_mutex_unlock(&gc_lock);
}

/*
 * milter_commit_gone - the bounce announced will not be recorded
 *
 * Arguments: ticket, as set by milter_commit_coming(); nothing is done
 * when milter_commit_record() has taken it (or it was never set), so
 * this may be called at the end of every path.
 */
void
milter_commit_gone(bool *ticket)
{
	if (!*ticket)
		return;
	pthread_mutex_lock(&gc_lock);
	gc_coming--;
	*ticket = false;
	wake_leader_if_complete();
	pthread_mutex_unlock(&gc_lock);
}

/*
 * milter_commit_set_delay - how long a leader waits for the bounces
 * coming, in microseconds (GC_DELAY_US unless set; 0: not at all)
 *
 * Returns the number of groups committed so far.
 * Notes: for the tests.
 */
unsigned long
milter_commit_set_delay(long us)
{
	unsigned long	 n;

	pthread_mutex_lock(&gc_lock);
	gc_delay_us = us;
	n = gc_groups;
	pthread_mutex_unlock(&gc_lock);
	return n;
}

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
	gc_queued -= i;
	return g;
}

/* Every request of the group fails with the store's text. */
static void
fail_group(struct store *st, struct gc_req *g, enum bd_status s)
{
	struct gc_req	*r;

	for (r = g; r != NULL; r = r->next) {
		r->status = s;
		r->n_new = 0;
		(void)snprintf(r->err, sizeof(r->err), "%s", store_errmsg(st));
	}
}

/*
 * Record a group in one transaction on st, each request in a savepoint;
 * every request gets a result.
 * Returns the transaction's failure (BD_OK when it committed).
 */
static enum bd_status
record_savepoints(struct store *st, struct gc_req *g)
{
	struct gc_req	*r;
	enum bd_status	 s;

	if ((s = store_batch_begin(st)) != BD_OK) {
		fail_group(st, g, s);
		return s;
	}
	for (r = g; r != NULL; r = r->next) {
		r->status = store_record(st, r->evs, r->n, r->pol, r->now,
		    &r->n_new);
		if (r->status != BD_OK)
			(void)snprintf(r->err, sizeof(r->err), "%s",
			    store_errmsg(st));
	}
	if ((s = store_batch_end(st, true)) != BD_OK)
		/* nothing of the group is on disk: none was recorded */
		fail_group(st, g, s);
	return s;
}

/*
 * Record a group in one transaction on st; every request gets a result.
 * Returns the transaction's failure (BD_OK when it committed).
 * Notes: a request fails seldom (the disk, the database), so the group
 * is first recorded whole, without the savepoints that let one request
 * fail alone (store_batch_whole()); only when one failed is it recorded
 * again, each in a savepoint.  A group of one is its own transaction.
 */
static enum bd_status
record_group(struct store *st, struct gc_req *g)
{
	struct gc_req	*r;
	enum bd_status	 s;

	if (g->next == NULL) {
		g->status = store_record(st, g->evs, g->n, g->pol, g->now,
		    &g->n_new);
		if (g->status != BD_OK)
			(void)snprintf(g->err, sizeof(g->err), "%s",
			    store_errmsg(st));
		return g->status;
	}
	if ((s = store_batch_begin(st)) != BD_OK) {
		fail_group(st, g, s);
		return s;
	}
	store_batch_whole(st);
	for (r = g; r != NULL; r = r->next)
		if (store_record(st, r->evs, r->n, r->pol, r->now,
		    &r->n_new) != BD_OK)
			break;
	if (r != NULL) {
		/* one failed, and spoiled the batch: again, one by one */
		(void)store_batch_end(st, false);
		return record_savepoints(st, g);
	}
	if ((s = store_batch_end(st, true)) != BD_OK)
		fail_group(st, g, s);
	else
		for (r = g; r != NULL; r = r->next)
			r->status = BD_OK;
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
	gc_queued = 0;
}

/*
 * milter_commit_record - store_record() in the next group commit
 *
 * Arguments: st, the calling thread's connection (a leader records on
 * it only when dbpool_recorder() has none); evs/n, pol, now, n_new as
 * store_record(); err/errlen, the store's text on failure; ticket, the
 * caller's from milter_commit_coming(), taken here, or NULL.
 * Returns store_record()'s status for this bounce, or the group's commit
 * failure.
 */
enum bd_status
milter_commit_record(struct store *st, const struct bd_event *evs, size_t n,
    const struct state_policy *pol, int64_t now, size_t *n_new, char *err,
    size_t errlen, bool *ticket)
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
	(void)pthread_once(&gc_once, gc_init);
	pthread_mutex_lock(&gc_lock);
	*gc_tail = &me;
	gc_tail = &me.next;
	gc_queued++;
	if (ticket != NULL && *ticket) {
		gc_coming--;
		*ticket = false;
	}
	wake_leader_if_complete();
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
		wait_for_coming();
		gc_groups++;
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
