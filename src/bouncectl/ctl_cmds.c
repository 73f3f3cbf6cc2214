/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_cmds.c - the commands of bouncectl(8): name, function, synopsis,
 * the output formats each honours, and its help (bouncectl help CMD,
 * bouncectl CMD --help).  One table, so that a command cannot exist
 * without its help, and --csv or --json cannot be silently ignored:
 * ctl.c refuses a format a command does not write.
 *
 * The JSON convention (bouncectl(8), OUTPUT): a command that prints
 * records (addresses, events, verdicts) writes JSON Lines, one object a
 * line, so that a stream of any length can be read line by line; a
 * command that prints a report writes one JSON document (an object).
 */
#include <stdio.h>
#include <string.h>

#include "bouncectl/ctl_int.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", ctl_status, CTL_F_CSV | CTL_F_JSONL,
	  "[-f FILE] ADDRESS|-...",
	  "is an address suppressed, and why",
	  "Answers for each address whether it is suppressed (exit 1 when one\n"
	  "is, 0 when none is, 2 on an error).  Addresses come as arguments,\n"
	  "from FILE (-f, repeatable) or from standard input (\"-\"), one a line\n"
	  "(blank lines and # comments skipped), all in one process: an\n"
	  "application checks a whole list before a campaign.\n"
	  "\n"
	  "A few arguments are shown as blocks, with the events that led to a\n"
	  "suppression.  Addresses read from a file, --json and --csv give one\n"
	  "row per address, in the order given; a line that is not an address\n"
	  "gets a row of state \"invalid\" (and makes the exit status 2).\n"
	  "\n"
	  "  -f, --file FILE   read addresses from FILE, one a line\n"
	  "\n"
	  "Examples:\n"
	  "  bouncectl status bob@example.com\n"
	  "  bouncectl --json status - < recipients.txt\n"
	  "  bouncectl --csv status -f recipients.txt > answers.csv\n" },
	{ "list", ctl_list, CTL_F_CSV | CTL_F_JSONL,
	  "[--state S] [--reason R] [--domain D] [--since DATE] [--limit N] "
	  "[--offset N]",
	  "recipients by state, reason, domain or date",
	  "Lists the recipients the database knows, ordered by address.\n"
	  "\n"
	  "  --state S     active, soft or suppressed\n"
	  "  --reason R    a suppression reason (hard, soft-limit, complaint,\n"
	  "                manual, imported) or the classifier's last reason\n"
	  "  --domain D    recipients of domain D\n"
	  "  --since DATE  seen at or after DATE (YYYY-MM-DD[THH:MM[:SS]],\n"
	  "                @EPOCH or Nd for N days ago; UTC)\n"
	  "  --limit N, --offset N   a page of the list\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl list --state suppressed --since 7d\n" },
	{ "history", ctl_history, CTL_F_CSV | CTL_F_JSONL,
	  "ADDRESS",
	  "every event of an address, oldest first",
	  "Shows every recorded event of ADDRESS (bounces, deferrals,\n"
	  "deliveries, complaints, operator actions), oldest first, with the\n"
	  "rule that classified it.  --json and --csv add every field.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl history bob@example.com\n" },
	{ "events", ctl_events, CTL_F_CSV | CTL_F_JSONL,
	  "[--since ID|DATE] [--follow] [--limit N] [--hook[=TARGET] "
	  "[--cursor NAME]]",
	  "every event and state change, as a resumable stream",
	  "Prints every recorded event and every state change in the order\n"
	  "they were recorded, each with its cursor (\"cursor\": an integer\n"
	  "that only grows).  --since ID resumes after the event whose cursor\n"
	  "is ID (the last one an application handled); --since DATE starts\n"
	  "with the events recorded at or after DATE.  --follow waits for new\n"
	  "events and prints them as they are recorded, until interrupted.\n"
	  "The JSON Lines schema is in bouncectl(8), EVENTS; it only grows.\n"
	  "\n"
	  "  --since ID|DATE  where to start (default: the beginning)\n"
	  "  --follow         keep printing new events (poll every second)\n"
	  "  --limit N        stop after N events\n"
	  "  --hook[=TARGET]  hand each line to TARGET (default: EventHook of\n"
	  "                   bounced.conf): exec:COMMAND gets it on stdin, an\n"
	  "                   http(s):// URL as a POST; retried until taken,\n"
	  "                   the position kept in the database\n"
	  "  --cursor NAME    the name of that position (default: hook)\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl --json events --since 1042 --follow\n" },
	{ "stats", ctl_stats, CTL_F_CSV | CTL_F_JSON,
	  "[--by domain|reason|day|campaign|kind] [--since DATE] "
	  "[--warn-total PCT] [--warn-hard PCT] [--min-sends N] | "
	  "--untrusted [--since DATE]",
	  "sends, outcomes and bounce rates, with warnings",
	  "Counts sends (from the mail log), their outcomes, bounce rates and\n"
	  "suppressions, in one total or grouped.  A group of at least\n"
	  "--min-sends sends (default 100) whose bounce rate passes\n"
	  "--warn-total (default 2%) or hard bounce rate passes --warn-hard\n"
	  "(default 0.5%) is warned about on stderr and in its row, and the\n"
	  "exit status is 1.\n"
	  "\n"
	  "  --by KEY      domain, reason, day (UTC), campaign, or kind (bulk\n"
	  "                or transactional mail, from the returned original)\n"
	  "  --since DATE  events and sends dated at or after DATE\n"
	  "  --untrusted   instead: the reports the trust policy held\n"
	  "                (never acted on), per SMTP client and domain\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl stats --by day --since 10d\n" },
	{ "metrics", ctl_metrics, 0,
	  "[--output FILE]",
	  "counters in the Prometheus text format",
	  "Prints the database's metrics in the Prometheus text exposition\n"
	  "format (the same bounced writes into its MetricsFile for\n"
	  "node_exporter's textfile collector, after its own process\n"
	  "counters; each is described in bouncectl(8), METRICS).  With\n"
	  "--output, writes FILE atomically (a temporary file renamed), as the\n"
	  "textfile collector needs.\n"
	  "\n"
	  "  --output FILE   write FILE instead of standard output\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl metrics --output /var/lib/node_exporter/bounced.prom\n" },
	{ "suppress", ctl_suppress, CTL_F_CSV | CTL_F_JSON,
	  "[--reason TEXT] [--by WHO] [-f FILE] ADDRESS...",
	  "suppress addresses by hand",
	  "Suppresses the addresses given (or one a line in FILE), all or none:\n"
	  "every address is checked first.  The action is kept as an event with\n"
	  "who (--by, else $SUDO_USER, else the user), when and why (--reason).\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl suppress --reason \"asked by phone\" bob@example.com\n" },
	{ "unsuppress", ctl_unsuppress, CTL_F_CSV | CTL_F_JSON,
	  "[--reason TEXT] [--by WHO] [-f FILE] ADDRESS...",
	  "make addresses active again",
	  "Makes the addresses active again, all or none, kept as an event with\n"
	  "who, when and why, as suppress does.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl unsuppress --reason \"mailbox fixed\" bob@example.com\n" },
	{ "export", ctl_export, CTL_F_CSV | CTL_F_JSONL | CTL_F_CSVDEF,
	  "[--csv|--json]",
	  "every recipient, in the form import reads back",
	  "Writes every recipient with its state, reason, dates and notes: CSV\n"
	  "(RFC 4180: CRLF line ends, fields with commas, quotes or line breaks\n"
	  "quoted) by default, JSON Lines with --json.  import reads both back,\n"
	  "keeping reasons, dates, authors and notes.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl export > suppressions.csv\n" },
	{ "import", ctl_import, CTL_F_JSON,
	  "[--by WHO] FILE|-",
	  "suppress the addresses of a CSV or JSON Lines file",
	  "Suppresses the addresses of FILE: bouncectl export's CSV or JSON\n"
	  "Lines, another system's CSV with a header naming its columns\n"
	  "(address or email; state; reason; why; by; date or created_at), or\n"
	  "one address a line.  CSV is RFC 4180 (libcsv, strict: quoted fields\n"
	  "may hold line breaks); JSON Lines are flat objects (json-glib).\n"
	  "A reason of bounced's own (hard, soft-limit, complaint, manual,\n"
	  "imported) is kept; another goes into the note with reason\n"
	  "\"imported\".  Records whose state is not \"suppressed\" are\n"
	  "skipped.  Nothing is imported unless every record is acceptable;\n"
	  "each bad one is reported with its line number.  On a terminal,\n"
	  "progress is shown on stderr.\n"
	  "\n"
	  "  --by WHO   the author of records that name none\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl import suppressions.csv\n" },
	{ "backup", ctl_backup, CTL_F_JSON,
	  "FILE",
	  "a consistent copy of the live database",
	  "Copies the database to FILE through SQLite's online backup, while\n"
	  "bounced runs: the copy holds everything committed when it ends (a\n"
	  "cp of the file can lose what is still in the write-ahead log).\n"
	  "FILE must not exist.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl backup /var/backups/bounced-$(date +%F).db\n" },
	{ "migrate", ctl_migrate, CTL_F_CSV | CTL_F_JSON,
	  "--to TARGET",
	  "copy the database into a new one (PostgreSQL)",
	  "Copies the database (--db or -c, usually a relay's SQLite file)\n"
	  "into TARGET, a PostgreSQL database (a postgresql:// URL or a libpq\n"
	  "conninfo \"host=... dbname=...\") or a new SQLite file: events,\n"
	  "states, manual suppressions, sends, log positions and the event\n"
	  "stream, with their ids (an application's cursor stays valid), in\n"
	  "one transaction.  TARGET must hold no data; its schema is created.\n"
	  "The source is only read: stop bounced and the log follower first,\n"
	  "or what they record meanwhile stays behind.  The rows of each table\n"
	  "are then counted on both sides and shown; exit 2 when any differs.\n"
	  "On a terminal, progress is shown on stderr.\n"
	  "\n"
	  "  --to TARGET   the database to fill\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl -c /etc/bounced.conf migrate --to "
	  "postgresql://bounced@db1/bounced\n" },
	{ "prune", ctl_prune, CTL_F_CSV | CTL_F_JSON,
	  "--older-than DAYS [--dry-run] [--ignore-hooks]",
	  "forget events older than DAYS days",
	  "Deletes events dated more than DAYS days ago; recipients' states\n"
	  "are kept.  --dry-run deletes nothing and lists the addresses whose\n"
	  "events would go, with how many each.  Events an event hook\n"
	  "(events --hook) has not handed on yet are kept, and the hook named;\n"
	  "--ignore-hooks deletes them too (the hook then skips them).\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl prune --older-than 400 --dry-run\n" },
	{ "expire", ctl_expire, CTL_F_CSV | CTL_F_JSON,
	  "[--dry-run] REASON:AGE...",
	  "end suppressions older than their rule",
	  "Makes active again every address suppressed for REASON longer than\n"
	  "AGE (units s, m, h, d, w, y; \"soft-limit:180d\", \"hard:1y\";\n"
	  "manual suppressions never expire), and lists them.  --dry-run\n"
	  "changes nothing and lists the addresses that would expire.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl expire --dry-run soft-limit:90d\n" },
	{ "rebuild", ctl_rebuild, CTL_F_CSV | CTL_F_JSON,
	  "[--dry-run] [--list]",
	  "replay every state under the current policy",
	  "Recomputes every recipient's state from its events under the\n"
	  "current SoftBounceLimit, SoftBounceWindow and ComplaintSuppress,\n"
	  "in one transaction, and says how many changed, by transition.\n"
	  "--dry-run computes the same and changes nothing.  --list names\n"
	  "every address that changed.  --csv writes the transitions only,\n"
	  "or with --list the addresses (address,from,to).\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl -c /etc/bounced.conf rebuild --dry-run --list\n" },
	{ "ingest-log", ctl_ingest_log, CTL_F_JSON,
	  "[--from-start] FILE|-",
	  "read a mail log once (deferrals, deliveries, sends)",
	  "Reads the MTA's delivery log into the database, from where a\n"
	  "previous run stopped (--from-start: from the top).  A rotated,\n"
	  "gzip-compressed log (mail.log.2.gz) is read whole; bzip2, xz and\n"
	  "zstd are refused with the command that decompresses them.  A file\n"
	  "of which no line is a delivery record is said on stderr, exit 1\n"
	  "(never a silent zero).  On a terminal, progress is shown on stderr.\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl ingest-log /var/log/mail.log.2.gz\n" },
	{ "follow-log", ctl_follow_log, CTL_F_JSON,
	  "[--from-end] [--spike-rate N] FILE|-",
	  "follow a mail log live, across rotation",
	  "Follows the MTA's delivery log as it grows and across rotation,\n"
	  "keeping its position in the database, until SIGINT or SIGTERM (what\n"
	  "contrib/systemd/bounced-logfollow.service runs).\n"
	  "\n"
	  "  --from-end       start at the end of the file the first time\n"
	  "  --spike-rate N   warn when a domain passes N sender-side failures\n"
	  "                   an hour\n"
	  "\n"
	  "Example:\n"
	  "  journalctl -f -o short-iso-precise -u postfix@- | bouncectl "
	  "follow-log -\n" },
	{ "classify", ctl_classify, CTL_F_JSONL,
	  "[--rules FILE] FILE|-...",
	  "parse and classify bounce messages (nothing stored)",
	  "Parses each bounce message and prints, per reported recipient, the\n"
	  "status, reason, whether it is hard, who can act, the advice and the\n"
	  "deciding rule.  Nothing is stored.\n"
	  "\n"
	  "  --rules FILE   use FILE instead of the configured rules\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl --json classify /tmp/bounce.eml\n" },
	{ "rules-test", ctl_rules_test, CTL_F_JSON,
	  "[--status X.Y.Z] [--code NNN] [--mta NAME] [--action A] "
	  "[--command CMD] [--dtype TYPE] [--remote HOST] [--log] "
	  "[--rules FILE] \"TEXT\"",
	  "the verdict and deciding rule for one diagnostic",
	  "Classifies one diagnostic text as bounced would and shows the\n"
	  "verdict and the rule that decided (exit 1 when no rule matched).\n"
	  "\n"
	  "  --status X.Y.Z   the enhanced status (default: read from TEXT)\n"
	  "  --code NNN       the SMTP reply code\n"
	  "  --command CMD    the SMTP command answered (rcpt, data, ...)\n"
	  "  --log            TEXT is a mail log line\n"
	  "  --rules FILE     use FILE instead of the configured rules\n"
	  "\n"
	  "Example:\n"
	  "  bouncectl rules-test \"550 5.1.1 <bob@example.com>: user unknown\"\n" },
};
#define CTL_NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* ctl_cmd_find - the command called name, or NULL */
const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/*
 * ctl_usage - the summary of every command
 *
 * Arguments: fp, stdout for -h and help, stderr after a mistake.
 */
