/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milter.c - the connection-facing half of the libmilter glue: the
 * callbacks, option negotiation, the per-connection and per-message
 * contexts and the one decide() that turns what we found into an
 * sfsistat.  SuppressedRecipients is in milter_rcpt.c, the end of a
 * bounce's message in milter_bounce.c, the shared state in
 * milter_state.c; these four are the only files that include
 * <libmilter/mfapi.h> (milter_int.h).
 *
 * What it does to mail (DESIGN.md, "The milter path"):
 * - ordinary mail (a non-null envelope sender, RFC 5321 section 4.5.5)
 *   is accepted at MAIL FROM, or at DATA when BounceAddresses or
 *   SuppressedRecipients make the recipients matter (SMFIS_ACCEPT from
 *   xxfi_envrcpt accepts only that recipient), or at the end of its
 *   header once its sends are kept (RecordSends, milter_send.c), or at
 *   its end when its sender is signed (SignEnvelope);
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log/log.h"
#include "bounced/metrics.h"
#include "bounced/milter.h"
#include "bounced/milter_int.h"

#define MILTER_NAME		"bounced"

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
	milter_commit_gone(&mc->commit_ticket);	/* not recorded */
	buf_free(&mc->msg);
	buf_free(&mc->tag);
	milter_send_free(mc);
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

