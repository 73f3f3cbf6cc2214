/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * rcache.c - the recipient lookup behind SuppressedRecipients: is the
 * address given at RCPT TO (RFC 5321 section 4.1.1.3) suppressed?
 *
 * A fixed-size, 8-way set-associative table of normalised address ->
 * (suppressed, reason, expiry) sits in front of store_lookup().  An
 * answer is kept for a short time to live (10 s by default), negative
 * answers too, because most recipients are not suppressed; a full set
 * gives up its oldest entry.  Memory is bounded at creation and never
 * grows, whatever the senders do.  Sets are guarded by striped mutexes,
 * so worker threads rarely wait for each other and never for the store
 * while holding one.  The hash is SipHash-2-4 under a random key per
 * cache, so a sender cannot choose addresses that collide; one who did
 * would only cost us extra store lookups.
 *
 * A failing store (an error, or busy past its timeout) never turns into
 * a refusal: the answer is RCACHE_FAILED, which the milter treats as
 * "not suppressed", and for RCACHE_BACKOFF seconds after a failure the
 * store is not asked again, so that an outage does not add its timeout
 * to every RCPT TO.  The module does not log; it reports the start and
 * end of an incident so that the caller logs each once.
 *
 * A state change recorded by this process (rcache_forget()) bumps a
 * generation number, and an answer read from the store before the bump
 * is not cached after it; changes made by bouncectl are seen within the
 * time to live.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/event.h"
#include "bounced/rcache.h"
#include "util/siphash.h"

#define RC_WAYS		8		/* entries per set */
#define RC_LOCKS	64		/* mutex stripes */
#define RC_MAX_SLOTS	(1u << 20)

struct rc_entry {
	uint64_t	 hash;
	int64_t		 expires;	/* valid while now < expires */
	bool		 used;
	bool		 suppressed;
	char		 reason[16];
	char		 addr[ADDR_MAX + 1];
};

struct rcache {
	struct rc_entry	*e;		/* nsets * RC_WAYS */
	size_t		 nsets;		/* a power of two */
	int		 ttl;
	uint8_t		 key[SIPHASH_KEY_LEN];	/* the hash's, per cache */
	uint64_t	 gen;		/* bumped by rcache_forget/clear */
	bool		 failing;	/* an incident is open */
	int64_t		 quiet_until;	/* store left alone till */
	int		 last_err;	/* bd_status of the last failure */
	struct rcache_stats stats;
	pthread_mutex_t	 locks[RC_LOCKS];
};

/*
 * SipHash-2-4 of the address under the cache's random key: senders
 * choose the addresses, and without the key they cannot make them
 * collide (a seeded FNV-1a could still be).
 */
static uint64_t
hash_addr(const struct rcache *rc, const char *a)
{
	return siphash24(rc->key, a, strlen(a));
}

