/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_manual.c - bouncectl(8) suppress and unsuppress: an operator's
 * action on addresses given as arguments or in a file (-f, one address
 * a line, '#' comments).  Each action is kept as an event with who
 * (--by, else $SUDO_USER or the user), when and why (--reason), and wins
 * over automatic events dated before it (store_manual()).
 *
 * All or nothing: every address is checked before the store is opened,
 * and store_manual() applies the list in one transaction.  The database
 * must exist unless --create is given (ctl_store_open()), so that a
 * mistyped --db is an error, not a new empty database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bouncectl/ctl_int.h"
#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_json.h"
#include "store/store.h"

struct addrs {
	char		**v;
	size_t		 n, cap;
};

static bool
addrs_add(struct addrs *a, const char *s)
{
	char	**nv;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		if ((nv = reallocarray(a->v, a->cap, sizeof(*nv))) == NULL)
			return false;
		a->v = nv;
	}
	if ((a->v[a->n] = strdup(s)) == NULL)
		return false;
	a->n++;
	return true;
}

static void
addrs_free(struct addrs *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* Add s when it is an address; false (and a message) when not. */
static bool
addrs_check_add(struct addrs *a, const char *s, const char *path,
    size_t lineno)
{
	char	 norm[ADDR_MAX + 1];

	if (!addr_normalize(s, norm, sizeof(norm))) {
		if (path != NULL)
			fprintf(stderr, "bouncectl: %s:%zu: not an address: "
			    "\"%.80s\"\n", path, lineno, s);
		else
			fprintf(stderr, "bouncectl: not an address: "
			    "\"%.80s\"\n", s);
		return false;
	}
	if (!addrs_add(a, s)) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return false;
	}
	return true;
}

/* Addresses of -f FILE: one a line, '#' comments and blank lines skipped. */
static bool
read_addr_file(const char *path, struct addrs *a)
{
	FILE	*fp;
	char	*line = NULL, *p;
	size_t	 cap = 0, lineno = 0;
	ssize_t	 n;
	bool	 ok = true;

	if ((fp = ctl_open_input(path)) == NULL)
		return false;
	while ((n = ctl_read_line(fp, &line, &cap)) != -1) {
		lineno++;
		if (n == -2) {
			fprintf(stderr, "bouncectl: %s:%zu: line too long or "
			    "binary\n", path, lineno);
			ok = false;
			continue;
		}
		p = ctl_trim(line);
		if (*p != '\0' && *p != '#' &&
		    !addrs_check_add(a, p, path, lineno))
			ok = false;
	}
	free(line);
	ctl_close_input(fp);
	return ok;
}

/*
 * What the command did: the addresses and their new state; --json one
 * document {"action":...,"addresses":[...]}, --csv rows address,state.
 */
static void
manual_out(const struct ctl_opts *o, const char *cmd, bool suppress,
    const struct addrs *a)
{
	static const struct ctl_col cols[] = {
		{ "address", CTL_COL_STR, true, 0 },
		{ "state", CTL_COL_STR, true, 0 },
	};
	struct ctl_out	 out;
	struct ctl_val	 v[2];
	char		 norm[ADDR_MAX + 1];
	size_t		 i;
	JsonBuilder	*jb = NULL;

	if (o->csv)
		ctl_out_init(&out, stdout, CTL_FMT_CSV, cols, 2, 0);
	if (o->json) {
		/* the addresses are in memory already: one document */
		jb = json_builder_new();
		json_builder_begin_object(jb);
		json_builder_set_member_name(jb, "action");
		ctl_json_add_str(jb, cmd);
		json_builder_set_member_name(jb, "addresses");
		json_builder_begin_array(jb);
	}
	for (i = 0; i < a->n; i++) {
		addr_normalize(a->v[i], norm, sizeof(norm));
		if (o->csv) {
			memset(v, 0, sizeof(v));
			v[0].s = norm;
			v[1].s = suppress ? "suppressed" : "active";
			ctl_out_row(&out, v);
		} else if (o->json)
			ctl_json_add_str(jb, norm);
		else
			printf("%s: %s\n", norm, suppress ? "suppressed" :
			    "active");
	}
	if (o->csv)
		ctl_out_end(&out);
	if (o->json) {
		json_builder_end_array(jb);
		json_builder_end_object(jb);
		ctl_json_print(stdout, jb);
	}
}

/* Apply the actions on a's addresses; the exit status. */
static int
manual_apply(const struct ctl_opts *o, const char *cmd, bool suppress,
    const struct addrs *a, const char *by, const char *why)
{
	struct store_manual	*ops;
	struct store		*s = NULL;
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i, bad = 0;
	int			 rc;

	if ((ops = calloc(a->n, sizeof(*ops))) == NULL) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	for (i = 0; i < a->n; i++) {
		ops[i].address = a->v[i];
		ops[i].suppress = suppress;
		ops[i].reason = suppress ? "manual" : NULL;
		ops[i].by = by;
		ops[i].why = why;
		ops[i].when = now;
		ops[i].source = EV_SRC_MANUAL;
	}
	if ((rc = ctl_store_open(o, 0, &s)) == CTL_EXIT_OK) {
		if (store_manual(s, ops, a->n, &bad) != BD_OK)
			rc = ctl_store_fail(s, cmd);
		else
			manual_out(o, cmd, suppress, a);
	}
	store_close(s);
	free(ops);
	return rc;
}

static int
manual_cmd(const struct ctl_opts *o, int argc, char **argv, bool suppress)
{
	static const struct option lo[] = {
		{ "reason",	required_argument, NULL, 'r' },
		{ "by",		required_argument, NULL, 'b' },
		{ "file",	required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct addrs	 a = { NULL, 0, 0 };
	const char	*why = NULL, *by = NULL, *cmd = argv[0];
	char		 bybuf[64];
	int		 ch, i, rc = CTL_EXIT_ERROR;
	bool		 ok = true, usage = false;

	while (!usage && (ch = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		if (ch == 'r')
			why = optarg;
		else if (ch == 'b')
			by = optarg;
		else if (ch == 'f')
			ok = read_addr_file(optarg, &a) && ok;
		else
			usage = true;
	}
	for (i = optind; !usage && i < argc; i++)
		ok = addrs_check_add(&a, argv[i], NULL, 0) && ok;
	if (!usage && !ok)
		fprintf(stderr, "bouncectl: %s: nothing done\n", cmd);
	else if (usage || a.n == 0)
		fprintf(stderr, "usage: bouncectl %s [--reason TEXT] "
		    "[--by WHO] [-f FILE] ADDRESS...\n", cmd);
	else
		rc = manual_apply(o, cmd, suppress, &a, by != NULL ? by :
		    ctl_default_by(bybuf, sizeof(bybuf)), why);
	addrs_free(&a);
	return rc;
}

/*
 * ctl_suppress - bouncectl suppress [--reason TEXT] [--by WHO] [-f FILE]
 * ADDRESS...: suppress addresses by hand (all or none)
 *
 * Returns 0, or 2 when an address is not one (nothing is done), the
 * database does not exist (without --create) or fails.
 */
int
ctl_suppress(const struct ctl_opts *o, int argc, char **argv)
{
	return manual_cmd(o, argc, argv, true);
}

/*
 * ctl_unsuppress - bouncectl unsuppress [--reason TEXT] [--by WHO]
 * [-f FILE] ADDRESS...: make addresses active again (all or none)
 *
 * Returns as ctl_suppress().
 */
int
ctl_unsuppress(const struct ctl_opts *o, int argc, char **argv)
{
	return manual_cmd(o, argc, argv, false);
}
