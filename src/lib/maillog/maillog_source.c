/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * maillog_source.c - the MTA's delivery log as a source of events.
 *
 * Each line goes through maillog_parse() (src/maillog.c).  The lines
 * about a message (Postfix cleanup "message-id=", qmgr "from=", Sendmail
 * "from= ... msgid=") are remembered per queue id in a small bounded map
 * (least recently used evicted first, an entry dropped at qmgr's
 * "removed"), so that a delivery line, which names only the queue id,
 * gets its Message-ID, sender and campaign (the null sender of a DSN,
 * RFC 5321 section 4.5.5, is an event sender of "": the store counts no
 * send for it).  Each delivery line (Postfix
 * status=sent|deferred|bounced, Sendmail stat=) becomes one event per
 * recipient, classified by classify() exactly as a DSN's recipient is
 * (status from dsn=, reply code, diagnostic, action; no report kind, no
 * MTA hint), with the classifier's status in the event as analyze.c
 * does, so that the log's failure and the DSN's failure have the same
 * identity in the store (original queue id, recipient, action, status:
 * RFC 3464 section 2.3.3 action, RFC 3463 status).  A status=sent is a
 * delivery event.  qmgr's "status=expired, returned to sender" names no
 * recipient: the recipients still deferred for that queue id become
 * "failed" with their last deferral's status, as in Postfix's DSN.
 *
 * Must not: log, read the clock, or do I/O other than through the store
 * handle the caller passes.  Every line is hostile: it is bounded by
 * maillog.c; a line that does not parse is counted, never fatal.
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict/classify.h"
#include "verdict/ourside.h"
#include "maillog/maillog_source.h"
#include "maillog/maillog.h"
#include "util/siphash.h"

/* HandOffRelays given empty: no hop at all. */
static char *const no_hops[1] = { NULL };

/* A recipient deferred and not yet delivered nor bounced. */
struct qrcpt {
	char		 addr[ADDR_MAX + 1];
	char		 status[MAILLOG_WORD_MAX];
	int		 reply_code;
	char		 diag[LOGSOURCE_DIAG_MAX];
	bool		 local;		/* deferred at a hop of ours */
};

/* What is known of one queue id. */
struct qent {
	char		 qid[MAILLOG_QID_MAX];
	char		*msgid;
	char		*sender;	/* NULL: unknown or the null sender */
	char		*campaign;
	struct qrcpt	*rcpts;		/* LOGSOURCE_QRCPT_MAX, allocated on need */
	size_t		 nrcpts;
	int32_t		 hnext;		/* hash chain */
	int32_t		 prev, next;	/* use order: head is the oldest */
	bool		 used;
	bool		 null_sender;	/* from=<>: a DSN or an MDN */
};

struct logsource {
	const struct rules *rules;
	struct ourside_hops hops;	/* HandOffRelays (the policy's) */
	long		 gmtoff;
	char		 campaign_header[128];
	size_t		 chlen;
	struct qent	*ents;
	size_t		 cap, n;
	int32_t		*buckets;
	size_t		 nbuckets;	/* a power of two */
	int32_t		 head, tail, freelist;	/* freelist chains by hnext */
	struct maillog_rec *rec;
	uint64_t	 evicted;
	uint8_t		 key[SIPHASH_KEY_LEN];	/* of hash_qid, per source */
};

/*
 * SipHash-2-4 under the source's random key: a queue id is read from a
 * log line, which a local user can forge (logger(1)); keyed, the ids
 * cannot be chosen to collide.
 */
static uint32_t
hash_qid(const struct logsource *ls, const char *q)
{
	return (uint32_t)siphash24(ls->key, q, strlen(q));
}

/*
 * logsource_new - create a log source
 *
 * Arguments: o, the options (rules are required); *out receives it.
 * Returns BD_OK, BD_ECONFIG without rules, or BD_ENOMEM.
 */
