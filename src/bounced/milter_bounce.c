/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter_bounce.c - the end of a bounce's message, for the libmilter
 * glue: analyse the buffered message once (RFC 3464, 6522, 6533, 3463
 * through analyze.h), judge every reported recipient by the trust policy
 * (verdict/trust.c: tied to a recorded send, a signed return address, a
 * feedback-loop source), record one event per recipient in one store
 * transaction - untrusted ones held, never acted on -, apply BounceAction
 * headers (remove the X-Bounce-* fields the bounce came with, add ours;
 * smfi_chgheader(3), smfi_addheader(3)) and write the one log line of
 * the message (STYLE.md 3.7).
 *
 * What it returns is an enum outcome; milter.c's decide() alone turns it
 * into an sfsistat.  Input that cannot be analysed is let through with
 * one INFO line; only our own failure (memory, the database) makes a
 * bounce OUT_UNRECORDED, which OnError turns into a TEMPFAIL so that the
 * MTA offers it again.  A bounce is never rejected (POSTFIX-NOTES.md).
 *
 * It must not: keep the SMFICTX it is given, use static buffers
 * (callbacks run concurrently), or block on anything but store_record().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict/analyze.h"
#include "bounced/metrics.h"
#include "log/log.h"
#include "bounced/milter_int.h"

#define HDR_MAX_RCPTS		20	/* X-Bounce-* header sets per message */
#define LOG_MAX_RCPTS		5	/* recipients listed in the log line */

/* What the one log line of a bounce says. */
struct summary {
	const struct msg_ctx	*mc;
	const struct analysis	*a;		/* NULL: not analysed */
	const struct bd_event	*evs;
	size_t			 n;		/* events */
	size_t			 recorded;	/* of them new */
	size_t			 held;		/* of them not trusted */
	const char		*action;
	const char		*why;		/* NULL, or why none recorded */
	const char		*error;		/* NULL, or what went wrong */
	bool			 ours;		/* our failure: log_err */
};

static bool		 g_store_failing;	/* an incident is open */

/*
 * milter_note_forged - count an X-Bounce-* field of a bounce
 *
 * Arguments: mc; name, the field name as the MTA gave it.
 * Notes: only we may say what a bounce was (BounceAction headers), so
 * those it came with are removed.  Names compare without regard to case,
 * as the MTA's header index does.  Past the bounds the rest is kept and
 * forged_kept says so.
 */
void
milter_note_forged(struct msg_ctx *mc, const char *name)
{
	size_t	 i;

	for (i = 0; i < mc->nforged; i++)
		if (strcasecmp(mc->forged[i].name, name) == 0)
			break;
	if (mc->forged_total == MILTER_FORGED_MAX || (i == mc->nforged &&
	    (i == MILTER_FORGED_NAMES ||
	    strlen(name) >= MILTER_FORGED_NAME_LEN))) {
		mc->forged_kept = true;
		return;
	}
	if (i == mc->nforged) {
		(void)snprintf(mc->forged[i].name, sizeof(mc->forged[i].name),
		    "%s", name);
		mc->nforged++;
	}
	mc->forged[i].count++;
	mc->forged_total++;
}

/*
 * milter_remove_forged - delete the X-Bounce-* fields a bounce came with
 *
 * Arguments: ctx, of the calling callback; cc; mc.
 * Notes: only when CHGHDRS was negotiated, and only once per message.
 * Last first, so that the 1-based index of the ones left does not move,
 * whatever the MTA makes of a deletion (smfi_chgheader(3), NULL value).
 */
void
milter_remove_forged(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc)
{
	char		 san[LOG_SANITIZE_BUF];
	size_t		 i;
	unsigned	 k;

	if (mc->forged_done || (cc->aflags & SMFIF_CHGHDRS) == 0)
		return;
	mc->forged_done = true;
	for (i = 0; i < mc->nforged; i++)
		for (k = mc->forged[i].count; k > 0; k--)
			if (smfi_chgheader(ctx, mc->forged[i].name, (int)k,
			    NULL) != MI_SUCCESS)
				log_warn("%s: smfi_chgheader %s failed",
				    milter_qid(mc), log_sanitize(
				    mc->forged[i].name, san, sizeof(san)));
	if (mc->forged_kept)
		log_warn("%s: more than %d X-Bounce-* fields: some are left "
		    "in the message", milter_qid(mc), MILTER_FORGED_MAX);
}

