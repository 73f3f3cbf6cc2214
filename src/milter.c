/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter.c - the libmilter glue: callbacks, per-connection and
 * per-message contexts, and the one decide() that turns what we found
 * into an sfsistat.  The only file that includes <libmilter/mfapi.h>.
 *
 * What it does to mail (DESIGN.md, "The milter path"):
 * - ordinary mail (a non-null envelope sender, RFC 5321 section 4.5.5)
 *   is accepted at MAIL FROM, or at DATA when BounceAddresses or
 *   SuppressedRecipients make the recipients matter (SMFIS_ACCEPT from
 *   xxfi_envrcpt accepts only that recipient);
 * - a bounce (null sender "<>", or "" from Postfix's own DSNs, or a
 *   recipient matching BounceAddresses, for VERP) is buffered up to
 *   MaxMessageBytes, analysed once at end of message (RFC 3464, 6522,
 *   6533, 3463 through analyze.h), recorded as one event per recipient
 *   in one store transaction, then let through (optionally with X-Bounce-*
 *   headers) or discarded, per BounceAction;
 * - a bounce that cannot be recorded is TEMPFAILed (OnError tempfail):
 *   the MTA offers it again and recording is idempotent.  A bounce is
 *   NEVER rejected: Postfix would loop on its own DSN (POSTFIX-NOTES.md).
 *
 * It must not: keep an SMFICTX beyond the callback that got it, use
 * static buffers (callbacks run concurrently), block on anything but the
 * final store_record() and the optional per-recipient store_lookup().
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "analyze.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "milter.h"
#include "rcache.h"
#include "store.h"

#define MILTER_NAME		"bounced"
#define HDR_MAX_RCPTS		20	/* X-Bounce-* header sets per message */
#define LOG_MAX_RCPTS		5	/* recipients listed in the INFO line */
#define QID_MAX			64
#define TAG_MAX			4096	/* bytes of X-Bounce-Suppressed */
#define FORGED_NAMES		16	/* distinct X-Bounce-* names removed */
#define FORGED_MAX		64	/* X-Bounce-* fields removed */
#define FORGED_NAME_LEN		64	/* bytes of one such name */

/* The X-Bounce-* fields a bounce arrived with (forged or relayed). */
struct forged {
	char		 name[FORGED_NAME_LEN];	/* as first seen */
	unsigned	 count;			/* fields of that name */
};

/* What a callback found; decide() maps it to an sfsistat. */
enum outcome {
	OUT_ORDINARY,		/* not a bounce, nothing to do: accept */
	OUT_MORE,		/* keep going */
	OUT_RECORDED,		/* bounce recorded: BounceAction */
	OUT_UNRECORDED,		/* bounce not recorded (our failure): OnError */
	OUT_PASS,		/* not analysable as a bounce: let it through */
	OUT_BODY_FULL,		/* buffer full: skip the rest if possible */
	OUT_RCPT_SUPPRESSED,	/* ordinary mail to a suppressed address */
};

struct msg_ctx {
	bool		 bounce;	/* treat as a bounce */
	bool		 internal;	/* Postfix's own DSN */
	bool		 by_address;	/* matched BounceAddresses */
	bool		 in_body;
	unsigned	 nrcpt;
	char		 qid[QID_MAX];
	struct buf	 msg;		/* rebuilt header + body, bounded */
	struct buf	 tag;		/* suppressed recipients (tag mode) */
	struct forged	 forged[FORGED_NAMES];
	size_t		 nforged;
	unsigned	 forged_total;
	bool		 forged_kept;	/* more than we can remove */
	bool		 forged_done;	/* removal asked for */
};

struct conn_ctx {
	struct bd_config *conf;		/* snapshot for the whole connection */
	unsigned long	 pflags;	/* negotiated protocol flags */
	unsigned long	 aflags;	/* negotiated actions */
	struct msg_ctx	*mc;
};

static pthread_mutex_t	 g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bd_config	*g_conf;
static struct store	*g_store;
static char		*g_conn;
static int64_t		(*g_now)(void);
static struct store	*g_lookup_store;	/* RCPT TO, or NULL */
static struct rcache	*g_rcache;		/* SuppressedRecipients */
static bool		 g_store_failing;	/* an incident is open */