enum bd_status
logsource_new(const struct logsource_opts *o, struct logsource **out)
{
	struct logsource	*ls;
	size_t			 i;

	*out = NULL;
	if (o == NULL || o->rules == NULL)
		return BD_ECONFIG;
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return BD_ENOMEM;
	ls->rules = o->rules;
	ls->gmtoff = o->gmtoff;
	siphash_key_random(ls->key);
	if (o->campaign_header != NULL) {
		snprintf(ls->campaign_header, sizeof(ls->campaign_header), "%s",
		    o->campaign_header);
		ls->chlen = strlen(ls->campaign_header);
	}
	ls->cap = o->max_queue > 0 ? o->max_queue : LOGSOURCE_QUEUE_DEFAULT;
	if (ls->cap > (1u << 24))
		ls->cap = 1u << 24;
	for (ls->nbuckets = 16; ls->nbuckets < ls->cap * 2; ls->nbuckets *= 2)
		;
	ls->ents = calloc(ls->cap, sizeof(*ls->ents));
	ls->buckets = malloc(ls->nbuckets * sizeof(*ls->buckets));
	ls->rec = malloc(sizeof(*ls->rec));
	if (ls->ents == NULL || ls->buckets == NULL || ls->rec == NULL) {
		logsource_free(ls);
		return BD_ENOMEM;
	}
	for (i = 0; i < ls->nbuckets; i++)
		ls->buckets[i] = -1;
	for (i = 0; i < ls->cap; i++)
		ls->ents[i].hnext = i + 1 < ls->cap ? (int32_t)(i + 1) : -1;
	ls->freelist = 0;
	ls->head = ls->tail = -1;
	*out = ls;
	return BD_OK;
}

static void
ent_clear(struct qent *e)
{
	free(e->msgid);
	free(e->sender);
	free(e->campaign);
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
}

/*
 * logsource_free - free a log source
 *
 * Arguments: ls, NULL is fine.
 */
void
logsource_free(struct logsource *ls)
{
	size_t	 i;

	if (ls == NULL)
		return;
	for (i = 0; ls->ents != NULL && i < ls->cap; i++)
		if (ls->ents[i].used)
			ent_clear(&ls->ents[i]);
	free(ls->ents);
	free(ls->buckets);
	free(ls->rec);
	free(ls);
}

/*
 * logsource_queue_size - how many queue ids are remembered
 *
 * Arguments: ls.  Returns the count (at most the max_queue option).
 */
size_t
logsource_queue_size(const struct logsource *ls)
{
	return ls->n;
}

static void
list_unlink(struct logsource *ls, int32_t i)
{
	struct qent	*e = &ls->ents[i];

	if (e->prev >= 0)
		ls->ents[e->prev].next = e->next;
	else
		ls->head = e->next;
	if (e->next >= 0)
		ls->ents[e->next].prev = e->prev;
	else
		ls->tail = e->prev;
	e->prev = e->next = -1;
}

static void
list_append(struct logsource *ls, int32_t i)
{
	struct qent	*e = &ls->ents[i];

	e->next = -1;
	e->prev = ls->tail;
	if (ls->tail >= 0)
		ls->ents[ls->tail].next = i;
	else
		ls->head = i;
	ls->tail = i;
}

static int32_t
q_find(const struct logsource *ls, const char *qid)
{
	int32_t	 i;

	i = ls->buckets[hash_qid(ls, qid) & (ls->nbuckets - 1)];
	for (; i >= 0; i = ls->ents[i].hnext)
		if (strcmp(ls->ents[i].qid, qid) == 0)
			return i;
	return -1;
}

static void
q_drop(struct logsource *ls, int32_t i)
{
	int32_t	*pp;

	pp = &ls->buckets[hash_qid(ls, ls->ents[i].qid) &
	    (ls->nbuckets - 1)];
	while (*pp != i)
		pp = &ls->ents[*pp].hnext;
	*pp = ls->ents[i].hnext;
	list_unlink(ls, i);
	ent_clear(&ls->ents[i]);
	ls->ents[i].hnext = ls->freelist;
	ls->freelist = i;
	ls->n--;
}

