/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_rebuild.c - bouncectl(8) rebuild [--dry-run] [--list]: replay every
 * recipient's state from its stored events under the current policy
 * (SoftBounceLimit, SoftBounceWindow and ComplaintSuppress of -c CONFIG,
 * else of the default config unless --db was given, else the defaults),
 * and say what changed: how many recipients moved, grouped by
 * transition ("soft -> suppressed(soft-limit): 3"), and with --list which
 * addresses (so that an operator sees whom a new policy suppresses
 * before it does).
 *
 * Everything happens in one write transaction (store_batch_begin()):
 * the states are listed, store_rebuild() replays them (a savepoint
 * inside the batch), the states are listed again and compared, then the
 * batch commits, or rolls back for --dry-run.  So the comparison sees
 * no event recorded meanwhile, and a concurrent bounced only waits for
 * the write lock (its busy timeout; WAL lets readers go on).  Operator
 * actions are events and are replayed in their place (store_record.c).
 *
 * It must not create a database (there would be nothing to replay): a
 * missing file is refused even with --create.  The states before are
 * kept in memory, one small entry per recipient; nothing else is.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "bouncectl/ctl_json.h"
#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "verdict/state.h"
#include "store/store.h"

/* "suppressed(soft-limit)": state[16] "(" reason[16] ")" and a NUL */
#define LABEL_MAX	40

/* A recipient's state before the replay. */
struct before {
	char		*addr;
	char		 label[LABEL_MAX];
	unsigned	 soft_count;
};

/* One address whose state changed (--list). */
struct change {
	char		*addr;
	char		 from[LABEL_MAX];
	char		 to[LABEL_MAX];
};

/* How many recipients went from one state to another. */
struct transition {
	char		 from[LABEL_MAX];
	char		 to[LABEL_MAX];
	int64_t		 count;
};

struct rebuild {
	struct before	*b;		/* in store_list()'s order */
	size_t		 nb, capb;
	size_t		 next;		/* merge position in b */
	struct transition *t;
	size_t		 nt, capt;
	int64_t		 recipients;	/* listed after the replay */
	int64_t		 changed;	/* state or reason changed */
	int64_t		 recounted;	/* same state, other count */
	bool		 list;		/* --list: keep the changes */
	struct change	*c;		/* in address order */
	size_t		 nc, capc;
	bool		 oom;
};

/* "active", "soft", "suppressed(hard)"; "suppressed" without a reason. */
static void
label_of(const struct store_recipient *r, char *out, size_t outlen)
{
	if (r->reason[0] != '\0' && strcmp(r->state, "suppressed") == 0)
		snprintf(out, outlen, "%s(%s)", r->state, r->reason);
	else
		snprintf(out, outlen, "%s", r->state);
}

static int
before_cb(void *arg, const struct store_recipient *r)
{
	struct rebuild	*rb = arg;
	struct before	*nb;
	size_t		 cap;

	if (rb->nb == rb->capb) {
		cap = rb->capb == 0 ? 1024 : rb->capb * 2;
		if ((nb = reallocarray(rb->b, cap, sizeof(*nb))) == NULL) {
			rb->oom = true;
			return 1;
		}
		rb->b = nb;
		rb->capb = cap;
	}
	if ((rb->b[rb->nb].addr = strdup(r->address)) == NULL) {
		rb->oom = true;
		return 1;
	}
	label_of(r, rb->b[rb->nb].label, sizeof(rb->b[rb->nb].label));
	rb->b[rb->nb].soft_count = r->soft_count;
	rb->nb++;
	return 0;
}

/* Count one recipient that went from -> to. */
static bool
count_transition(struct rebuild *rb, const char *from, const char *to)
{
	struct transition	*nt;
	size_t			 i, cap;

	for (i = 0; i < rb->nt; i++)
		if (strcmp(rb->t[i].from, from) == 0 &&
		    strcmp(rb->t[i].to, to) == 0) {
			rb->t[i].count++;
			return true;
		}
	if (rb->nt == rb->capt) {
		cap = rb->capt == 0 ? 16 : rb->capt * 2;
		if ((nt = reallocarray(rb->t, cap, sizeof(*nt))) == NULL)
			return false;
		rb->t = nt;
		rb->capt = cap;
	}
	snprintf(rb->t[rb->nt].from, sizeof(rb->t[rb->nt].from), "%s", from);
	snprintf(rb->t[rb->nt].to, sizeof(rb->t[rb->nt].to), "%s", to);
	rb->t[rb->nt].count = 1;
	rb->nt++;
	return true;
}

