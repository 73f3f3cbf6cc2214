/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_state.c - bouncectl(8) subcommands on the store: status, list,
 * history, stats (sends, bounce rates and their warning thresholds),
 * export (read-only opens, so they work while bounced writes: WAL) and
 * suppress, unsuppress, import, prune.
 *
 * Output is an aligned table by default, one JSON document with --json
 * (RFC 8259; export --json writes JSON Lines, one object a line) or CSV
 * with --csv (RFC 4180, header line first).  Dates are UTC, written
 * ISO 8601 "YYYY-MM-DDTHH:MM:SSZ".  Everything printed from the database
 * came from the network once: tables replace control bytes with '?',
 * JSON escapes them (json_string()), CSV quotes them.
 *
 * Input files (suppress -f, import) are read line by line with a bound
 * on the line length; nothing of a file is applied unless every line of
 * it is acceptable.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ctl_state.h"
#include "json.h"
#include "state.h"
#include "store.h"

#define LINE_MAX_BYTES	65536	/* longest line of an input file */
#define TABLE_DIAG_W	60	/* diagnostic width in tables */

/* ---- output: table, JSON or CSV ---- */

/* COL_PCT: n is hundredths of a percent, or -1 for "no figure" (null). */
enum col_type { COL_STR, COL_NUM, COL_TIME, COL_BOOL, COL_PCT };

struct col {
	const char	*name;
	enum col_type	 type;
	bool		 table;		/* shown in the human table */
	size_t		 maxw;		/* table truncation, 0 for none */
};

struct val {
	const char	*s;
	int64_t		 n;
};

enum out_fmt { OUT_TABLE, OUT_JSON, OUT_CSV };

struct out {
	enum out_fmt	 fmt;
	bool		 jsonl;		/* JSON Lines instead of an array */
	const struct col *cols;
	size_t		 ncols;
	char		**cells;	/* table: nrows * ncols */
	size_t		 nrows, cap;
	bool		 oom;
};

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
out_init(struct out *o, const struct ctl_opts *opts, const struct col *cols,
    size_t ncols, bool jsonl)
{
	memset(o, 0, sizeof(*o));
	o->fmt = opts->json ? OUT_JSON : opts->csv ? OUT_CSV : OUT_TABLE;
	o->jsonl = jsonl;
	o->cols = cols;
	o->ncols = ncols;
	if (o->fmt == OUT_CSV) {
		size_t	 i;

		for (i = 0; i < ncols; i++)
			printf("%s%s", i ? "," : "", cols[i].name);
		putchar('\n');
	} else if (o->fmt == OUT_JSON && !o->jsonl)
		putchar('[');
}

