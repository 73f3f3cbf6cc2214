/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter_send.c - outbound mail as the trust policy needs it, for the
 * libmilter glue (DESIGN.md "Trust", verdict/trust.c):
 *
 * - RecordSends: the envelope sender, the RFC 3461 ENVID (xtext,
 *   section 4), the recipients the relay will deliver (not to a local
 *   mailbox: {rcpt_mailer}) and the Message-ID field of every ordinary
 *   message are kept as sends (store_record_sends()) once the MTA gave
 *   the queue id, at the end of the header when it can (the body is
 *   never needed), else at the end of the message.  A report about the
 *   message is then tied to it by queue id, Message-ID or ENVID.
 * - SignEnvelope: the envelope sender of outbound mail is replaced by
 *   its prvs= form (trust.c, smfi_chgfrom(3)) at the end of the message,
 *   the only place libmilter allows it.
 * - the other side: the envelope recipients of a bounce are checked for
 *   a prvs= tag (a wrong or expired one makes the report untrusted).
 *
 * Recording costs ordinary mail a copy into memory, never a wait on the
 * database: the sends are queued, and a writer thread of this file
 * writes them in batches (one transaction, so one fsync under
 * synchronous=FULL, per MILTER_SEND_DELAY_MS or MILTER_SEND_BATCH
 * sends).  A bounce flushes the queue before it is judged (its send
 * may be waiting there: Postfix can bounce within milliseconds).  While
 * the store fails the sends stay queued (at most MILTER_SEND_QUEUE, then
 * dropped) and are written once it answers, so that a DSN about mail
 * sent during a database outage is still tied to its send (the DSN
 * itself is deferred meanwhile: OnError).  One line when the incident
 * starts, one when it ends.  What is queued when bounced stops is
 * written then; a crash loses at most the last MILTER_SEND_DELAY_MS.
 * Ordinary mail is logged at DEBUG only (bounced(8), LOGGING).
 *
 * It must not: keep the SMFICTX it is given, use static buffers, or
 * block a callback on the store but to judge a bounce.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log/log.h"
#include "bounced/milter.h"
#include "bounced/milter_int.h"

/* The address inside "<...>" (RFC 5321 4.1.2 Path), into out. */
static bool
bare_path(const char *in, char *out, size_t outlen)
{
	size_t	 n;

	while (*in == ' ' || *in == '\t' || *in == '<')
		in++;
	n = strcspn(in, ">");
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, in, n);
	out[n] = '\0';
	return true;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3461 section 4: xtext ("+2B" is '+') to text; NULL if unusable. */
static char *
xtext_decode(const char *in)
{
	char	*out, *o;
	int	 h, l;

	if (strlen(in) > MILTER_ENVID_MAX || (out = malloc(strlen(in) + 1)) ==
	    NULL)
		return NULL;
	for (o = out; *in != '\0'; in++) {
		if (*in == '+' && (h = hexval(in[1])) >= 0 &&
		    (l = hexval(in[2])) >= 0) {
			*o++ = (char)(h * 16 + l);
			in += 2;
		} else
			*o++ = *in;
		if (!isprint((unsigned char)o[-1])) {
			free(out);
			return NULL;
		}
	}
	*o = '\0';
	return out;
}

/*
 * milter_send_from - what MAIL FROM says of an ordinary message
 *
 * Arguments: ctx, of mlfi_envfrom; cc; mc, a new message with a
 * non-null sender; argv, the sender and its ESMTP parameters.
 * Notes: decides whether its sends are kept (RecordSends) and whether
 * its sender is signed (SignEnvelope, SignSenders); out of memory, the
 * message is simply neither.
 */
void
milter_send_from(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc, char **argv)
{
	struct send_ctx	*sc = &mc->send;
	char		 a[ADDR_MAX + 1];
	size_t		 i;

	(void)ctx;
	if (!bare_path(argv[0], a, sizeof(a)))
		return;
	sc->record = cc->conf->record_sends;
	sc->sign = config_signs_sender(cc->conf, a);
	if (!sc->record && !sc->sign)
		return;
	if ((sc->sender = strdup(a)) == NULL) {
		sc->record = sc->sign = false;
		return;
	}
	for (i = 1; argv[i] != NULL && sc->envid == NULL; i++)
		if (strncasecmp(argv[i], "ENVID=", 6) == 0)
			sc->envid = xtext_decode(argv[i] + 6);
}