/*
 * milter_init - set up the shared state
 *
 * Arguments: conf, the first snapshot (its reference is taken over);
 * store, the shared handle (borrowed, must outlive milter_run()).
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
 * milter_fini - release the current snapshot and forget the store
 */
void
milter_fini(void)
{
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

static int64_t
now_secs(void)
{
	return g_now ? g_now() : (int64_t)time(NULL);
}

/* ---- contexts ---- */

static struct conn_ctx *
conn_get(SMFICTX *ctx)
{
	struct conn_ctx	*cc;

	if ((cc = smfi_getpriv(ctx)) != NULL)
		return cc;
	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	if ((cc->conf = milter_current_config()) == NULL ||
	    smfi_setpriv(ctx, cc) != MI_SUCCESS) {
		config_unref(cc->conf);
		free(cc);
		return NULL;
	}
	return cc;
}

static void
msg_free(struct msg_ctx *mc)
{
	if (mc == NULL)
		return;
	buf_free(&mc->msg);
	buf_free(&mc->tag);
	free(mc);
}

/* The libmilter sample's single cleanup path for eom and abort. */
static void
msg_cleanup(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);

	if (cc != NULL) {
		msg_free(cc->mc);
		cc->mc = NULL;
	}
}

static void
copy_qid(SMFICTX *ctx, struct msg_ctx *mc)
{
	const char	*q;
	size_t		 i;

	if ((q = smfi_getsymval(ctx, "i")) == NULL || *q == '\0')
		q = smfi_getsymval(ctx, "{i}");
	if (q == NULL || *q == '\0')
		return;
	for (i = 0; i + 1 < sizeof(mc->qid) && q[i] != '\0'; i++)
		mc->qid[i] = isalnum((unsigned char)q[i]) ? q[i] : '?';
	mc->qid[i] = '\0';
}

static const char *
qid(const struct msg_ctx *mc)
{
	return mc->qid[0] ? mc->qid : "NOQUEUE";
}

/*
 * decide - the one mapping from what we found to the MTA's answer
 *
 * A bounce is never REJECTed; the only REJECT is for an ordinary
 * message's recipient under SuppressedRecipients reject.
 */
static sfsistat
decide(const struct conn_ctx *cc, enum outcome o, unsigned long nr_flag)
{
	const struct bd_config	*c = cc->conf;

	switch (o) {
	case OUT_ORDINARY:
		return SMFIS_ACCEPT;
	case OUT_MORE:
		return (nr_flag != 0 && (cc->pflags & nr_flag) != 0) ?
		    SMFIS_NOREPLY : SMFIS_CONTINUE;
	case OUT_RECORDED:
		return c->bounce_action == BOUNCE_DISCARD ? SMFIS_DISCARD :
		    SMFIS_CONTINUE;
	case OUT_UNRECORDED:
		return c->on_error == ON_ERROR_TEMPFAIL ? SMFIS_TEMPFAIL :
		    SMFIS_CONTINUE;
	case OUT_PASS:
		return SMFIS_CONTINUE;
	case OUT_BODY_FULL:
		return (cc->pflags & SMFIP_SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE;
	case OUT_RCPT_SUPPRESSED:
		if (cc->mc != NULL && cc->mc->bounce)
			return SMFIS_CONTINUE;
		return c->suppressed_rcpt == RCPT_REJECT ? SMFIS_REJECT :
		    SMFIS_CONTINUE;
	}
	return SMFIS_CONTINUE;
}

/* ---- callbacks ---- */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn_ctx	*cc;
	unsigned long	 want, nr;
	bool		 rcpts;

	(void)f2;
	(void)f3;
	if ((cc = conn_get(ctx)) == NULL)
		return SMFIS_REJECT;	/* libmilter: negotiation failed */
	rcpts = cc->conf->n_bounce_patterns > 0 ||
	    cc->conf->suppressed_rcpt != RCPT_OFF;
	/* Steps we never look at. */
	want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN;
	if (!rcpts)
		want |= SMFIP_NORCPT | SMFIP_NODATA;
	/* Replies we never vary; and the exact header bytes. */
	nr = SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_SKIP | SMFIP_HDR_LEADSPC;
	cc->pflags = (want | nr) & f1;
	cc->aflags = 0;
	if (cc->conf->bounce_action == BOUNCE_HEADERS ||
	    cc->conf->suppressed_rcpt == RCPT_TAG) {
		if ((f0 & SMFIF_ADDHDRS) == 0)
			log_warn("the MTA does not allow adding headers: "
			    "no X-Bounce-* headers on this connection");
		cc->aflags |= SMFIF_ADDHDRS & f0;
	}
	/* Only headers mode vouches for X-Bounce-*: it removes forged ones. */
	if (cc->conf->bounce_action == BOUNCE_HEADERS) {
		if ((f0 & SMFIF_CHGHDRS) == 0)
			log_warn("the MTA does not allow removing headers: "
			    "X-Bounce-* fields a bounce came with are kept");
		cc->aflags |= SMFIF_CHGHDRS & f0;
	}
	if (f0 & SMFIF_SETSYMLIST) {
		/* The queue id, at MAIL and again at EOM (smtpd sets it late). */
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "i") ==
		    MI_SUCCESS &&
		    smfi_setsymlist(ctx, SMFIM_EOM, "i") == MI_SUCCESS)
			cc->aflags |= SMFIF_SETSYMLIST;
	}
	*pf0 = cc->aflags;
	*pf1 = cc->pflags;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	/* Out of memory: mlfi_envfrom tries again, knowing the sender. */
	(void)conn_get(ctx);
	return SMFIS_CONTINUE;
}