/* Keep addr's change for --list; false when out of memory. */
static bool
keep_change(struct rebuild *rb, const char *addr, const char *from,
    const char *to)
{
	struct change	*nc;
	size_t		 cap;

	if (rb->nc == rb->capc) {
		cap = rb->capc == 0 ? 64 : rb->capc * 2;
		if ((nc = reallocarray(rb->c, cap, sizeof(*nc))) == NULL)
			return false;
		rb->c = nc;
		rb->capc = cap;
	}
	if ((rb->c[rb->nc].addr = strdup(addr)) == NULL)
		return false;
	snprintf(rb->c[rb->nc].from, sizeof(rb->c[rb->nc].from), "%s", from);
	snprintf(rb->c[rb->nc].to, sizeof(rb->c[rb->nc].to), "%s", to);
	rb->nc++;
	return true;
}

/*
 * One recipient after the replay, against the list before: both are in
 * store_list()'s order (address, binary), so a merge finds it.  A
 * recipient absent before (a row the replay made) comes from "none".
 */
static int
after_cb(void *arg, const struct store_recipient *r)
{
	struct rebuild		*rb = arg;
	const struct before	*b = NULL;
	char			 label[LABEL_MAX];
	int			 c = 1;

	rb->recipients++;
	while (rb->next < rb->nb &&
	    (c = strcmp(rb->b[rb->next].addr, r->address)) < 0)
		rb->next++;
	if (rb->next < rb->nb && c == 0)
		b = &rb->b[rb->next++];
	label_of(r, label, sizeof(label));
	if (b != NULL && strcmp(b->label, label) == 0) {
		if (b->soft_count != r->soft_count)
			rb->recounted++;
		return 0;
	}
	rb->changed++;
	if (!count_transition(rb, b != NULL ? b->label : "none", label) ||
	    (rb->list && !keep_change(rb, r->address, b != NULL ? b->label :
	    "none", label))) {
		rb->oom = true;
		return 1;
	}
	return 0;
}

/* Most frequent first, then by name, so that the output is stable. */
static int
transition_cmp(const void *a, const void *b)
{
	const struct transition	*x = a, *y = b;
	int			 c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(x->from, y->from)) != 0)
		return c;
	return strcmp(x->to, y->to);
}

static void
rebuild_free(struct rebuild *rb)
{
	size_t	 i;

	for (i = 0; i < rb->nb; i++)
		free(rb->b[i].addr);
	for (i = 0; i < rb->nc; i++)
		free(rb->c[i].addr);
	free(rb->b);
	free(rb->c);
	free(rb->t);
}

/* SoftBounceWindow as the config would say it: "30d", else seconds. */
static void
window_text(int64_t secs, char *out, size_t outlen)
{
	if (secs > 0 && secs % 86400 == 0)
		snprintf(out, outlen, "%" PRId64 "d", secs / 86400);
	else
		snprintf(out, outlen, "%" PRId64 "s", secs);
}

/* The transitions counted, or the recipients changed: in memory already. */
static void
json_list(JsonBuilder *jb, const struct rebuild *rb, bool changes)
{
	size_t	 i;

	json_builder_begin_array(jb);
	for (i = 0; i < (changes ? rb->nc : rb->nt); i++) {
		json_builder_begin_object(jb);
		if (changes) {
			json_builder_set_member_name(jb, "address");
			ctl_json_add_str(jb, rb->c[i].addr);
		}
		json_builder_set_member_name(jb, "from");
		ctl_json_add_str(jb, changes ? rb->c[i].from : rb->t[i].from);
		json_builder_set_member_name(jb, "to");
		ctl_json_add_str(jb, changes ? rb->c[i].to : rb->t[i].to);
		if (!changes) {
			json_builder_set_member_name(jb, "count");
			json_builder_add_int_value(jb, rb->t[i].count);
		}
		json_builder_end_object(jb);
	}
	json_builder_end_array(jb);
}