/* Transports that deliver to a mailbox here, or nowhere: not a send. */
static bool
local_mailer(const char *m)
{
	static const char *const local[] = { "local", "virtual", "lmtp",
	    "error", "discard", NULL };
	size_t	 i;

	for (i = 0; m != NULL && local[i] != NULL; i++)
		if (strcasecmp(m, local[i]) == 0)
			return true;
	return false;
}

/* The worse of two signature verdicts: bad, expired, valid, the rest. */
static enum prvs_result
worse(enum prvs_result a, enum prvs_result b)
{
	static const int rank[] = { [PRVS_NONE] = 0, [PRVS_NOKEY] = 1,
	    [PRVS_VALID] = 2, [PRVS_EXPIRED] = 3, [PRVS_BAD] = 4 };

	return rank[b] > rank[a] ? b : a;
}

/*
 * milter_send_rcpt - one envelope recipient
 *
 * Arguments: ctx, of mlfi_envrcpt; cc; mc; rcpt, as the MTA gave it.
 * Notes: of a bounce, the signature of a prvs= address is judged (the
 * worst verdict of all its recipients stays); of ordinary mail whose
 * sends are kept, the address is kept unless the MTA delivers it to a
 * mailbox of its own ({rcpt_mailer}).  Past MILTER_SEND_RCPTS the rest
 * are not kept.
 */
void
milter_send_rcpt(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc, const char *rcpt)
{
	const struct bd_config	*c = cc->conf;
	struct send_ctx		*sc = &mc->send;
	char			 a[ADDR_MAX + 1], **n;

	if (mc->bounce) {
		mc->signature = worse(mc->signature, prvs_check(c->sign_key,
		    c->sign_key_len, rcpt, milter_now(),
		    (unsigned)(c->sign_max_age / 86400), NULL, 0));
		return;
	}
	if (!sc->record || local_mailer(smfi_getsymval(ctx, "{rcpt_mailer}")))
		return;
	if (!addr_normalize(rcpt, a, sizeof(a)))
		return;
	if (sc->nrcpts == MILTER_SEND_RCPTS) {
		sc->full = true;
		return;
	}
	if (sc->nrcpts == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 4;

		if ((n = reallocarray(sc->rcpts, cap, sizeof(*n))) == NULL)
			return;
		sc->rcpts = n;
		sc->cap = cap;
	}
	if ((sc->rcpts[sc->nrcpts] = strdup(a)) != NULL)
		sc->nrcpts++;
}

/*
 * milter_send_wanted - whether an ordinary message needs more than its
 * envelope: sends to keep, or a sender to sign
 */
bool
milter_send_wanted(const struct msg_ctx *mc)
{
	return (mc->send.record && mc->send.nrcpts > 0 && !mc->send.done) ||
	    mc->send.sign;
}

/* A header value, trimmed of the leading space and cut, or NULL. */
static char *
header_copy(const char *v)
{
	size_t	 n;

	v += strspn(v, " \t\r\n");
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	return strndup(v, n > STORE_TEXT_MAX ? STORE_TEXT_MAX : n);
}

/*
 * milter_send_header - one header field of an ordinary message
 *
 * Arguments: cc; mc; name and value as the MTA gave them.
 * Notes: keeps the first Message-ID field (RFC 5322 section 3.6.4) and
 * the first CampaignHeader field; nothing else is looked at.
 */
