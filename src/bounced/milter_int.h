/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * milter_int.h - what the files of the libmilter glue share, and nothing
 * else includes: the per-connection and per-message contexts, the
 * outcome that decide() maps to an sfsistat, and the functions one file
 * of libbdmilter.a calls in another.
 *   milter.c         callbacks, negotiation, contexts, decide()
 *   milter_state.c   shared state: snapshot, store handles, cache, clock;
 *                    the socket and smfi_main()
 *   milter_rcpt.c    SuppressedRecipients at RCPT TO (in front of rcache.c)
 *   milter_bounce.c  end of message of a bounce: analysis, trust,
 *                    recording, the X-Bounce-* header actions and the one
 *                    log line
 *   milter_send.c    outbound mail: its sends kept (RecordSends), its
 *                    sender signed (SignEnvelope); prvs= on bounces
 * Only these files include <libmilter/mfapi.h>.  No SMFICTX is ever stored
 * in a context: each function uses the one its callback was given.
 */
#ifndef BD_MILTER_INT_H
#define BD_MILTER_INT_H

#include <libmilter/mfapi.h>

#include "util/buf.h"
#include "conf/conf.h"
#include "util/event.h"
#include "bounced/rcache.h"
#include "store/store.h"

#define MILTER_QID_MAX		64
#define MILTER_TAG_MAX		4096	/* bytes of X-Bounce-Suppressed */
#define MILTER_FORGED_NAMES	16	/* distinct X-Bounce-* names removed */
#define MILTER_FORGED_MAX	64	/* X-Bounce-* fields removed */
#define MILTER_FORGED_NAME_LEN	64	/* bytes of one such name */
#define MILTER_PARSE_MAX	8	/* bounces parsed at once */
#define MILTER_PARSE_WAIT	20	/* s a bounce waits for its turn */
#define MILTER_SEND_RCPTS	1000	/* recipients of a message kept as sends */
#define MILTER_SEND_QUEUE	50000	/* sends waiting to be written, at most */
#define MILTER_SEND_BATCH	512	/* written at once without waiting more */
#define MILTER_SEND_DELAY_MS	50	/* a send waits at most this, store up */
#define MILTER_ENVID_MAX	100	/* bytes of an ENVID (RFC 3461 4.4) */
#define MILTER_ADDR_MAX		64	/* bytes of a client address */

/* Outbound mail (milter_send.c): what its sends are kept with. */
struct send_ctx {
	bool		 record;	/* RecordSends: keep its sends */
	bool		 sign;		/* SignEnvelope applies to its sender */
	bool		 done;		/* kept (or given up) */
	bool		 full;		/* more than MILTER_SEND_RCPTS */
	char		*sender;	/* without angle brackets */
	char		*envid;		/* ENVID=, xtext-decoded, or NULL */
	char		*msgid;		/* its Message-ID field, or NULL */
	char		*campaign;	/* its CampaignHeader field, or NULL */
	char		**rcpts;	/* normalised, not to local mailboxes */
	size_t		 nrcpts;
	size_t		 cap;
};

