/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl.h - bouncectl subcommands.  src/ctl.c holds main() and the
 * dispatch; each group of subcommands lives in its own file.
 * Every subcommand returns the process exit status (see bouncectl(8)).
 */
#ifndef BD_CTL_H
#define BD_CTL_H

#include <stdio.h>

#include "util/bd.h"

#define CTL_EXIT_OK		0
/*
 * Needs attention: status, an address given is suppressed; stats, a
 * group crossed --warn-total or --warn-hard.  (rules-test also exits 1,
 * when no rule matched, as postmap -q does for a key not found.)
 */
#define CTL_EXIT_SUPPRESSED	1
#define CTL_EXIT_ERROR		2

struct ctl_opts {
	const char	*config_path;	/* -c, or NULL for the default */
	const char	*db_path;	/* --db overrides the config's Database */
	bool		 json;		/* --json */
	bool		 csv;		/* --csv */
	bool		 create;	/* --create: a write may create the db */
	int		 wait_ms;	/* --wait: how long a lock is waited for; -1 default */
};

/* The formats a command writes besides its table or text (ctl_cmds.c). */
#define CTL_F_CSV	0x01	/* --csv honoured */
#define CTL_F_JSON	0x02	/* --json: one document (a report) */
#define CTL_F_JSONL	0x04	/* --json: JSON Lines (records) */
#define CTL_F_CSVDEF	0x08	/* CSV without --csv too (export) */

struct ctl_cmd {
	const char	*name;
	int		(*fn)(const struct ctl_opts *, int, char **);
	unsigned	 flags;		/* CTL_F_* */
	const char	*args;		/* synopsis after the name */
	const char	*summary;	/* one line */
	const char	*help;		/* bouncectl help NAME */
};

/* ctl_cmds.c: the command table and its help */
const struct ctl_cmd *ctl_cmd_find(const char *name);
void ctl_usage(FILE *fp);
int ctl_help(FILE *fp, const char *name);

/* ctl_classify.c: classify FILE|- ... (parse and classify, store nothing) */
int ctl_classify(const struct ctl_opts *o, int argc, char **argv);
/* ctl_classify.c: rules-test "TEXT" (verdict and deciding rule for a diagnostic) */
int ctl_rules_test(const struct ctl_opts *o, int argc, char **argv);

#endif