/* The entry of qid, created (evicting the least recently used) if asked. */
static struct qent *
q_get(struct logsource *ls, const char *qid, bool create)
{
	uint32_t	 b;
	int32_t		 i;

	if (qid[0] == '\0')
		return NULL;
	if ((i = q_find(ls, qid)) >= 0) {
		list_unlink(ls, i);
		list_append(ls, i);
		return &ls->ents[i];
	}
	if (!create)
		return NULL;
	if (ls->freelist < 0) {
		q_drop(ls, ls->head);
		ls->evicted++;
	}
	i = ls->freelist;
	ls->freelist = ls->ents[i].hnext;
	memset(&ls->ents[i], 0, sizeof(ls->ents[i]));
	snprintf(ls->ents[i].qid, sizeof(ls->ents[i].qid), "%s", qid);
	ls->ents[i].used = true;
	b = hash_qid(ls, qid) & (ls->nbuckets - 1);
	ls->ents[i].hnext = ls->buckets[b];
	ls->buckets[b] = i;
	list_append(ls, i);
	ls->n++;
	return &ls->ents[i];
}

/* Replace *dst with a copy of src ("" and NULL clear it). */
static void
set_str(char **dst, const char *src, size_t max)
{
	size_t	 n;

	free(*dst);
	*dst = NULL;
	if (src == NULL || *src == '\0')
		return;
	n = strnlen(src, max);
	if ((*dst = malloc(n + 1)) == NULL)
		return;		/* forgetting is harmless */
	memcpy(*dst, src, n);
	(*dst)[n] = '\0';
}

static struct qrcpt *
rcpt_find(struct qent *e, const char *addr)
{
	size_t	 i;

	for (i = 0; i < e->nrcpts; i++)
		if (strcmp(e->rcpts[i].addr, addr) == 0)
			return &e->rcpts[i];
	return NULL;
}

static void
rcpt_forget(struct qent *e, const char *addr)
{
	struct qrcpt	*r;

	if ((r = rcpt_find(e, addr)) != NULL)
		*r = e->rcpts[--e->nrcpts];
}

/* Remember a deferral of addr (for the "expired" line that may follow). */
static void
rcpt_deferred(struct qent *e, const struct bd_event *ev)
{
	struct qrcpt	*r;

	if ((r = rcpt_find(e, ev->recipient)) == NULL) {
		if (e->rcpts == NULL && (e->rcpts = calloc(LOGSOURCE_QRCPT_MAX,
		    sizeof(*e->rcpts))) == NULL)
			return;
		if (e->nrcpts == LOGSOURCE_QRCPT_MAX)
			return;		/* the DSN will still tell */
		r = &e->rcpts[e->nrcpts++];
		snprintf(r->addr, sizeof(r->addr), "%s", ev->recipient);
	}
	snprintf(r->status, sizeof(r->status), "%s",
	    ev->status != NULL ? ev->status : "");
	r->reply_code = ev->reply_code;
	r->local = ev->verdict.who == EV_WHO_LOCAL;
	snprintf(r->diag, sizeof(r->diag), "%s",
	    ev->diagnostic != NULL ? ev->diagnostic : "");
}

/* Classify ev like a DSN recipient and take the classifier's status. */
static void
verdict_of(const struct logsource *ls, struct bd_event *ev)
{
	struct classify_input	 in;

	memset(&in, 0, sizeof(in));
	in.status = ev->status;
	in.reply_code = ev->reply_code;
	in.diagnostic = ev->diagnostic;
	in.action = ev->action;
	in.kind = DSN_KIND_NONE;
	in.mta = NULL;
	classify(ls->rules, &in, &ev->verdict);
	/* as analysis_event(): the verdict's status when it has one */
	if (ev->verdict.status[0] != '\0')
		ev->status = ev->verdict.status;
}

static void
attach(const struct qent *q, struct bd_event *ev)
{
	if (q == NULL)
		return;
	if (ev->message_id == NULL)
		ev->message_id = q->msgid;
	/* "" says null sender (a DSN, no send of ours); NULL unknown */
	if (ev->sender == NULL)
		ev->sender = q->null_sender ? "" : q->sender;
	ev->campaign = q->campaign;
}

/*
 * Hops are hand-offs: a "sent" to a next hop of ours (a content filter,
 * a relayhost: HandOffRelays) is "relayed", not a delivery (RFC 3464
 * section 2.3.3), and names the queue id the hop gave the message when
 * it re-queues it here, so that the final outcome of the same message
 * counts; a deferral at a hop of ours is our own path's (who = local).
 */