static void
print_json(const struct rebuild *rb, const struct state_policy *pol,
    const char *fbtypes, const char *from, bool dry_run)
{
	JsonBuilder	*jb = json_builder_new();

	json_builder_begin_object(jb);
	json_builder_set_member_name(jb, "dry_run");
	json_builder_add_boolean_value(jb, dry_run);
	json_builder_set_member_name(jb, "soft_limit");
	json_builder_add_int_value(jb, pol->soft_limit);
	json_builder_set_member_name(jb, "soft_window");
	json_builder_add_int_value(jb, pol->soft_window);
	json_builder_set_member_name(jb, "complaint_suppress");
	ctl_json_add_str(jb, fbtypes);
	json_builder_set_member_name(jb, "policy_from");
	ctl_json_add_str(jb, from);
	json_builder_set_member_name(jb, "recipients");
	json_builder_add_int_value(jb, rb->recipients);
	json_builder_set_member_name(jb, "changed");
	json_builder_add_int_value(jb, rb->changed);
	json_builder_set_member_name(jb, "soft_count_changed");
	json_builder_add_int_value(jb, rb->recounted);
	json_builder_set_member_name(jb, "transitions");
	json_list(jb, rb, false);
	if (rb->list) {
		json_builder_set_member_name(jb, "addresses");
		json_list(jb, rb, true);
	}
	json_builder_end_object(jb);
	ctl_json_print(stdout, jb);
}

static const struct ctl_col trans_cols[] = {
	{ "from", CTL_COL_STR, true, 0 },
	{ "to", CTL_COL_STR, true, 0 },
	{ "count", CTL_COL_NUM, true, 0 },
};
#define NTRANS	(sizeof(trans_cols) / sizeof(trans_cols[0]))

static const struct ctl_col change_cols[] = {
	{ "address", CTL_COL_STR, true, 0 },
	{ "from", CTL_COL_STR, true, 0 },
	{ "to", CTL_COL_STR, true, 0 },
};
#define NCHANGE	(sizeof(change_cols) / sizeof(change_cols[0]))

/* --list as CSV: address,from,to. */
static bool
print_csv_list(const struct rebuild *rb)
{
	struct ctl_out	 out;
	struct ctl_val	 v[NCHANGE];
	size_t		 i;

	ctl_out_init(&out, stdout, CTL_FMT_CSV, change_cols, NCHANGE, 0);
	for (i = 0; i < rb->nc; i++) {
		memset(v, 0, sizeof(v));
		v[0].s = rb->c[i].addr;
		v[1].s = rb->c[i].from;
		v[2].s = rb->c[i].to;
		ctl_out_row(&out, v);
	}
	return ctl_out_end(&out);
}

/* The transitions as CSV (from,to,count), for a spreadsheet. */
static bool
print_csv(const struct rebuild *rb)
{
	struct ctl_out	 out;
	struct ctl_val	 v[NTRANS];
	size_t		 i;

	if (rb->list)
		return print_csv_list(rb);
	ctl_out_init(&out, stdout, CTL_FMT_CSV, trans_cols, NTRANS, 0);
	for (i = 0; i < rb->nt; i++) {
		memset(v, 0, sizeof(v));
		v[0].s = rb->t[i].from;
		v[1].s = rb->t[i].to;
		v[2].n = rb->t[i].count;
		ctl_out_row(&out, v);
	}
	return ctl_out_end(&out);
}

static void
print_text(const struct rebuild *rb, const struct state_policy *pol,
    const char *fbtypes, const char *from, bool dry_run)
{
	char	 win[32];
	size_t	 i;

	window_text(pol->soft_window, win, sizeof(win));
	printf("%s %" PRId64 " recipient%s%s\n", dry_run ? "replayed" :
	    "rebuilt", rb->recipients, rb->recipients == 1 ? "" : "s",
	    dry_run ? " (dry run)" : "");
	printf("policy: SoftBounceLimit %u, SoftBounceWindow %s, "
	    "ComplaintSuppress %s (from %s)\n", pol->soft_limit, win,
	    fbtypes[0] != '\0' ? fbtypes : "none", from);
	printf("changed state: %" PRId64 "\n", rb->changed);
	for (i = 0; i < rb->nt; i++)
		printf("  %s -> %s: %" PRId64 "\n", rb->t[i].from,
		    rb->t[i].to, rb->t[i].count);
	if (rb->recounted > 0)
		printf("soft count changed, same state: %" PRId64 "\n",
		    rb->recounted);
	if (rb->list && rb->nc > 0) {
		printf("addresses:\n");
		for (i = 0; i < rb->nc; i++)
			printf("  %s: %s -> %s\n", rb->c[i].addr,
			    rb->c[i].from, rb->c[i].to);
	}
	if (dry_run)
		printf("dry run: rolled back, nothing was changed\n");
}