void
ctl_usage(FILE *fp)
{
	size_t	 i;

	fprintf(fp, "usage: bouncectl [-c CONFIG] [--db PATH] [--create] "
	    "[--wait SECONDS] [--json|--csv] COMMAND [ARGS]\n"
	    "       bouncectl help [COMMAND] | COMMAND --help | -V\n"
	    "\ncommands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(fp, "  %-11s %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].summary);
	fprintf(fp, "\n\"bouncectl help COMMAND\" shows a command's "
	    "options; bouncectl(8) has the details.\n");
}

/*
 * ctl_help - the help of one command on fp
 *
 * Returns CTL_EXIT_OK, or CTL_EXIT_ERROR for an unknown command.
 */
int
ctl_help(FILE *fp, const char *name)
{
	const struct ctl_cmd	*c;

	if ((c = ctl_cmd_find(name)) == NULL) {
		fprintf(stderr, "bouncectl: unknown command \"%s\"\n", name);
		ctl_usage(stderr);
		return CTL_EXIT_ERROR;
	}
	fprintf(fp, "usage: bouncectl %s %s\n\n%s: %s.\n\n%s\nOutput: %s%s.\n",
	    c->name, c->args, c->name, c->summary, c->help,
	    (c->flags & CTL_F_CSVDEF) ? "CSV (with or without --csv), or "
	    "JSON Lines with --json" :
	    (c->flags & CTL_F_JSONL) ? "a table, or JSON Lines with --json" :
	    (c->flags & CTL_F_JSON) ? "text, or one JSON document with "
	    "--json" : "text only",
	    (c->flags & CTL_F_CSV) && !(c->flags & CTL_F_CSVDEF) ?
	    ", or CSV with --csv" : "");
	return CTL_EXIT_OK;
}
