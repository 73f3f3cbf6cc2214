/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_classify.c - the bouncectl(8) subcommands that run the pipeline
 * without a store: "classify" parses and classifies bounce files and
 * prints a verdict per recipient (a table, or JSON lines), and
 * "rules-test" shows which rule decides a given diagnostic text, as
 * postmap -q does for a lookup table.
 *
 * Glue: reads files and writes stdout/stderr; the work is done by the
 * pure analyze_message() and classify().  Stores nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/analyze.h"
#include "verdict/classify.h"
#include "conf/conf.h"
#include "bouncectl/ctl.h"
#include "bouncectl/ctl_json.h"
#include "verdict/rules.h"
#include "parse/smtpcmd.h"

#define CTL_FILE_MAX	(64u << 20)	/* bytes read of one file */

/* The rules to use: --rules FILE, else -c CONFIG's, else built-in. */
static struct rules *
ctl_rules(const struct ctl_opts *o, const char *rules_path)
{
	struct bd_config	*cfg = NULL;
	struct rules		*r = NULL;
	char			 err[512];
	enum bd_status		 st;

	if (rules_path != NULL)
		st = rules_load(rules_path, &r, err, sizeof(err));
	else if (o->config_path != NULL) {
		st = config_load(o->config_path, &cfg, err, sizeof(err));
		if (st == BD_OK) {
			r = rules_ref(cfg->rules);
			config_free(cfg);
			if (r == NULL)
				st = rules_default(&r, err, sizeof(err));
		}
	} else
		st = rules_default(&r, err, sizeof(err));
	if (st != BD_OK) {
		fprintf(stderr, "bouncectl: %s\n", st == BD_ENOMEM ?
		    bd_strerror(st) : err);
		return NULL;
	}
	return r;
}

/* Read all of fp (at most CTL_FILE_MAX bytes); NULL on error. */
static char *
slurp(FILE *fp, size_t *lenp)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0, n, want;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > CTL_FILE_MAX + 1)
				cap = CTL_FILE_MAX + 1;
			if (len == cap) {
				errno = EFBIG;
				free(buf);
				return NULL;
			}
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		want = cap - len;
		n = fread(buf + len, 1, want, fp);
		len += n;
		/* Short: end of file or an error (ferror() below); asking
		 * again would cost another read(2) per file that returns 0. */
		if (n < want)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf != NULL ? buf : malloc(1);
}

/* A string member; NULL or "" is null. */
static void
json_str(struct ctl_jline *jl, const char *key, const char *v)
{
	ctl_jline_str(jl, key, v != NULL && *v != '\0' ? v : NULL);
}

/*
 * One recipient as a JSON line.  feedback_type is there only for a
 * complaint: when that changes from one line to the next, the object is
 * made again, so that the members keep their order.
 */
static void
print_json(struct ctl_jline *jl, bool *with_fb, const char *file,
    size_t idx, const struct bd_event *ev, const char *command,
    const char *mta)
{
	const struct verdict	*v = &ev->verdict;

	if ((ev->feedback_type != NULL) != *with_fb) {
		ctl_jline_reset(jl);
		*with_fb = ev->feedback_type != NULL;
	}
	json_str(jl, "file", file);
	ctl_jline_int(jl, "index", (gint64)idx);
	json_str(jl, "recipient", ev->recipient);
	json_str(jl, "original_recipient", ev->original_recipient);
	json_str(jl, "action", ev_action_name(ev->action));
	json_str(jl, "status", ev->status);
	if (ev->reply_code != 0)
		ctl_jline_int(jl, "reply_code", ev->reply_code);
	else
		ctl_jline_null(jl, "reply_code");
	json_str(jl, "diagnostic", ev->diagnostic);
	json_str(jl, "remote_mta", ev->remote_mta);
	json_str(jl, "command", command);
	json_str(jl, "mta", mta);
	json_str(jl, "reason", v->reason);
	ctl_jline_bool(jl, "hard", v->hard);
	json_str(jl, "who", ev_who_name(v->who));
	json_str(jl, "advice", ev_advice_name(v->advice));
	json_str(jl, "rule", v->rule);
	ctl_jline_bool(jl, "conflict", v->conflict);
	json_str(jl, "why", v->why);
	if (ev->feedback_type != NULL)
		json_str(jl, "feedback_type", ev->feedback_type);
	json_str(jl, "mail_kind", ev->mail_kind);
	json_str(jl, "campaign", ev->campaign);
	ctl_jline_put(jl, stdout);
}