static bool
null_sender(const char *s, bool *bare)
{
	while (*s == ' ' || *s == '\t')
		s++;
	*bare = (*s == '\0');
	if (*bare)
		return true;
	if (*s != '<')
		return false;
	for (s++; *s == ' ' || *s == '\t'; s++)
		;
	return *s == '>';
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn_ctx	*cc;
	struct msg_ctx	*mc;
	bool		 bare = false, isnull;

	isnull = argv != NULL && argv[0] != NULL &&
	    null_sender(argv[0], &bare);
	/* Out of memory: a bounce comes again, ordinary mail goes on. */
	if ((cc = conn_get(ctx)) == NULL)
		return isnull ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
	msg_cleanup(ctx);
	if (!isnull && cc->conf->n_bounce_patterns == 0 &&
	    cc->conf->suppressed_rcpt == RCPT_OFF)
		return decide(cc, OUT_ORDINARY, 0);
	if ((mc = calloc(1, sizeof(*mc))) == NULL) {
		log_err("out of memory at MAIL FROM");
		return isnull ? decide(cc, OUT_UNRECORDED, 0) :
		    decide(cc, OUT_ORDINARY, 0);
	}
	buf_init(&mc->msg, cc->conf->max_message_bytes);
	buf_init(&mc->tag, TAG_MAX);
	mc->bounce = isnull;
	/*
	 * Postfix's own DSNs come with the bare "" sender; its smtpd always
	 * passes "<>".  {client_addr} tells nothing here: Postfix fills it in
	 * (127.0.0.1) on the internal path too once a milter asks for it.
	 */
	mc->internal = isnull && bare;
	copy_qid(ctx, mc);
	cc->mc = mc;
	return decide(cc, OUT_MORE, SMFIP_NR_MAIL);
}

/*
 * SuppressedRecipients: is rcpt suppressed?  Never fails the mail: a
 * lookup that cannot be answered is "no", and the incident is logged
 * once when it starts and once when it ends (rcache.c keeps the state).
 */
static bool
rcpt_suppressed(struct msg_ctx *mc, const char *rcpt, char *reason,
    size_t reasonlen)
{
	struct rcache		*rc;
	struct store		*st;
	enum rcache_answer	 a;
	enum rcache_incident	 inc;
	enum bd_status		 err;

	pthread_mutex_lock(&g_lock);
	rc = g_rcache;
	st = g_lookup_store != NULL ? g_lookup_store : g_store;
	pthread_mutex_unlock(&g_lock);
	if (rc == NULL)
		return false;
	a = rcache_lookup(rc, st, rcpt, now_secs(), reason, reasonlen, &inc,
	    &err);
	if (inc == RCACHE_STARTED)
		log_warn("%s: recipient lookup failed (%s): not enforcing "
		    "SuppressedRecipients until the database answers again",
		    qid(mc), bd_strerror(err));
	else if (inc == RCACHE_RECOVERED)
		log_info("%s: recipient lookups work again", qid(mc));
	return a == RCACHE_SUPPRESSED;
}