/*
 * milter_add_header - add a header field to the message
 *
 * Arguments: ctx, of the calling callback; cc; mc, for the log;
 * name; value, sanitised (non-printable bytes become '?', cut at
 * LOG_SANITIZE_MAX bytes) so that no untrusted byte ends a field.
 * Notes: with SMFIP_HDR_LEADSPC the value carries its leading space.
 */
void
milter_add_header(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct msg_ctx *mc, const char *name, const char *value)
{
	char	 v[LOG_SANITIZE_BUF + 1], san[LOG_SANITIZE_BUF];

	(void)log_sanitize(value, san, sizeof(san));
	(void)snprintf(v, sizeof(v), "%s%s",
	    (cc->pflags & SMFIP_HDR_LEADSPC) ? " " : "", san);
	if (smfi_addheader(ctx, (char *)name, v) != MI_SUCCESS)
		log_warn("%s: smfi_addheader %s failed", milter_qid(mc), name);
}

static void
add_bounce_headers(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct msg_ctx *mc, const struct bd_event *evs, size_t n)
{
	const struct bd_event	*e;
	size_t			 i;

	if ((cc->aflags & SMFIF_ADDHDRS) == 0)
		return;
	for (i = 0; i < n && i < HDR_MAX_RCPTS; i++) {
		e = &evs[i];
		milter_add_header(ctx, cc, mc, "X-Bounce-Recipient",
		    e->recipient);
		milter_add_header(ctx, cc, mc, "X-Bounce-Status",
		    e->status ? e->status : "none");
		milter_add_header(ctx, cc, mc, "X-Bounce-Reason",
		    e->verdict.reason ? e->verdict.reason : "undefined");
		milter_add_header(ctx, cc, mc, "X-Bounce-Hard",
		    e->verdict.hard ? "yes" : "no");
		milter_add_header(ctx, cc, mc, "X-Bounce-Rule",
		    e->verdict.rule);
		milter_add_header(ctx, cc, mc, "X-Bounce-Trust",
		    e->trust_why != NULL ? e->trust_why : "none");
	}
}

/* Field f of an event as the log line lists it. */
static const char *
event_field(const struct bd_event *e, int f)
{
	switch (f) {
	case 0:
		return e->recipient;
	case 1:
		return e->status ? e->status : "none";
	case 2:
		return e->verdict.reason ? e->verdict.reason : "undefined";
	case 3:
		return e->verdict.hard ? "yes" : "no";
	case 4:
		return e->verdict.rule;
	default:
		return e->trust_why != NULL ? e->trust_why : "none";
	}
}

/* " rcpt=<a>,<b> status=5.1.1,4.2.2 ...": the first LOG_MAX_RCPTS. */
static void
append_events(struct buf *l, const struct bd_event *evs, size_t n)
{
	static const char *const names[] = { "rcpt", "status", "reason",
	    "hard", "rule", "trust" };
	char		 s[LOG_SANITIZE_BUF];
	size_t		 i, k = n < LOG_MAX_RCPTS ? n : LOG_MAX_RCPTS;
	int		 f;

	/* Pieces, not printf: a dozen pieces per bounce, each a vsnprintf. */
	for (f = 0; f < 6 && n > 0; f++) {
		(void)buf_append(l, " ", 1);
		(void)buf_puts(l, names[f]);
		(void)buf_append(l, "=", 1);
		for (i = 0; i < k; i++) {
			(void)log_sanitize(event_field(&evs[i], f), s,
			    sizeof(s));
			if (i > 0)
				(void)buf_append(l, ",", 1);
			if (f == 0)
				(void)buf_append(l, "<", 1);
			(void)buf_puts(l, s);
			if (f == 0)
				(void)buf_append(l, ">", 1);
		}
		if (n > k)
			(void)buf_printf(l, ",+%zu", n - k);
	}
}

