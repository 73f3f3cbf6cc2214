/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_fold.h - the fold of a recipient's events into its state, as
 * store_record.c does it live and store_rebuild.c replays it; private
 * to those two files.  Every function expects the handle's lock held.
 */
#ifndef BD_STORE_FOLD_H
#define BD_STORE_FOLD_H

#include "verdict/state.h"
#include "store/store_int.h"

/* The one order of a fold, live and in a replay: date, rank, identity. */
#define FOLD_ORDER	"ORDER BY ts, rank, identity"

/* A recipient's row as the rule needs it, plus the suppressing event. */
struct rstate {
	struct state	 st;
	int64_t		 suppress_event;
	char		 suppress_events[STORE_EVENTS_TEXT_MAX];
	int64_t		 checkpoint_ts;	/* 0: none */
	bool		 exists;
};

/* Addresses to fold again after keys were merged (a small set). */
struct refolds {
	char		**v;
	size_t		 n, cap;
};

/* store_record.c */
enum bd_status store_load_state(struct store *s, const char *addr,
    struct rstate *rs);
void store_fold_apply(struct rstate *rs, const struct state_input *in,
    int64_t ev_id, const struct state_policy *pol);
void store_row_input(const struct store_event_row *e, struct state_input *in);
enum bd_status store_fold_start(struct store *s, const char *addr,
    const struct rstate *old, struct rstate *rs, int64_t *from);
enum bd_status store_refold(struct store *s, const char *addr,
    const struct state_policy *pol, const char *why, int64_t now);

/* store_msgkey.c */
void store_refolds_free(struct refolds *rf);
enum bd_status store_refolds_add(struct store *s, struct refolds *rf,
    const char *addr);
/* the canonical key of a message named by keys[n] */
enum bd_status store_message_key(struct store *s, const char *const *keys,
    size_t n, bool link, int64_t ts, struct refolds *rf, char *out,
    size_t outlen);

#endif
