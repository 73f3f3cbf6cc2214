/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_import.c - bouncectl(8) import: suppress the addresses of a file
 * from another system or from export, keeping their reason, date, note
 * and author, so that export then import gives the same suppressions.
 * The file is CSV (RFC 4180, read by libcsv in strict mode: quoted
 * fields may hold commas, quotes and line breaks; a header line names
 * the columns, or there is one address a line with an optional note) or
 * JSON Lines (flat RFC 8259 objects, one a line, read by json-glib); the
 * first byte that is not white space tells which ('{': JSON Lines).
 * Records whose state is not "suppressed" are skipped.
 *
 * Every record is hostile: a CSV field of at most CTL_LINE_MAX bytes and
 * at most 64 fields, a JSON line of at most CTL_LINE_MAX bytes and no
 * nesting (checked before json-glib, whose parser recurses), dates never
 * in the future, reasons from a fixed list (another system's reason is
 * kept in the note).  Nothing is imported unless every record is
 * acceptable; each bad one is reported with its line number.  The
 * database must exist unless --create is given.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <csv.h>
#include <json-glib/json-glib.h>

#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "verdict/state.h"
#include "store/store.h"

#define IMPORT_FIELDS	64	/* CSV fields of a record */

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
 * The date of an imported suppression (the other system's, so that it is
 * not lost): what ctl_parse_date() reads, or bare epoch seconds; never in
 * the future.
 */
static bool
import_date(const char *s, int64_t now, int64_t *out)
{
	size_t	 n = strlen(s);

	if (n > 0 && strspn(s, "0123456789") == n) {
		if (!ctl_parse_i64(s, 1, now, out))
			return false;
	} else if (!ctl_parse_date(s, now, out))
		return false;
	return *out > 0 && *out <= now + 300;
}

struct import_rec {
	char		*address;
	char		*why;
	char		*by;
	const char	*reason;	/* a store_manual() reason (static) */
	int64_t		 when;
};

/* An import in progress: the file's format and columns, the records. */
struct import {
	const char		*path;
	enum { FMT_UNKNOWN, FMT_CSV, FMT_JSON } fmt;
	int			 map[IMPORT_FIELDS];	/* column -> F_* or -1 */
	int			 ncols;		/* from a header, else 0 */
	bool			 header_seen;
	int64_t			 now;
	struct import_rec	*recs;
	size_t			 nrec, rcap, skipped, nbad;
	bool			 oom;
	/* CSV: the record being read */
	char			*cols[IMPORT_FIELDS];
	int			 nf;
	bool			 toolong;
	size_t			 line;		/* lines read so far */
	size_t			 rec_line;	/* where the record began */
	struct ctl_progress	 prog;
};

static void
bad(struct import *im, size_t line, const char *why)
{
	fprintf(stderr, "bouncectl: %s:%zu: %s\n", im->path, line, why);
	im->nbad++;
}

/*
 * Keep a suppressed address of f[] (others are skipped); NULL or why it
 * is bad.  A reason of our own (hard, soft-limit, complaint, manual,
 * imported) is kept as the suppression's reason; another is put before
 * the note, and the reason becomes "imported".
 */
static const char *
import_keep(struct import *im, char **f)
{
	static const char *const ours[] = { "hard", "soft-limit",
	    "complaint", "manual", "imported" };
	struct import_rec	*r;
	enum state_kind		 k;
	const char		*reason = "imported", *other = NULL;
	char			 norm[ADDR_MAX + 1], why[1200];
	int64_t			 when = im->now;
	size_t			 i;

	if (f[F_ADDRESS] == NULL ||
	    !addr_normalize(f[F_ADDRESS], norm, sizeof(norm)))
		return "not an address";
	if (f[F_DATE] != NULL && *f[F_DATE] != '\0' &&
	    !import_date(f[F_DATE], im->now, &when))
		return "bad date (YYYY-MM-DD[THH:MM[:SS]][Z], @EPOCH or EPOCH, "
		    "not in the future)";
	if (f[F_STATE] != NULL && *f[F_STATE] != '\0') {
		if (!state_kind_parse(f[F_STATE], &k))
			return "unknown state";
		if (k != STATE_SUPPRESSED) {
			im->skipped++;
			return NULL;
		}
	}
	if (f[F_REASON] != NULL && *f[F_REASON] != '\0') {
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (strcasecmp(f[F_REASON], ours[i]) == 0)
				reason = ours[i];
		if (i == sizeof(ours) / sizeof(ours[0]) &&
		    strcmp(reason, "imported") == 0)
			other = f[F_REASON];
	}
	if (other != NULL && strcasecmp(other, "imported") == 0)
		other = NULL;
	if (im->nrec == im->rcap) {
		im->rcap = im->rcap ? im->rcap * 2 : 64;
		if ((r = reallocarray(im->recs, im->rcap,
		    sizeof(*r))) == NULL) {
			im->oom = true;
			return NULL;
		}
		im->recs = r;
	}
	snprintf(why, sizeof(why), "%s%s%s", other != NULL ? other : "",
	    other != NULL && f[F_WHY] != NULL && *f[F_WHY] ? ": " : "",
	    f[F_WHY] != NULL ? f[F_WHY] : "");
	r = &im->recs[im->nrec++];
	r->address = strdup(norm);
	r->why = strdup(why);
	r->by = f[F_BY] != NULL && *f[F_BY] ? strdup(f[F_BY]) : NULL;
	r->reason = reason;
	r->when = when;
	if (r->address == NULL || r->why == NULL)
		im->oom = true;
	return NULL;
}