static void
stat_add(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/*
 * rcache_new - create a recipient cache
 *
 * Arguments: slots, how many addresses it keeps (0: RCACHE_SLOTS; rounded
 * up to a power of two, at least RC_WAYS, at most 1 << 20); ttl, seconds
 * an answer is kept (0 or less: RCACHE_TTL); out, the cache.
 *
 * Returns BD_OK or BD_ENOMEM.  Notes: about 350 bytes per slot, all
 * allocated here.
 */
enum bd_status
rcache_new(size_t slots, int ttl, struct rcache **out)
{
	struct rcache	*rc;
	size_t		 n = RC_WAYS, i;

	*out = NULL;
	if (slots == 0)
		slots = RCACHE_SLOTS;
	if (slots > RC_MAX_SLOTS)
		slots = RC_MAX_SLOTS;
	while (n < slots)
		n <<= 1;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return BD_ENOMEM;
	if ((rc->e = calloc(n, sizeof(*rc->e))) == NULL) {
		free(rc);
		return BD_ENOMEM;
	}
	rc->nsets = n / RC_WAYS;
	rc->ttl = ttl > 0 ? ttl : RCACHE_TTL;
	siphash_key_random(rc->key);
	for (i = 0; i < RC_LOCKS; i++)
		if (pthread_mutex_init(&rc->locks[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&rc->locks[i]);
			free(rc->e);
			free(rc);
			return BD_ENOMEM;
		}
	*out = rc;
	return BD_OK;
}

/*
 * rcache_free - release a cache
 *
 * Arguments: rc, or NULL.  No other thread may be using it.
 */
void
rcache_free(struct rcache *rc)
{
	size_t	 i;

	if (rc == NULL)
		return;
	for (i = 0; i < RC_LOCKS; i++)
		pthread_mutex_destroy(&rc->locks[i]);
	free(rc->e);
	free(rc);
}

static struct rc_entry *
set_of(struct rcache *rc, uint64_t h, pthread_mutex_t **lock)
{
	size_t	 set = (size_t)(h & (rc->nsets - 1));

	*lock = &rc->locks[set % RC_LOCKS];
	return &rc->e[set * RC_WAYS];
}

/* A live cached answer for a; the set's lock is held. */
static struct rc_entry *
find(struct rc_entry *set, uint64_t h, const char *a, int64_t now)
{
	int	 i;

	for (i = 0; i < RC_WAYS; i++)
		if (set[i].used && set[i].hash == h &&
		    now < set[i].expires && strcmp(set[i].addr, a) == 0)
			return &set[i];
	return NULL;
}

static void
insert(struct rcache *rc, uint64_t h, const char *a, bool suppressed,
    const char *reason, int64_t now, uint64_t gen)
{
	pthread_mutex_t	*lock;
	struct rc_entry	*set = set_of(rc, h, &lock), *victim = NULL;
	int		 i;

	pthread_mutex_lock(lock);
	/* Not if the state changed while we asked the store. */
	if (__atomic_load_n(&rc->gen, __ATOMIC_ACQUIRE) != gen)
		goto out;
	for (i = 0; i < RC_WAYS && victim == NULL; i++)
		if (set[i].used && set[i].hash == h &&
		    strcmp(set[i].addr, a) == 0)
			victim = &set[i];	/* another thread's answer */
	for (i = 0; i < RC_WAYS && victim == NULL; i++)
		if (!set[i].used || now >= set[i].expires)
			victim = &set[i];
	if (victim == NULL) {
		victim = &set[0];
		for (i = 1; i < RC_WAYS; i++)
			if (set[i].expires < victim->expires)
				victim = &set[i];
		stat_add(&rc->stats.evictions);
	}
	victim->used = true;
	victim->hash = h;
	victim->expires = now + rc->ttl;
	victim->suppressed = suppressed;
	(void)snprintf(victim->reason, sizeof(victim->reason), "%s",
	    reason != NULL ? reason : "");
	(void)snprintf(victim->addr, sizeof(victim->addr), "%s", a);
out:
	pthread_mutex_unlock(lock);
}

static void
put_reason(char *reason, size_t reasonlen, const char *r)
{
	if (reason != NULL && reasonlen > 0)
		(void)snprintf(reason, reasonlen, "%s", r);
}

/*
 * rcache_lookup - is a recipient suppressed?
 *
 * Arguments and returns: as rcache_lookup_msg() without the error text.
 */
enum rcache_answer
rcache_lookup(struct rcache *rc, struct store *st, const char *rcpt,
    int64_t now, char *reason, size_t reasonlen,
    enum rcache_incident *incident, enum bd_status *err)
{
	return rcache_lookup_msg(rc, st, rcpt, now, reason, reasonlen,
	    incident, err, NULL, 0);
}

/*
 * rcache_lookup_msg - is a recipient suppressed, and why not answered?
 *
 * Arguments: rc; st, the store asked on a miss (a read-only handle of
 * its own keeps RCPT TO away from the writers' lock); rcpt, as the MTA
 * gave it; now, seconds; reason and reasonlen (may be NULL), receives
 * the suppression reason ("" otherwise); incident (may be NULL), whether
 * this lookup started or ended a run of failures; err (may be NULL),
 * the store's status when the answer is RCACHE_FAILED; errmsg and
 * errmsglen (may be NULL), the store's text of that failure
 * (store_errmsg(), unsanitised: the caller sanitises it) when this call
 * asked the store, "" otherwise.
 *
 * Returns RCACHE_SUPPRESSED, RCACHE_ACTIVE (also for what is not an
 * address), or RCACHE_FAILED when the store could not answer or is in
 * its back-off after a failure.  Thread-safe; no lock is held while the
 * store is asked.
 */
enum rcache_answer
rcache_lookup_msg(struct rcache *rc, struct store *st, const char *rcpt,
    int64_t now, char *reason, size_t reasonlen,
    enum rcache_incident *incident, enum bd_status *err, char *errmsg,
    size_t errmsglen)
{
	struct store_recipient	*r;
	struct rc_entry		*e;
	pthread_mutex_t		*lock;
	enum bd_status		 s;
	char			 a[ADDR_MAX + 1];
	uint64_t		 h, gen;
	bool			 sup = false;

	if (incident != NULL)
		*incident = RCACHE_STEADY;
	if (err != NULL)
		*err = BD_OK;
	put_reason(reason, reasonlen, "");
	put_reason(errmsg, errmsglen, "");
	if (rcpt == NULL || !addr_normalize(rcpt, a, sizeof(a)))
		return RCACHE_ACTIVE;
	h = hash_addr(rc, a);
	e = set_of(rc, h, &lock);
	pthread_mutex_lock(lock);
	if ((e = find(e, h, a, now)) != NULL) {
		sup = e->suppressed;
		put_reason(reason, reasonlen, e->reason);
		pthread_mutex_unlock(lock);
		stat_add(&rc->stats.hits);
		return sup ? RCACHE_SUPPRESSED : RCACHE_ACTIVE;
	}
	pthread_mutex_unlock(lock);

	if (now < __atomic_load_n(&rc->quiet_until, __ATOMIC_ACQUIRE)) {
		stat_add(&rc->stats.failures);
		if (err != NULL)
			*err = __atomic_load_n(&rc->last_err,
			    __ATOMIC_RELAXED);
		return RCACHE_FAILED;
	}
	stat_add(&rc->stats.misses);
	gen = __atomic_load_n(&rc->gen, __ATOMIC_ACQUIRE);
	if (st == NULL || (r = malloc(sizeof(*r))) == NULL) {
		s = st == NULL ? BD_EIO : BD_ENOMEM;
		put_reason(errmsg, errmsglen, st == NULL ? "no store" :
		    "out of memory");
	} else {
		s = store_lookup(st, a, r);
		if (s != BD_OK && s != BD_ENOTFOUND && s != BD_EPARSE)
			put_reason(errmsg, errmsglen, store_errmsg(st));
		if (s == BD_OK) {
			sup = strcmp(r->state, "suppressed") == 0;
			insert(rc, h, a, sup, sup ? r->reason : "", now, gen);
			put_reason(reason, reasonlen, sup ? r->reason : "");
		}
		free(r);
	}
	if (s == BD_ENOTFOUND || s == BD_EPARSE) {
		sup = false;
		if (s == BD_ENOTFOUND)
			insert(rc, h, a, false, "", now, gen);
		s = BD_OK;
	}
	if (s != BD_OK) {
		stat_add(&rc->stats.failures);
		__atomic_store_n(&rc->last_err, (int)s, __ATOMIC_RELAXED);
		__atomic_store_n(&rc->quiet_until, now + RCACHE_BACKOFF,
		    __ATOMIC_RELEASE);
		if (!__atomic_exchange_n(&rc->failing, true, __ATOMIC_ACQ_REL)
		    && incident != NULL)
			*incident = RCACHE_STARTED;
		if (err != NULL)
			*err = s;
		return RCACHE_FAILED;
	}
	if (__atomic_exchange_n(&rc->failing, false, __ATOMIC_ACQ_REL) &&
	    incident != NULL)
		*incident = RCACHE_RECOVERED;
	return sup ? RCACHE_SUPPRESSED : RCACHE_ACTIVE;
}

/*
 * rcache_forget - drop what is cached about one recipient
 *
 * Arguments: rc; rcpt, an address whose state may just have changed.
 *
 * Notes: also stops answers that are being read from the store right
 * now from being cached.  Thread-safe.
 */
void
rcache_forget(struct rcache *rc, const char *rcpt)
{
	struct rc_entry	*set;
	pthread_mutex_t	*lock;
	char		 a[ADDR_MAX + 1];
	uint64_t	 h;
	int		 i;

	if (rcpt == NULL || !addr_normalize(rcpt, a, sizeof(a)))
		return;
	h = hash_addr(rc, a);
	set = set_of(rc, h, &lock);
	pthread_mutex_lock(lock);
	__atomic_add_fetch(&rc->gen, 1, __ATOMIC_ACQ_REL);
	for (i = 0; i < RC_WAYS; i++)
		if (set[i].used && set[i].hash == h &&
		    strcmp(set[i].addr, a) == 0)
			set[i].used = false;
	pthread_mutex_unlock(lock);
}

/*
 * rcache_clear - forget every cached answer
 *
 * Arguments: rc.  Thread-safe.
 */
void
rcache_clear(struct rcache *rc)
{
	size_t	 set;

	__atomic_add_fetch(&rc->gen, 1, __ATOMIC_ACQ_REL);
	for (set = 0; set < rc->nsets; set++) {
		pthread_mutex_lock(&rc->locks[set % RC_LOCKS]);
		memset(&rc->e[set * RC_WAYS], 0, RC_WAYS * sizeof(*rc->e));
		pthread_mutex_unlock(&rc->locks[set % RC_LOCKS]);
	}
}

/*
 * rcache_get_stats - the counters since rcache_new()
 *
 * Arguments: rc; out, a copy (each counter read atomically).
 */
void
rcache_get_stats(struct rcache *rc, struct rcache_stats *out)
{
	out->hits = __atomic_load_n(&rc->stats.hits, __ATOMIC_RELAXED);
	out->misses = __atomic_load_n(&rc->stats.misses, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&rc->stats.failures,
	    __ATOMIC_RELAXED);
	out->evictions = __atomic_load_n(&rc->stats.evictions,
	    __ATOMIC_RELAXED);
}