static void
split_reply(const char *reply, char *code, char *xcode, const char **text)
{
	memcpy(code, reply, 3);
	code[3] = '\0';
	reply += 4;
	xcode[0] = '\0';
	if (reply[0] == code[0] && reply[1] == '.') {
		size_t n = strcspn(reply, " ");

		if (n < 16) {
			memcpy(xcode, reply, n);
			xcode[n] = '\0';
			reply += n + 1;
		}
	}
	*text = reply;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn_ctx		*cc = smfi_getpriv(ctx);
	struct msg_ctx		*mc;
	const struct bd_config	*c;
	char			 reason[32], code[4], xcode[16];
	char			 san[LOG_SANITIZE_BUF];
	const char		*text;

	if (cc == NULL || (mc = cc->mc) == NULL || argv == NULL ||
	    argv[0] == NULL)
		return SMFIS_CONTINUE;
	c = cc->conf;
	mc->nrcpt++;
	if (config_is_bounce_address(c, argv[0])) {
		if (!mc->bounce)
			mc->internal = false;
		mc->bounce = mc->by_address = true;
	}
	if (mc->bounce || c->suppressed_rcpt == RCPT_OFF)
		return decide(cc, OUT_MORE, SMFIP_NR_RCPT);
	if (!rcpt_suppressed(mc, argv[0], reason, sizeof(reason)))
		return decide(cc, OUT_MORE, SMFIP_NR_RCPT);
	copy_qid(ctx, mc);
	log_info("%s: suppressed rcpt=<%s> reason=%s action=%s", qid(mc),
	    log_sanitize(argv[0], san, sizeof(san)), reason,
	    c->suppressed_rcpt == RCPT_REJECT ? "reject" : "tag");
	if (c->suppressed_rcpt == RCPT_REJECT) {
		split_reply(c->reject_reply, code, xcode, &text);
		(void)smfi_setreply(ctx, code, xcode[0] ? xcode : NULL,
		    (char *)text);
	} else {
		(void)buf_printf(&mc->tag, "%s%s", mc->tag.len ? ", " : "",
		    san);
	}
	return decide(cc, OUT_RCPT_SUPPRESSED, 0);
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL || (mc = cc->mc) == NULL)
		return SMFIS_CONTINUE;
	if (!mc->bounce && mc->tag.len == 0) {
		msg_cleanup(ctx);
		return decide(cc, OUT_ORDINARY, 0);
	}
	copy_qid(ctx, mc);
	return decide(cc, OUT_MORE, SMFIP_NR_DATA);
}

/*
 * Count an X-Bounce-* field of a bounce: only we may say what a bounce
 * was (BounceAction headers), so those it came with are removed.  Names
 * compare without regard to case, as the MTA's header index does.
 */
static void
note_forged(struct msg_ctx *mc, const char *name)
{
	size_t	 i;

	for (i = 0; i < mc->nforged; i++)
		if (strcasecmp(mc->forged[i].name, name) == 0)
			break;
	if (mc->forged_total == FORGED_MAX || (i == mc->nforged &&
	    (i == FORGED_NAMES || strlen(name) >= FORGED_NAME_LEN))) {
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

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) == NULL || !mc->bounce)
		return decide(cc, OUT_MORE, SMFIP_NR_HDR);
	if (strncasecmp(name, "X-Bounce-", 9) == 0)
		note_forged(mc, name);
	/* With SMFIP_HDR_LEADSPC the value keeps its leading space. */
	(void)buf_printf(&mc->msg, "%s:%s%s\r\n", name,
	    (cc->pflags & SMFIP_HDR_LEADSPC) ? "" : " ", value);
	return decide(cc, OUT_MORE, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);

	if (cc != NULL && cc->mc != NULL && cc->mc->bounce) {
		(void)buf_append(&cc->mc->msg, "\r\n", 2);
		cc->mc->in_body = true;
	}
	return cc ? decide(cc, OUT_MORE, SMFIP_NR_EOH) : SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL || (mc = cc->mc) == NULL)
		return SMFIS_CONTINUE;
	if (!mc->bounce)	/* tag mode: the body is not needed */
		return decide(cc, OUT_BODY_FULL, 0);
	if (buf_append(&mc->msg, chunk, len) == BD_ELIMIT ||
	    mc->msg.truncated)
		return decide(cc, OUT_BODY_FULL, 0);
	return decide(cc, OUT_MORE, SMFIP_NR_BODY);
}