/*
 * The one line per bounce message (STYLE.md 3.7): the queue id first,
 * then key=value; every untrusted value through log_sanitize().
 */
static void
log_summary(const struct summary *sum)
{
	const struct msg_ctx	*mc = sum->mc;
	const struct dsn_report	*r = sum->a ? sum->a->report : NULL;
	struct buf		 l;

	buf_init(&l, 4096);
	(void)buf_printf(&l, "%s: bounce rcpts=%zu recorded=%zu",
	    milter_qid(mc), r ? r->nrcpts : 0, sum->recorded);
	append_events(&l, sum->evs, sum->n);
	(void)buf_puts(&l, mc->internal ? " source=dsn-internal action=" :
	    " source=dsn-remote action=");
	(void)buf_puts(&l, sum->action);
	if (!mc->internal && mc->client_addr[0] != '\0')
		(void)buf_printf(&l, " client=%s", mc->client_addr);
	if (sum->held > 0)
		(void)buf_printf(&l, " untrusted=%zu", sum->held);
	if (r != NULL && sum->n == 0)
		(void)buf_printf(&l, " kind=%s", dsn_kind_name(r->kind));
	/* recipients reported that are not mailboxes: counted, not recorded */
	if (r != NULL && sum->a != NULL && r->nrcpts > sum->n)
		(void)buf_printf(&l, " not_address=%zu", r->nrcpts - sum->n);
	if (r != NULL && (r->defects & DSN_DEFECT_TOO_MANY))
		(void)buf_puts(&l, " rcpts_cut=yes");
	if (r != NULL && r->defects != 0)
		(void)buf_printf(&l, " defects=0x%x", r->defects);
	if (mc->msg.truncated)
		(void)buf_puts(&l, " truncated=yes");
	if (mc->forged_done && mc->forged_total > 0)
		(void)buf_printf(&l, " removed_headers=%u", mc->forged_total);
	if (sum->why != NULL)
		(void)buf_printf(&l, " why=%s", sum->why);
	if (sum->error != NULL)
		(void)buf_printf(&l, " error=%s", sum->error);
	if (sum->ours)
		log_err("%s", l.data ? l.data : "bounce (log line lost)");
	else
		log_info("%s", l.data ? l.data : "bounce (log line lost)");
	buf_free(&l);
}

static const char *
action_name(const struct bd_config *c)
{
	return c->bounce_action == BOUNCE_DISCARD ? "discard" :
	    c->bounce_action == BOUNCE_HEADERS ? "headers" : "continue";
}

static const char *
on_error_name(const struct bd_config *c)
{
	return c->on_error == ON_ERROR_TEMPFAIL ? "tempfail" : "continue";
}

/* Record the events; the store-failure incident is logged once. */
static enum bd_status
record(const struct bd_config *c, const struct msg_ctx *mc,
    const struct bd_event *evs, size_t n, size_t *n_new, bool *ticket)
{
	struct state_policy	 pol;
	struct milter_handles	 h;
	struct store		*st;
	enum bd_status		 s;
	char			 san[LOG_SANITIZE_BUF], err[256];

	milter_shared(&h);
	if ((st = h.store) == NULL)
		return BD_EIO;
	config_policy(c, &pol);
	s = milter_commit_record(st, evs, n, &pol, milter_now(), n_new, err,
	    sizeof(err), ticket);
	if (s != BD_OK) {
		if (!__atomic_exchange_n(&g_store_failing, true,
		    __ATOMIC_ACQ_REL))
			log_err("%s: cannot record bounces (%s: %s); %s until "
			    "the database recovers", milter_qid(mc),
			    bd_strerror(s), log_sanitize(err, san,
			    sizeof(san)), c->on_error == ON_ERROR_TEMPFAIL ?
			    "bounces are deferred" : "bounces pass unrecorded");
		else
			log_debug("%s: store still failing: %s",
			    milter_qid(mc), bd_strerror(s));
		return s;
	}
	if (__atomic_exchange_n(&g_store_failing, false, __ATOMIC_ACQ_REL))
		log_info("%s: database recovered, recording again",
		    milter_qid(mc));
	/* Their state may have changed: RCPT TO must not use old answers. */
	milter_rcpt_forget(evs, n);
	return BD_OK;
}