/* The X-Bounce-* fields a bounce arrived with (forged or relayed). */
struct forged {
	char		 name[MILTER_FORGED_NAME_LEN];	/* as first seen */
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

/* One message: from MAIL FROM to end of message or abort. */
struct msg_ctx {
	bool		 bounce;	/* treat as a bounce */
	bool		 internal;	/* Postfix's own DSN */
	bool		 by_address;	/* matched BounceAddresses */
	bool		 in_body;
	bool		 nomem;		/* an append failed: msg has a hole */
	unsigned	 nrcpt;
	char		 qid[MILTER_QID_MAX];
	struct buf	 msg;		/* rebuilt header + body, bounded */
	struct buf	 tag;		/* suppressed recipients (tag mode) */
	struct forged	 forged[MILTER_FORGED_NAMES];
	size_t		 nforged;
	unsigned	 forged_total;
	bool		 forged_kept;	/* more than we can remove */
	bool		 forged_done;	/* removal asked for */
	struct send_ctx	 send;		/* ordinary mail: milter_send.c */
	enum prvs_result signature;	/* bounce: its recipients' prvs= tags */
	char		 client_addr[MILTER_ADDR_MAX];	/* {client_addr} */
	bool		 commit_ticket;	/* bounce: milter_commit_coming() */
};

/* What every connection shares (milter_shared()). */
struct milter_handles {
	struct store	*store;		/* recording */
	struct store	*lookup;	/* RCPT TO lookups */
	struct rcache	*rcache;	/* SuppressedRecipients answers */
};

/* One SMTP connection: from negotiation to close. */
struct conn_ctx {
	struct bd_config *conf;		/* snapshot for the whole connection */
	unsigned long	 pflags;	/* negotiated protocol flags */
	unsigned long	 aflags;	/* negotiated actions */
	struct msg_ctx	*mc;
};

/* milter.c */
/* milter_qid - the message's sanitised queue id, or "NOQUEUE" */
const char *milter_qid(const struct msg_ctx *mc);

/* milter_state.c */
/* milter_now - the event clock: time(3) unless milter_set_clock() */
int64_t milter_now(void);
/* milter_shared - the shared handles (borrowed; each may be NULL) */
void milter_shared(struct milter_handles *out);
/* milter_parse_begin - a turn to parse (MILTER_PARSE_MAX at once); false:
 * none within MILTER_PARSE_WAIT s */
bool milter_parse_begin(void);
/* milter_parse_end - give the turn back */
void milter_parse_end(void);

/* milter_commit.c */
/*
 * milter_commit_record - store_record() on st, in one transaction with
 * the other threads' bounces of the moment (group commit); err receives
 * the store's text on failure
 */
enum bd_status milter_commit_record(struct store *st,
    const struct bd_event *evs, size_t n, const struct state_policy *pol,
    int64_t now, size_t *n_new, char *err, size_t errlen, bool *ticket);
/* milter_commit_coming - a bounce on its way: a leader waits for it */
void milter_commit_coming(bool *ticket);
/* milter_commit_gone - it will not come (no-op once recorded) */
void milter_commit_gone(bool *ticket);
/* milter_commit_set_delay - a leader's wait, us (tests); groups so far */
unsigned long milter_commit_set_delay(long us);

/* milter_rcpt.c */
/* milter_rcpt_check - SuppressedRecipients for one RCPT TO of mc */
enum outcome milter_rcpt_check(SMFICTX *ctx, struct conn_ctx *cc,
    struct msg_ctx *mc, const char *rcpt);
/* milter_rcpt_forget - drop cached answers for recipients just recorded */
void milter_rcpt_forget(const struct bd_event *evs, size_t n);

/* milter_bounce.c */
/* milter_note_forged - count an X-Bounce-* field a bounce came with */
void milter_note_forged(struct msg_ctx *mc, const char *name);
/* milter_remove_forged - delete the counted fields (headers mode), once */
void milter_remove_forged(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc);
/* milter_add_header - add name: value (sanitised); a failure is logged */
void milter_add_header(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct msg_ctx *mc, const char *name, const char *value);
/* milter_bounce_eom - analyse, record, act on and log a bounce */
enum outcome milter_bounce_eom(SMFICTX *ctx, struct conn_ctx *cc,
    struct msg_ctx *mc);

/* milter_send.c */
/* milter_send_from - MAIL FROM of ordinary mail: record? sign? ENVID */
void milter_send_from(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc, char **argv);
/* milter_send_client - keep {client_addr} of the message */
void milter_send_client(SMFICTX *ctx, struct msg_ctx *mc);
/* milter_send_rcpt - a recipient: kept as a send, or a bounce's prvs= */
void milter_send_rcpt(SMFICTX *ctx, const struct conn_ctx *cc,
    struct msg_ctx *mc, const char *rcpt);
/* milter_send_wanted - ordinary mail needs its header or its end */
bool milter_send_wanted(const struct msg_ctx *mc);
/* milter_send_header - Message-ID and CampaignHeader of ordinary mail */
void milter_send_header(const struct conn_ctx *cc, struct msg_ctx *mc,
    const char *name, const char *value);
/* milter_send_record - keep the sends; false while the queue id is unknown */
bool milter_send_record(const struct conn_ctx *cc, struct msg_ctx *mc);
/* milter_send_flush - write the queued sends now; true if none is left */
bool milter_send_flush(struct store *st);
/* milter_send_flush_try - the same, or false when another flush has held
 * the writers' lock for MILTER_SEND_FLUSH_WAIT_MS */
#define MILTER_SEND_FLUSH_WAIT_MS	200
bool milter_send_flush_try(struct store *st);
/*
 * milter_send_match_pending - store_send_match() over the sends kept in
 * memory, not yet written
 */
void milter_send_match_pending(const struct store_send_key *k,
    int64_t since, struct store_send_found *out);
/* milter_send_stop - write what is queued, end the writer (milter_fini) */
void milter_send_stop(void);
/* milter_send_sign - smfi_chgfrom() to the prvs= sender (end of message) */
void milter_send_sign(SMFICTX *ctx, const struct conn_ctx *cc,
    const struct msg_ctx *mc);
/* milter_send_free - release the message's send_ctx */
void milter_send_free(struct msg_ctx *mc);

#endif