void
milter_send_header(const struct conn_ctx *cc, struct msg_ctx *mc,
    const char *name, const char *value)
{
	struct send_ctx		*sc = &mc->send;
	const char		*ch = cc->conf->campaign_header;

	if (!sc->record || sc->done || sc->nrcpts == 0)
		return;
	if (sc->msgid == NULL && strcasecmp(name, "Message-ID") == 0)
		sc->msgid = header_copy(value);
	else if (sc->campaign == NULL && ch != NULL && ch[0] != '\0' &&
	    strcasecmp(name, ch) == 0)
		sc->campaign = header_copy(value);
}

/*
 * The queue of sends (see the top of this file).  g_qlock guards the
 * queue; g_wlock is held while a batch is written, so that whoever
 * flushes before judging a bounce waits for a batch in flight and then
 * writes what is left: once milter_send_flush() returns, every send
 * queued before it was called is in the store (or the store failed).
 */
struct pending {
	char		*qid, *rcpt, *msgid, *envid, *sender, *campaign;
	int64_t		 when;
};

static pthread_mutex_t	 g_qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 g_qcond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t	 g_wlock = PTHREAD_MUTEX_INITIALIZER;
static struct pending	*g_queue;		/* oldest first */
static size_t		 g_nqueue, g_qcap;
static size_t		 g_dropped;		/* past MILTER_SEND_QUEUE */
static const struct pending *g_inflight;	/* being written, g_qlock */
static size_t		 g_ninflight;
static bool		 g_writer;		/* the thread runs */
static bool		 g_stop;		/* milter_send_stop() */
static pthread_t	 g_writer_tid;
static bool		 g_send_failing;	/* an incident is open */

static void
pending_clear(struct pending *p)
{
	free(p->qid);
	free(p->rcpt);
	free(p->msgid);
	free(p->envid);
	free(p->sender);
	free(p->campaign);
}

static void
pending_free(struct pending *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		pending_clear(&p[i]);
	free(p);
}

static char *
dup_or_null(const char *s, bool *nomem)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = true;
	return d;
}

/* Room for n more in the queue (g_qlock held); false: full or no memory. */
static bool
queue_room(size_t n)
{
	struct pending	*q;
	size_t		 cap;

	if (g_nqueue + n > MILTER_SEND_QUEUE)
		return false;
	if (g_nqueue + n <= g_qcap)
		return true;
	cap = g_qcap ? g_qcap : 64;
	while (cap < g_nqueue + n)
		cap *= 2;
	if ((q = reallocarray(g_queue, cap, sizeof(*q))) == NULL)
		return false;
	g_queue = q;
	g_qcap = cap;
	return true;
}

/* Take the whole queue (g_qlock held). */
static struct pending *
queue_take(size_t *n)
{
	struct pending	*q = g_queue;

	*n = g_nqueue;
	g_queue = NULL;
	g_nqueue = g_qcap = 0;
	return q;
}

/* Put a batch that could not be written back in front (g_qlock held). */
static void
queue_put_back(struct pending *b, size_t n)
{
	size_t	 keep = n;

	if (g_nqueue + keep > MILTER_SEND_QUEUE)
		keep = g_nqueue >= MILTER_SEND_QUEUE ? 0 :
		    MILTER_SEND_QUEUE - g_nqueue;
	if (keep > 0 && queue_room(keep)) {
		memmove(g_queue + keep, g_queue, g_nqueue * sizeof(*g_queue));
		memcpy(g_queue, b, keep * sizeof(*b));
		g_nqueue += keep;
	} else
		keep = 0;
	g_dropped += n - keep;
	/* the newest of the batch are the ones that did not fit */
	while (keep < n)
		pending_clear(&b[keep++]);
	free(b);
}