/* ---- end of message ---- */

static void
add_header(SMFICTX *ctx, const struct conn_ctx *cc, const char *name,
    const char *value)
{
	char	 v[LOG_SANITIZE_BUF + 1], san[LOG_SANITIZE_BUF];

	(void)log_sanitize(value, san, sizeof(san));
	(void)snprintf(v, sizeof(v), "%s%s",
	    (cc->pflags & SMFIP_HDR_LEADSPC) ? " " : "", san);
	if (smfi_addheader(ctx, (char *)name, v) != MI_SUCCESS)
		log_warn("smfi_addheader %s failed", name);
}

/*
 * Remove the X-Bounce-* fields the bounce arrived with, last first so
 * that the 1-based index of the ones left does not move, whatever the
 * MTA makes of a deletion (smfi_chgheader(3) with a NULL value).
 */
static void
remove_forged(SMFICTX *ctx, const struct conn_ctx *cc, struct msg_ctx *mc)
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
				    qid(mc), log_sanitize(mc->forged[i].name,
				    san, sizeof(san)));
	if (mc->forged_kept)
		log_warn("%s: more than %d X-Bounce-* fields: some are left "
		    "in the message", qid(mc), FORGED_MAX);
}

static void
add_bounce_headers(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct bd_event *evs, size_t n)
{
	size_t	 i;

	if ((cc->aflags & SMFIF_ADDHDRS) == 0)
		return;
	for (i = 0; i < n && i < HDR_MAX_RCPTS; i++) {
		add_header(ctx, cc, "X-Bounce-Recipient", evs[i].recipient);
		add_header(ctx, cc, "X-Bounce-Status",
		    evs[i].status ? evs[i].status : "none");
		add_header(ctx, cc, "X-Bounce-Reason", evs[i].verdict.reason ?
		    evs[i].verdict.reason : "undefined");
		add_header(ctx, cc, "X-Bounce-Hard",
		    evs[i].verdict.hard ? "yes" : "no");
		add_header(ctx, cc, "X-Bounce-Rule", evs[i].verdict.rule);
	}
}

/* One INFO line per bounce message (STYLE.md 3.7). */
static void
log_bounce(const struct msg_ctx *mc, const struct bd_event *evs, size_t n,
    size_t nrcpts, size_t recorded, const char *action, const char *extra)
{
	struct buf	 l;
	char		 s[LOG_SANITIZE_BUF];
	size_t		 i, k = n < LOG_MAX_RCPTS ? n : LOG_MAX_RCPTS;
	int		 f;
	static const char *const names[] = { "rcpt", "status", "reason",
	    "hard", "rule" };

	buf_init(&l, 4096);
	(void)buf_printf(&l, "%s: bounce rcpts=%zu recorded=%zu", qid(mc),
	    nrcpts, recorded);
	for (f = 0; f < 5 && n > 0; f++) {
		(void)buf_printf(&l, " %s=", names[f]);
		for (i = 0; i < k; i++) {
			const struct bd_event *e = &evs[i];
			const char *v = f == 0 ? e->recipient :
			    f == 1 ? (e->status ? e->status : "none") :
			    f == 2 ? (e->verdict.reason ? e->verdict.reason :
			    "undefined") :
			    f == 3 ? (e->verdict.hard ? "yes" : "no") :
			    e->verdict.rule;

			(void)log_sanitize(v, s, sizeof(s));
			(void)buf_printf(&l, f == 0 ? "%s<%s>" : "%s%s",
			    i ? "," : "", s);
		}
		if (n > k)
			(void)buf_printf(&l, ",+%zu", n - k);
	}
	(void)buf_printf(&l, " source=%s action=%s%s%s",
	    mc->internal ? "dsn-internal" : "dsn-remote", action,
	    extra ? " " : "", extra ? extra : "");
	log_info("%s", l.data ? l.data : "bounce (log line lost)");
	buf_free(&l);
}

