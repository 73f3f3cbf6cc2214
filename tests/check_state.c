/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_state.c - unit tests of the suppression rule (state.c), a pure
 * fold of events: what an event means, how a sequence of them moves an
 * address, feedback reports (RFC 5965) and the ComplaintSuppress list,
 * and the storage form of the soft streak.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/state.h"
#include "testutil.h"

/* ComplaintSuppress's default: abuse,opt-out */
#define FB_DEFAULT	(STATE_FB_BIT(STATE_FB_ABUSE) | \
			STATE_FB_BIT(STATE_FB_OPT_OUT))

static const struct state_policy pol3 = { .soft_limit = 3, .soft_window = 86400,
	    .complaint_types = FB_DEFAULT };

static const struct {
	enum ev_action	 act;
	const char	*reason;
	bool		 hard;
	enum ev_who	 who;
	const char	*feedback;
	enum state_input_kind want;
	const char	*diag;
} kinds[] = {
	{ EV_ACT_FAILED, "userunknown", true, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_HARD, NULL },
	/* a deferral is provisional, whatever its verdict */
	{ EV_ACT_DELAYED, "userunknown", true, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_DEFERRED, NULL },
	{ EV_ACT_FAILED, "mailboxfull", false, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_SOFT, NULL },
	{ EV_ACT_DELAYED, "mailboxfull", false, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_DEFERRED, NULL },
	{ EV_ACT_FAILED, "blocked", false, EV_WHO_SENDER, NULL,
	    STATE_IN_SENDER, NULL },
	{ EV_ACT_FAILED, "badreputation", true, EV_WHO_SENDER, NULL,
	    STATE_IN_SENDER, NULL },
	{ EV_ACT_FAILED, "authfailure", false, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_SENDER, NULL },
	{ EV_ACT_FAILED, "undefined", false, EV_WHO_SENDER, NULL,
	    STATE_IN_SENDER, NULL },
	{ EV_ACT_DELIVERED, "delivered", false, EV_WHO_NONE, NULL,
	    STATE_IN_DELIVERED, NULL },
	{ EV_ACT_RELAYED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_IGNORE, NULL },
	{ EV_ACT_EXPANDED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_IGNORE, NULL },
	{ EV_ACT_FAILED, "feedback", false, EV_WHO_NONE, "abuse",
	    STATE_IN_FEEDBACK, NULL },
	{ EV_ACT_UNKNOWN, "feedback", false, EV_WHO_NONE, "not-spam",
	    STATE_IN_FEEDBACK, NULL },
	/* a report is never a delivery nor a hard bounce */
	{ EV_ACT_DELIVERED, "feedback", false, EV_WHO_NONE, "opt-out",
	    STATE_IN_FEEDBACK, NULL },
	{ EV_ACT_FAILED, "userunknown", true, EV_WHO_RECIPIENT, "abuse",
	    STATE_IN_FEEDBACK, NULL },
	/* no Feedback-Type: nothing to match a list against */
	{ EV_ACT_FAILED, "feedback", false, EV_WHO_NONE, NULL,
	    STATE_IN_IGNORE, NULL },
	{ EV_ACT_FAILED, "feedback", false, EV_WHO_NONE, "",
	    STATE_IN_IGNORE, NULL },
	{ EV_ACT_FAILED, "vacation", false, EV_WHO_NONE, NULL,
	    STATE_IN_IGNORE, NULL },
	{ EV_ACT_FAILED, NULL, false, EV_WHO_NONE, NULL, STATE_IN_SOFT, NULL },
	/* our own path: never the recipient's */
	{ EV_ACT_DELAYED, "undefined", false, EV_WHO_LOCAL, NULL,
	    STATE_IN_LOCAL, NULL },
	{ EV_ACT_DELAYED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_LOCAL, "delivery temporarily suspended: connect to "
	    "127.0.0.1[127.0.0.1]:10024: Connection refused" },
	{ EV_ACT_FAILED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_LOCAL, "mail transport unavailable" },
	{ EV_ACT_DELAYED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_LOCAL, "Host or domain name not found. Name service "
	    "error for name=ex.test type=MX: Host not found, try again" },
	{ EV_ACT_FAILED, "mailboxfull", false, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_LOCAL, "lost connection with 127.0.0.1[127.0.0.1] "
	    "while sending end of data -- message may be sent more than once" },
	/* a remote MX found dead is not ours; a hop's reply is not ours */
	{ EV_ACT_DELAYED, "undefined", false, EV_WHO_NONE, NULL,
	    STATE_IN_DEFERRED, "delivery temporarily suspended: connect to "
	    "mx.ex.test[192.0.2.1]:25: Connection timed out" },
	{ EV_ACT_FAILED, "userunknown", true, EV_WHO_RECIPIENT, NULL,
	    STATE_IN_HARD, "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 no such "
	    "user (in reply to RCPT TO command)" },
};