/* List, replay, list again, inside the open batch; false on a failure. */
static bool
replay(struct store *s, const struct state_policy *pol, struct rebuild *rb)
{
	struct store_filter	 all;
	struct ctl_progress	 prog;

	memset(&all, 0, sizeof(all));
	ctl_progress_init(&prog);
	ctl_progress_show(&prog, true, "rebuild: listing the recipients");
	if (store_list(s, &all, before_cb, rb) != BD_OK) {
		ctl_progress_done(&prog);
		ctl_store_fail(s, "rebuild: list");
		return false;
	}
	/* one long call: say what it is doing, on a terminal */
	ctl_progress_show(&prog, true, "rebuild: replaying the events of %zu "
	    "recipients", rb->nb);
	if (!rb->oom && store_rebuild(s, pol) != BD_OK) {
		ctl_progress_done(&prog);
		ctl_store_fail(s, "rebuild");
		return false;
	}
	ctl_progress_show(&prog, true, "rebuild: comparing the states");
	if (!rb->oom && store_list(s, &all, after_cb, rb) != BD_OK) {
		ctl_progress_done(&prog);
		ctl_store_fail(s, "rebuild: list");
		return false;
	}
	ctl_progress_done(&prog);
	if (rb->oom) {
		fprintf(stderr, "bouncectl: rebuild: out of memory\n");
		return false;
	}
	if (rb->nt > 1)	/* qsort() must not be given NULL, even for 0 */
		qsort(rb->t, rb->nt, sizeof(*rb->t), transition_cmp);
	return true;
}

/*
 * ctl_rebuild - bouncectl rebuild [--dry-run]: recompute every
 * recipient's state from its events under the current policy, in one
 * transaction, and print how many changed, by transition
 *
 * Returns 0 (also when nothing changed), or 2 on a bad option, a bad
 * config, a missing database (--create or not) or a database failure
 * (then nothing was changed).
 * Notes: --dry-run computes and prints the same, then rolls back.
 * --list names each address that changed, with its transition.
 * --json: one object (policy, counts, transitions, with --list
 * addresses); --csv: the transitions only, or with --list the addresses
 * (address,from,to).
 */
int
ctl_rebuild(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct state_policy	 pol;
	struct bd_config	*cfg;
	struct rebuild		 rb;
	struct store		*s;
	enum bd_status		 st;
	char			 fbtypes[STATE_FB_TEXT_MAX], from[1024];
	int			 ch, rc;
	bool			 dry_run = false, list = false, ok;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'n')
			dry_run = true;
		else if (ch == 'l')
			list = true;
		else
			goto usage;
	}
	if (optind != argc)
		goto usage;
	if (ctl_config_policy(o, &cfg, &pol) != CTL_EXIT_OK)
		return CTL_EXIT_ERROR;
	/* config_load(NULL) names its configuration "(defaults)" */
	snprintf(from, sizeof(from), "%s", cfg->path != NULL &&
	    cfg->path[0] != '(' ? cfg->path : "the built-in defaults");
	state_complaint_format(pol.complaint_types, fbtypes, sizeof(fbtypes));
	if ((rc = ctl_store_open(o, STORE_NOCREATE, &s)) != CTL_EXIT_OK) {
		config_free(cfg);
		return rc;
	}
	memset(&rb, 0, sizeof(rb));
	rb.list = list;
	/* BEGIN IMMEDIATE: waits up to the busy timeout for bounced */
	if ((st = store_batch_begin(s)) != BD_OK) {
		rc = ctl_store_fail(s, "rebuild");
		if (st == BD_EBUSY)
			fprintf(stderr, "bouncectl: rebuild: the write lock "
			    "stayed taken for DatabaseBusyTimeout; try again "
			    "(nothing was changed)\n");
		store_close(s);
		config_free(cfg);
		return rc;
	}
	ok = replay(s, &pol, &rb);
	if (store_batch_end(s, ok && !dry_run) != BD_OK) {
		ok = false;
		ctl_store_fail(s, "rebuild: commit");
	}
	store_close(s);
	rc = ok ? CTL_EXIT_OK : CTL_EXIT_ERROR;
	if (ok && o->json)
		print_json(&rb, &pol, fbtypes, from, dry_run);
	else if (ok && o->csv) {
		if (!print_csv(&rb)) {
			fprintf(stderr, "bouncectl: rebuild: out of memory\n");
			rc = CTL_EXIT_ERROR;
		}
	} else if (ok)
		print_text(&rb, &pol, fbtypes, from, dry_run);
	rebuild_free(&rb);
	config_free(cfg);
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl rebuild [--dry-run] [--list]\n");
	return CTL_EXIT_ERROR;
}