/* ---- CSV (libcsv) ---- */

/* libcsv: one field of the record being read. */
static void
csv_field_cb(void *s, size_t len, void *arg)
{
	struct import	*im = arg;

	if (im->nf == IMPORT_FIELDS) {
		im->toolong = true;
		return;
	}
	if (len > CTL_LINE_MAX) {
		im->toolong = true;
		len = 0;
	}
	/* CSV_APPEND_NULL: s is NUL-terminated; a NUL inside ends it */
	if ((im->cols[im->nf] = strndup(s != NULL ? s : "", len)) == NULL)
		im->oom = true;
	else
		im->nf++;
}

static void
csv_drop(struct import *im)
{
	int	 i;

	for (i = 0; i < im->nf; i++)
		free(im->cols[i]);
	im->nf = 0;
	im->toolong = false;
}

/* libcsv: the end of a record. */
static void
csv_record_cb(int c, void *arg)
{
	struct import	*im = arg;
	char		*f[F_NFIELDS], *v;
	const char	*why = NULL;
	int		 i, m;

	(void)c;
	if (im->oom)
		goto out;
	/* a blank line, or a comment */
	if (im->nf == 0 || im->cols[0][0] == '#' || (im->nf == 1 &&
	    im->cols[0][0] == '\0'))
		goto out;
	if (im->toolong) {
		bad(im, im->rec_line, "more than 64 fields, or a field too "
		    "long");
		goto out;
	}
	if (!im->header_seen) {
		im->header_seen = true;
		if (field_index(ctl_trim(im->cols[0])) == F_ADDRESS) {
			for (i = 0; i < im->nf; i++)
				im->map[i] = field_index(ctl_trim(
				    im->cols[i]));
			im->ncols = im->nf;
			goto out;
		}
	}
	if (im->ncols > 0 && im->nf != im->ncols) {
		bad(im, im->rec_line, "wrong number of fields");
		goto out;
	}
	memset(f, 0, sizeof(f));
	for (i = 0; i < im->nf; i++) {
		v = im->cols[i];
		/* export's guard against formulas (ctl_out.c csv_field) */
		if (v[0] == '\'' && v[1] != '\0' &&
		    strchr("=+-@\t\r", v[1]) != NULL)
			v++;
		if ((m = im->map[i]) >= 0)
			f[m] = m == F_WHY ? v : ctl_trim(v);
	}
	if ((why = import_keep(im, f)) != NULL)
		bad(im, im->rec_line, why);
out:
	csv_drop(im);
	im->rec_line = im->line + 1;
}

/* Read fp as CSV, line by line into libcsv; false on a read failure. */
static bool
import_csv(struct import *im, FILE *fp)
{
	struct csv_parser	 p;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 n;
	bool			 ok = true;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) !=
	    0) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return false;
	}
	im->rec_line = 1;
	while (!im->oom && (n = getline(&line, &cap, fp)) != -1) {
		im->line++;
		if ((size_t)n > CTL_LINE_MAX) {
			bad(im, im->line, "line too long");
			break;
		}
		if (csv_parse(&p, line, (size_t)n, csv_field_cb,
		    csv_record_cb, im) != (size_t)n) {
			bad(im, im->line, csv_error(&p) == CSV_EPARSE ?
			    "bad CSV: a quote inside an unquoted field, or text "
			    "after a closing quote (RFC 4180)" :
			    csv_strerror(csv_error(&p)));
			break;
		}
		if ((im->line & 1023) == 0)
			ctl_progress_show(&im->prog, false, "import %s: %zu "
			    "lines, %zu to suppress", im->path, im->line,
			    im->nrec);
	}
	if (im->nbad == 0 && !im->oom && csv_fini(&p, csv_field_cb,
	    csv_record_cb, im) != 0)
		bad(im, im->rec_line, "unterminated quoted field");
	csv_drop(im);
	csv_free(&p);
	free(line);
	if (ferror(fp)) {
		fprintf(stderr, "bouncectl: %s: %s\n", im->path,
		    strerror(errno));
		ok = false;
	}
	return ok;
}