/*
 * Parse and classify the buffered message and present each recipient
 * that is an address as an event (borrowing from *ap).  BD_ENOMEM is
 * ours; any other failure means the input could not be analysed.
 */
static enum bd_status
analyse(const struct bd_config *c, const struct msg_ctx *mc,
    struct analysis **ap, struct bd_event **evp, size_t *np)
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct analysis		*a = NULL;
	struct bd_event		*evs = NULL;
	enum bd_status		 s;
	size_t			 i, n = 0, nr;
	int64_t			 now = milter_now();

	opt.max_bytes = c->max_message_bytes;
	opt.campaign_header = c->campaign_header && *c->campaign_header ?
	    c->campaign_header : NULL;
	/*
	 * classify() keeps about 28 KiB on the stack (the PCRE2 arena of
	 * rules_match.c).  We run in a worker thread of the milter engine,
	 * started with default attributes (engine.c's spawn_worker(); and
	 * libmilter's thread_create() is pthread_create(ptid, NULL, wr,
	 * arg)).  The default is ample: glibc takes RLIMIT_STACK (8 MiB unless changed;
	 * 2 MiB on x86_64 when unlimited), FreeBSD 2 MiB on 64-bit, musl
	 * 128 KiB.  Analysis and recording run one after the other, never
	 * nested.  XXX a LimitSTACK= below ~256k would be the admin's doing.
	 */
	if ((s = analyze_message(c->rules, mc->msg.data ? mc->msg.data : "",
	    mc->msg.len, &opt, &a)) != BD_OK)
		return s;
	nr = a->report->nrcpts;
	if (nr > 0 && (evs = calloc(nr, sizeof(*evs))) == NULL) {
		analysis_free(a);
		return BD_ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		if (a->recipients[i][0] == '\0')
			continue;	/* not an address: nothing to record */
		analysis_event(a, i, mc->internal ? EV_SRC_DSN_INTERNAL :
		    EV_SRC_DSN_REMOTE, now, &evs[n++]);
	}
	*ap = a;
	*evp = evs;
	*np = n;
	return BD_OK;
}

/*
 * The trust policy for every event (DESIGN.md "Trust"): tied to a send
 * of that message to that recipient within TrustMaxAge, a signed return
 * address, an ARF report from FeedbackSources.  A trusted event keeps
 * its own date, moved into [its send, now]; an untrusted one is dated
 * now (its date means nothing) and is held by the store.  BD_OK, or the
 * store's failure (then nothing is recorded: OnError).
 */
static enum bd_status
judge(const struct bd_config *c, const struct msg_ctx *mc,
    const struct analysis *a, struct bd_event *evs, size_t n, size_t *held)
{
	struct trust_facts	 f;
	struct store_send_key	 k;
	struct store_send_found	 found;
	struct milter_handles	 h;
	enum trust_why		 why;
	enum bd_status		 s;
	int64_t			 now = milter_now();
	size_t			 i;

	milter_shared(&h);
	/* Sends kept in memory during an outage first: this may be theirs. */
	(void)milter_send_flush_try(h.store);
	memset(&f, 0, sizeof(f));
	f.policy = c->trust_policy;
	f.local_path = mc->internal;
	f.feedback = a->report->kind == DSN_KIND_ARF;
	f.feedback_source = !mc->internal && trust_nets_match(
	    c->feedback_nets, c->n_feedback_nets, mc->client_addr);
	f.signature = mc->signature;
	*held = 0;
	for (i = 0; i < n; i++) {
		memset(&found, 0, sizeof(found));
		f.send = TRUST_MATCH_NONE;
		if (trust_needs_send(&f)) {
			if (h.store == NULL)
				return BD_EIO;
			memset(&k, 0, sizeof(k));
			k.recipient = evs[i].recipient;
			k.original_recipient = evs[i].original_recipient;
			k.queue_ids[0] = evs[i].queue_id;
			k.nqueue_ids = 1;
			k.message_id = evs[i].message_id;
			k.envelope_id = evs[i].envelope_id;
			if ((s = store_send_match(h.store, &k,
			    now - c->trust_max_age, &found)) != BD_OK)
				return s;
			if (found.how == TRUST_MATCH_NONE)
				milter_send_match_pending(&k,
				    now - c->trust_max_age, &found);
			f.send = found.how;
		}
		evs[i].trusted = trust_decide(&f, &why);
		evs[i].trust_why = trust_why_name(why);
		evs[i].client_addr = mc->internal ? "local" :
		    mc->client_addr[0] != '\0' ? mc->client_addr : NULL;
		if (evs[i].trusted)
			evs[i].when = trust_when(evs[i].when, now, found.when);
		else {
			evs[i].when = now;
			(*held)++;
		}
	}
	return BD_OK;
}

