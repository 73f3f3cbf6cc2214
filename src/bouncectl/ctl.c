/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl.c - bouncectl(8): main(), the global options and the dispatch to
 * subcommands.  Each group of subcommands lives in its own file
 * (ctl_status.c, ctl_manual.c, ctl_import.c, ctl_stats.c,
 * ctl_rebuild.c: the store;
 * ctl_maillog.c: the MTA log; ctl_classify.c: classify and rules-test), all
 * writing through ctl_out.c.
 *
 * Calling convention for a subcommand: fn(opts, argc, argv) where
 * argv[0] is the subcommand name and argv[1..] its own arguments, with
 * the global --json, --csv and --create already taken out (they may come
 * before or after the subcommand; "--" stops that).  getopt_long() has
 * been reset, so a subcommand may parse argv with it directly.  The
 * return value is the exit status: 0 ok, 1 "an address is suppressed"
 * (status), 2 error.
 *
 * This file opens no database itself; ctl_store_open() resolves the path
 * (--db, else the Database of -c CONFIG, else of the default config) for
 * the subcommands that need it, and never creates one by accident: a
 * command that writes refuses a missing file unless --create is given
 * (a mistyped --db must not become a new, empty database), one that
 * reads opens read-only; one for which creating makes no sense
 * (rebuild) refuses a missing file even with --create.  It never links
 * libmilter.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "bouncectl/ctl.h"
#include "bouncectl/ctl_int.h"
#include "store/db.h"
#include "store/store.h"

#ifndef BD_VERSION
#define BD_VERSION	"unknown"
#endif

#define CTL_BUSY_MS	5000	/* default busy timeout when no config gives one */

/*
 * ctl_getopt_reset - restart getopt_long() on a fresh argv
 *
 * Notes: glibc re-reads the ordering mode ("+" in the global option
 * string) only when optind is 0; the BSDs use optreset.
 */
void
ctl_getopt_reset(void)
{
#ifdef __GLIBC__
	optind = 0;
#else
	extern int optreset;

	optreset = 1;
	optind = 1;
#endif
	opterr = 1;
}

/*
 * ctl_store_open - open the store for a subcommand
 *
 * Arguments: o, the global options; flags, STORE_RDONLY for commands
 * that only read, STORE_NOCREATE for a write that needs an existing
 * database whatever --create says, else 0; *out receives the handle.
 * Returns CTL_EXIT_OK, or CTL_EXIT_ERROR after a message on stderr.
 * Notes: the path is --db, else the config's Database (from -c, else from
 * the default config when that file exists).  The busy timeout comes from
 * the config when one was read.  A missing database is never created by
 * a read, nor by a write without --create (o->create): both fail with a
 * message that names the path and what to do.
 */
int
ctl_store_open(const struct ctl_opts *o, unsigned flags, struct store **out)
{
	struct bd_config	*cfg = NULL;
	const char		*path = o->db_path, *cpath = o->config_path;
	static char		*dbpath;
	char			 err[512], hint[512], shown[1024];
	const char		*h;
	int			 busy = o->wait_ms >= 0 ? o->wait_ms : CTL_BUSY_MS;
	enum bd_status		 st;
	bool			 must_exist = (flags & STORE_NOCREATE) != 0;

	*out = NULL;
	if (cpath == NULL && access(config_default_path(), F_OK) == 0)
		cpath = config_default_path();	/* also with --db: its keys */
	if (cpath == NULL && path == NULL) {
		cpath = config_default_path();
		if (access(cpath, F_OK) != 0) {
			fprintf(stderr, "bouncectl: no database: give --db PATH "
			    "or -c CONFIG (default %s: %s)\n", cpath,
			    strerror(errno));
			return CTL_EXIT_ERROR;
		}
	}
	if (cpath != NULL) {
		err[0] = '\0';
		if ((st = config_load(cpath, &cfg, err, sizeof(err))) != BD_OK) {
			fprintf(stderr, "bouncectl: %s\n",
			    err[0] ? err : bd_strerror(st));
			return CTL_EXIT_ERROR;
		}
		if (path == NULL)
			path = cfg->database;
		addr_set_local_case(cfg->local_part_case);
		if (o->wait_ms < 0 && cfg->busy_timeout > 0 &&
		    cfg->busy_timeout < 3600000)
			busy = (int)cfg->busy_timeout;
	}
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "bouncectl: %s names no Database; give --db "
		    "PATH\n", cpath);
		config_free(cfg);
		return CTL_EXIT_ERROR;
	}
	if (!(flags & STORE_RDONLY) && !o->create)
		flags |= STORE_NOCREATE;
	err[0] = '\0';
	/* kept for the messages (ctl_explain); --db outlives the command */
	free(dbpath);
	if ((dbpath = strdup(path)) != NULL)
		ctl_set_db_path(dbpath);
	st = store_open(path, flags, busy, out, err, sizeof(err));
	if (st == BD_ENOTFOUND && (flags & STORE_RDONLY))
		fprintf(stderr, "bouncectl: no database at %s: bounced has not "
		    "created it yet, or --db or the config's Database names "
		    "another file\n", path);
	else if (st == BD_ENOTFOUND && must_exist)
		fprintf(stderr, "bouncectl: no database at %s: start bounced "
		    "once, or --db or the config's Database names another "
		    "file\n", path);
	else if (st == BD_ENOTFOUND)
		fprintf(stderr, "bouncectl: no database at %s: start bounced "
		    "once, or pass --create\n", path);
	else if (st != BD_OK) {
		db_target_redact(path, shown, sizeof(shown));
		fprintf(stderr, "bouncectl: %s: %s\n", shown,
		    err[0] ? err : bd_strerror(st));
		if ((h = ctl_explain(err, hint, sizeof(hint))) != NULL)
			fprintf(stderr, "bouncectl: %s\n", h);
	}
	config_free(cfg);
	return st == BD_OK ? CTL_EXIT_OK : CTL_EXIT_ERROR;
}