START_TEST(test_state_event_kind)
{
	struct bd_event		 ev;
	enum state_input_kind	 got;

	memset(&ev, 0, sizeof(ev));
	ev.action = kinds[_i].act;
	ev.verdict.reason = kinds[_i].reason;
	ev.verdict.hard = kinds[_i].hard;
	ev.verdict.who = kinds[_i].who;
	ev.feedback_type = kinds[_i].feedback;
	ev.diagnostic = kinds[_i].diag;
	got = state_event_kind(&ev, NULL);
	ck_assert_msg(got == kinds[_i].want, "case %d (%s %s): got %s, want %s",
	    _i, ev_action_name(kinds[_i].act),
	    kinds[_i].reason ? kinds[_i].reason : "(null)",
	    state_input_name(got), state_input_name(kinds[_i].want));
}
END_TEST

START_TEST(test_state_msgkey_precedence)
{
	struct bd_event	 ev;
	char		 k[STATE_KEY_MAX];

	memset(&ev, 0, sizeof(ev));
	state_msgkey(&ev, k, sizeof(k));
	ck_assert_msg(k[0] == '\0', "none: got \"%s\", want \"\"", k);
	ev.envelope_id = "ENV1";
	state_msgkey(&ev, k, sizeof(k));
	ck_assert_str_eq(k, "e:ENV1");
	/* the log keeps <>, a DSN parser may not: one key */
	ev.message_id = "<a b@x>";
	state_msgkey(&ev, k, sizeof(k));
	ck_assert_msg(strcmp(k, "m:a?b@x") == 0, "got \"%s\", want "
	    "\"m:a?b@x\"", k);
	ev.message_id = " a b@x";
	state_msgkey(&ev, k, sizeof(k));
	ck_assert_str_eq(k, "m:a?b@x");
	ev.queue_id = "4F1A2B";
	state_msgkey(&ev, k, sizeof(k));
	ck_assert_str_eq(k, "q:4F1A2B");
}
END_TEST

/* A sequence of inputs, recorded in that order, and the state after each. */
struct step {
	enum state_input_kind	 kind;
	int64_t			 when;
	const char		*key;
	enum state_kind		 want;
	enum state_reason	 want_reason;
	size_t			 want_count;
};

static void
run_steps(const struct step *steps, size_t n, const struct state_policy *pol)
{
	struct state		 st;
	struct state_input	 in;
	size_t			 i;

	state_init(&st);
	for (i = 0; i < n; i++) {
		memset(&in, 0, sizeof(in));
		in.kind = steps[i].kind;
		in.when = steps[i].when;
		in.seq = (int64_t)i + 1;	/* as event ids */
		in.msgkey = steps[i].key;
		in.manual = steps[i].kind == STATE_IN_SUPPRESS ||
		    steps[i].kind == STATE_IN_UNSUPPRESS;
		in.reason = STATE_REASON_MANUAL;
		state_apply(&st, &in, pol);
		ck_assert_msg(st.kind == steps[i].want &&
		    st.reason == steps[i].want_reason &&
		    state_soft_count(&st) == steps[i].want_count,
		    "step %zu (%s at %lld): got %s/%s/%zu, want %s/%s/%zu", i,
		    state_input_name(steps[i].kind), (long long)steps[i].when,
		    state_kind_name(st.kind), state_reason_name(st.reason),
		    state_soft_count(&st), state_kind_name(steps[i].want),
		    state_reason_name(steps[i].want_reason),
		    steps[i].want_count);
	}
}