static void
hand_off(const struct logsource *ls, const struct maillog_rec *r, bool hop,
    struct bd_event *ev)
{
	if (ev->action == EV_ACT_DELIVERED && ourside_handoff(&ls->hops,
	    r->program, r->relay_host, r->relay_addr, r->relay_port)) {
		ev->action = EV_ACT_RELAYED;
		if (r->queued_as[0] != '\0')
			ev->next_queue_id = r->queued_as;
	} else if (hop && ev->action == EV_ACT_DELAYED)
		ev->verdict.who = EV_WHO_LOCAL;
}

/*
 * logsource_events - the events of one parsed log record
 *
 * Arguments: ls; r, a record from maillog_parse(); evs/max, room for
 * the events (MAILLOG_RCPT_NMAX suffices for a delivery line,
 * LOGSOURCE_QRCPT_MAX for an expiry).
 * Returns the number of events filled (0 for a record that only teaches
 * the queue-id memory).  Strings are borrowed from r and ls until the
 * next call.
 * Notes: pure; an address-verification probe is no send and makes none.
 */
size_t
logsource_events(struct logsource *ls, const struct maillog_rec *r,
    struct bd_event *evs, size_t max)
{
	struct qent	*q;
	struct qrcpt	*qr;
	size_t		 i, n = 0;
	bool		 hop;

	switch (r->kind) {
	case ML_MESSAGE_ID:
		if ((q = q_get(ls, r->queue_id, true)) != NULL)
			set_str(&q->msgid, r->message_id, MAILLOG_MSGID_MAX);
		return 0;
	case ML_FROM:
		if ((q = q_get(ls, r->queue_id, true)) != NULL) {
			set_str(&q->sender, r->sender, ADDR_MAX);
			q->null_sender = event_sender_is_null(r->sender, NULL);
			if (r->message_id[0] != '\0')
				set_str(&q->msgid, r->message_id,
				    MAILLOG_MSGID_MAX);
		}
		return 0;
	case ML_REMOVED:
		if ((q = q_get(ls, r->queue_id, false)) != NULL)
			q_drop(ls, (int32_t)(q - ls->ents));
		return 0;
	case ML_EXPIRED:
		if ((q = q_get(ls, r->queue_id, false)) == NULL)
			return 0;
		if (q->sender == NULL && r->sender[0] != '\0')
			set_str(&q->sender, r->sender, ADDR_MAX);
		for (i = 0; i < q->nrcpts && n < max; i++) {
			qr = &q->rcpts[i];
			maillog_event(r, 0, &evs[n]);
			evs[n].recipient = qr->addr;
			evs[n].action = EV_ACT_FAILED;
			evs[n].status = qr->status[0] != '\0' ? qr->status :
			    NULL;
			evs[n].reply_code = qr->reply_code;
			evs[n].diagnostic = qr->diag[0] != '\0' ? qr->diag :
			    NULL;
			evs[n].remote_mta = NULL;
			attach(q, &evs[n]);
			verdict_of(ls, &evs[n]);
			if (qr->local)
				evs[n].verdict.who = EV_WHO_LOCAL;
			n++;
		}
		return n;
	case ML_DELIVERY:
		if (r->probe)
			return 0;
		q = q_get(ls, r->queue_id, r->action == EV_ACT_DELAYED);
		hop = ourside_is_hop(&ls->hops, r->relay_host, r->relay_addr,
		    r->relay_port);
		for (i = 0; i < r->nrcpt && n < max; i++) {
			maillog_event(r, i, &evs[n]);
			if (evs[n].recipient == NULL ||
			    evs[n].recipient[0] == '\0')
				continue;
			attach(q, &evs[n]);
			verdict_of(ls, &evs[n]);
			hand_off(ls, r, hop, &evs[n]);
			if (q != NULL) {
				if (r->action == EV_ACT_DELAYED)
					rcpt_deferred(q, &evs[n]);
				else
					rcpt_forget(q, evs[n].recipient);
			}
			n++;
		}
		return n;
	case ML_NONE:
		break;
	}
	return 0;
}

/*
 * A Postfix header_checks WARN line naming the campaign header:
 * "QID: warning: header X-Campaign: VALUE from CLIENT; from=<...> ..."
 * Remembers VALUE for QID; false if the line is not one.
 */