/* ---- JSON Lines (json-glib) ---- */

/*
 * Deeper than a flat object (depth 1)?  Checked before json-glib, whose
 * parser recurses once per level.
 */
static bool
too_deep(const char *s)
{
	int	 depth = 0;
	bool	 str = false;

	for (; *s != '\0'; s++) {
		if (str) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				str = false;
		} else if (*s == '"')
			str = true;
		else if ((*s == '{' || *s == '[') && ++depth > 1)
			return true;
		else if (*s == '}' || *s == ']')
			depth--;
	}
	return false;
}

/*
 * One flat JSON object: the fields import knows into f[] (strings owned
 * by the parser, numbers into nums[]); NULL or why the line is bad.
 */
static const char *
json_fields(JsonParser *jp, const char *line, char **f, char nums[][24])
{
	JsonNode	*root, *v;
	JsonObject	*obj;
	JsonObjectIter	 it;
	const char	*key;
	int		 idx;

	if (too_deep(line))
		return "nested JSON (a flat object is expected)";
	if (!json_parser_load_from_data(jp, line, -1, NULL))
		return "not JSON";
	if ((root = json_parser_get_root(jp)) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(root))
		return "not a JSON object";
	obj = json_node_get_object(root);
	json_object_iter_init(&it, obj);
	while (json_object_iter_next(&it, &key, &v)) {
		if ((idx = field_index(key)) < 0 || JSON_NODE_HOLDS_NULL(v))
			continue;
		if (!JSON_NODE_HOLDS_VALUE(v))
			return "a nested value";
		switch (json_node_get_value_type(v)) {
		case G_TYPE_STRING:
			f[idx] = (char *)json_node_get_string(v);
			break;
		case G_TYPE_INT64:
			snprintf(nums[idx], sizeof(nums[idx]), "%lld",
			    (long long)json_node_get_int(v));
			f[idx] = nums[idx];
			break;
		default:
			return "a value that is neither a string nor an "
			    "integer";
		}
	}
	return NULL;
}

/* Read fp as JSON Lines; false on a read failure. */
static bool
import_json(struct import *im, FILE *fp)
{
	JsonParser	*jp;
	char		*line = NULL, *p, *f[F_NFIELDS], nums[F_NFIELDS][24];
	const char	*why;
	size_t		 cap = 0;
	ssize_t		 len;
	bool		 ok = true;

	if ((jp = json_parser_new_immutable()) == NULL) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return false;
	}
	while (!im->oom && (len = ctl_read_line(fp, &line, &cap)) != -1) {
		im->line++;
		p = ctl_trim(line);
		memset(f, 0, sizeof(f));
		if (len == -2)
			why = "line too long or binary";
		else if (*p == '\0' || *p == '#')
			continue;
		else if ((why = json_fields(jp, p, f, nums)) == NULL)
			why = import_keep(im, f);
		if (why != NULL)
			bad(im, im->line, why);
		if ((im->line & 1023) == 0)
			ctl_progress_show(&im->prog, false, "import %s: %zu "
			    "lines, %zu to suppress", im->path, im->line,
			    im->nrec);
	}
	g_object_unref(jp);
	free(line);
	if (ferror(fp)) {
		fprintf(stderr, "bouncectl: %s: %s\n", im->path,
		    strerror(errno));
		ok = false;
	}
	return ok;
}

/* The first byte that is not white space: '{' means JSON Lines. */
static int
first_byte(FILE *fp)
{
	int	 c;

	while ((c = getc(fp)) != EOF && isspace(c))
		;
	if (c != EOF)
		ungetc(c, fp);
	return c;
}