/* Table cell: control bytes become '?', long text is cut with "...". */
static char *
cell_text(const char *s, size_t maxw)
{
	size_t	 n, i, w;
	char	*c;

	if (s == NULL)
		s = "";
	n = strlen(s);
	if ((c = malloc(n + 4)) == NULL)
		return NULL;
	for (i = 0, w = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (maxw > 0 && w >= maxw && (ch & 0xc0) != 0x80) {
			memcpy(c + i, "...", 4);
			return c;
		}
		c[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
		if ((ch & 0xc0) != 0x80)
			w++;
	}
	c[n] = '\0';
	return c;
}

static void
csv_field(const char *s)
{
	const char	*p;

	if (s[strcspn(s, ",\"\r\n")] == '\0' && !isspace((unsigned char)s[0]))
		fputs(s, stdout);
	else {
		putchar('"');
		for (p = s; *p; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	}
}

static void
out_row(struct out *o, const struct val *v)
{
	char	 buf[64];
	size_t	 i;
	bool	 first = true;

	switch (o->fmt) {
	case OUT_CSV:
		for (i = 0; i < o->ncols; i++) {
			if (i)
				putchar(',');
			switch (o->cols[i].type) {
			case COL_STR:
				csv_field(v[i].s != NULL ? v[i].s : "");
				break;
			case COL_NUM:
				printf("%" PRId64, v[i].n);
				break;
			case COL_TIME:
				fmt_time(v[i].n, buf, sizeof(buf));
				fputs(buf, stdout);
				break;
			case COL_BOOL:
				fputs(v[i].n ? "true" : "false", stdout);
				break;
			case COL_PCT:
				if (v[i].n >= 0)
					printf("%" PRId64 ".%02" PRId64,
					    v[i].n / 100, v[i].n % 100);
				break;
			}
		}
		putchar('\n');
		break;
	case OUT_JSON:
		if (o->nrows++ > 0 && !o->jsonl)
			putchar(',');
		putchar('{');
		for (i = 0; i < o->ncols; i++) {
			json_key(stdout, o->cols[i].name, &first);
			switch (o->cols[i].type) {
			case COL_STR:
				json_string(stdout, v[i].s != NULL &&
				    v[i].s[0] != '\0' ? v[i].s : NULL);
				break;
			case COL_NUM:
				printf("%" PRId64, v[i].n);
				break;
			case COL_TIME:
				fmt_time(v[i].n, buf, sizeof(buf));
				json_string(stdout, buf[0] ? buf : NULL);
				break;
			case COL_BOOL:
				fputs(v[i].n ? "true" : "false", stdout);
				break;
			case COL_PCT:
				if (v[i].n >= 0)
					printf("%" PRId64 ".%02" PRId64,
					    v[i].n / 100, v[i].n % 100);
				else
					fputs("null", stdout);
				break;
			}
		}
		putchar('}');
		if (o->jsonl)
			putchar('\n');
		break;
	case OUT_TABLE:
		if (o->nrows == o->cap) {
			size_t	 ncap = o->cap ? o->cap * 2 : 64;
			char	**nc;

			nc = reallocarray(o->cells, ncap * o->ncols,
			    sizeof(*nc));
			if (nc == NULL) {
				o->oom = true;
				return;
			}
			o->cells = nc;
			o->cap = ncap;
		}
		for (i = 0; i < o->ncols; i++) {
			const char	*s = buf;

			switch (o->cols[i].type) {
			case COL_STR:
				s = v[i].s;
				break;
			case COL_NUM:
				snprintf(buf, sizeof(buf), "%" PRId64, v[i].n);
				break;
			case COL_TIME:
				fmt_time(v[i].n, buf, sizeof(buf));
				if (buf[0] == '\0')
					s = "-";
				break;
			case COL_BOOL:
				s = v[i].n ? "yes" : "no";
				break;
			case COL_PCT:
				if (v[i].n >= 0)
					snprintf(buf, sizeof(buf), "%" PRId64
					    ".%02" PRId64 "%%", v[i].n / 100,
					    v[i].n % 100);
				else
					s = "-";
				break;
			}
			if (s == NULL || *s == '\0')
				s = "-";
			o->cells[o->nrows * o->ncols + i] = o->cols[i].table ?
			    cell_text(s, o->cols[i].maxw) : NULL;
		}
		o->nrows++;
		break;
	}
}

static size_t
disp_width(const char *s)
{
	size_t	 w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Finish the output; returns false if memory ran out on the way. */
static bool
out_end(struct out *o)
{
	size_t	 i, r, w[32], last = 0;
	char	*c;

	if (o->fmt == OUT_JSON && !o->jsonl)
		fputs("]\n", stdout);
	if (o->fmt != OUT_TABLE)
		return !o->oom;
	for (i = 0; i < o->ncols && i < 32; i++) {
		w[i] = o->cols[i].table ? strlen(o->cols[i].name) : 0;
		if (o->cols[i].table)
			last = i;
	}
	for (r = 0; r < o->nrows; r++)
		for (i = 0; i < o->ncols && i < 32; i++)
			if ((c = o->cells[r * o->ncols + i]) != NULL &&
			    disp_width(c) > w[i])
				w[i] = disp_width(c);
	for (r = 0; r <= o->nrows; r++) {
		for (i = 0; i < o->ncols && i < 32; i++) {
			if (!o->cols[i].table)
				continue;
			c = r == 0 ? (char *)o->cols[i].name :
			    o->cells[(r - 1) * o->ncols + i];
			if (c == NULL)
				c = (char *)"?";
			if (i == last)
				printf("%s\n", c);
			else
				printf("%s%*s", c,
				    (int)(w[i] - disp_width(c) + 2), "");
		}
	}
	for (r = 0; r < o->nrows * o->ncols; r++)
		free(o->cells[r]);
	free(o->cells);
	return !o->oom;
}

/* ---- small helpers ---- */

static int
store_fail(struct store *s, const char *what)
{
	fprintf(stderr, "bouncectl: %s: %s\n", what, store_errmsg(s));
	return CTL_EXIT_ERROR;
}

static bool
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * A date for --since: YYYY-MM-DD[(T| )HH:MM[:SS]][Z] in UTC, @EPOCH, or
 * Nd (N days before now).
 */
static bool
parse_date(const char *s, int64_t now, int64_t *out)
{
	int	 y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	int64_t	 v;
	size_t	 len = strlen(s);

	if (s[0] == '@')
		return parse_i64(s + 1, 0, INT64_MAX / 2, out);
	if (len > 1 && len < 8 && s[len - 1] == 'd') {
		char	 num[8];

		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		if (!parse_i64(num, 0, 100000, &v))
			return false;
		*out = now - v * 86400;
		return true;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	if (s[n] == 'T' || s[n] == ' ') {
		int	 m = 0;

		if (sscanf(s + n + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return false;
		n += 1 + m;
		if (s[n] == ':') {
			if (sscanf(s + n + 1, "%2d%n", &se, &m) != 1)
				return false;
			n += 1 + m;
		}
	}
	if (s[n] == 'Z')
		n++;
	if (s[n] != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 ||
	    se < 0)
		return false;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return true;
}

/* Who runs the command, for --by's default. */
static const char *
default_by(char *buf, size_t len)
{
	const char	*u;
	struct passwd	 pw, *res = NULL;
	char		 pwbuf[1024];

	if ((u = getenv("SUDO_USER")) != NULL && *u != '\0')
		return u;
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL) {
		snprintf(buf, len, "%s", pw.pw_name);
		return buf;
	}
	snprintf(buf, len, "uid %u", (unsigned)getuid());
	return buf;
}

/* Strip a trailing CR/LF and surrounding white space, in place. */
static char *
trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Open FILE or "-" for stdin. */
static FILE *
open_input(const char *path)
{
	FILE	*fp;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "r")) == NULL)
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
	return fp;
}

/*
 * Read one line (without its newline) into *line; returns its length, -1
 * at the end, -2 when longer than LINE_MAX_BYTES or holding a NUL.
 */
static ssize_t
read_line(FILE *fp, char **line, size_t *cap)
{
	ssize_t	 n;

	if ((n = getline(line, cap, fp)) < 0)
		return -1;
	if (n > LINE_MAX_BYTES || strlen(*line) != (size_t)n)
		return -2;
	while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
		(*line)[--n] = '\0';
	return n;
}

/* ---- status ---- */

static const struct col status_cols[] = {
	{ "address", COL_STR, true, 0 },
	{ "state", COL_STR, true, 0 },
	{ "reason", COL_STR, true, 0 },
	{ "soft_count", COL_NUM, true, 0 },
	{ "suppressed_since", COL_TIME, false, 0 },
	{ "first_bounce", COL_TIME, true, 0 },
	{ "last_bounce", COL_TIME, true, 0 },
	{ "last_status", COL_STR, true, 0 },
	{ "last_reason", COL_STR, true, 0 },
	{ "last_diagnostic", COL_STR, true, TABLE_DIAG_W },
	{ "manual_by", COL_STR, false, 0 },
	{ "manual_why", COL_STR, false, 0 },
	{ "manual_at", COL_TIME, false, 0 },
	{ "suppress_events", COL_STR, false, 0 },
};
#define NSTATUS	(sizeof(status_cols) / sizeof(status_cols[0]))

static void
recipient_vals(const struct store_recipient *r, struct val *v)
{
	memset(v, 0, sizeof(*v) * NSTATUS);
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
}

/* The human form of status: one block per address. */
static void
status_block(const struct store_recipient *r, bool known)
{
	char	 t1[64], t2[64];
	char	*diag;

	printf("%s\n", r->address);
	if (!known) {
		printf("  state:        active (never seen)\n");
		return;
	}
	fmt_time(r->suppressed_since, t1, sizeof(t1));
	printf("  state:        %s%s%s%s%s%s\n", r->state,
	    r->reason[0] ? " (" : "", r->reason, r->reason[0] ? ")" : "",
	    t1[0] ? " since " : "", t1);
	printf("  soft count:   %u\n", r->soft_count);
	fmt_time(r->first_bounce, t1, sizeof(t1));
	fmt_time(r->last_bounce, t2, sizeof(t2));
	printf("  first bounce: %s\n  last bounce:  %s\n", t1[0] ? t1 : "-",
	    t2[0] ? t2 : "-");
	printf("  last status:  %s%s%s%s\n", r->last_status[0] ?
	    r->last_status : "-", r->last_reason[0] ? " (" : "",
	    r->last_reason, r->last_reason[0] ? ")" : "");
	if ((diag = cell_text(r->last_diagnostic[0] ? r->last_diagnostic :
	    "-", 0)) != NULL) {
		printf("  diagnostic:   %s\n", diag);
		free(diag);
	}
	if (r->suppress_events[0] != '\0' &&
	    strcmp(r->state, "suppressed") == 0)
		printf("  led by:       event%s %s (see history --json)\n",
		    strchr(r->suppress_events, ',') != NULL ? "s" : "",
		    r->suppress_events);
	if (r->manual_at > 0) {
		fmt_time(r->manual_at, t1, sizeof(t1));
		printf("  manual:       %s by %s: %s\n", t1,
		    r->manual_by[0] ? r->manual_by : "-",
		    r->manual_why[0] ? r->manual_why : "-");
	}
}

/*
 * ctl_status - bouncectl status ADDRESS...
 *
 * Returns 0 when no address is suppressed, 1 when one is, 2 on an error
 * (an address that is not one, a database failure).
 */
int
ctl_status(const struct ctl_opts *o, int argc, char **argv)
{
	struct store_recipient	*r;
	struct store		*s;
	struct out		 out;
	struct val		 v[NSTATUS];
	enum bd_status		 st;
	int			 i, rc = CTL_EXIT_OK, any = 0;
	bool			 err = false;

	if (argc < 2) {
		fprintf(stderr, "usage: bouncectl status ADDRESS...\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	if ((r = malloc(sizeof(*r))) == NULL) {
		store_close(s);
		return CTL_EXIT_ERROR;
	}
	out_init(&out, o, status_cols, NSTATUS, false);
	for (i = 1; i < argc; i++) {
		st = store_lookup(s, argv[i], r);
		if (st == BD_ENOTFOUND) {
			memset(r, 0, sizeof(*r));
			addr_normalize(argv[i], r->address,
			    sizeof(r->address));
			snprintf(r->state, sizeof(r->state), "active");
		} else if (st != BD_OK) {
			store_fail(s, argv[i]);
			err = true;
			continue;
		}
		if (strcmp(r->state, "suppressed") == 0)
			any = 1;
		if (out.fmt == OUT_TABLE) {
			if (i > 1)
				putchar('\n');
			status_block(r, st == BD_OK);
		} else {
			recipient_vals(r, v);
			out_row(&out, v);
		}
	}
	if (out.fmt != OUT_TABLE)
		out_end(&out);
	free(r);
	store_close(s);
	if (err)
		return CTL_EXIT_ERROR;
	return any ? CTL_EXIT_SUPPRESSED : CTL_EXIT_OK;
}

/* ---- list and export ---- */

static const struct col list_cols[] = {
	{ "address", COL_STR, true, 0 },
	{ "state", COL_STR, true, 0 },
	{ "reason", COL_STR, true, 0 },
	{ "soft_count", COL_NUM, true, 0 },
	{ "suppressed_since", COL_TIME, true, 0 },
	{ "first_bounce", COL_TIME, false, 0 },
	{ "last_bounce", COL_TIME, true, 0 },
	{ "last_status", COL_STR, true, 0 },
	{ "last_reason", COL_STR, true, 0 },
	{ "last_diagnostic", COL_STR, false, 0 },
	{ "manual_by", COL_STR, false, 0 },
	{ "manual_why", COL_STR, false, 0 },
	{ "manual_at", COL_TIME, false, 0 },
	{ "suppress_events", COL_STR, false, 0 },
};
_Static_assert(sizeof(list_cols) == sizeof(status_cols),
    "list and status share recipient_vals()");

static int
list_cb(void *arg, const struct store_recipient *r)
{
	struct val	 v[NSTATUS];

	recipient_vals(r, v);
	out_row(arg, v);
	return 0;
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
	struct store		*s;
	struct out		 out;
	enum state_kind		 k;
	int			 ch, rc;

	memset(&f, 0, sizeof(f));
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!state_kind_parse(optarg, &k)) {
				fprintf(stderr, "bouncectl: --state: \"%s\" is "
				    "not active, soft or suppressed\n", optarg);
				return CTL_EXIT_ERROR;
			}
			f.state = state_kind_name(k);
			break;
		case 'r':
			f.reason = optarg;
			break;
		case 'd':
			f.domain = optarg;
			break;
		case 'S':
			if (!parse_date(optarg, (int64_t)time(NULL),
			    &f.since)) {
				fprintf(stderr, "bouncectl: --since: bad date "
				    "\"%s\" (YYYY-MM-DD[THH:MM[:SS]], @EPOCH "
				    "or Nd)\n", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		case 'l':
		case 'o':
			if (!parse_i64(optarg, 0, INT64_MAX / 2,
			    ch == 'l' ? &f.limit : &f.offset)) {
				fprintf(stderr, "bouncectl: --%s: not a "
				    "number: \"%s\"\n", ch == 'l' ? "limit" :
				    "offset", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		default:
			fprintf(stderr, "usage: bouncectl list [--state S] "
			    "[--reason R] [--domain D] [--since DATE] "
			    "[--limit N] [--offset N]\n");
			return CTL_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bouncectl: list: unexpected \"%s\"\n",
		    argv[optind]);
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	out_init(&out, o, list_cols, NSTATUS, false);
	if (store_list(s, &f, list_cb, &out) != BD_OK) {
		out_end(&out);
		rc = store_fail(s, "list");
	} else if (!out_end(&out)) {
		fprintf(stderr, "bouncectl: out of memory\n");
		rc = CTL_EXIT_ERROR;
	}
	store_close(s);
	return rc;
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
	struct ctl_opts	 eo = *o;
	struct store	*s;
	struct out	 out;
	int		 rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: bouncectl export [--csv|--json]\n");
		return CTL_EXIT_ERROR;
	}
	if (!eo.json)
		eo.csv = true;
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	out_init(&out, &eo, list_cols, NSTATUS, eo.json);
	if (store_list(s, NULL, list_cb, &out) != BD_OK)
		rc = store_fail(s, "export");
	out_end(&out);
	store_close(s);
	return rc;
}

/* ---- history ---- */

static const struct col hist_cols[] = {
	{ "when", COL_TIME, true, 0 },
	{ "action", COL_STR, true, 0 },
	{ "status", COL_STR, true, 0 },
	{ "reason", COL_STR, true, 0 },
	{ "class", COL_STR, true, 0 },
	{ "source", COL_STR, true, 0 },
	{ "rule", COL_STR, true, 0 },
	{ "diagnostic", COL_STR, true, TABLE_DIAG_W },
	{ "id", COL_NUM, false, 0 },
	{ "recorded_at", COL_TIME, false, 0 },
	{ "recipient", COL_STR, false, 0 },
	{ "original_recipient", COL_STR, false, 0 },
	{ "reply_code", COL_NUM, false, 0 },
	{ "hard", COL_BOOL, false, 0 },
	{ "who", COL_STR, false, 0 },
	{ "advice", COL_STR, false, 0 },
	{ "remote_mta", COL_STR, false, 0 },
	{ "reporting_mta", COL_STR, false, 0 },
	{ "queue_id", COL_STR, false, 0 },
	{ "message_id", COL_STR, false, 0 },
	{ "envelope_id", COL_STR, false, 0 },
	{ "sender", COL_STR, false, 0 },
	{ "campaign", COL_STR, false, 0 },
	{ "feedback_type", COL_STR, false, 0 },
	{ "trusted", COL_BOOL, false, 0 },
};
#define NHIST	(sizeof(hist_cols) / sizeof(hist_cols[0]))

static int
hist_cb(void *arg, const struct store_event_row *e)
{
	struct val	 v[NHIST];

	memset(v, 0, sizeof(v));
	v[0].n = e->when;
	v[1].s = e->action;
	v[2].s = e->status;
	v[3].s = e->reason;
	v[4].s = e->class;
	v[5].s = e->source;
	v[6].s = e->rule;
	v[7].s = e->diagnostic;
	v[8].n = e->id;
	v[9].n = e->recorded_at;
	v[10].s = e->recipient;
	v[11].s = e->original_recipient;
	v[12].n = e->reply_code;
	v[13].n = e->hard;
	v[14].s = e->who;
	v[15].s = e->advice;
	v[16].s = e->remote_mta;
	v[17].s = e->reporting_mta;
	v[18].s = e->queue_id;
	v[19].s = e->message_id;
	v[20].s = e->envelope_id;
	v[21].s = e->sender;
	v[22].s = e->campaign;
	v[23].s = e->feedback_type;
	v[24].n = e->trusted;
	out_row(arg, v);
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
	struct out	 out;
	int		 rc;

	if (argc != 2) {
		fprintf(stderr, "usage: bouncectl history ADDRESS\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	out_init(&out, o, hist_cols, NHIST, false);
	if (store_history(s, argv[1], hist_cb, &out) != BD_OK) {
		out_end(&out);
		rc = store_fail(s, "history");
	} else if (!out_end(&out))
		rc = CTL_EXIT_ERROR;
	store_close(s);
	return rc;
}

/* ---- stats ---- */

static const struct col stat_cols[] = {
	{ "key", COL_STR, true, 0 },
	{ "sends", COL_NUM, true, 0 },
	{ "delivered", COL_NUM, true, 0 },
	{ "soft", COL_NUM, true, 0 },
	{ "hard", COL_NUM, true, 0 },
	{ "sender_side", COL_NUM, true, 0 },
	{ "bounce_rate", COL_PCT, true, 0 },
	{ "hard_rate", COL_PCT, true, 0 },
	{ "suppressed", COL_NUM, true, 0 },
	{ "events", COL_NUM, true, 0 },
	{ "warning", COL_STR, true, 0 },
	{ "sends_delivered", COL_NUM, false, 0 },
	{ "sends_soft", COL_NUM, false, 0 },
	{ "sends_hard", COL_NUM, false, 0 },
	{ "sends_sender_side", COL_NUM, false, 0 },
};
#define NSTAT	(sizeof(stat_cols) / sizeof(stat_cols[0]))

struct stat_arg {
	struct out	*out;
	int64_t		 warn_total;	/* hundredths of a percent */
	int64_t		 warn_hard;
	int64_t		 min_sends;
	int		 crossed;
	const char	*by;
};

/* part / whole in hundredths of a percent, rounded; -1 without a whole */
static int64_t
pct(int64_t part, int64_t whole)
{
	if (whole <= 0)
		return -1;
	return (part * 10000 + whole / 2) / whole;
}

static int
stat_cb(void *arg, const struct store_stat_row *r)
{
	struct stat_arg	*a = arg;
	struct val	 v[NSTAT];
	char		 warn[128];
	int64_t		 total, hard;

	memset(v, 0, sizeof(v));
	warn[0] = '\0';
	/*
	 * With sends (the log is read): the outcome of each send.  Without
	 * (DSNs only): the events, and no rate.
	 */
	total = pct(r->sends_soft + r->sends_hard + r->sends_sender, r->sends);
	hard = pct(r->sends_hard, r->sends);
	if (r->sends >= a->min_sends && r->sends > 0) {
		if (total > a->warn_total)
			snprintf(warn, sizeof(warn), "bounce rate above "
			    "%" PRId64 ".%02" PRId64 "%%", a->warn_total / 100,
			    a->warn_total % 100);
		if (hard > a->warn_hard)
			snprintf(warn + strlen(warn), sizeof(warn) -
			    strlen(warn), "%shard rate above %" PRId64 ".%02"
			    PRId64 "%%", warn[0] ? "; " : "",
			    a->warn_hard / 100, a->warn_hard % 100);
	}
	if (warn[0] != '\0') {
		a->crossed = 1;
		fprintf(stderr, "bouncectl: warning: %s%s%s: %s (%" PRId64
		    ".%02" PRId64 "%% of %" PRId64 " sends, hard %" PRId64
		    ".%02" PRId64 "%%)\n", a->by != NULL ? a->by : "",
		    a->by != NULL ? " " : "", r->key[0] ? r->key : "(none)",
		    warn, total / 100, total % 100, r->sends, hard / 100,
		    hard % 100);
	}
	v[0].s = r->key[0] ? r->key : "(none)";
	v[1].n = r->sends;
	v[2].n = r->sends > 0 ? r->sends_delivered : r->delivered;
	v[3].n = r->sends > 0 ? r->sends_soft : r->soft;
	v[4].n = r->sends > 0 ? r->sends_hard : r->hard;
	v[5].n = r->sends > 0 ? r->sends_sender : r->sender;
	v[6].n = total;
	v[7].n = hard;
	v[8].n = r->suppressed;
	v[9].n = r->events;
	v[10].s = warn;
	v[11].n = r->sends_delivered;
	v[12].n = r->sends_soft;
	v[13].n = r->sends_hard;
	v[14].n = r->sends_sender;
	out_row(a->out, v);
	return 0;
}

/* A percentage "2", "0.5", "1.25" to hundredths of a percent. */
static bool
parse_pct(const char *s, int64_t *out)
{
	int64_t	 whole = 0, frac = 0;
	int	 nd = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((whole = whole * 10 + (*s - '0')) > 100)
			return false;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (nd++ < 2)
				frac = frac * 10 + (*s - '0');
	if (*s == '%')
		s++;
	if (*s != '\0')
		return false;
	while (nd < 2) {
		frac *= 10;
		nd++;
	}
	*out = whole * 100 + frac;
	return *out <= 10000;
}

/*
 * ctl_stats - bouncectl stats [--by domain|reason|day|campaign]
 * [--since DATE] [--warn-total PCT] [--warn-hard PCT] [--min-sends N]
 *
 * Sends, their outcomes and bounce rates where the MTA log is read
 * (ingest-log, follow-log), else the events; a warning on stderr (and in
 * the warning column) for each group of at least N sends (default 100)
 * whose bounce rate passes PCT (default 2%) or hard bounce rate passes
 * its PCT (default 0.5%).
 * Returns 0; 1 when a group crossed a threshold; 2 on a bad option or a
 * database failure.
 */
int
ctl_stats(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'S' },
		{ "warn-total", required_argument, NULL, 't' },
		{ "warn-hard", required_argument, NULL, 'h' },
		{ "min-sends", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const bys[] = { "domain", "reason", "day",
	    "campaign" };
	struct stat_arg	 sa;
	struct store	*s;
	struct out	 out;
	const char	*by = NULL;
	int64_t		 since = 0;
	size_t		 i;
	int		 ch, rc;

	memset(&sa, 0, sizeof(sa));
	sa.warn_total = 200;
	sa.warn_hard = 50;
	sa.min_sends = 100;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			by = optarg;
			break;
		case 'S':
			if (!parse_date(optarg, (int64_t)time(NULL), &since)) {
				fprintf(stderr, "bouncectl: --since: bad date "
				    "\"%s\" (YYYY-MM-DD[THH:MM[:SS]], @EPOCH "
				    "or Nd)\n", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		case 't':
		case 'h':
			if (!parse_pct(optarg, ch == 't' ? &sa.warn_total :
			    &sa.warn_hard)) {
				fprintf(stderr, "bouncectl: --warn-%s: not a "
				    "percentage from 0 to 100: \"%s\"\n",
				    ch == 't' ? "total" : "hard", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		case 'm':
			if (!parse_i64(optarg, 1, INT64_MAX / 2,
			    &sa.min_sends)) {
				fprintf(stderr, "bouncectl: --min-sends: not a "
				    "count: \"%s\"\n", optarg);
				return CTL_EXIT_ERROR;
			}
			break;
		default:
			fprintf(stderr, "usage: bouncectl stats "
			    "[--by domain|reason|day|campaign] [--since DATE] "
			    "[--warn-total PCT] [--warn-hard PCT] "
			    "[--min-sends N]\n");
			return CTL_EXIT_ERROR;
		}
	}
	if (by != NULL) {
		for (i = 0; i < sizeof(bys) / sizeof(bys[0]); i++)
			if (strcmp(by, bys[i]) == 0)
				break;
		if (i == sizeof(bys) / sizeof(bys[0])) {
			fprintf(stderr, "bouncectl: stats --by: \"%s\" is not "
			    "domain, reason, day or campaign\n", by);
			return CTL_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bouncectl: stats: unexpected \"%s\"\n",
		    argv[optind]);
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	out_init(&out, o, stat_cols, NSTAT, false);
	sa.out = &out;
	sa.by = by;
	if (store_stats_since(s, by, since, stat_cb, &sa) != BD_OK) {
		out_end(&out);
		rc = store_fail(s, "stats");
	} else if (!out_end(&out))
		rc = CTL_EXIT_ERROR;
	else if (sa.crossed)
		rc = CTL_EXIT_SUPPRESSED;	/* 1: needs attention */
	store_close(s);
	return rc;
}

/* ---- suppress, unsuppress ---- */

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

/* Addresses of -f FILE: one a line, '#' comments and blank lines skipped. */
static bool
read_addr_file(const char *path, struct addrs *a)
{
	FILE	*fp;
	char	*line = NULL, *p, norm[ADDR_MAX + 1];
	size_t	 cap = 0, lineno = 0;
	ssize_t	 n;
	bool	 ok = true;

	if ((fp = open_input(path)) == NULL)
		return false;
	while ((n = read_line(fp, &line, &cap)) != -1) {
		lineno++;
		if (n == -2) {
			fprintf(stderr, "bouncectl: %s:%zu: line too long or "
			    "binary\n", path, lineno);
			ok = false;
			continue;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (!addr_normalize(p, norm, sizeof(norm))) {
			fprintf(stderr, "bouncectl: %s:%zu: not an address: "
			    "\"%.80s\"\n", path, lineno, p);
			ok = false;
			continue;
		}
		if (!addrs_add(a, p)) {
			fprintf(stderr, "bouncectl: out of memory\n");
			ok = false;
			break;
		}
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return ok;
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
	struct store_manual	*ops = NULL;
	struct store		*s = NULL;
	struct addrs		 a = { NULL, 0, 0 };
	const char		*why = NULL, *by = NULL, *cmd = argv[0];
	char			 norm[ADDR_MAX + 1], bybuf[64];
	size_t			 i, bad = 0;
	int64_t			 now = (int64_t)time(NULL);
	int			 ch, rc = CTL_EXIT_ERROR;
	bool			 ok = true;

	while ((ch = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			why = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'f':
			if (!read_addr_file(optarg, &a))
				ok = false;
			break;
		default:
			fprintf(stderr, "usage: bouncectl %s [--reason TEXT] "
			    "[--by WHO] [-f FILE] ADDRESS...\n", cmd);
			goto out;
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (!addr_normalize(argv[i], norm, sizeof(norm))) {
			fprintf(stderr, "bouncectl: not an address: "
			    "\"%.80s\"\n", argv[i]);
			ok = false;
		} else if (!addrs_add(&a, argv[i]))
			ok = false;
	}
	if (!ok) {
		fprintf(stderr, "bouncectl: %s: nothing done\n", cmd);
		goto out;
	}
	if (a.n == 0) {
		fprintf(stderr, "usage: bouncectl %s [--reason TEXT] "
		    "[--by WHO] [-f FILE] ADDRESS...\n", cmd);
		goto out;
	}
	if (by == NULL)
		by = default_by(bybuf, sizeof(bybuf));
	if ((ops = calloc(a.n, sizeof(*ops))) == NULL)
		goto out;
	for (i = 0; i < a.n; i++) {
		ops[i].address = a.v[i];
		ops[i].suppress = suppress;
		ops[i].reason = suppress ? "manual" : NULL;
		ops[i].by = by;
		ops[i].why = why;
		ops[i].when = now;
		ops[i].source = EV_SRC_MANUAL;
	}
	if ((rc = ctl_store_open(o, 0, &s)) != CTL_EXIT_OK)
		goto out;
	if (store_manual(s, ops, a.n, &bad) != BD_OK) {
		rc = store_fail(s, cmd);
		goto out;
	}
	if (o->json) {
		bool	 first = true;

		putchar('{');
		json_key(stdout, "action", &first);
		json_string(stdout, cmd);
		json_key(stdout, "addresses", &first);
		putchar('[');
		for (i = 0; i < a.n; i++) {
			if (i)
				putchar(',');
			addr_normalize(a.v[i], norm, sizeof(norm));
			json_string(stdout, norm);
		}
		fputs("]}\n", stdout);
	} else {
		for (i = 0; i < a.n; i++) {
			addr_normalize(a.v[i], norm, sizeof(norm));
			printf("%s: %s\n", norm, suppress ? "suppressed" :
			    "active");
		}
	}
	rc = CTL_EXIT_OK;
out:
	store_close(s);
	free(ops);
	addrs_free(&a);
	return rc;
}

/*
 * ctl_suppress - bouncectl suppress [--reason TEXT] [--by WHO] [-f FILE]
 * ADDRESS...: suppress addresses by hand (all or none)
 *
 * Returns 0, or 2 when an address is not one (nothing is done) or the
 * database fails.
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

/* ---- import ---- */

/* The fields import looks at in a record. */
enum { F_ADDRESS, F_STATE, F_REASON, F_WHY, F_BY, F_DATE, F_NFIELDS };

static int
field_index(const char *name)
{
	static const struct {
		const char	*name;
		int		 f;
	} names[] = {
		{ "address", F_ADDRESS }, { "recipient", F_ADDRESS },
		{ "email", F_ADDRESS }, { "state", F_STATE },
		{ "reason", F_REASON }, { "manual_why", F_WHY },
		{ "why", F_WHY }, { "manual_by", F_BY }, { "by", F_BY },
		{ "suppressed_since", F_DATE }, { "date", F_DATE },
		{ "created", F_DATE }, { "created_at", F_DATE },
		{ "timestamp", F_DATE },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].f;
	return -1;
}

/*
 * Split one CSV line (RFC 4180, no line breaks inside quotes) into at
 * most max fields, in place.  Returns the count, or -1 if malformed.
 */
static int
csv_split(char *line, char **f, int max)
{
	char	*r = line, *w = line;
	int	 n = 0;

	for (;;) {
		if (n == max)
			return -1;
		f[n++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return -1;	/* unterminated */
				if (*r == '"') {
					if (r[1] != '"')
						break;
					r++;
				}
				*w++ = *r++;
			}
			r++;
			if (*r != ',' && *r != '\0')
				return -1;
		} else {
			while (*r != ',' && *r != '\0') {
				if (*r == '"')
					return -1;
				*w++ = *r++;
			}
		}
		if (*r == '\0') {
			*w = '\0';
			return n;
		}
		*w++ = '\0';
		r++;
	}
}

/* Append the UTF-8 form of code point c. */
static char *
put_utf8(char *w, unsigned long c)
{
	if (c < 0x80)
		*w++ = (char)c;
	else if (c < 0x800) {
		*w++ = (char)(0xc0 | (c >> 6));
		*w++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*w++ = (char)(0xe0 | (c >> 12));
		*w++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*w++ = (char)(0x80 | (c & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (c >> 18));
		*w++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*w++ = (char)(0x80 | (c & 0x3f));
	}
	return w;
}

static bool
hex4(const char *p, unsigned long *out)
{
	int	 i;

	*out = 0;
	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return false;
		*out = *out * 16 + (unsigned long)(isdigit((unsigned char)p[i]) ?
		    p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	return true;
}

/*
 * Decode a JSON string starting at *pp (on the opening quote) in place;
 * *pp moves past the closing quote.  RFC 8259 section 7.
 */
static char *
json_str(char **pp)
{
	char		*r = *pp + 1, *w = *pp + 1, *start = w;
	unsigned long	 c, lo;

	for (;;) {
		if (*r == '\0' || (unsigned char)*r < 0x20)
			return NULL;
		if (*r == '"')
			break;
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case '"': case '\\': case '/':
			*w++ = *r++;
			continue;
		case 'b': *w++ = '\b'; r++; continue;
		case 'f': *w++ = '\f'; r++; continue;
		case 'n': *w++ = '\n'; r++; continue;
		case 'r': *w++ = '\r'; r++; continue;
		case 't': *w++ = '\t'; r++; continue;
		case 'u':
			if (!hex4(r + 1, &c))
				return NULL;
			r += 5;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (r[0] != '\\' || r[1] != 'u' ||
				    !hex4(r + 2, &lo) || lo < 0xdc00 ||
				    lo > 0xdfff)
					return NULL;
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				r += 6;
			} else if (c >= 0xdc00 && c <= 0xdfff)
				return NULL;
			if (c == 0)
				return NULL;
			/* never longer than the 6 or 12 bytes it came from */
			w = put_utf8(w, c);
			continue;
		default:
			return NULL;
		}
	}
	*w = '\0';
	*pp = r + 1;
	return start;
}

static char *
skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/*
 * Parse one flat JSON object (string, number, true, false, null values)
 * in place; the fields import knows go to f[].  Returns false with *why
 * set when the line is not such an object.
 */
static bool
json_record(char *line, char **f, const char **why)
{
	char	*p = skip_ws(line), *key, *v;
	int	 idx;

	if (*p++ != '{') {
		*why = "not a JSON object";
		return false;
	}
	p = skip_ws(p);
	if (*p == '}')
		goto end;
	for (;;) {
		p = skip_ws(p);
		if (*p != '"' || (key = json_str(&p)) == NULL) {
			*why = "bad JSON key";
			return false;
		}
		p = skip_ws(p);
		if (*p++ != ':') {
			*why = "expected ':'";
			return false;
		}
		p = skip_ws(p);
		v = NULL;
		if (*p == '"') {
			if ((v = json_str(&p)) == NULL) {
				*why = "bad JSON string";
				return false;
			}
		} else if (strncmp(p, "null", 4) == 0)
			p += 4;
		else if (strncmp(p, "true", 4) == 0)
			p += 4;
		else if (strncmp(p, "false", 5) == 0)
			p += 5;
		else if (*p == '-' || isdigit((unsigned char)*p)) {
			p++;
			while (isdigit((unsigned char)*p) || *p == '.' ||
			    *p == 'e' || *p == 'E' || *p == '+' || *p == '-')
				p++;
		} else {
			*why = "unsupported JSON value (nested or bad)";
			return false;
		}
		if ((idx = field_index(key)) >= 0)
			f[idx] = v;
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '}')
			break;
		*why = "expected ',' or '}'";
		return false;
	}
end:
	p = skip_ws(p + 1);
	if (*p != '\0') {
		*why = "text after the object";
		return false;
	}
	return true;
}

/*
 * The date of an imported suppression (the other system's, so that it is
 * not lost): what parse_date() reads, or bare epoch seconds; never in
 * the future.
 */
static bool
import_date(const char *s, int64_t now, int64_t *out)
{
	size_t	 n = strlen(s);

	if (n > 0 && strspn(s, "0123456789") == n) {
		if (!parse_i64(s, 1, now, out))
			return false;
	} else if (!parse_date(s, now, out))
		return false;
	return *out > 0 && *out <= now + 300;
}

struct import_rec {
	char	*address;
	char	*why;
	char	*by;
	int64_t	 when;
};

/*
 * ctl_import - bouncectl import [--by WHO] FILE|-: suppress the addresses
 * of a CSV or JSON Lines file (the export format, or one address a line)
 *
 * Returns 0; 2 when a line is bad (each is reported with its number and
 * nothing is imported) or the database fails.
 */
int
ctl_import(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_rec	*recs = NULL, *nr;
	struct store_manual	*ops = NULL;
	struct store		*s = NULL;
	FILE			*fp = NULL;
	const char		*path, *by = NULL, *why;
	char			*line = NULL, *p, *f[F_NFIELDS], *cols[64];
	char			*hdr = NULL;
	char			 norm[ADDR_MAX + 1], bybuf[64], whybuf[300];
	int			 map[64], ncols = 0, n, i, ch;
	int			 rc = CTL_EXIT_ERROR;
	size_t			 cap = 0, lineno = 0, nrec = 0, rcap = 0;
	size_t			 skipped = 0, nbad = 0, k;
	ssize_t			 len;
	enum { FMT_UNKNOWN, FMT_CSV, FMT_JSON } fmt = FMT_UNKNOWN;
	int64_t			 now = (int64_t)time(NULL), when;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'b') {
			fprintf(stderr, "usage: bouncectl import [--by WHO] "
			    "FILE|-\n");
			return CTL_EXIT_ERROR;
		}
		by = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: bouncectl import [--by WHO] FILE|-\n");
		return CTL_EXIT_ERROR;
	}
	path = argv[optind];
	if ((fp = open_input(path)) == NULL)
		return CTL_EXIT_ERROR;
	if (by == NULL)
		by = default_by(bybuf, sizeof(bybuf));
	/* Default columns without a header: address[,why]. */
	for (i = 0; i < 64; i++)
		map[i] = i == 0 ? F_ADDRESS : i == 1 ? F_WHY : -1;
	while ((len = read_line(fp, &line, &cap)) != -1) {
		lineno++;
		if (len == -2) {
			fprintf(stderr, "bouncectl: %s:%zu: line too long or "
			    "binary\n", path, lineno);
			nbad++;
			continue;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if (fmt == FMT_UNKNOWN) {
			fmt = *p == '{' ? FMT_JSON : FMT_CSV;
			/* A header line names its columns: "address,...". */
			if (fmt == FMT_CSV && (hdr = strdup(p)) != NULL &&
			    (n = csv_split(hdr, cols, 64)) > 0 &&
			    field_index(trim(cols[0])) == F_ADDRESS) {
				for (i = 0; i < n; i++)
					map[i] = field_index(trim(cols[i]));
				ncols = n;
				free(hdr);
				continue;
			}
			free(hdr);
			hdr = NULL;
		}
		memset(f, 0, sizeof(f));
		why = NULL;
		if (fmt == FMT_JSON) {
			if (!json_record(p, f, &why))
				goto bad;
		} else {
			if ((n = csv_split(p, cols, 64)) < 0) {
				why = "bad CSV (quotes, or more than 64 fields)";
				goto bad;
			}
			if (ncols > 0 && n != ncols) {
				why = "wrong number of fields";
				goto bad;
			}
			for (i = 0; i < n; i++)
				if (map[i] >= 0)
					f[map[i]] = trim(cols[i]);
		}
		if (f[F_ADDRESS] == NULL ||
		    !addr_normalize(f[F_ADDRESS], norm, sizeof(norm))) {
			why = "not an address";
			goto bad;
		}
		when = now;
		if (f[F_DATE] != NULL && *f[F_DATE] != '\0' &&
		    !import_date(f[F_DATE], now, &when)) {
			why = "bad date (YYYY-MM-DD[THH:MM[:SS]][Z], @EPOCH "
			    "or EPOCH, not in the future)";
			goto bad;
		}
		if (f[F_STATE] != NULL && *f[F_STATE] != '\0') {
			enum state_kind	 k2;

			if (!state_kind_parse(f[F_STATE], &k2)) {
				why = "unknown state";
				goto bad;
			}
			if (k2 != STATE_SUPPRESSED) {
				skipped++;
				continue;
			}
		}
		if (nrec == rcap) {
			rcap = rcap ? rcap * 2 : 64;
			if ((nr = reallocarray(recs, rcap,
			    sizeof(*recs))) == NULL) {
				fprintf(stderr, "bouncectl: out of memory\n");
				goto out;
			}
			recs = nr;
		}
		/* keep the original reason and note with the import */
		/* our own export says "imported": no need to say it twice */
		if (f[F_REASON] != NULL &&
		    strcasecmp(f[F_REASON], "imported") == 0)
			f[F_REASON] = NULL;
		snprintf(whybuf, sizeof(whybuf), "%s%s%s",
		    f[F_REASON] != NULL ? f[F_REASON] : "",
		    f[F_REASON] != NULL && f[F_WHY] != NULL &&
		    *f[F_REASON] && *f[F_WHY] ? ": " : "",
		    f[F_WHY] != NULL ? f[F_WHY] : "");
		recs[nrec].address = strdup(norm);
		recs[nrec].why = strdup(whybuf);
		recs[nrec].by = f[F_BY] != NULL && *f[F_BY] ?
		    strdup(f[F_BY]) : NULL;
		recs[nrec].when = when;
		if (recs[nrec].address == NULL || recs[nrec].why == NULL) {
			fprintf(stderr, "bouncectl: out of memory\n");
			nrec++;
			goto out;
		}
		nrec++;
		continue;
bad:
		fprintf(stderr, "bouncectl: %s:%zu: %s\n", path, lineno, why);
		nbad++;
	}
	if (ferror(fp)) {
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (nbad > 0) {
		fprintf(stderr, "bouncectl: %s: %zu bad line%s, nothing "
		    "imported\n", path, nbad, nbad == 1 ? "" : "s");
		goto out;
	}
	if (nrec > 0) {
		if ((ops = calloc(nrec, sizeof(*ops))) == NULL)
			goto out;
		for (k = 0; k < nrec; k++) {
			ops[k].address = recs[k].address;
			ops[k].suppress = true;
			ops[k].reason = "imported";
			ops[k].by = recs[k].by != NULL ? recs[k].by : by;
			ops[k].why = recs[k].why[0] ? recs[k].why : NULL;
			ops[k].when = recs[k].when;
			ops[k].source = EV_SRC_IMPORT;
		}
		if ((rc = ctl_store_open(o, 0, &s)) != CTL_EXIT_OK)
			goto out;
		if (store_manual(s, ops, nrec, &k) != BD_OK) {
			rc = store_fail(s, "import");
			goto out;
		}
	}
	if (o->json)
		printf("{\"imported\":%zu,\"skipped\":%zu}\n", nrec, skipped);
	else
		printf("imported %zu address%s (%zu not suppressed, "
		    "skipped)\n", nrec, nrec == 1 ? "" : "es", skipped);
	rc = CTL_EXIT_OK;
out:
	for (k = 0; k < nrec; k++) {
		free(recs[k].address);
		free(recs[k].why);
		free(recs[k].by);
	}
	free(recs);
	free(ops);
	free(line);
	store_close(s);
	if (fp != NULL && fp != stdin)
		fclose(fp);
	return rc;
}

/* ---- prune ---- */

/*
 * ctl_prune - bouncectl prune --older-than DAYS: delete events older than
 * DAYS days; recipient states are kept
 *
 * Returns 0, or 2 on a bad option or a database failure.
 */
int
ctl_prune(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*s;
	int64_t		 days = -1, n = 0;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'o' || !parse_i64(optarg, 1, 1000000, &days)) {
			fprintf(stderr, "usage: bouncectl prune --older-than "
			    "DAYS (a whole number, at least 1)\n");
			return CTL_EXIT_ERROR;
		}
	}
	if (days < 1 || optind != argc) {
		fprintf(stderr, "usage: bouncectl prune --older-than DAYS\n");
		return CTL_EXIT_ERROR;
	}
	if ((rc = ctl_store_open(o, 0, &s)) != CTL_EXIT_OK)
		return rc;
	if (store_prune(s, (int64_t)time(NULL) - days * 86400, &n) != BD_OK)
		rc = store_fail(s, "prune");
	else if (o->json)
		printf("{\"pruned\":%" PRId64 "}\n", n);
	else
		printf("pruned %" PRId64 " event%s older than %" PRId64
		    " days\n", n, n == 1 ? "" : "s", days);
	store_close(s);
	return rc;
}