/* A failed append leaves a hole in the message: never analyse it. */
static void
note_append(struct msg_ctx *mc, enum bd_status s)
{
	if (s != BD_OK && s != BD_ELIMIT)
		mc->nomem = true;
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
		metrics_ordinary();
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
		if (cc->pflags & SMFIP_NR_BODY)
			return SMFIS_NOREPLY;
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
	if ((cc = conn_get(ctx)) == NULL) {
		/*
		 * Refusing the negotiation would make the MTA apply its
		 * default action (Postfix: milter_default_action, tempfail)
		 * to all mail of the connection.  Ask for nothing instead:
		 * mlfi_envfrom tries again, and a context made then has no
		 * NR_*, SKIP or header changes, as negotiated here.
		 */
		log_err("out of memory at negotiation: this connection "
		    "gets the plain protocol");
		*pf0 = *pf2 = *pf3 = 0;
		*pf1 = (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN) & f1;
		return SMFIS_CONTINUE;
	}
	rcpts = cc->conf->n_bounce_patterns > 0 ||
	    cc->conf->suppressed_rcpt != RCPT_OFF ||
	    cc->conf->record_sends || cc->conf->sign_envelope;
	/* Steps we never look at. */
	want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN;
	if (!rcpts)
		want |= SMFIP_NORCPT | SMFIP_NODATA;
	/*
	 * Replies we never vary; and the exact header bytes.  With
	 * RecordSends the end of the header answers: ordinary mail is
	 * accepted there (its body is never sent), which an SMFIP_NR_EOH
	 * MTA would not wait for; RCPT TO (unless SuppressedRecipients may
	 * refuse one) and DATA then never answer, which spares ordinary
	 * mail two round trips (bench/milter/sends.sh).
	 */
	nr = SMFIP_NR_HDR | SMFIP_SKIP | SMFIP_HDR_LEADSPC;
	/*
	 * Body chunks unanswered: one round trip less a bounce (of five;
	 * make bench-milter: 11.3 context switches a bounce down to 9.5),
	 * at the price of SMFIS_SKIP: a bounce past MaxMessageBytes is
	 * sent whole and the rest ignored.  Ordinary mail ends at MAIL or
	 * at the header, except with tag and SignEnvelope, which read on
	 * to the end of it: there a SKIP spares the MTA its body.
	 */
	if (cc->conf->suppressed_rcpt != RCPT_TAG && !cc->conf->sign_envelope)
		nr |= SMFIP_NR_BODY;
	if (!cc->conf->record_sends)
		nr |= SMFIP_NR_EOH;
	else {
		nr |= SMFIP_NR_DATA;
		if (cc->conf->suppressed_rcpt == RCPT_OFF)
			nr |= SMFIP_NR_RCPT;
	}
	cc->pflags = (want | nr) & f1;
	cc->aflags = 0;
	if (cc->conf->bounce_action == BOUNCE_HEADERS ||
	    cc->conf->suppressed_rcpt == RCPT_TAG) {
		if ((f0 & SMFIF_ADDHDRS) == 0)
			log_warn("the MTA does not allow adding headers: "
			    "no X-Bounce-* headers on this connection");
		cc->aflags |= SMFIF_ADDHDRS & f0;
	}
	if (cc->conf->sign_envelope) {
		if ((f0 & SMFIF_CHGFROM) == 0)
			log_warn("the MTA does not allow changing the envelope "
			    "sender: SignEnvelope does nothing on this "
			    "connection");
		cc->aflags |= SMFIF_CHGFROM & f0;
	}
	/* Only headers mode vouches for X-Bounce-*: it removes forged ones. */
	if (cc->conf->bounce_action == BOUNCE_HEADERS) {
		if ((f0 & SMFIF_CHGHDRS) == 0)
			log_warn("the MTA does not allow removing headers: "
			    "X-Bounce-* fields a bounce came with are kept");
		cc->aflags |= SMFIF_CHGHDRS & f0;
	}
	if (f0 & SMFIF_SETSYMLIST) {
		/*
		 * The queue id at MAIL and again at EOM (smtpd sets it late),
		 * and the client for the trust policy (an ARF report from a
		 * FeedbackSources address; stats per source).
		 */
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {client_addr}") ==
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

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn_ctx	*cc;
	struct msg_ctx	*mc;
	bool		 bare = false, isnull;

	isnull = argv != NULL && argv[0] != NULL &&
	    event_sender_is_null(argv[0], &bare);
	/* Out of memory: a bounce comes again, ordinary mail goes on. */
	if ((cc = conn_get(ctx)) == NULL)
		return isnull ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
	msg_cleanup(ctx);
	if (!isnull && cc->conf->n_bounce_patterns == 0 &&
	    cc->conf->suppressed_rcpt == RCPT_OFF &&
	    !cc->conf->record_sends && !cc->conf->sign_envelope)
		return decide(cc, OUT_ORDINARY, 0);
	if ((mc = calloc(1, sizeof(*mc))) == NULL) {
		log_err("out of memory at MAIL FROM");
		return isnull ? decide(cc, OUT_UNRECORDED, 0) :
		    decide(cc, OUT_ORDINARY, 0);
	}
	buf_init(&mc->msg, cc->conf->max_message_bytes);
	buf_init(&mc->tag, MILTER_TAG_MAX);
	mc->bounce = isnull;
	/*
	 * Postfix's own DSNs come with the bare "" sender; its smtpd always
	 * passes "<>".  {client_addr} tells nothing here: Postfix fills it in
	 * (127.0.0.1) on the internal path too once a milter asks for it.
	 */
	mc->internal = isnull && bare;
	if (isnull)	/* a group commit's leader waits for it */
		milter_commit_coming(&mc->commit_ticket);
	copy_qid(ctx, mc);
	milter_send_client(ctx, mc);
	if (!isnull)
		milter_send_from(ctx, cc, mc, argv);
	cc->mc = mc;
	return decide(cc, OUT_MORE, SMFIP_NR_MAIL);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;
	sfsistat	 r;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) == NULL || argv == NULL || argv[0] == NULL)
		return decide(cc, OUT_MORE, SMFIP_NR_RCPT);
	mc->nrcpt++;
	if (config_is_bounce_address(cc->conf, argv[0])) {
		if (!mc->bounce) {
			mc->internal = false;
			milter_commit_coming(&mc->commit_ticket);
		}
		mc->bounce = mc->by_address = true;
	}
	if (mc->bounce || cc->conf->suppressed_rcpt == RCPT_OFF) {
		milter_send_rcpt(ctx, cc, mc, argv[0]);
		return decide(cc, OUT_MORE, SMFIP_NR_RCPT);
	}
	copy_qid(ctx, mc);
	r = decide(cc, milter_rcpt_check(ctx, cc, mc, argv[0]),
	    SMFIP_NR_RCPT);
	if (r != SMFIS_REJECT)	/* a refused recipient is sent nothing */
		milter_send_rcpt(ctx, cc, mc, argv[0]);
	return r;
}

