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
 * Recording never fails ordinary mail: while the store fails, the sends
 * are kept in memory (at most MILTER_SEND_BACKLOG, then dropped) and
 * written before the next ones and before a bounce is judged, so that
 * a DSN about mail sent during a database outage is still tied to its
 * send once the outage ends (the DSN itself is deferred meanwhile:
 * OnError).  One line when the incident starts, one when it ends.
 * Ordinary mail is logged at DEBUG only (bounced(8), LOGGING).
 *
 * It must not: keep the SMFICTX it is given, use static buffers, or
 * block on anything but the one store_record_sends() of a message.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log/log.h"
#include "bounced/milter_int.h"

/* Sends the store could not take yet (milter_send_flush()). */
struct pending {
	char		*qid, *rcpt, *msgid, *envid, *sender, *campaign;
	int64_t		 when;
};

static pthread_mutex_t	 g_backlog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending	*g_backlog;		/* oldest first */
static size_t		 g_nbacklog;
static size_t		 g_dropped;		/* past MILTER_SEND_BACKLOG */
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

/* Keep what could not be written, up to MILTER_SEND_BACKLOG. */
static void
backlog_add(const struct store_send *v, size_t n, int64_t when)
{
	struct pending	*b, *p;
	size_t		 i;
	bool		 nomem = false;

	pthread_mutex_lock(&g_backlog_lock);
	for (i = 0; i < n; i++) {
		if (g_nbacklog == MILTER_SEND_BACKLOG) {
			g_dropped += n - i;
			break;
		}
		if ((b = reallocarray(g_backlog, g_nbacklog + 1,
		    sizeof(*b))) == NULL) {
			g_dropped += n - i;
			break;
		}
		g_backlog = b;
		p = &g_backlog[g_nbacklog];
		memset(p, 0, sizeof(*p));
		p->qid = dup_or_null(v[i].queue_id, &nomem);
		p->rcpt = dup_or_null(v[i].recipient, &nomem);
		p->msgid = dup_or_null(v[i].message_id, &nomem);
		p->envid = dup_or_null(v[i].envelope_id, &nomem);
		p->sender = dup_or_null(v[i].sender, &nomem);
		p->campaign = dup_or_null(v[i].campaign, &nomem);
		p->when = when;
		if (nomem) {
			pending_clear(p);
			g_dropped += n - i;
			break;
		}
		g_nbacklog++;
	}
	pthread_mutex_unlock(&g_backlog_lock);
}

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
 * milter_send_flush - write the sends kept while the store failed
 *
 * Arguments: st, the calling thread's read-write handle (NULL: nothing
 * is done).
 * Returns true when nothing is left to write.
 * Notes: called before new sends are kept and before a bounce is
 * judged.  On failure the sends are kept for the next try (the newest
 * dropped past MILTER_SEND_BACKLOG).
 */
bool
milter_send_flush(struct store *st)
{
	struct pending		*take, *nb;
	struct store_send	*v;
	size_t			 n, i, dropped;
	enum bd_status		 s;

	pthread_mutex_lock(&g_backlog_lock);
	if (g_nbacklog == 0 || st == NULL) {
		n = g_nbacklog;
		pthread_mutex_unlock(&g_backlog_lock);
		return n == 0;
	}
	take = g_backlog;
	n = g_nbacklog;
	dropped = g_dropped;
	g_backlog = NULL;
	g_nbacklog = 0;
	g_dropped = 0;
	pthread_mutex_unlock(&g_backlog_lock);
	if (n == 0)
		return true;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		s = BD_ENOMEM;
	else {
		for (i = 0; i < n; i++) {
			v[i].queue_id = take[i].qid;
			v[i].recipient = take[i].rcpt;
			v[i].message_id = take[i].msgid;
			v[i].envelope_id = take[i].envid;
			v[i].sender = take[i].sender;
			v[i].campaign = take[i].campaign;
			v[i].when = take[i].when;
		}
		s = store_record_sends(st, v, n, 0);
		free(v);
	}
	if (s == BD_OK) {
		log_info("recorded %zu send%s kept while the database failed",
		    n, n == 1 ? "" : "s");
		if (dropped > 0)
			log_warn("%zu sends were not kept (more than %d): "
			    "reports about them will not be trusted by them",
			    dropped, MILTER_SEND_BACKLOG);
		pending_free(take, n);
		return true;
	}
	/* Put them back in front of what came meanwhile. */
	pthread_mutex_lock(&g_backlog_lock);
	g_dropped += dropped;
	if (g_nbacklog + n <= MILTER_SEND_BACKLOG &&
	    (nb = reallocarray(take, n + g_nbacklog, sizeof(*nb))) != NULL) {
		if (g_nbacklog > 0)
			memcpy(nb + n, g_backlog, g_nbacklog * sizeof(*nb));
		free(g_backlog);
		g_backlog = nb;
		g_nbacklog += n;
		n = 0;
		take = NULL;
	} else
		g_dropped += n;
	pthread_mutex_unlock(&g_backlog_lock);
	pending_free(take, n);
	return false;
}

/*
 * milter_send_record - keep the sends of an ordinary message
 *
 * Arguments: cc; mc, whose queue id the MTA gave (else nothing is done
 * and the caller tries again later).
 * Returns true once the sends are kept or given up (done), false while
 * the queue id is still unknown.
 * Notes: never fails the mail: a store failure is logged once per
 * incident (and its end once), and the message goes on.
 */
bool
milter_send_record(const struct conn_ctx *cc, struct msg_ctx *mc)
{
	struct send_ctx		*sc = &mc->send;
	struct milter_handles	 h;
	struct store_send	*v;
	enum bd_status		 s;
	char			 san[LOG_SANITIZE_BUF];
	size_t			 i;

	(void)cc;
	if (!sc->record || sc->done)
		return true;
	if (mc->qid[0] == '\0')
		return false;
	sc->done = true;
	if (sc->nrcpts == 0)
		return true;
	milter_shared(&h);
	if ((v = calloc(sc->nrcpts, sizeof(*v))) == NULL) {
		log_err("%s: out of memory: sends not recorded",
		    milter_qid(mc));
		return true;
	}
	for (i = 0; i < sc->nrcpts; i++) {
		v[i].queue_id = mc->qid;
		v[i].recipient = sc->rcpts[i];
		v[i].message_id = sc->msgid;
		v[i].envelope_id = sc->envid;
		v[i].sender = sc->sender;
		v[i].campaign = sc->campaign;
	}
	s = BD_EIO;
	if (h.store != NULL && milter_send_flush(h.store))
		s = store_record_sends(h.store, v, sc->nrcpts, milter_now());
	if (s != BD_OK) {
		backlog_add(v, sc->nrcpts, milter_now());
		free(v);
		if (!__atomic_exchange_n(&g_send_failing, true,
		    __ATOMIC_ACQ_REL))
			log_err("%s: the database does not take sends (%s: "
			    "%s); they are kept in memory until it does (at "
			    "most %d)", milter_qid(mc), bd_strerror(s),
			    h.store != NULL ? log_sanitize(store_errmsg(
			    h.store), san, sizeof(san)) : "no connection",
			    MILTER_SEND_BACKLOG);
		return true;
	}
	free(v);
	if (__atomic_exchange_n(&g_send_failing, false, __ATOMIC_ACQ_REL))
		log_info("%s: the database takes sends again",
		    milter_qid(mc));
	log_debug("%s: sends recorded rcpts=%zu%s msgid=%s", milter_qid(mc),
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
