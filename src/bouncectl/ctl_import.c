/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_import.c - bouncectl(8) import: suppress the addresses of a file
 * from another system or from export, keeping their original date, note
 * and author.  The file is CSV (RFC 4180; a header line naming its
 * columns, or one address a line with an optional note) or JSON Lines
 * (RFC 8259 flat objects, one a line); the format is told by the first
 * record.  Records whose state is not "suppressed" are skipped.
 *
 * Every line is hostile: read with a bound (CTL_LINE_MAX), no NUL, at
 * most 64 CSV fields, JSON strings decoded strictly (no NUL, no lone
 * surrogate), dates never in the future.  Nothing is imported unless
 * every line is acceptable; each bad line is reported with its number.
 * The database must exist unless --create is given.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bouncectl/ctl_out.h"
#include "bouncectl/ctl_int.h"
#include "verdict/state.h"
#include "store/store.h"

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
	char	*address;
	char	*why;
	char	*by;
	int64_t	 when;
};

/* An import in progress: the file's format and columns, the records. */
struct import {
	const char		*path;
	enum { FMT_UNKNOWN, FMT_CSV, FMT_JSON } fmt;
	int			 map[64];	/* CSV column -> F_* or -1 */
	int			 ncols;		/* from a header, else 0 */
	int64_t			 now;
	struct import_rec	*recs;
	size_t			 nrec, rcap, skipped, nbad;
	bool			 oom;
};

/*
 * The first record tells the format; a CSV header line ("address,...")
 * names its columns.  Returns true when p was that header.
 */
static bool
import_header(struct import *im, const char *p)
{
	char	*hdr, *cols[64];
	int	 i, n;
	bool	 is = false;

	im->fmt = *p == '{' ? FMT_JSON : FMT_CSV;
	if (im->fmt == FMT_JSON || (hdr = strdup(p)) == NULL)
		return false;
	if ((n = csv_split(hdr, cols, 64)) > 0 &&
	    field_index(ctl_trim(cols[0])) == F_ADDRESS) {
		for (i = 0; i < n; i++)
			im->map[i] = field_index(ctl_trim(cols[i]));
		im->ncols = n;
		is = true;
	}
	free(hdr);
	return is;
}

/* The fields of one record into f[]; NULL, or why the line is bad. */
static const char *
import_fields(struct import *im, char *p, char **f)
{
	char		*cols[64];
	const char	*why = NULL;
	int		 i, n;

	memset(f, 0, sizeof(*f) * F_NFIELDS);
	if (im->fmt == FMT_JSON)
		return json_record(p, f, &why) ? NULL : why;
	if ((n = csv_split(p, cols, 64)) < 0)
		return "bad CSV (quotes, or more than 64 fields)";
	if (im->ncols > 0 && n != im->ncols)
		return "wrong number of fields";
	for (i = 0; i < n; i++) {
		/* export's guard against formulas (ctl_out.c csv_field) */
		if (cols[i][0] == '\'' && cols[i][1] != '\0' &&
		    strchr("=+-@\t\r", cols[i][1]) != NULL)
			cols[i]++;
		if (im->map[i] >= 0)
			f[im->map[i]] = ctl_trim(cols[i]);
	}
	return NULL;
}

/* Keep a suppressed address of f[] (others are skipped); NULL or why bad. */
static const char *
import_keep(struct import *im, char **f)
{
	struct import_rec	*r;
	enum state_kind		 k;
	char			 norm[ADDR_MAX + 1], why[300];
	int64_t			 when = im->now;

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
	if (im->nrec == im->rcap) {
		im->rcap = im->rcap ? im->rcap * 2 : 64;
		if ((r = reallocarray(im->recs, im->rcap,
		    sizeof(*r))) == NULL) {
			im->oom = true;
			return NULL;
		}
		im->recs = r;
	}
	/* keep the original reason and note with the import */
	/* our own export says "imported": no need to say it twice */
	if (f[F_REASON] != NULL && strcasecmp(f[F_REASON], "imported") == 0)
		f[F_REASON] = NULL;
	snprintf(why, sizeof(why), "%s%s%s",
	    f[F_REASON] != NULL ? f[F_REASON] : "",
	    f[F_REASON] != NULL && f[F_WHY] != NULL && *f[F_REASON] &&
	    *f[F_WHY] ? ": " : "", f[F_WHY] != NULL ? f[F_WHY] : "");
	r = &im->recs[im->nrec++];
	r->address = strdup(norm);
	r->why = strdup(why);
	r->by = f[F_BY] != NULL && *f[F_BY] ? strdup(f[F_BY]) : NULL;
	r->when = when;
	if (r->address == NULL || r->why == NULL)
		im->oom = true;
	return NULL;
}

/* Read every line of fp; false on a read error or without memory. */
static bool
import_read(struct import *im, FILE *fp)
{
	char		*line = NULL, *p, *f[F_NFIELDS];
	const char	*why;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 len;

	while (!im->oom && (len = ctl_read_line(fp, &line, &cap)) != -1) {
		lineno++;
		p = ctl_trim(line);
		if (len == -2)
			why = "line too long or binary";
		else if (*p == '\0' || *p == '#' ||
		    (im->fmt == FMT_UNKNOWN && import_header(im, p)))
			continue;
		else if ((why = import_fields(im, p, f)) == NULL)
			why = import_keep(im, f);
		if (why != NULL) {
			fprintf(stderr, "bouncectl: %s:%zu: %s\n", im->path,
			    lineno, why);
			im->nbad++;
		}
	}
	free(line);
	if (im->oom) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return false;
	}
	if (ferror(fp)) {
		fprintf(stderr, "bouncectl: %s: %s\n", im->path,
		    strerror(errno));
		return false;
	}
	return true;
}

/* Suppress the records, as "imported" by their author or by. */
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
		ops[k].reason = "imported";
		ops[k].by = im->recs[k].by != NULL ? im->recs[k].by : by;
		ops[k].why = im->recs[k].why[0] ? im->recs[k].why : NULL;
		ops[k].when = im->recs[k].when;
		ops[k].source = EV_SRC_IMPORT;
	}
	if ((rc = ctl_store_open(o, 0, &s)) == CTL_EXIT_OK &&
	    store_manual(s, ops, im->nrec, &k) != BD_OK)
		rc = ctl_store_fail(s, "import");
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
 * Returns 0; 2 when a line is bad (each is reported with its number and
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
	/* Default columns without a header: address[,why]. */
	for (i = 0; i < 64; i++)
		im.map[i] = i == 0 ? F_ADDRESS : i == 1 ? F_WHY : -1;
	if ((fp = ctl_open_input(im.path)) == NULL)
		return CTL_EXIT_ERROR;
	if (by == NULL)
		by = ctl_default_by(bybuf, sizeof(bybuf));
	if (!import_read(&im, fp))
		rc = CTL_EXIT_ERROR;
	else if (im.nbad > 0)
		fprintf(stderr, "bouncectl: %s: %zu bad line%s, nothing "
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