/* Read every record of fp; false on a read error or without memory. */
static bool
import_read(struct import *im, FILE *fp)
{
	bool	 ok;

	/* white space skipped: line numbers count from the first record */
	im->fmt = first_byte(fp) == '{' ? FMT_JSON : FMT_CSV;
	ok = im->fmt == FMT_JSON ? import_json(im, fp) : import_csv(im, fp);
	ctl_progress_done(&im->prog);
	if (im->oom) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return false;
	}
	return ok;
}

/* Suppress the records, with their reason, date and author (else by). */
static int
import_apply(const struct ctl_opts *o, struct import *im, const char *by)
{
	struct store_manual	*ops;
	struct store		*s = NULL;
	size_t			 k;
	int			 rc;

	if ((ops = calloc(im->nrec, sizeof(*ops))) == NULL) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	for (k = 0; k < im->nrec; k++) {
		ops[k].address = im->recs[k].address;
		ops[k].suppress = true;
		ops[k].reason = im->recs[k].reason;
		ops[k].by = im->recs[k].by != NULL ? im->recs[k].by : by;
		ops[k].why = im->recs[k].why[0] ? im->recs[k].why : NULL;
		ops[k].when = im->recs[k].when;
		ops[k].source = EV_SRC_IMPORT;
	}
	ctl_progress_show(&im->prog, true, "import %s: suppressing %zu "
	    "addresses", im->path, im->nrec);
	if ((rc = ctl_store_open(o, 0, &s)) == CTL_EXIT_OK &&
	    store_manual(s, ops, im->nrec, &k) != BD_OK)
		rc = ctl_store_fail(s, "import");
	ctl_progress_done(&im->prog);
	store_close(s);
	free(ops);
	return rc;
}

static void
import_free(struct import *im)
{
	size_t	 k;

	for (k = 0; k < im->nrec; k++) {
		free(im->recs[k].address);
		free(im->recs[k].why);
		free(im->recs[k].by);
	}
	free(im->recs);
}

/* What was imported: {"imported":N,"skipped":M} or a sentence. */
static void
import_out(const struct ctl_opts *o, const struct import *im)
{
	static const struct ctl_col cols[] = {
		{ "imported", CTL_COL_NUM, true, 0 },
		{ "skipped", CTL_COL_NUM, true, 0 },
	};
	struct ctl_val	 v[2];

	memset(v, 0, sizeof(v));
	v[0].n = (int64_t)im->nrec;
	v[1].n = (int64_t)im->skipped;
	if (o->json)
		ctl_out_object(stdout, cols, v, 2);
	else
		printf("imported %zu address%s (%zu not suppressed, "
		    "skipped)\n", im->nrec, im->nrec == 1 ? "" : "es",
		    im->skipped);
}

/*
 * ctl_import - bouncectl import [--by WHO] FILE|-: suppress the addresses
 * of a CSV or JSON Lines file (the export format, or one address a line)
 *
 * Returns 0; 2 when a record is bad (each is reported with its line and
 * nothing is imported), the database does not exist (without --create)
 * or fails.
 */
int
ctl_import(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct import	 im;
	FILE		*fp;
	const char	*by = NULL;
	char		 bybuf[64];
	int		 i, ch, rc = CTL_EXIT_ERROR;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'b')
			goto usage;
		by = optarg;
	}
	if (optind != argc - 1)
		goto usage;
	memset(&im, 0, sizeof(im));
	im.path = argv[optind];
	im.now = (int64_t)time(NULL);
	ctl_progress_init(&im.prog);
	/* Default columns without a header: address[,why]. */
	for (i = 0; i < IMPORT_FIELDS; i++)
		im.map[i] = i == 0 ? F_ADDRESS : i == 1 ? F_WHY : -1;
	if ((fp = ctl_open_input(im.path)) == NULL)
		return CTL_EXIT_ERROR;
	if (by == NULL)
		by = ctl_default_by(bybuf, sizeof(bybuf));
	if (!import_read(&im, fp))
		rc = CTL_EXIT_ERROR;
	else if (im.nbad > 0)
		fprintf(stderr, "bouncectl: %s: %zu bad record%s, nothing "
		    "imported\n", im.path, im.nbad, im.nbad == 1 ? "" : "s");
	else if (im.nrec == 0 ||
	    (rc = import_apply(o, &im, by)) == CTL_EXIT_OK) {
		import_out(o, &im);
		rc = CTL_EXIT_OK;
	}
	import_free(&im);
	ctl_close_input(fp);
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl import [--by WHO] FILE|-\n");
	return CTL_EXIT_ERROR;
}