/*
 * milter_bounce_eom - the end of a bounce's message
 *
 * Arguments: ctx, of mlfi_eom; cc; mc, the bounce.
 *
 * Returns OUT_RECORDED (BounceAction applies), OUT_PASS (nothing to
 * record: no recipient, or input that cannot be analysed) or
 * OUT_UNRECORDED (our failure: memory or the database; OnError applies).
 * Exactly one log line is written, at INFO unless the failure was ours.
 */
enum outcome
milter_bounce_eom(SMFICTX *ctx, struct conn_ctx *cc, struct msg_ctx *mc)
{
	const struct bd_config	*c = cc->conf;
	struct summary		 sum = { .mc = mc, .action = "pass" };
	struct analysis		*a = NULL;
	struct bd_event		*evs = NULL;
	enum bd_status		 s = BD_ENOMEM;	/* a hole in mc->msg */
	enum outcome		 o;
	int64_t			 t0 = metrics_now_us();
	size_t			 i, untrusted = 0;

	if (!mc->nomem) {
		s = BD_EBUSY;	/* no turn to parse: as if out of memory */
		if (milter_parse_begin()) {
			s = analyse(c, mc, &a, &evs, &sum.n);
			milter_parse_end();
		}
	}
	sum.a = a;
	sum.evs = evs;
	if (s == BD_EBUSY) {
		sum.action = on_error_name(c);
		sum.error = "busy";
		sum.ours = true;
		o = OUT_UNRECORDED;
	} else if (s == BD_ENOMEM) {
		sum.action = on_error_name(c);
		sum.error = "nomem";
		sum.ours = true;
		o = OUT_UNRECORDED;
	} else if (s != BD_OK) {
		sum.error = s == BD_ELIMIT ? "limit" : "parse";
		o = OUT_PASS;
	} else if (sum.n == 0) {
		sum.why = "no-recipient";
		o = OUT_PASS;
	} else if ((s = judge(c, mc, a, evs, sum.n, &sum.held)) != BD_OK ||
	    record(c, mc, evs, sum.n, &sum.recorded,
	    &mc->commit_ticket) != BD_OK) {
		/* record() logs its own incident; a lookup failure is ours */
		sum.ours = s != BD_OK;
		sum.action = on_error_name(c);
		sum.error = "store";
		sum.recorded = 0;
		o = OUT_UNRECORDED;
	} else {
		if (c->bounce_action == BOUNCE_HEADERS) {
			milter_remove_forged(ctx, cc, mc);
			add_bounce_headers(ctx, cc, mc, evs, sum.n);
		}
		sum.action = action_name(c);
		o = OUT_RECORDED;
	}
	milter_commit_gone(&mc->commit_ticket);	/* when not recorded */
	log_summary(&sum);
	for (i = 0; evs != NULL && i < sum.n; i++)
		untrusted += !evs[i].trusted;
	metrics_bounce(o == OUT_RECORDED ? METRICS_RECORDED : o == OUT_PASS ?
	    METRICS_PASS : METRICS_UNRECORDED, sum.error, sum.n,
	    sum.recorded, untrusted, metrics_now_us() - t0);
	free(evs);
	analysis_free(a);
	return o;
}