static const char *
action_name(const struct bd_config *c)
{
	return c->bounce_action == BOUNCE_DISCARD ? "discard" :
	    c->bounce_action == BOUNCE_HEADERS ? "headers" : "continue";
}

/* Their state may have changed: RCPT TO must not use the old answer. */
static void
forget_recipients(const struct bd_event *evs, size_t n)
{
	struct rcache	*rc;
	size_t		 i;

	pthread_mutex_lock(&g_lock);
	rc = g_rcache;
	pthread_mutex_unlock(&g_lock);
	for (i = 0; rc != NULL && i < n; i++)
		rcache_forget(rc, evs[i].recipient);
}

/* Record the events; the store-failure incident is logged once. */
static enum bd_status
record(const struct bd_config *c, const struct msg_ctx *mc,
    const struct bd_event *evs, size_t n, size_t *n_new)
{
	struct store_policy	 pol;
	struct store		*st;
	enum bd_status		 s;
	char			 san[LOG_SANITIZE_BUF];

	pthread_mutex_lock(&g_lock);
	st = g_store;
	pthread_mutex_unlock(&g_lock);
	if (st == NULL)
		return BD_EIO;
	pol.soft_limit = c->soft_bounce_limit;
	pol.soft_window = c->soft_bounce_window;
	s = store_record(st, evs, n, &pol, now_secs(), n_new);
	if (s != BD_OK) {
		if (!__atomic_exchange_n(&g_store_failing, true,
		    __ATOMIC_ACQ_REL))
			log_err("%s: cannot record bounces (%s: %s); %s until "
			    "the database recovers", qid(mc), bd_strerror(s),
			    log_sanitize(store_errmsg(st), san, sizeof(san)),
			    c->on_error == ON_ERROR_TEMPFAIL ?
			    "bounces are deferred" : "bounces pass unrecorded");
		else
			log_debug("%s: store still failing: %s", qid(mc),
			    bd_strerror(s));
	} else {
		if (__atomic_exchange_n(&g_store_failing, false,
		    __ATOMIC_ACQ_REL))
			log_info("%s: database recovered, recording again",
			    qid(mc));
		forget_recipients(evs, n);
	}
	return s;
}

/* The end of the INFO line: what else happened to the message. */
static const char *
extra(const struct msg_ctx *mc, char *out, size_t outlen)
{
	char	 removed[32] = "";

	if (mc->forged_done && mc->forged_total > 0)
		(void)snprintf(removed, sizeof(removed), " removed_headers=%u",
		    mc->forged_total);
	(void)snprintf(out, outlen, "%s%s", mc->msg.truncated ?
	    " truncated=yes" : "", removed);
	return out[0] != '\0' ? out + 1 : NULL;
}

