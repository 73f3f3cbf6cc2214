/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl.h - bouncectl subcommands.  src/ctl.c holds main() and the
 * dispatch; each group of subcommands lives in its own file.
 * Every subcommand returns the process exit status (see bouncectl(8)).
 */
#ifndef BD_CTL_H
#define BD_CTL_H

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
};

/* ctl_classify.c: classify FILE|- ... (parse and classify, store nothing) */
int ctl_classify(const struct ctl_opts *o, int argc, char **argv);
/* ctl_classify.c: rules-test "TEXT" (verdict and deciding rule for a diagnostic) */
int ctl_rules_test(const struct ctl_opts *o, int argc, char **argv);

#endif