/* One line of the table, kept until every width is known. */
struct row {
	char		*file;		/* base name */
	size_t		 idx;
	char		*rcpt;
	char		 status[VERDICT_STATUS_MAX];
	const char	*command;	/* static */
	const char	*reason;	/* static */
	bool		 hard;
	enum ev_who	 who;
	enum ev_advice	 advice;
	char		 rule[VERDICT_RULE_MAX];
};

struct table {
	struct row	*v;
	size_t		 n, cap;
};

#define NCOLS	10

static const char *const col_names[NCOLS] = { "FILE", "#", "RECIPIENT",
    "STATUS", "CMD", "REASON", "HARD", "WHO", "ADVICE", "RULE" };

/* Keep recipient idx of file for the table; false when out of memory. */
static bool
table_add(struct table *t, const char *file, size_t idx,
    const struct bd_event *ev, const char *command)
{
	const struct verdict	*v = &ev->verdict;
	const char		*base = strrchr(file, '/');
	struct row		*r;

	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;

		if ((r = reallocarray(t->v, nc, sizeof(*r))) == NULL)
			return false;
		t->v = r;
		t->cap = nc;
	}
	r = &t->v[t->n];
	memset(r, 0, sizeof(*r));
	r->file = strdup(base != NULL && base[1] != '\0' ? base + 1 : file);
	r->rcpt = strdup(ev->recipient != NULL && *ev->recipient ?
	    ev->recipient : "-");
	if (r->file == NULL || r->rcpt == NULL) {
		free(r->file);
		free(r->rcpt);
		return false;
	}
	r->idx = idx;
	snprintf(r->status, sizeof(r->status), "%s",
	    ev->status != NULL && *ev->status ? ev->status : "-");
	r->command = command != NULL ? command : "-";
	r->reason = v->reason;
	r->hard = v->hard;
	r->who = v->who;
	r->advice = v->advice;
	snprintf(r->rule, sizeof(r->rule), "%s", v->rule[0] ? v->rule : "-");
	t->n++;
	return true;
}

/* The cells of row r (NULL: the heading); num holds the index. */
static void
table_cells(const struct row *r, const char **c, char *num, size_t numlen)
{
	size_t	 k;

	if (r == NULL) {
		for (k = 0; k < NCOLS; k++)
			c[k] = col_names[k];
		return;
	}
	snprintf(num, numlen, "%zu", r->idx);
	c[0] = r->file;
	c[1] = num;
	c[2] = r->rcpt;
	c[3] = r->status;
	c[4] = r->command;
	c[5] = r->reason;
	c[6] = r->hard ? "yes" : "no";
	c[7] = ev_who_name(r->who);
	c[8] = ev_advice_name(r->advice);
	c[9] = r->rule;
}

/* Print the table with every column as wide as its widest cell. */
static void
table_print(const struct table *t)
{
	const char	*c[NCOLS];
	char		 num[24];
	size_t		 w[NCOLS], i, k, l;

	table_cells(NULL, c, num, sizeof(num));
	for (k = 0; k < NCOLS; k++)
		w[k] = strlen(c[k]);
	for (i = 0; i < t->n; i++) {
		table_cells(&t->v[i], c, num, sizeof(num));
		for (k = 0; k < NCOLS; k++)
			if ((l = strlen(c[k])) > w[k])
				w[k] = l;
	}
	for (i = 0; i <= t->n; i++) {
		table_cells(i == 0 ? NULL : &t->v[i - 1], c, num,
		    sizeof(num));
		for (k = 0; k < NCOLS - 1; k++)
			printf(k == 1 ? "%*s " : "%-*s ", (int)w[k], c[k]);
		printf("%s\n", c[NCOLS - 1]);
	}
}