/* Write one batch in one transaction; the incident is logged once. */
static enum bd_status
write_batch(struct store *st, const struct pending *b, size_t n,
    size_t dropped)
{
	struct store_send	*v;
	enum bd_status		 s = BD_EIO;
	char			 san[LOG_SANITIZE_BUF];
	size_t			 i;

	if (st != NULL && (v = calloc(n, sizeof(*v))) == NULL)
		s = BD_ENOMEM;
	else if (st != NULL) {
		for (i = 0; i < n; i++) {
			v[i].queue_id = b[i].qid;
			v[i].recipient = b[i].rcpt;
			v[i].message_id = b[i].msgid;
			v[i].envelope_id = b[i].envid;
			v[i].sender = b[i].sender;
			v[i].campaign = b[i].campaign;
			v[i].when = b[i].when;
		}
		s = store_record_sends(st, v, n, 0);
		free(v);
	}
	if (s != BD_OK) {
		if (!__atomic_exchange_n(&g_send_failing, true,
		    __ATOMIC_ACQ_REL))
			log_err("the database does not take sends (%s: %s); "
			    "they are kept in memory until it does (at most "
			    "%d)", bd_strerror(s), st != NULL ? log_sanitize(
			    store_errmsg(st), san, sizeof(san)) :
			    "no connection", MILTER_SEND_QUEUE);
		return s;
	}
	if (__atomic_exchange_n(&g_send_failing, false, __ATOMIC_ACQ_REL))
		log_info("the database takes sends again (%zu written)", n);
	if (dropped > 0)
		log_warn("%zu sends were not kept (more than %d waiting): "
		    "reports about them will not be trusted by them", dropped,
		    MILTER_SEND_QUEUE);
	log_debug("sends written: %zu", n);
	return BD_OK;
}

/*
 * milter_send_flush - write every queued send now
 *
 * Arguments: st, the calling thread's read-write handle (NULL: nothing
 * can be written).
 * Returns true when the queue is empty afterwards.
 * Notes: waits for a batch the writer thread has in flight; called
 * before a bounce is judged (its send may be waiting) and at the end.
 */
static bool	 flush_locked(struct store *st);

bool
milter_send_flush(struct store *st)
{
	pthread_mutex_lock(&g_wlock);
	return flush_locked(st);
}

/*
 * milter_send_flush_try - milter_send_flush(), unless another thread has
 * been writing sends for MILTER_SEND_FLUSH_WAIT_MS: then false at once.
 * For a bounce's end of message: g_wlock is held across the database's
 * busy wait, and bounces queued behind it one busy timeout each until
 * the MTA's milter timeouts went off (issue 11, f-locked).  A bounce
 * that does not wait records on its own connection, which waits for the
 * lock in parallel with the others.
 */
bool
milter_send_flush_try(struct store *st)
{
	struct timespec	 until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += MILTER_SEND_FLUSH_WAIT_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_timedlock(&g_wlock, &until) != 0)
		return false;
	return flush_locked(st);
}

/* A Message-ID without its angle brackets and blanks, into out. */
static void
bare_msgid(const char *m, char *out, size_t outlen)
{
	size_t	 n;

	out[0] = '\0';
	if (m == NULL)
		return;
	m += strspn(m, " \t<");
	n = strcspn(m, ">");
	while (n > 0 && (m[n - 1] == ' ' || m[n - 1] == '\t'))
		n--;
	(void)snprintf(out, outlen, "%.*s", (int)n, m);
}

/* How p matches k (store_send_match()'s order), TRUST_MATCH_NONE if not. */
static enum trust_match
pending_how(const struct pending *p, const struct store_send_key *k,
    const char *rcpt, const char *orcpt, const char *mid)
{
	char	 key[ADDR_MAX + 1], pmid[STORE_TEXT_MAX + 1];
	size_t	 i;

	if (p->rcpt == NULL || !addr_normalize(p->rcpt, key, sizeof(key)) ||
	    (strcmp(key, rcpt) != 0 && strcmp(key, orcpt) != 0))
		return TRUST_MATCH_NONE;
	for (i = 0; i < k->nqueue_ids && i < STORE_SEND_QIDS; i++)
		if (p->qid != NULL && k->queue_ids[i] != NULL &&
		    k->queue_ids[i][0] != '\0' &&
		    strcmp(p->qid, k->queue_ids[i]) == 0)
			return TRUST_MATCH_QUEUE_ID;
	bare_msgid(p->msgid, pmid, sizeof(pmid));
	if (mid[0] != '\0' && strcmp(pmid, mid) == 0)
		return TRUST_MATCH_MESSAGE_ID;
	if (p->envid != NULL && k->envelope_id != NULL &&
	    k->envelope_id[0] != '\0' && strcmp(p->envid, k->envelope_id) == 0)
		return TRUST_MATCH_ENVELOPE_ID;
	return TRUST_MATCH_NONE;
}