static bool
campaign_line(struct logsource *ls, const char *line, size_t len)
{
	static const char	 tag[] = ": warning: header ";
	const char		*p, *e, *q0, *v, *ve, *semi;
	char			 qid[MAILLOG_QID_MAX], val[LOGSOURCE_CAMPAIGN_MAX];
	struct qent		*q;
	size_t			 n;

	if (ls->chlen == 0 || len > MAILLOG_LINE_MAX ||
	    (p = memmem(line, len, tag, sizeof(tag) - 1)) == NULL)
		return false;
	e = line + len;
	for (q0 = p; q0 > line && q0[-1] != ' '; q0--)
		;
	n = (size_t)(p - q0);
	if (n == 0 || n >= sizeof(qid))
		return false;
	for (v = q0; v < p; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'A' && *v <= 'Z') ||
		    (*v >= 'a' && *v <= 'z')))
			return false;
	memcpy(qid, q0, n);
	qid[n] = '\0';
	v = p + sizeof(tag) - 1;
	if ((size_t)(e - v) <= ls->chlen || v[ls->chlen] != ':' ||
	    strncasecmp(v, ls->campaign_header, ls->chlen) != 0)
		return false;
	v += ls->chlen + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	/* the value ends at the last " from " before "; from=<" */
	if ((semi = memmem(v, (size_t)(e - v), "; from=<", 8)) == NULL)
		semi = e;
	for (ve = semi; ve - v >= 6 && memcmp(ve - 6, " from ", 6) != 0;
	    ve--)
		;
	if (ve - v < 6)
		ve = semi;
	else
		ve -= 6;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	n = (size_t)(ve - v);
	if (n == 0)
		return true;
	if (n >= sizeof(val))
		n = sizeof(val) - 1;
	memcpy(val, v, n);
	val[n] = '\0';
	for (n = 0; val[n] != '\0'; n++)
		if ((unsigned char)val[n] < 0x20 || val[n] == 0x7f)
			val[n] = '?';
	if ((q = q_get(ls, qid, true)) != NULL)
		set_str(&q->campaign, val, sizeof(val) - 1);
	return true;
}

/*
 * logsource_feed - take one log line
 *
 * Arguments: ls; line/len, one line without its newline; now, the
 * caller's clock (for syslog stamps without a year, and as the recording
 * time); st, a read-write store; pol, the suppression policy; res,
 * counters to add to.
 * Returns BD_OK (also for a malformed or useless line), or the store's
 * failure (store_errmsg(st) says why); the line's events are then not
 * recorded and it may be fed again.
 */
enum bd_status
logsource_feed(struct logsource *ls, const char *line, size_t len,
    int64_t now, struct store *st, const struct state_policy *pol,
    struct logsource_result *res)
{
	struct bd_event		 evs[MAILLOG_RCPT_NMAX > LOGSOURCE_QRCPT_MAX ?
				    MAILLOG_RCPT_NMAX : LOGSOURCE_QRCPT_MAX];
	enum maillog_result	 mr;
	enum bd_status		 r;
	uint64_t		 ev0 = ls->evicted;
	size_t			 n, i, nn = 0;

	res->lines++;
	mr = maillog_parse(line, len, now, ls->gmtoff, ls->rec);
	if (mr == MAILLOG_EMALFORMED) {
		res->malformed++;
		return BD_OK;
	}
	if (mr != MAILLOG_RECORD) {
		if (!campaign_line(ls, line, len))
			res->ignored++;
		res->evicted += ls->evicted - ev0;
		return BD_OK;
	}
	res->records++;
	if (pol != NULL && pol->hops_set) {
		ls->hops.pats = pol->hops != NULL ? pol->hops : no_hops;
		ls->hops.n = pol->nhops;
	}
	n = logsource_events(ls, ls->rec, evs, sizeof(evs) / sizeof(evs[0]));
	res->evicted += ls->evicted - ev0;
	if (n == 0)
		return BD_OK;
	if ((r = store_record(st, evs, n, pol, now, &nn)) != BD_OK)
		return r;
	for (i = 0; i < n; i++) {
		if (evs[i].action == EV_ACT_DELIVERED)
			res->deliveries++;
		else if (evs[i].action == EV_ACT_RELAYED)
			res->handoffs++;
		else {
			res->bounces++;
			if (classify_reason_sender_side(evs[i].verdict.reason))
				res->sender_side++;
		}
	}
	res->events_new += nn;
	res->duplicates += n - nn;
	return BD_OK;
}