static void
table_free(struct table *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].file);
		free(t->v[i].rcpt);
	}
	free(t->v);
}

/* Classify one file; CTL_EXIT_ERROR after a message if unreadable. */
static int
classify_file(const struct rules *r, const char *path, struct table *tab,
    struct ctl_jline *jl, bool *with_fb)
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct analysis		*a;
	struct bd_event		 ev;
	FILE			*fp;
	char			*msg;
	size_t			 len, i;
	enum bd_status		 st;
	int			 rc = CTL_EXIT_OK;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
		return CTL_EXIT_ERROR;
	}
	msg = slurp(fp, &len);
	if (msg == NULL)
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
	if (fp != stdin)
		fclose(fp);
	if (msg == NULL)
		return CTL_EXIT_ERROR;
	st = analyze_message(r, msg, len, &opt, &a);
	if (st != BD_OK) {
		fprintf(stderr, "bouncectl: %s: %s\n", path, bd_strerror(st));
		free(msg);
		return CTL_EXIT_ERROR;
	}
	for (i = 0; i < a->report->nrcpts; i++) {
		const char *cmd = a->report->rcpts[i].smtp_command;

		analysis_event(a, i, EV_SRC_CLI, 0, &ev);
		if (tab == NULL)
			print_json(jl, with_fb, path, i + 1, &ev, cmd,
			    a->report->mta);
		else if (!table_add(tab, path, i + 1, &ev, cmd)) {
			fprintf(stderr, "bouncectl: %s: %s\n", path,
			    bd_strerror(BD_ENOMEM));
			rc = CTL_EXIT_ERROR;
			break;
		}
	}
	analysis_free(a);
	free(msg);
	return rc;
}

/*
 * ctl_classify - bouncectl classify [--json] [--rules FILE] FILE|- ...
 *
 * Arguments: o, the global options (-c CONFIG selects its rules, --json);
 * argv[1..], options and files ("-" is standard input).
 * Returns 0, or 2 when a file could not be read or the rules not loaded
 * (the other files are still done).
 * Notes: one line per reported recipient, in the order of the bounce;
 * "index" counts from 1 in each file.  Nothing is stored.
 */