/*
 * milter_send_match_pending - store_send_match() over the sends still in
 * memory (queued, or being written now)
 *
 * Arguments: k, since, out as store_send_match().
 * Notes: after an outage the sends kept in memory are written while the
 * MTA offers the bounces it kept; a bounce must not be held as
 * untrusted because its send is a few milliseconds from the disk
 * (e2e-tempfail failed so).
 */
void
milter_send_match_pending(const struct store_send_key *k, int64_t since,
    struct store_send_found *out)
{
	const struct pending	*set[2];
	size_t			 nset[2], s, i;
	enum trust_match	 how;
	char			 rcpt[ADDR_MAX + 1], orcpt[ADDR_MAX + 1];
	char			 mid[STORE_TEXT_MAX + 1];

	memset(out, 0, sizeof(*out));
	out->how = TRUST_MATCH_NONE;
	if (k->recipient == NULL ||
	    !addr_normalize(k->recipient, rcpt, sizeof(rcpt)))
		return;
	if (k->original_recipient == NULL || !addr_normalize(
	    k->original_recipient, orcpt, sizeof(orcpt)))
		orcpt[0] = '\0';
	bare_msgid(k->message_id, mid, sizeof(mid));
	pthread_mutex_lock(&g_qlock);
	set[0] = g_queue;
	nset[0] = g_nqueue;
	set[1] = g_inflight;
	nset[1] = g_ninflight;
	for (s = 0; s < 2; s++)
		for (i = 0; i < nset[s]; i++) {
			if (set[s][i].when < since)
				continue;
			how = pending_how(&set[s][i], k, rcpt, orcpt, mid);
			if (how != TRUST_MATCH_NONE && (out->how ==
			    TRUST_MATCH_NONE || how < out->how ||
			    (how == out->how && set[s][i].when > out->when))) {
				out->how = how;
				out->when = set[s][i].when;
			}
		}
	pthread_mutex_unlock(&g_qlock);
}

/* The rest of milter_send_flush(), g_wlock held; it gives it back. */
static bool
flush_locked(struct store *st)
{
	struct pending	*b;
	size_t		 n, dropped;
	bool		 empty;

	pthread_mutex_lock(&g_qlock);
	if (g_nqueue == 0 || st == NULL) {
		empty = g_nqueue == 0;
		pthread_mutex_unlock(&g_qlock);
		pthread_mutex_unlock(&g_wlock);
		return empty;
	}
	b = queue_take(&n);
	g_inflight = b;
	g_ninflight = n;
	dropped = g_dropped;
	g_dropped = 0;
	pthread_mutex_unlock(&g_qlock);
	if (write_batch(st, b, n, dropped) == BD_OK) {
		pthread_mutex_lock(&g_qlock);
		g_inflight = NULL;
		g_ninflight = 0;
		pthread_mutex_unlock(&g_qlock);
		pending_free(b, n);
		empty = true;
	} else {
		pthread_mutex_lock(&g_qlock);
		g_inflight = NULL;
		g_ninflight = 0;
		g_dropped += dropped;
		queue_put_back(b, n);
		pthread_mutex_unlock(&g_qlock);
		empty = false;
	}
	pthread_mutex_unlock(&g_wlock);
	return empty;
}

/*
 * milter_sync_sends - write the queued sends now
 *
 * Returns true when none is left.  For tests, and whoever must see the
 * sends in the database before going on.
 */
bool
milter_sync_sends(void)
{
	struct milter_handles	 h;

	milter_shared(&h);
	return milter_send_flush(h.store);
}

/*
 * The writer: waits for sends, lets a batch gather for up to
 * MILTER_SEND_DELAY_MS (less when MILTER_SEND_BATCH are waiting), writes
 * it with its own connection; after a failure it waits a second.
 */