static enum outcome
process_bounce(SMFICTX *ctx, struct conn_ctx *cc, struct msg_ctx *mc)
{
	const struct bd_config	*c = cc->conf;
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct analysis		*a = NULL;
	struct bd_event		*evs = NULL;
	enum bd_status		 s;
	enum outcome		 o;
	size_t			 i, n = 0, nr, n_new = 0;
	int64_t			 now = now_secs();
	char			 xb[64];

	opt.max_bytes = c->max_message_bytes;
	opt.campaign_header = c->campaign_header && *c->campaign_header ?
	    c->campaign_header : NULL;
	s = analyze_message(c->rules, mc->msg.data ? mc->msg.data : "",
	    mc->msg.len, &opt, &a);
	if (s != BD_OK) {
		log_err("%s: bounce not analysed: %s; action=%s", qid(mc),
		    bd_strerror(s), c->on_error == ON_ERROR_TEMPFAIL ?
		    "tempfail" : "continue");
		return OUT_UNRECORDED;
	}
	nr = a->report->nrcpts;
	if (nr > 0 && (evs = calloc(nr, sizeof(*evs))) == NULL) {
		analysis_free(a);
		log_err("%s: out of memory", qid(mc));
		return OUT_UNRECORDED;
	}
	for (i = 0; i < nr; i++) {
		if (a->recipients[i][0] == '\0')
			continue;	/* not an address: nothing to record */
		analysis_event(a, i, mc->internal ? EV_SRC_DSN_INTERNAL :
		    EV_SRC_DSN_REMOTE, now, &evs[n++]);
	}
	if (n == 0) {
		log_info("%s: bounce rcpts=0 kind=%s defects=0x%x%s "
		    "source=%s action=pass (no recipient found)", qid(mc),
		    dsn_kind_name(a->report->kind), a->report->defects,
		    mc->msg.truncated ? " truncated=yes" : "",
		    mc->internal ? "dsn-internal" : "dsn-remote");
		o = OUT_PASS;
	} else if (record(c, mc, evs, n, &n_new) != BD_OK) {
		log_bounce(mc, evs, n, nr, 0, c->on_error ==
		    ON_ERROR_TEMPFAIL ? "tempfail" : "continue",
		    "error=store");
		o = OUT_UNRECORDED;
	} else {
		if (c->bounce_action == BOUNCE_HEADERS) {
			remove_forged(ctx, cc, mc);
			add_bounce_headers(ctx, cc, evs, n);
		}
		log_bounce(mc, evs, n, nr, n_new, action_name(c), extra(mc,
		    xb, sizeof(xb)));
		o = OUT_RECORDED;
	}
	free(evs);
	analysis_free(a);
	return o;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;
	enum outcome	 o = OUT_PASS;
	sfsistat	 r;

	if (cc == NULL || (mc = cc->mc) == NULL)
		return SMFIS_CONTINUE;
	copy_qid(ctx, mc);
	if (mc->bounce)
		o = process_bounce(ctx, cc, mc);
	else if (mc->tag.len > 0 && (cc->aflags & SMFIF_ADDHDRS))
		add_header(ctx, cc, "X-Bounce-Suppressed", mc->tag.data);
	r = decide(cc, o, 0);
	/* A bounce that goes on unrecorded must not keep forged ones. */
	if (mc->bounce && r == SMFIS_CONTINUE &&
	    cc->conf->bounce_action == BOUNCE_HEADERS)
		remove_forged(ctx, cc, mc);
	msg_cleanup(ctx);
	return r;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	msg_cleanup(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);

	if (cc == NULL)
		return SMFIS_CONTINUE;
	msg_free(cc->mc);
	config_unref(cc->conf);
	free(cc);
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
	MILTER_NAME,		/* filter name */
	SMFI_VERSION,		/* version code */
	SMFIF_ADDHDRS | SMFIF_CHGHDRS,	/* most we may do; negotiate narrows */
	mlfi_connect,		/* connection info (normally negotiated away) */
	NULL,			/* SMTP HELO */
	mlfi_envfrom,		/* envelope sender */
	mlfi_envrcpt,		/* envelope recipient */
	mlfi_header,		/* header */
	mlfi_eoh,		/* end of header */
	mlfi_body,		/* body block */
	mlfi_eom,		/* end of message */
	mlfi_abort,		/* message aborted */
	mlfi_close,		/* connection cleanup */
	NULL,			/* unknown SMTP command */
	mlfi_data,		/* DATA */
	mlfi_negotiate,		/* option negotiation */
};

/*
 * milter_register - hand our callbacks to libmilter
 *
 * Returns BD_OK, or BD_ECONFIG when smfi_register() refuses.
 */
enum bd_status
milter_register(void)
{
	return smfi_register(milter_desc) == MI_SUCCESS ? BD_OK : BD_ECONFIG;
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
 * milter_run - hand control to libmilter until SIGTERM/SIGHUP
 *
 * Returns 0 on a clean stop, -1 otherwise.
 */
int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}