int
ctl_classify(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "rules",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 },
	};
	const char	*rules_path = NULL;
	struct rules	*r;
	struct table	 tab;
	struct ctl_jline *jl = NULL;
	bool		 json = o->json, with_fb = false;
	int		 ch, i, rc = CTL_EXIT_OK;

	memset(&tab, 0, sizeof(tab));

	while ((ch = getopt_long(argc, argv, "r:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'r':
			rules_path = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	if ((r = ctl_rules(o, rules_path)) == NULL)
		return CTL_EXIT_ERROR;
	dsn_init();
	if (json)
		jl = ctl_jline_new();
	for (i = optind; i < argc; i++)
		if (classify_file(r, argv[i], json ? NULL : &tab, jl,
		    &with_fb) != CTL_EXIT_OK)
			rc = CTL_EXIT_ERROR;
	ctl_jline_free(jl);
	dsn_shutdown();
	if (!json)
		table_print(&tab);
	table_free(&tab);
	rules_unref(r);
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl classify [--json] [--rules FILE] "
	    "FILE|- ...\n");
	return CTL_EXIT_ERROR;
}

/*
 * ctl_rules_test - bouncectl rules-test [--json] [--status X.Y.Z]
 * [--code NNN] [--mta NAME] [--action A] [--command CMD] [--dtype TYPE]
 * [--remote HOST] [--log] [--rules FILE] "TEXT"
 *
 * Arguments: as ctl_classify(); the text is the diagnostic, and a
 * status or reply code at its start is used when none is given.
 * Returns 0 when a rule decided, 1 when none matched (reason
 * "undefined"), 2 on a usage or rules error.
 * Notes: prints the verdict and the deciding rule as written.
 */
int
ctl_rules_test(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "status",	required_argument,	NULL, 's' },
		{ "code",	required_argument,	NULL, 'C' },
		{ "mta",	required_argument,	NULL, 'm' },
		{ "action",	required_argument,	NULL, 'a' },
		{ "command",	required_argument,	NULL, 'k' },
		{ "dtype",	required_argument,	NULL, 'd' },
		{ "remote",	required_argument,	NULL, 'R' },
		{ "log",	no_argument,		NULL, 'l' },
		{ "rules",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 },
	};
	struct classify_input	 in;
	struct verdict		 v;
	const struct rules_reason *rr;
	const char		*rules_path = NULL, *src = NULL, *colon;
	struct rules		*r;
	char			*end;
	bool			 json = o->json;
	long			 code;
	int			 ch;

	memset(&in, 0, sizeof(in));
	in.action = EV_ACT_FAILED;
	in.kind = DSN_KIND_REPORT;
	while ((ch = getopt_long(argc, argv, "s:C:m:a:k:d:R:lr:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			in.status = optarg;
			break;
		case 'C':
			code = strtol(optarg, &end, 10);
			if (*end != '\0' || code < 200 || code > 599) {
				fprintf(stderr, "bouncectl: bad reply code "
				    "\"%s\"\n", optarg);
				return CTL_EXIT_ERROR;
			}
			in.reply_code = (int)code;
			break;
		case 'm':
			in.mta = optarg;
			break;
		case 'a':
			in.action = ev_action_parse(optarg);
			break;
		case 'k':
			if ((in.smtp_command = smtpcmd_word(optarg)) ==
			    NULL) {
				fprintf(stderr, "bouncectl: unknown SMTP "
				    "command \"%s\" (connect, helo, "
				    "starttls, auth, mail, rcpt, data)\n",
				    optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		case 'd':
			in.diagnostic_type = optarg;
			break;
		case 'R':
			in.remote_mta = optarg;
			break;
		case 'l':
			/* a mail log line: the command is read from it */
			in.kind = DSN_KIND_NONE;
			break;
		case 'r':
			rules_path = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	in.diagnostic = argv[optind];
	if ((r = ctl_rules(o, rules_path)) == NULL)
		return CTL_EXIT_ERROR;
	classify(r, &in, &v);
	if ((colon = strrchr(v.rule, ':')) != NULL)
		src = rules_line_text(r, (unsigned)strtoul(colon + 1, NULL,
		    10));
	rr = rules_reason_lookup(v.reason);
	if (json) {
		struct ctl_jline *jl = ctl_jline_new();

		json_str(jl, "reason", v.reason);
		ctl_jline_bool(jl, "hard", v.hard);
		json_str(jl, "who", ev_who_name(v.who));
		json_str(jl, "advice", ev_advice_name(v.advice));
		json_str(jl, "status", v.status);
		json_str(jl, "rule", v.rule);
		json_str(jl, "rule_text", src);
		ctl_jline_bool(jl, "conflict", v.conflict);
		json_str(jl, "why", v.why);
		ctl_jline_put(jl, stdout);
		ctl_jline_free(jl);
	} else {
		printf("reason:   %s (%s)\n", v.reason,
		    rr != NULL ? rr->meaning : "?");
		printf("hard:     %s\n", v.hard ? "yes" : "no");
		printf("who:      %s\n", ev_who_name(v.who));
		printf("advice:   %s\n", ev_advice_name(v.advice));
		printf("status:   %s\n", v.status[0] ? v.status : "-");
		printf("rule:     %s%s%s\n", v.rule[0] ? v.rule : "(none)",
		    src != NULL ? "  " : "", src != NULL ? src : "");
		printf("conflict: %s\n", v.conflict ? "yes" : "no");
		printf("why:      %s\n", v.why);
	}
	rules_unref(r);
	/* Like postmap -q: 1 when not found. */
	return v.rule[0] ? CTL_EXIT_OK : 1;
usage:
	fprintf(stderr, "usage: bouncectl rules-test [--json] "
	    "[--status X.Y.Z] [--code NNN] [--mta NAME] [--action A] "
	    "[--command CMD] [--dtype TYPE] [--remote HOST] [--log] "
	    "[--rules FILE] \"TEXT\"\n");
	return CTL_EXIT_ERROR;
}