static void *
writer(void *arg)
{
	struct milter_handles	 h;
	struct timespec		 until;
	bool			 ok = true;

	(void)arg;
	pthread_mutex_lock(&g_qlock);
	for (;;) {
		while (!g_stop && g_nqueue == 0)
			pthread_cond_wait(&g_qcond, &g_qlock);
		if (g_stop)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		if (ok) {
			until.tv_nsec += MILTER_SEND_DELAY_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
		} else
			until.tv_sec++;
		while (!g_stop && (!ok || g_nqueue < MILTER_SEND_BATCH) &&
		    pthread_cond_timedwait(&g_qcond, &g_qlock, &until) == 0)
			;
		if (g_stop)
			break;
		pthread_mutex_unlock(&g_qlock);
		milter_shared(&h);
		ok = milter_send_flush(h.store);
		pthread_mutex_lock(&g_qlock);
	}
	pthread_mutex_unlock(&g_qlock);
	return NULL;
}

/*
 * milter_send_stop - write what is queued and end the writer thread
 *
 * Notes: milter_fini() calls it, before the store handles go; what the
 * store still refuses then is lost (logged).
 */
void
milter_send_stop(void)
{
	struct milter_handles	 h;
	struct pending		*b;
	bool			 join;
	size_t			 left, dropped;

	pthread_mutex_lock(&g_qlock);
	join = g_writer;
	g_stop = true;
	pthread_cond_broadcast(&g_qcond);
	pthread_mutex_unlock(&g_qlock);
	if (join)
		(void)pthread_join(g_writer_tid, NULL);
	milter_shared(&h);
	(void)milter_send_flush(h.store);
	pthread_mutex_lock(&g_qlock);
	b = queue_take(&left);
	dropped = g_dropped;
	g_dropped = 0;
	g_writer = g_stop = false;
	pthread_mutex_unlock(&g_qlock);
	pending_free(b, left);
	left += dropped;
	if (left > 0)
		log_warn("stopping: %zu sends not written", left);
}

/* Queue the sends of one message; start the writer on first use. */
static bool
queue_sends(const struct msg_ctx *mc, int64_t when)
{
	const struct send_ctx	*sc = &mc->send;
	struct pending		*p;
	size_t			 i, n = 0;
	bool			 nomem = false, wake;

	pthread_mutex_lock(&g_qlock);
	if (!g_writer && !g_stop) {
		if (pthread_create(&g_writer_tid, NULL, writer, NULL) == 0)
			g_writer = true;
		else
			log_err("cannot start the writer of sends: they are "
			    "written when a bounce comes");
	}
	if (!queue_room(sc->nrcpts)) {
		g_dropped += sc->nrcpts;
		pthread_mutex_unlock(&g_qlock);
		return false;
	}
	for (i = 0; i < sc->nrcpts && !nomem; i++) {
		p = &g_queue[g_nqueue + n];
		memset(p, 0, sizeof(*p));
		p->qid = dup_or_null(mc->qid, &nomem);
		p->rcpt = dup_or_null(sc->rcpts[i], &nomem);
		p->msgid = dup_or_null(sc->msgid, &nomem);
		p->envid = dup_or_null(sc->envid, &nomem);
		p->sender = dup_or_null(sc->sender, &nomem);
		p->campaign = dup_or_null(sc->campaign, &nomem);
		p->when = when;
		if (nomem)
			pending_clear(p);
		else
			n++;
	}
	g_nqueue += n;
	g_dropped += sc->nrcpts - n;
	wake = g_nqueue == n || g_nqueue >= MILTER_SEND_BATCH;
	if (wake)
		pthread_cond_signal(&g_qcond);
	pthread_mutex_unlock(&g_qlock);
	return n == sc->nrcpts;
}

/*
 * milter_send_record - queue the sends of an ordinary message
 *
 * Arguments: cc; mc, whose queue id the MTA gave (else nothing is done
 * and the caller tries again later).
 * Returns true once the sends are queued or given up (done), false while
 * the queue id is still unknown.
 * Notes: never blocks on the store and never fails the mail: the writer
 * thread writes the sends within MILTER_SEND_DELAY_MS, or keeps them
 * while the store fails (milter_send_flush()).
 */