/* The flag of a global option that may follow the command, or NULL. */
static bool *
global_flag(struct ctl_opts *o, const char *arg)
{
	if (strcmp(arg, "--json") == 0)
		return &o->json;
	if (strcmp(arg, "--csv") == 0)
		return &o->csv;
	if (strcmp(arg, "--create") == 0)
		return &o->create;
	return NULL;
}

/* --wait SECONDS (0 to 3600) into o; false after a message. */
static bool
opt_wait(struct ctl_opts *o, const char *arg)
{
	int64_t	 secs;

	if (arg == NULL || !ctl_parse_i64(arg, 0, 3600, &secs)) {
		fprintf(stderr, "bouncectl: --wait: not a number of seconds "
		    "from 0 to 3600: \"%s\"\n", arg != NULL ? arg : "");
		return false;
	}
	o->wait_ms = (int)secs * 1000;
	return true;
}

/*
 * The subcommand's argv (argv[first..], NULL-terminated, *n long) with
 * the global --json, --csv, --create and --wait SECONDS that follow the
 * command taken out into o; "--" stops that; *help is set by a --help
 * (or -h right after the command).  NULL without memory or after a
 * message (*n is then -1).
 */
static char **
sub_argv(int argc, char **argv, int first, struct ctl_opts *o, int *n,
    bool *help)
{
	char	**sub;
	bool	*flag;
	int	 i;
	bool	 dashdash = false;

	*n = 0;
	if ((sub = calloc((size_t)(argc - first) + 1, sizeof(*sub))) == NULL)
		return NULL;
	for (i = first; i < argc; i++) {
		if (i > first && !dashdash) {
			if ((flag = global_flag(o, argv[i])) != NULL) {
				*flag = true;
				continue;
			}
			if (strcmp(argv[i], "--help") == 0 ||
			    (i == first + 1 && strcmp(argv[i], "-h") == 0)) {
				*help = true;
				continue;
			}
			if (strcmp(argv[i], "--wait") == 0 ||
			    strncmp(argv[i], "--wait=", 7) == 0) {
				if (!opt_wait(o, argv[i][6] == '=' ?
				    argv[i] + 7 : i + 1 < argc ?
				    argv[++i] : NULL)) {
					*n = -1;
					free(sub);
					return NULL;
				}
				continue;
			}
			if (strcmp(argv[i], "--") == 0)
				dashdash = true;
		}
		sub[(*n)++] = argv[i];
	}
	sub[*n] = NULL;
	return sub;
}

/*
 * A format the command does not write is refused, never ignored;
 * false after a message.
 */
static bool
format_ok(const struct ctl_opts *o, const struct ctl_cmd *cmd)
{
	if (o->json && o->csv) {
		fprintf(stderr, "bouncectl: --json and --csv exclude each "
		    "other\n");
		return false;
	}
	if (o->csv && !(cmd->flags & CTL_F_CSV)) {
		fprintf(stderr, "bouncectl: %s writes no CSV%s\n", cmd->name,
		    (cmd->flags & (CTL_F_JSON | CTL_F_JSONL)) ?
		    " (--json is there for programs)" : "");
		return false;
	}
	if (o->json && !(cmd->flags & (CTL_F_JSON | CTL_F_JSONL))) {
		fprintf(stderr, "bouncectl: %s writes no JSON (its output is "
		    "already meant for programs)\n", cmd->name);
		return false;
	}
	return true;
}

/*
 * main - bouncectl [-c CONFIG] [--db PATH] [--create] [--wait SECONDS]
 * [--json|--csv] COMMAND [ARGS]
 *
 * Returns the subcommand's exit status (0, 1 or 2; see bouncectl(8)),
 * 2 for a usage error or when standard output could not be written.
 */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "db",		required_argument,	NULL, 'D' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "csv",	no_argument,		NULL, 'C' },
		{ "create",	no_argument,		NULL, 'N' },
		{ "wait",	required_argument,	NULL, 'w' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 },
	};
	struct ctl_opts		 o;
	const struct ctl_cmd	*cmd;
	char			**sub;
	int			 ch, n, rc;
	bool			 help = false;

	memset(&o, 0, sizeof(o));
	o.wait_ms = -1;
	while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'D':
			o.db_path = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'C':
			o.csv = true;
			break;
		case 'N':
			o.create = true;
			break;
		case 'w':
			if (!opt_wait(&o, optarg))
				return CTL_EXIT_ERROR;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("bouncectl %s\n", BD_VERSION);
			return CTL_EXIT_OK;
		default:
			ctl_usage(stderr);
			return CTL_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return CTL_EXIT_ERROR;
	}
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 >= argc) {
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		}
		return ctl_help(stdout, argv[optind + 1]);
	}
	if ((cmd = ctl_cmd_find(argv[optind])) == NULL) {
		fprintf(stderr, "bouncectl: unknown command \"%s\"\n",
		    argv[optind]);
		ctl_usage(stderr);
		return CTL_EXIT_ERROR;
	}
	if ((sub = sub_argv(argc, argv, optind, &o, &n, &help)) == NULL) {
		if (n == 0)
			fprintf(stderr, "bouncectl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	if (help) {
		free(sub);
		return ctl_help(stdout, cmd->name);
	}
	if (!format_ok(&o, cmd)) {
		free(sub);
		return CTL_EXIT_ERROR;
	}
	ctl_getopt_reset();
	rc = cmd->fn(&o, n, sub);
	free(sub);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "bouncectl: write error: %s\n",
		    strerror(errno));
		return CTL_EXIT_ERROR;
	}
	return rc;
}
