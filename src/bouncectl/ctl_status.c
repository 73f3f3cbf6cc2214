/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_status.c - bouncectl(8) subcommands that show recipients and their
 * events: status (one block per address, with the events that led to a
 * suppression), list (recipients by state, reason, domain, date), export
 * (every recipient, in the form import reads back) and history (an
 * address's events, oldest first).
 *
 * All of them open the store read-only, so they work while bounced
 * writes (WAL), and never create a database.  Output goes through
 * ctl_out.c (table, JSON, CSV); everything printed came from the
 * network once and is made safe there.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "verdict/state.h"
#include "store/store.h"

/* A recipient's columns: status (JSON, CSV), list, export. */
static const struct ctl_col rcpt_cols[] = {
	{ "address", CTL_COL_STR, true, 0 },
	{ "state", CTL_COL_STR, true, 0 },
	{ "reason", CTL_COL_STR, true, 0 },
	{ "soft_count", CTL_COL_NUM, true, 0 },
	{ "suppressed_since", CTL_COL_TIME, true, 0 },
	{ "first_bounce", CTL_COL_TIME, false, 0 },
	{ "last_bounce", CTL_COL_TIME, true, 0 },
	{ "last_status", CTL_COL_STR, true, 0 },
	{ "last_reason", CTL_COL_STR, true, 0 },
	{ "last_diagnostic", CTL_COL_STR, false, 0 },
	{ "manual_by", CTL_COL_STR, false, 0 },
	{ "manual_why", CTL_COL_STR, false, 0 },
	{ "manual_at", CTL_COL_TIME, false, 0 },
	{ "suppress_events", CTL_COL_STR, false, 0 },
	{ "pending_count", CTL_COL_NUM, false, 0 },
	{ "display", CTL_COL_STR, false, 0 },
};
#define NRCPT	(sizeof(rcpt_cols) / sizeof(rcpt_cols[0]))

/* The events that led to a suppression, in status's block. */
static const struct ctl_col led_cols[] = {
	{ "when", CTL_COL_TIME, true, 0 },
	{ "status", CTL_COL_STR, true, 0 },
	{ "reason", CTL_COL_STR, true, 0 },
	{ "source", CTL_COL_STR, true, 0 },
	{ "diagnostic", CTL_COL_STR, true, CTL_DIAG_W },
};
#define NLED	(sizeof(led_cols) / sizeof(led_cols[0]))

static void
recipient_vals(const struct store_recipient *r, struct ctl_val *v)
{
	memset(v, 0, sizeof(*v) * NRCPT);
	v[0].s = r->address;
	v[1].s = r->state;
	v[2].s = r->reason;
	v[3].n = r->soft_count;
	v[4].n = r->suppressed_since;
	v[5].n = r->first_bounce;
	v[6].n = r->last_bounce;
	v[7].s = r->last_status;
	v[8].s = r->last_reason;
	v[9].s = r->last_diagnostic;
	v[10].s = r->manual_by;
	v[11].s = r->manual_why;
	v[12].n = r->manual_at;
	v[13].s = r->suppress_events;
	v[14].n = r->pending_count;
	v[15].s = r->display;
}

static int
led_cb(void *arg, const struct store_event_row *e)
{
	struct ctl_val	 v[NLED];

	memset(v, 0, sizeof(v));
	v[0].n = e->when;
	v[1].s = e->status;
	v[2].s = e->reason;
	v[3].s = e->source;
	v[4].s = e->diagnostic;
	ctl_out_row(arg, v);
	return 0;
}

/* "  led by:" and one line per event (date, status, reason, source, text). */
static void
status_led_by(struct store *s, const struct store_recipient *r)
{
	struct ctl_out	 out;
	const char	*p;
	size_t		 named = 1;

	for (p = r->suppress_events; *p != '\0'; p++)
		if (*p == ',')
			named++;
	ctl_out_init(&out, stdout, CTL_FMT_TABLE, led_cols, NLED,
	    CTL_OUT_NOHEAD);
	out.margin[0] = "  led by:       ";
	out.margin[1] = "                ";
	if (store_led_by(s, r->address, led_cb, &out) != BD_OK) {
		ctl_out_end(&out);
		printf("  led by:       events %s (%s)\n", r->suppress_events,
		    store_errmsg(s));
		return;
	}
	ctl_out_end(&out);
	if (out.nrows < named)
		printf("%s%zu of %zu event%s no longer kept (pruned)\n",
		    out.margin[out.nrows > 0], named - out.nrows, named,
		    named == 1 ? "" : "s");
}

/* The human form of status: one block per address. */
static void
status_block(struct store *s, const struct store_recipient *r, bool known)
{
	char	 t1[64], t2[64], line[512];
	char	*diag;

	printf("%s\n", r->address);
	if (!known) {
		printf("  state:        active (never seen)\n");
		return;
	}
	ctl_out_time(r->suppressed_since, t1, sizeof(t1));
	printf("  state:        %s%s%s%s%s%s\n", r->state,
	    r->reason[0] ? " (" : "", r->reason, r->reason[0] ? ")" : "",
	    t1[0] ? " since " : "", t1);
	if (r->display[0] != '\0' && strcmp(r->display, r->address) != 0)
		printf("  received as:  %s\n", r->display);
	printf("  soft count:   %u\n", r->soft_count);
	if (r->pending_count > 0)
		printf("  pending:      %u message%s deferred, not counted "
		    "until given up\n", r->pending_count,
		    r->pending_count == 1 ? "" : "s");
	ctl_out_time(r->first_bounce, t1, sizeof(t1));
	ctl_out_time(r->last_bounce, t2, sizeof(t2));
	printf("  first bounce: %s\n  last bounce:  %s\n", t1[0] ? t1 : "-",
	    t2[0] ? t2 : "-");
	printf("  last status:  %s%s%s%s\n", r->last_status[0] ?
	    r->last_status : "-", r->last_reason[0] ? " (" : "",
	    r->last_reason, r->last_reason[0] ? ")" : "");
	if ((diag = ctl_out_cell(r->last_diagnostic[0] ? r->last_diagnostic :
	    "-", 0)) != NULL) {
		printf("  diagnostic:   %s\n", diag);
		free(diag);
	}
	if (r->suppress_events[0] != '\0' &&
	    strcmp(r->state, "suppressed") == 0)
		status_led_by(s, r);
	if (r->manual_at > 0) {
		ctl_out_time(r->manual_at, t1, sizeof(t1));
		snprintf(line, sizeof(line), "%s by %s: %s", t1,
		    r->manual_by[0] ? r->manual_by : "-",
		    r->manual_why[0] ? r->manual_why : "-");
		/* the note may come from an imported file: made safe */
		if ((diag = ctl_out_cell(line, 0)) != NULL) {
			printf("  manual:       %s\n", diag);
			free(diag);
		}
	}
}

/*
 * One address of status: *r filled (an address never seen is active);
 * 1 when it is suppressed, 0 when not, -1 after a database failure
 * (message on stderr).  arg must be an address (checked by the caller).
 */
static int
status_one(struct store *s, const char *arg, struct store_recipient *r,
    bool *known)
{
	enum bd_status	 st;

	st = store_lookup(s, arg, r);
	*known = st == BD_OK;
	if (st == BD_ENOTFOUND) {
		/*
		 * Every field cleared: in a batch, r still holds the
		 * previous answer (its display form and pending count
		 * were once carried over to an unknown address).
		 */
		memset(r, 0, sizeof(*r));
		addr_normalize(arg, r->address, sizeof(r->address));
		snprintf(r->state, sizeof(r->state), "active");
	} else if (st != BD_OK) {
		ctl_store_fail(s, arg);
		return -1;
	}
	return strcmp(r->state, "suppressed") == 0;
}

/*
 * Lookups answered from one read snapshot: a snapshot per lookup costs
 * more than the lookup; a long one holds back bounced's WAL checkpoints
 * (4096 lookups last about 20 ms).
 */
#define STATUS_SNAPSHOT	4096

/* A status run: the store, the output, what was seen. */
struct status_run {
	struct store		*s;
	struct store_recipient	*r;
	struct ctl_out		 out;
	bool			 blocks;	/* the human form of few addresses */
	size_t			 n;		/* addresses answered */
	bool			 suppressed;	/* one of them is */
	bool			 bad;		/* one was not an address */
	bool			 failed;	/* the database failed */
};

/*
 * Answer one address of the command line or of a file (where is
 * "FILE:LINE" for a file, NULL for an argument).
 */
static void
status_answer(struct status_run *sr, const char *arg, const char *where)
{
	struct ctl_val	 v[NRCPT];
	char		 norm[ADDR_MAX + 1];
	bool		 known = false;

	if (!addr_normalize(arg, norm, sizeof(norm))) {
		fprintf(stderr, "bouncectl: %s%snot an address: \"%.80s\"\n",
		    where != NULL ? where : "", where != NULL ? ": " : "", arg);
		sr->bad = true;
		if (sr->blocks)
			return;
		/* one answer per line, so that answers and input pair up */
		memset(v, 0, sizeof(v));
		v[0].s = arg;
		v[1].s = "invalid";
		ctl_out_row(&sr->out, v);
		sr->n++;
		return;
	}
	/* one read snapshot per STATUS_SNAPSHOT lookups, not one each */
	if (sr->n % STATUS_SNAPSHOT == 0) {
		(void)store_read_end(sr->s);
		(void)store_read_begin(sr->s);
	}
	switch (status_one(sr->s, norm, sr->r, &known)) {
	case -1:
		sr->failed = true;
		return;
	case 1:
		sr->suppressed = true;
		break;
	}
	if (sr->blocks) {
		if (sr->n > 0)
			putchar('\n');
		status_block(sr->s, sr->r, known);
	} else {
		recipient_vals(sr->r, v);
		ctl_out_row(&sr->out, v);
	}
	sr->n++;
}

/*
 * The addresses of FILE ("-": standard input), one a line; blank lines
 * and '#' comments skipped.  false on a read failure.
 */
static bool
status_file(struct status_run *sr, const char *path)
{
	FILE		*fp;
	char		*line = NULL, *p, where[PATH_MAX + 32];
	const char	*name = strcmp(path, "-") == 0 ? "stdin" : path;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	bool		 ok = true;

	if ((fp = ctl_open_input(path)) == NULL)
		return false;
	while (!sr->failed && (n = ctl_read_line(fp, &line, &cap)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu", name, lineno);
		if (n == -2) {
			fprintf(stderr, "bouncectl: %s: line too long or "
			    "binary\n", where);
			sr->bad = true;
			continue;
		}
		p = ctl_trim(line);
		if (*p != '\0' && *p != '#')
			status_answer(sr, p, where);
	}
	if (ferror(fp)) {
		fprintf(stderr, "bouncectl: %s: %s\n", name, strerror(errno));
		ok = false;
	}
	free(line);
	ctl_close_input(fp);
	return ok;
}

/*
 * ctl_status - bouncectl status [-f FILE] [ADDRESS|-]...
 *
 * Addresses as arguments, in FILE (-f, repeatable) or on standard input
 * ("-"), one a line, all answered by one process.  A few arguments are
 * shown as blocks (with the events behind a suppression); addresses
 * read from a file, --json (JSON Lines) and --csv give one row per
 * address, in the order given, "invalid" for a line that is not an
 * address.
 * Returns 0 when no address is suppressed, 1 when one is, 2 on an error
 * (a line that is not an address, a file that cannot be read, a
 * database failure), whatever else was answered.
 */
int
ctl_status(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "file",	required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_run	 sr;
	const char		*files[64];
	size_t			 nfiles = 0, k;
	int			 i, ch, rc;
	bool			 stdin_too = false, ok = true;

	while ((ch = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		if (ch != 'f' || nfiles == sizeof(files) / sizeof(files[0]))
			goto usage;
		files[nfiles++] = optarg;
	}
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			stdin_too = true;
	if (optind == argc && nfiles == 0)
		goto usage;
	memset(&sr, 0, sizeof(sr));
	if ((rc = ctl_store_open(o, STORE_RDONLY, &sr.s)) != CTL_EXIT_OK)
		return rc;
	if ((sr.r = malloc(sizeof(*sr.r))) == NULL) {
		store_close(sr.s);
		fprintf(stderr, "bouncectl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	sr.blocks = ctl_out_fmt(o) == CTL_FMT_TABLE && nfiles == 0 &&
	    !stdin_too;
	ctl_out_init(&sr.out, stdout, ctl_out_fmt(o), rcpt_cols, NRCPT,
	    CTL_OUT_JSONL);
	for (k = 0; k < nfiles && !sr.failed; k++)
		ok = status_file(&sr, files[k]) && ok;
	for (i = optind; i < argc && !sr.failed; i++) {
		if (strcmp(argv[i], "-") == 0)
			ok = status_file(&sr, "-") && ok;
		else
			status_answer(&sr, argv[i], NULL);
	}
	if (!sr.blocks && !ctl_out_end(&sr.out)) {
		fprintf(stderr, "bouncectl: out of memory\n");
		ok = false;
	}
	free(sr.r);
	(void)store_read_end(sr.s);
	store_close(sr.s);
	if (!ok || sr.bad || sr.failed)
		return CTL_EXIT_ERROR;
	return sr.suppressed ? CTL_EXIT_SUPPRESSED : CTL_EXIT_OK;
usage:
	fprintf(stderr, "usage: bouncectl status [-f FILE] ADDRESS|-...\n");
	return CTL_EXIT_ERROR;
}

static int
list_cb(void *arg, const struct store_recipient *r)
{
	struct ctl_val	 v[NRCPT];

	recipient_vals(r, v);
	ctl_out_row(arg, v);
	return 0;
}

/* Write the recipients of f (NULL: all) in fmt; the exit status. */
static int
list_out(const struct ctl_opts *o, const struct store_filter *f,
    enum ctl_fmt fmt, unsigned flags, const char *what)
{
	struct store	*s;
	struct ctl_out	 out;
	int		 rc;

	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	ctl_out_init(&out, stdout, fmt, rcpt_cols, NRCPT, flags);
	if (store_list(s, f, list_cb, &out) != BD_OK) {
		ctl_out_end(&out);
		rc = ctl_store_fail(s, what);
	} else if (!ctl_out_end(&out)) {
		fprintf(stderr, "bouncectl: out of memory\n");
		rc = CTL_EXIT_ERROR;
	}
	store_close(s);
	return rc;
}

/* One option of list into f; false after a message on stderr. */
static bool
list_opt(int ch, const char *arg, struct store_filter *f)
{
	enum state_kind	 k;

	switch (ch) {
	case 's':
		if (!state_kind_parse(arg, &k)) {
			fprintf(stderr, "bouncectl: --state: \"%s\" is not "
			    "active, soft or suppressed\n", arg);
			return false;
		}
		f->state = state_kind_name(k);
		return true;
	case 'r':
		f->reason = arg;
		return true;
	case 'd':
		f->domain = arg;
		return true;
	case 'S':
		return ctl_opt_since(arg, (int64_t)time(NULL), &f->since);
	case 'l':
	case 'o':
		if (ctl_parse_i64(arg, 0, INT64_MAX / 2, ch == 'l' ? &f->limit :
		    &f->offset))
			return true;
		fprintf(stderr, "bouncectl: --%s: not a number: \"%s\"\n",
		    ch == 'l' ? "limit" : "offset", arg);
		return false;
	}
	fprintf(stderr, "usage: bouncectl list [--state S] [--reason R] "
	    "[--domain D] [--since DATE] [--limit N] [--offset N]\n");
	return false;
}

/*
 * ctl_list - bouncectl list [--state S] [--reason R] [--domain D]
 * [--since DATE] [--limit N] [--offset N]
 *
 * Returns 0, or 2 on a bad option or a database failure.
 */
int
ctl_list(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "state",	required_argument, NULL, 's' },
		{ "reason",	required_argument, NULL, 'r' },
		{ "domain",	required_argument, NULL, 'd' },
		{ "since",	required_argument, NULL, 'S' },
		{ "limit",	required_argument, NULL, 'l' },
		{ "offset",	required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_filter	 f;
	int			 ch;

	memset(&f, 0, sizeof(f));
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (!list_opt(ch, optarg, &f))
			return CTL_EXIT_ERROR;
	if (optind != argc) {
		fprintf(stderr, "bouncectl: list: unexpected \"%s\"\n",
		    argv[optind]);
		return CTL_EXIT_ERROR;
	}
	return list_out(o, &f, ctl_out_fmt(o), CTL_OUT_JSONL, "list");
}

/*
 * ctl_export - bouncectl export [--csv|--json]: every recipient with its
 * state, in a form import reads back (CSV by default; --json writes JSON
 * Lines)
 *
 * Returns 0, or 2 on a database failure.
 */
int
ctl_export(const struct ctl_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: bouncectl export [--csv|--json]\n");
		return CTL_EXIT_ERROR;
	}
	return list_out(o, NULL, o->json ? CTL_FMT_JSON : CTL_FMT_CSV,
	    CTL_OUT_JSONL, "export");
}

/* ---- history ---- */

static const struct ctl_col hist_cols[] = {
	{ "when", CTL_COL_TIME, true, 0 },
	{ "action", CTL_COL_STR, true, 0 },
	{ "status", CTL_COL_STR, true, 0 },
	{ "reason", CTL_COL_STR, true, 0 },
	{ "class", CTL_COL_STR, true, 0 },
	{ "source", CTL_COL_STR, true, 0 },
	{ "trust", CTL_COL_STR, true, 0 },
	{ "rule", CTL_COL_STR, true, 0 },
	{ "diagnostic", CTL_COL_STR, true, CTL_DIAG_W },
	{ "id", CTL_COL_NUM, false, 0 },
	{ "recorded_at", CTL_COL_TIME, false, 0 },
	{ "recipient", CTL_COL_STR, false, 0 },
	{ "original_recipient", CTL_COL_STR, false, 0 },
	{ "reply_code", CTL_COL_NUM, false, 0 },
	{ "hard", CTL_COL_BOOL, false, 0 },
	{ "who", CTL_COL_STR, false, 0 },
	{ "advice", CTL_COL_STR, false, 0 },
	{ "remote_mta", CTL_COL_STR, false, 0 },
	{ "reporting_mta", CTL_COL_STR, false, 0 },
	{ "queue_id", CTL_COL_STR, false, 0 },
	{ "message_id", CTL_COL_STR, false, 0 },
	{ "envelope_id", CTL_COL_STR, false, 0 },
	{ "sender", CTL_COL_STR, false, 0 },
	{ "campaign", CTL_COL_STR, false, 0 },
	{ "feedback_type", CTL_COL_STR, false, 0 },
	{ "trusted", CTL_COL_BOOL, false, 0 },
	{ "mail_kind", CTL_COL_STR, false, 0 },
	{ "client_addr", CTL_COL_STR, false, 0 },
	/* the report's own date; "when" is the date the rule used */
	{ "reported", CTL_COL_TIME, true, 0 },
	{ "message_key", CTL_COL_STR, false, 0 },
};
#define NHIST	(sizeof(hist_cols) / sizeof(hist_cols[0]))

static int
hist_cb(void *arg, const struct store_event_row *e)
{
	struct ctl_val	 v[NHIST];

	memset(v, 0, sizeof(v));
	v[0].n = e->when;
	v[1].s = e->action;
	v[2].s = e->status;
	v[3].s = e->reason;
	v[4].s = e->class;
	v[5].s = e->source;
	/* how the trust policy judged it; none for the log and operators */
	v[6].s = e->trust_why;
	v[7].s = e->rule;
	v[8].s = e->diagnostic;
	v[9].n = e->id;
	v[10].n = e->recorded_at;
	v[11].s = e->recipient;
	v[12].s = e->original_recipient;
	v[13].n = e->reply_code;
	v[14].n = e->hard;
	v[15].s = e->who;
	v[16].s = e->advice;
	v[17].s = e->remote_mta;
	v[18].s = e->reporting_mta;
	v[19].s = e->queue_id;
	v[20].s = e->message_id;
	v[21].s = e->envelope_id;
	v[22].s = e->sender;
	v[23].s = e->campaign;
	v[24].s = e->feedback_type;
	v[25].n = e->trusted;
	v[26].s = e->mail_kind;
	v[27].s = e->client_addr;
	v[28].n = e->reported_at;
	v[29].s = e->msgkey;
	ctl_out_row(arg, v);
	return 0;
}

/*
 * ctl_history - bouncectl history ADDRESS: every event, oldest first
 *
 * Returns 0, or 2 on a bad address or a database failure.
 */
int
ctl_history(const struct ctl_opts *o, int argc, char **argv)
{
	struct store	*s;
	struct ctl_out	 out;
	int		 rc;

	char		 norm[ADDR_MAX + 1];

	if (argc != 2) {
		fprintf(stderr, "usage: bouncectl history ADDRESS\n");
		return CTL_EXIT_ERROR;
	}
	if (!addr_normalize(argv[1], norm, sizeof(norm))) {
		fprintf(stderr, "bouncectl: history: not an address: "
		    "\"%.80s\"\n", argv[1]);
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	ctl_out_init(&out, stdout, ctl_out_fmt(o), hist_cols, NHIST,
	    CTL_OUT_JSONL);
	if (store_history(s, argv[1], hist_cb, &out) != BD_OK) {
		ctl_out_end(&out);
		rc = ctl_store_fail(s, "history");
	} else if (!ctl_out_end(&out))
		rc = CTL_EXIT_ERROR;
	store_close(s);
	return rc;
}