bool
milter_send_record(const struct conn_ctx *cc, struct msg_ctx *mc)
{
	struct send_ctx		*sc = &mc->send;
	char			 san[LOG_SANITIZE_BUF];

	(void)cc;
	if (!sc->record || sc->done)
		return true;
	if (mc->qid[0] == '\0')
		return false;
	sc->done = true;
	if (sc->nrcpts == 0)
		return true;
	if (!queue_sends(mc, milter_now()))
		log_debug("%s: sends not all kept (memory, or %d waiting)",
		    milter_qid(mc), MILTER_SEND_QUEUE);
	log_debug("%s: sends queued rcpts=%zu%s msgid=%s", milter_qid(mc),
	    sc->nrcpts, sc->full ? "+" : "", sc->msgid ? log_sanitize(
	    sc->msgid, san, sizeof(san)) : "none");
	return true;
}

/*
 * milter_send_sign - replace the envelope sender by its prvs= form
 *
 * Arguments: ctx, of mlfi_eom; cc; mc, ordinary mail.
 * Notes: only when SignEnvelope applies to the sender and the MTA
 * allowed SMFIF_CHGFROM; the ESMTP parameters of MAIL FROM are left as
 * the MTA has them (NULL).  A failure leaves the sender unsigned.
 */
void
milter_send_sign(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct msg_ctx *mc)
{
	const struct bd_config	*c = cc->conf;
	char			 tagged[ADDR_MAX + 32], path[ADDR_MAX + 40];
	char			 san[LOG_SANITIZE_BUF];

	if (!mc->send.sign || (cc->aflags & SMFIF_CHGFROM) == 0)
		return;
	if (!prvs_sign(c->sign_key, c->sign_key_len, mc->send.sender,
	    milter_now(), tagged, sizeof(tagged))) {
		log_debug("%s: sender not signed (not a plain address)",
		    milter_qid(mc));
		return;
	}
	(void)snprintf(path, sizeof(path), "<%s>", tagged);
	if (smfi_chgfrom(ctx, path, NULL) != MI_SUCCESS)
		log_warn("%s: smfi_chgfrom failed: sender not signed",
		    milter_qid(mc));
	else
		log_debug("%s: sender signed from=%s", milter_qid(mc),
		    log_sanitize(path, san, sizeof(san)));
}

/*
 * milter_send_free - release what milter_send_*() kept of a message
 */
void
milter_send_free(struct msg_ctx *mc)
{
	struct send_ctx	*sc = &mc->send;
	size_t		 i;

	for (i = 0; i < sc->nrcpts; i++)
		free(sc->rcpts[i]);
	free(sc->rcpts);
	free(sc->sender);
	free(sc->envid);
	free(sc->msgid);
	free(sc->campaign);
	memset(sc, 0, sizeof(*sc));
}

/*
 * milter_send_client - keep the SMTP client's address of a message
 *
 * Arguments: ctx, of mlfi_envfrom; mc.
 * Notes: {client_addr}, asked for at MAIL FROM; only the bytes of an
 * IPv4 or IPv6 address are kept, so that it can be logged and stored.
 */
void
milter_send_client(SMFICTX *ctx, struct msg_ctx *mc)
{
	const char	*a = smfi_getsymval(ctx, "{client_addr}");
	size_t		 i, n = 0;

	mc->client_addr[0] = '\0';
	if (a != NULL && strncasecmp(a, "IPv6:", 5) == 0)
		a += 5;		/* Sendmail's form */
	for (i = 0; a != NULL && a[i] != '\0' &&
	    n + 1 < sizeof(mc->client_addr); i++)
		if (isxdigit((unsigned char)a[i]) || a[i] == '.' ||
		    a[i] == ':')
			mc->client_addr[n++] = a[i];
	mc->client_addr[n] = '\0';
}