/* Inputs in the fold's order (date; the store sorts them). */
START_TEST(test_state_soft_limit_and_reset)
{
	static const struct step steps[] = {
		{ STATE_IN_SOFT, 100, "q:A", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 200, "q:A", STATE_SOFT, 0, 1 },  /* retry */
		{ STATE_IN_SENDER, 250, "q:S", STATE_SOFT, 0, 1 },
		{ STATE_IN_LOCAL, 260, "q:L", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 300, "q:B", STATE_SOFT, 0, 2 },
		{ STATE_IN_DELIVERED, 400, "q:C", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_SOFT, 500, "q:E", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 600, "q:F", STATE_SOFT, 0, 2 },
		{ STATE_IN_SOFT, 700, "q:G", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
		/* another message delivered: the suppression stays */
		{ STATE_IN_DELIVERED, 800, "q:H", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
		{ STATE_IN_UNSUPPRESS, 900, NULL, STATE_ACTIVE, 0, 0 },
	};

	run_steps(steps, sizeof(steps) / sizeof(steps[0]), &pol3);
}
END_TEST

START_TEST(test_state_window)
{
	static const struct step steps[] = {
		{ STATE_IN_SOFT, 0, "q:A", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 80000, "q:C", STATE_SOFT, 0, 2 },
		/* A is older than the window ending here: it goes */
		{ STATE_IN_SOFT, 90000, "q:B", STATE_SOFT, 0, 2 },
		{ STATE_IN_SOFT, 100000, "q:E", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
	};

	run_steps(steps, sizeof(steps) / sizeof(steps[0]), &pol3);
}
END_TEST

START_TEST(test_state_manual_wins)
{
	static const struct step steps[] = {
		{ STATE_IN_HARD, 100, "q:A", STATE_SUPPRESSED,
		    STATE_REASON_HARD, 0 },
		{ STATE_IN_UNSUPPRESS, 200, NULL, STATE_ACTIVE, 0, 0 },
		/* dated before the operator's action: nothing */
		{ STATE_IN_HARD, 150, "q:B", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_SOFT, 199, "q:C", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_SUPPRESS, 300, NULL, STATE_SUPPRESSED,
		    STATE_REASON_MANUAL, 0 },
		{ STATE_IN_DELIVERED, 400, "q:D", STATE_SUPPRESSED,
		    STATE_REASON_MANUAL, 0 },
		/* an operator's reason is never replaced */
		{ STATE_IN_HARD, 500, "q:E", STATE_SUPPRESSED,
		    STATE_REASON_MANUAL, 0 },
	};

	run_steps(steps, sizeof(steps) / sizeof(steps[0]), &pol3);
}
END_TEST

/*
 * Issue 9, case 1: deferrals are provisional.  Three messages deferred
 * (an MX down), all delivered later: nothing counts.  A message given
 * up after its deferrals (expired) is one soft bounce; its delivery
 * after all (a late line) withdraws it and lifts the suppression it
 * completed.
 */
START_TEST(test_state_deferrals_provisional)
{
	static const struct step steps[] = {
		{ STATE_IN_DEFERRED, 100, "q:A", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DEFERRED, 110, "q:B", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DEFERRED, 120, "q:C", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DEFERRED, 1900, "q:A", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DELIVERED, 1900, "q:A", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DELIVERED, 1901, "q:B", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DELIVERED, 1902, "q:C", STATE_ACTIVE, 0, 0 },
		/* three more, given up one after the other */
		{ STATE_IN_DEFERRED, 2000, "q:D", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DEFERRED, 2001, "q:E", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_DEFERRED, 2002, "q:F", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_SOFT, 3000, "q:D", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 3001, "q:E", STATE_SOFT, 0, 2 },
		{ STATE_IN_SOFT, 3002, "q:F", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
		/* F was delivered after all: what it rested on is gone */
		{ STATE_IN_DELIVERED, 3003, "q:F", STATE_SOFT, 0, 2 },
	};
	struct state		 st;
	struct state_input	 in;
	size_t			 i;

	run_steps(steps, sizeof(steps) / sizeof(steps[0]), &pol3);
	/* pending marks are remembered, and counted apart */
	state_init(&st);
	memset(&in, 0, sizeof(in));
	in.kind = STATE_IN_DEFERRED;
	for (i = 0; i < 3; i++) {
		in.when = 100 + (int64_t)i;
		in.msgkey = i == 0 ? "q:A" : i == 1 ? "q:B" : "q:A";
		state_apply(&st, &in, &pol3);
	}
	ck_assert_msg(state_pending_count(&st) == 2 &&
	    state_soft_count(&st) == 0, "pending/soft: got %zu/%zu, want 2/0",
	    state_pending_count(&st), state_soft_count(&st));
	/* a deferral without a key can never be withdrawn: not kept */
	in.msgkey = NULL;
	in.when = 200;
	state_apply(&st, &in, &pol3);
	ck_assert_uint_eq(state_pending_count(&st), 2);
}
END_TEST

/* The trust hook: an input the trust policy held moves nothing. */
START_TEST(test_state_untrusted_changes_nothing)
{
	struct state		 st, before;
	struct state_input	 in;

	memset(&in, 0, sizeof(in));
	in.kind = STATE_IN_HARD;
	in.when = 100;
	in.msgkey = "m:x@y";
	in.untrusted = true;
	state_init(&st);
	before = st;
	ck_assert(!state_apply(&st, &in, &pol3));
	ck_assert_msg(state_equal(&st, &before, true), "untrusted: the state "
	    "changed (%s)", state_kind_name(st.kind));
	in.untrusted = false;
	ck_assert(state_apply(&st, &in, &pol3));
	ck_assert_int_eq(st.kind, STATE_SUPPRESSED);
}
END_TEST

/* The keys of one message: a total order, Message-ID first. */
START_TEST(test_state_key_better)
{
	ck_assert(state_key_better("m:z@x", "q:AAAAA"));
	ck_assert(state_key_better("e:E1", "q:AAAAA"));
	ck_assert(state_key_better("m:a@x", "m:b@x"));
	ck_assert(!state_key_better("q:B", "q:A"));
	ck_assert(!state_key_better("", "q:A"));
	ck_assert(state_key_better("q:A", ""));
	ck_assert(state_input_rank(STATE_IN_SOFT) <
	    state_input_rank(STATE_IN_DELIVERED));
	ck_assert(state_input_rank(STATE_IN_DELIVERED) <
	    state_input_rank(STATE_IN_UNSUPPRESS));
}
END_TEST

START_TEST(test_state_limit_zero_never_suppresses)
{
	static const struct state_policy off = { .soft_limit = 0, .soft_window = 0,
	    .complaint_types = 0 };
	static const struct step steps[] = {
		{ STATE_IN_SOFT, 1, "q:A", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 2, "q:B", STATE_SOFT, 0, 2 },
		{ STATE_IN_SOFT, 3, "q:C", STATE_SOFT, 0, 3 },
		{ STATE_IN_SOFT, 4, "q:D", STATE_SOFT, 0, 4 },
		{ STATE_IN_HARD, 5, "q:E", STATE_SUPPRESSED,
		    STATE_REASON_HARD, 4 },
	};

	run_steps(steps, sizeof(steps) / sizeof(steps[0]), &off);
}
END_TEST

/* One feedback report under a policy: does it suppress? */
static const struct complaint_case {
	const char	*type;		/* the event's Feedback-Type */
	unsigned	 types;		/* policy's complaint_types */
	bool		 nopol;		/* no policy at all */
	bool		 want;		/* suppressed (complaint) */
} complaint_cases[] = {
	{ "abuse", FB_DEFAULT, false, true },
	{ "opt-out", FB_DEFAULT, false, true },
	{ "Abuse", FB_DEFAULT, false, true },	/* types are case-blind */
	{ " abuse ", FB_DEFAULT, false, true },
	{ "not-spam", FB_DEFAULT, false, false },
	/* not-spam never suppresses, even when forced into the mask */
	{ "not-spam", STATE_FB_MASK, false, false },
	{ "fraud", FB_DEFAULT, false, false },	/* not in the list */
	{ "virus", FB_DEFAULT, false, false },
	{ "fraud", STATE_FB_BIT(STATE_FB_FRAUD), false, true },
	{ "auth-failure", STATE_FB_MASK, false, true },
	{ "x-unregistered", STATE_FB_MASK, false, false },
	{ "abuse-ish", STATE_FB_MASK, false, false },
	{ NULL, STATE_FB_MASK, false, false },
	{ "abuse", 0, false, false },		/* the key empty */
	{ "abuse", FB_DEFAULT, true, false },
};

START_TEST(test_state_complaint_by_type)
{
	const struct complaint_case	*c = &complaint_cases[_i];
	struct state_policy		 pol = { .soft_limit = 3, .soft_window = 86400,
	    .complaint_types = 0 };
	struct state			 st;
	struct state_input		 in;
	bool				 changed;

	pol.complaint_types = c->types;
	state_init(&st);
	memset(&in, 0, sizeof(in));
	in.kind = STATE_IN_FEEDBACK;
	in.when = 1000;
	in.seq = 1;
	in.feedback_type = c->type;
	changed = state_apply(&st, &in, c->nopol ? NULL : &pol);
	ck_assert_msg(changed == c->want, "case %d (%s): changed got %d, "
	    "want %d", _i, c->type ? c->type : "(null)", changed, c->want);
	ck_assert_msg(st.kind == (c->want ? STATE_SUPPRESSED : STATE_ACTIVE) &&
	    st.reason == (c->want ? STATE_REASON_COMPLAINT : STATE_REASON_NONE),
	    "case %d (%s): got %s/%s, want %s", _i, c->type ? c->type :
	    "(null)", state_kind_name(st.kind), state_reason_name(st.reason),
	    c->want ? "suppressed/complaint" : "active/");
	ck_assert_msg(st.since == (c->want ? 1000 : 0), "case %d: since got "
	    "%lld", _i, (long long)st.since);
	/* never a bounce */
	ck_assert_msg(st.first_bounce == 0 && st.last_bounce == 0 &&
	    st.nmarks == 0, "case %d: got bounce dates %lld/%lld, count %zu, "
	    "want 0/0/0", _i, (long long)st.first_bounce,
	    (long long)st.last_bounce, st.nmarks);
}
END_TEST

/* A sequence with feedback reports: the operator always wins. */
struct cstep {
	enum state_input_kind	 kind;
	int64_t			 when;
	const char		*arg;	/* FEEDBACK: type; else msgkey */
	enum state_kind		 want;
	enum state_reason	 want_reason;
	size_t			 want_count;
};

static void
run_csteps(const struct cstep *steps, size_t n, struct state *st)
{
	struct state_input	 in;
	size_t			 i;

	state_init(st);
	for (i = 0; i < n; i++) {
		memset(&in, 0, sizeof(in));
		in.kind = steps[i].kind;
		in.when = steps[i].when;
		in.seq = (int64_t)i + 1;
		if (in.kind == STATE_IN_FEEDBACK)
			in.feedback_type = steps[i].arg;
		else
			in.msgkey = steps[i].arg;
		in.manual = in.kind == STATE_IN_SUPPRESS ||
		    in.kind == STATE_IN_UNSUPPRESS;
		in.reason = STATE_REASON_MANUAL;
		state_apply(st, &in, &pol3);
		ck_assert_msg(st->kind == steps[i].want &&
		    st->reason == steps[i].want_reason &&
		    state_soft_count(st) == steps[i].want_count,
		    "step %zu (%s %s at %lld): got %s/%s/%zu, want %s/%s/%zu",
		    i, state_input_name(steps[i].kind), steps[i].arg ?
		    steps[i].arg : "", (long long)steps[i].when,
		    state_kind_name(st->kind), state_reason_name(st->reason),
		    state_soft_count(st), state_kind_name(steps[i].want),
		    state_reason_name(steps[i].want_reason),
		    steps[i].want_count);
	}
}

START_TEST(test_state_complaint_manual_wins)
{
	static const struct cstep steps[] = {
		{ STATE_IN_SOFT, 50, "q:A", STATE_SOFT, 0, 1 },
		/* not in the list: the streak is untouched */
		{ STATE_IN_FEEDBACK, 60, "not-spam", STATE_SOFT, 0, 1 },
		{ STATE_IN_FEEDBACK, 70, "fraud", STATE_SOFT, 0, 1 },
		{ STATE_IN_FEEDBACK, 100, "abuse", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 1 },
		/* a delivery does not lift it; a later hard keeps the reason */
		{ STATE_IN_DELIVERED, 110, "q:B", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 1 },
		{ STATE_IN_HARD, 120, "q:C", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 1 },
		{ STATE_IN_UNSUPPRESS, 200, NULL, STATE_ACTIVE, 0, 0 },
		/* dated before or at the operator's action: nothing */
		{ STATE_IN_FEEDBACK, 150, "abuse", STATE_ACTIVE, 0, 0 },
		{ STATE_IN_FEEDBACK, 200, "opt-out", STATE_ACTIVE, 0, 0 },
		/* a later complaint suppresses again */
		{ STATE_IN_FEEDBACK, 300, "opt-out", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 0 },
		{ STATE_IN_UNSUPPRESS, 400, NULL, STATE_ACTIVE, 0, 0 },
		{ STATE_IN_SUPPRESS, 500, NULL, STATE_SUPPRESSED,
		    STATE_REASON_MANUAL, 0 },
		/* already suppressed by the operator: the reason stays */
		{ STATE_IN_FEEDBACK, 600, "abuse", STATE_SUPPRESSED,
		    STATE_REASON_MANUAL, 0 },
	};
	struct state	 st;

	run_csteps(steps, sizeof(steps) / sizeof(steps[0]), &st);
	ck_assert_msg(st.since == 500, "since: got %lld, want 500",
	    (long long)st.since);
}
END_TEST

/* Reports are no bounces; a complaint upgrades a soft-limit suppression. */
START_TEST(test_state_complaint_not_a_bounce)
{
	static const struct cstep steps[] = {
		{ STATE_IN_SOFT, 100, "q:A", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 200, "q:B", STATE_SOFT, 0, 2 },
		{ STATE_IN_FEEDBACK, 300, "virus", STATE_SOFT, 0, 2 },
		{ STATE_IN_FEEDBACK, 310, "other", STATE_SOFT, 0, 2 },
		/* the third soft message is the limit, reports counted none */
		{ STATE_IN_SOFT, 400, "q:C", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
		/* a complaint is stronger than the soft limit */
		{ STATE_IN_FEEDBACK, 500, "abuse", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 3 },
	};
	struct state	 st;

	run_csteps(steps, sizeof(steps) / sizeof(steps[0]), &st);
	ck_assert_msg(st.first_bounce == 100 && st.last_bounce == 400,
	    "bounce dates: got %lld..%lld, want 100..400",
	    (long long)st.first_bounce, (long long)st.last_bounce);
	ck_assert_msg(st.since == 500, "since: got %lld, want 500",
	    (long long)st.since);
}
END_TEST

/* Issue 9, case 7: the stronger reason wins. */
START_TEST(test_state_stronger_reason_wins)
{
	static const struct cstep steps[] = {
		{ STATE_IN_SOFT, 100, "q:A", STATE_SOFT, 0, 1 },
		{ STATE_IN_SOFT, 200, "q:B", STATE_SOFT, 0, 2 },
		{ STATE_IN_SOFT, 300, "q:C", STATE_SUPPRESSED,
		    STATE_REASON_SOFT_LIMIT, 3 },
		{ STATE_IN_HARD, 400, "q:D", STATE_SUPPRESSED,
		    STATE_REASON_HARD, 3 },
		/* a soft one after a hard one: hard stays */
		{ STATE_IN_SOFT, 450, "q:E", STATE_SUPPRESSED,
		    STATE_REASON_HARD, 4 },
		{ STATE_IN_FEEDBACK, 500, "abuse", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 4 },
		{ STATE_IN_HARD, 600, "q:F", STATE_SUPPRESSED,
		    STATE_REASON_COMPLAINT, 4 },
	};
	struct state	 st;

	run_csteps(steps, sizeof(steps) / sizeof(steps[0]), &st);
	ck_assert_msg(st.since == 500, "since: got %lld, want 500",
	    (long long)st.since);
	ck_assert(state_reason_rank(STATE_REASON_SOFT_LIMIT) <
	    state_reason_rank(STATE_REASON_HARD));
	ck_assert(state_reason_rank(STATE_REASON_HARD) <
	    state_reason_rank(STATE_REASON_COMPLAINT));
	ck_assert(state_reason_rank(STATE_REASON_COMPLAINT) <
	    state_reason_rank(STATE_REASON_MANUAL));
}
END_TEST

static const struct clist_case {
	const char	*list;
	bool		 ok;
	unsigned	 want;		/* mask when ok */
	const char	*why;		/* substring of why when not */
} clist_cases[] = {
	{ "abuse,opt-out", true, FB_DEFAULT, NULL },
	{ " Opt-Out ,\tABUSE ", true, FB_DEFAULT, NULL },
	{ "abuse,abuse", true, STATE_FB_BIT(STATE_FB_ABUSE), NULL },
	{ "", true, 0, NULL },
	{ " \t", true, 0, NULL },
	{ "abuse,auth-failure,fraud,opt-out,other,virus", true,
	    STATE_FB_MASK & ~STATE_FB_BIT(STATE_FB_NOT_SPAM), NULL },
	{ "not-spam", false, 0, "not-spam" },
	{ "abuse,not-spam", false, 0, "never suppresses" },
	{ "spam", false, 0, "\"spam\" is not a Feedback-Type" },
	{ "abuse opt-out", false, 0, "\"abuse opt-out\" is not" },
	{ "abuse,,virus", false, 0, "empty item" },
	{ "abuse,", false, 0, "empty item" },
	{ ",abuse", false, 0, "empty item" },
	{ "abuse;virus", false, 0, "is not a Feedback-Type" },
};

START_TEST(test_state_complaint_parse)
{
	const struct clist_case	*c = &clist_cases[_i];
	unsigned		 mask = 12345;
	char			 why[256] = "", text[STATE_FB_TEXT_MAX];
	unsigned		 back;
	bool			 ok;

	ok = state_complaint_parse(c->list, &mask, why, sizeof(why));
	ck_assert_msg(ok == c->ok, "\"%s\": got %s (%s), want %s", c->list,
	    ok ? "ok" : "refused", why, c->ok ? "ok" : "refused");
	if (!ok) {
		ck_assert_msg(mask == 0, "\"%s\": mask got %u, want 0",
		    c->list, mask);
		ck_assert_msg(strstr(why, c->why) != NULL, "\"%s\": got "
		    "\"%s\", want \"%s\" in it", c->list, why, c->why);
		return;
	}
	ck_assert_msg(mask == c->want, "\"%s\": mask got 0x%x, want 0x%x",
	    c->list, mask, c->want);
	/* the canonical text parses back to the same mask */
	state_complaint_format(mask, text, sizeof(text));
	ck_assert_msg(state_complaint_parse(text, &back, why, sizeof(why)) &&
	    back == mask, "\"%s\" -> \"%s\": got 0x%x, want 0x%x", c->list,
	    text, back, mask);
}
END_TEST

START_TEST(test_state_complaint_format)
{
	char	 text[STATE_FB_TEXT_MAX];
	int	 i;
	enum state_feedback t;

	state_complaint_format(FB_DEFAULT, text, sizeof(text));
	ck_assert_str_eq(text, "abuse,opt-out");
	state_complaint_format(0, text, sizeof(text));
	ck_assert_str_eq(text, "");
	state_complaint_format(STATE_FB_MASK, text, sizeof(text));
	ck_assert_str_eq(text,
	    "abuse,auth-failure,fraud,not-spam,opt-out,other,virus");
	/* too small: whole names only */
	state_complaint_format(FB_DEFAULT, text, 8);
	ck_assert_str_eq(text, "abuse");
	for (i = 0; i < STATE_FB_N; i++) {
		const char *n = state_feedback_name((enum state_feedback)i);

		ck_assert(state_feedback_parse(n, strlen(n), &t));
		ck_assert_int_eq(t, i);
	}
	ck_assert_str_eq(state_feedback_name(STATE_FB_N), "");
	ck_assert(!state_feedback_parse("abuse", 4, &t));
}
END_TEST

START_TEST(test_state_marks_roundtrip)
{
	struct state	 a, b;
	char		 text[STATE_MARKS_TEXT_MAX];
	size_t		 i;

	state_init(&a);
	for (i = 0; i < STATE_SOFT_MARKS; i++) {
		a.marks[i].when = (int64_t)i * 1000 - 5;
		memset(a.marks[i].key, 'k', STATE_KEY_MAX - 1);
		a.marks[i].key[STATE_KEY_MAX - 1] = '\0';
		a.marks[i].key[0] = (char)('A' + (int)(i % 26));
	}
	a.nmarks = STATE_SOFT_MARKS;
	state_marks_encode(&a, text, sizeof(text));
	state_init(&b);
	state_marks_decode(&b, text);
	ck_assert_msg(b.nmarks == a.nmarks, "count: got %zu, want %zu",
	    b.nmarks, a.nmarks);
	for (i = 0; i < b.nmarks; i++) {
		ck_assert_msg(b.marks[i].when == a.marks[i].when,
		    "when %zu: got %lld, want %lld", i,
		    (long long)b.marks[i].when, (long long)a.marks[i].when);
		ck_assert_str_eq(b.marks[i].key, a.marks[i].key);
	}
	/* the whole state, as a checkpoint */
	{
		static char	 full[STATE_TEXT_MAX];

		a.kind = STATE_SUPPRESSED;
		a.reason = STATE_REASON_SOFT_LIMIT;
		a.since = 77;
		a.newest = 31000;
		a.marks[3].kind = STATE_MARK_PENDING;
		a.marks[4].ev = 991;
		state_encode(&a, full, sizeof(full));
		ck_assert(state_decode(&b, full));
		ck_assert_msg(state_equal(&a, &b, true), "decode(encode()) "
		    "differs");
		ck_assert(!state_decode(&b, "garbage"));
	}
	/* Garbage is skipped, never trusted. */
	state_marks_decode(&b, "x y\n12\n\t\n14 ok\n15 two words\n16 \n");
	ck_assert_msg(b.nmarks == 1, "garbage: got %zu marks, want 1",
	    b.nmarks);
	ck_assert_str_eq(b.marks[0].key, "ok");
	state_marks_decode(&b, NULL);
	ck_assert_uint_eq(b.nmarks, 0);
}
END_TEST

START_TEST(test_state_names_roundtrip)
{
	enum state_kind		 k;
	enum state_reason	 r;
	int			 i;

	for (i = STATE_ACTIVE; i <= STATE_SUPPRESSED; i++) {
		ck_assert(state_kind_parse(state_kind_name(i), &k));
		ck_assert_int_eq(k, i);
	}
	for (i = STATE_REASON_NONE; i <= STATE_REASON_IMPORTED; i++) {
		ck_assert(state_reason_parse(state_reason_name(i), &r));
		ck_assert_int_eq(r, i);
	}
	ck_assert_str_eq(state_input_name(STATE_IN_FEEDBACK), "feedback");
	ck_assert_str_eq(state_reason_name(STATE_REASON_COMPLAINT),
	    "complaint");
	ck_assert(!state_kind_parse("bogus", &k));
	ck_assert(!state_reason_parse("bogus", &r));
}
END_TEST

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("rule");

	TESTUTIL_LOOP(tc, test_state_event_kind, kinds);
	tcase_add_test(tc, test_state_msgkey_precedence);
	tcase_add_test(tc, test_state_soft_limit_and_reset);
	tcase_add_test(tc, test_state_window);
	tcase_add_test(tc, test_state_manual_wins);
	tcase_add_test(tc, test_state_deferrals_provisional);
	tcase_add_test(tc, test_state_stronger_reason_wins);
	tcase_add_test(tc, test_state_untrusted_changes_nothing);
	tcase_add_test(tc, test_state_key_better);
	tcase_add_test(tc, test_state_limit_zero_never_suppresses);
	TESTUTIL_LOOP(tc, test_state_complaint_by_type, complaint_cases);
	tcase_add_test(tc, test_state_complaint_manual_wins);
	tcase_add_test(tc, test_state_complaint_not_a_bounce);
	TESTUTIL_LOOP(tc, test_state_complaint_parse, clist_cases);
	tcase_add_test(tc, test_state_complaint_format);
	tcase_add_test(tc, test_state_marks_roundtrip);
	tcase_add_test(tc, test_state_names_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(state_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