static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) == NULL)
		return decide(cc, OUT_MORE, SMFIP_NR_DATA);
	/* With SMFIP_NR_DATA, what is not needed is accepted at EOH. */
	if (!mc->bounce && mc->tag.len == 0 && !milter_send_wanted(mc) &&
	    (cc->pflags & SMFIP_NR_DATA) == 0) {
		msg_cleanup(ctx);
		return decide(cc, OUT_ORDINARY, 0);
	}
	copy_qid(ctx, mc);
	return decide(cc, OUT_MORE, SMFIP_NR_DATA);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;
	enum bd_status	 s;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) != NULL && !mc->bounce)
		milter_send_header(cc, mc, name, value);
	if (mc == NULL || !mc->bounce)
		return decide(cc, OUT_MORE, SMFIP_NR_HDR);
	if (strncasecmp(name, "X-Bounce-", 9) == 0)
		milter_note_forged(mc, name);
	/*
	 * With SMFIP_HDR_LEADSPC the value keeps its leading space.  Pieces,
	 * not a printf: a bounce has a dozen headers and more, and this ran
	 * for each.
	 */
	s = buf_puts(&mc->msg, name);
	if (s == BD_OK)
		s = buf_puts(&mc->msg, (cc->pflags & SMFIP_HDR_LEADSPC) ?
		    ":" : ": ");
	if (s == BD_OK)
		s = buf_puts(&mc->msg, value);
	if (s == BD_OK)
		s = buf_append(&mc->msg, "\r\n", 2);
	note_append(mc, s);
	return decide(cc, OUT_MORE, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) != NULL && mc->bounce) {
		note_append(mc, buf_append(&mc->msg, "\r\n", 2));
		mc->in_body = true;
	} else if (mc != NULL) {
		/* Ordinary mail: its sends now, its body is never needed. */
		copy_qid(ctx, mc);
		if (milter_send_record(cc, mc) && mc->tag.len == 0 &&
		    !mc->send.sign) {
			msg_cleanup(ctx);
			return decide(cc, OUT_ORDINARY, 0);
		}
	}
	return decide(cc, OUT_MORE, SMFIP_NR_EOH);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn_ctx	*cc = smfi_getpriv(ctx);
	struct msg_ctx	*mc;

	if (cc == NULL)
		return SMFIS_CONTINUE;
	if ((mc = cc->mc) == NULL)
		return decide(cc, OUT_MORE, SMFIP_NR_BODY);
	if (!mc->bounce)	/* tag mode: the body is not needed */
		return decide(cc, OUT_BODY_FULL, 0);
	note_append(mc, buf_append(&mc->msg, chunk, len));
	/* Full, or a hole that makes the rest useless. */
	if (mc->msg.truncated || mc->nomem)
		return decide(cc, OUT_BODY_FULL, 0);
	return decide(cc, OUT_MORE, SMFIP_NR_BODY);
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
		o = milter_bounce_eom(ctx, cc, mc);
	else {
		metrics_ordinary();	/* accepted with what it was given */
		(void)milter_send_record(cc, mc);
		milter_send_sign(ctx, cc, mc);
		if (mc->tag.len > 0 && (cc->aflags & SMFIF_ADDHDRS))
			milter_add_header(ctx, cc, mc, "X-Bounce-Suppressed",
			    mc->tag.data);
	}
	r = decide(cc, o, 0);
	/* A bounce that goes on unrecorded must not keep forged ones. */
	if (mc->bounce && r == SMFIS_CONTINUE &&
	    cc->conf->bounce_action == BOUNCE_HEADERS)
		milter_remove_forged(ctx, cc, mc);
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
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM,	/* most we may do;
					   negotiate narrows */
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
