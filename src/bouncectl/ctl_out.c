/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_out.c - the one output writer of bouncectl(8): a subcommand
 * describes its columns once (name, type, whether the table shows it)
 * and hands over rows; this file writes them as
 *  - an aligned table for a person (default): a header line, columns two
 *    spaces apart, widths in characters (UTF-8 aware), control bytes
 *    shown as '?', long text cut with "...", "-" for no value;
 *  - JSON (--json; RFC 8259): an array of flat objects, or JSON Lines
 *    (one object a line), every string through json_string() so that
 *    any byte from the network still yields valid JSON (invalid UTF-8
 *    becomes U+FFFD), null for no value;
 *  - CSV (--csv; RFC 4180 section 2): a header line, records ended by
 *    CRLF, a field quoted when it holds a comma, a quote, CR, LF or
 *    begins with white space, with quotes doubled; fields keep their
 *    line breaks inside the quotes; a field that a spreadsheet would run
 *    as a formula (= + - @ first) is quoted with a leading apostrophe.
 * Dates are UTC, ISO 8601 "YYYY-MM-DDTHH:MM:SSZ".
 *
 * It writes to the FILE it is given and nothing else: no store, no
 * logging.  The table is held in memory until ctl_out_end(), to know its
 * widths; JSON and CSV rows are written as they come.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bouncectl/ctl_out.h"
#include "util/json.h"

/*
 * ctl_out_time - a date for output
 *
 * Arguments: t, seconds since the epoch; buf/len receive the text.
 * Notes: "" when t <= 0 (no date) or out of gmtime_r()'s range.
 */
void
ctl_out_time(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * ctl_out_cell - text made safe and short for a terminal
 *
 * Arguments: s (NULL: ""); maxw, the most characters kept (0: all).
 * Returns a new string (the caller frees it), or NULL without memory.
 * Notes: control bytes become '?'; a cut text ends with "..."; UTF-8
 * sequences are counted as one character and never split.
 */
char *
ctl_out_cell(const char *s, size_t maxw)
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

/*
 * ctl_out_fmt - the output format of the global options
 *
 * Returns CTL_FMT_JSON for --json, CTL_FMT_CSV for --csv, else the table.
 */
enum ctl_fmt
ctl_out_fmt(const struct ctl_opts *o)
{
	return o->json ? CTL_FMT_JSON : o->csv ? CTL_FMT_CSV : CTL_FMT_TABLE;
}

/* "1.25" from hundredths or thousandths (scale 100 or 1000), + suffix. */
static void
fixed(int64_t n, int64_t scale, const char *suffix, char *buf, size_t len)
{
	uint64_t	 u = n < 0 ? -(uint64_t)n : (uint64_t)n;

	snprintf(buf, len, "%s%" PRIu64 ".%0*" PRIu64 "%s", n < 0 ? "-" : "",
	    u / (uint64_t)scale, scale == 100 ? 2 : 3, u % (uint64_t)scale,
	    suffix);
}

/*
 * The text of one value in fmt, in buf or v->s; NULL for "no value"
 * (an empty string, no date, no percentage).
 */
static const char *
value_text(const struct ctl_col *c, const struct ctl_val *v,
    enum ctl_fmt fmt, char *buf, size_t len)
{
	switch (c->type) {
	case CTL_COL_STR:
		return v->s != NULL && v->s[0] != '\0' ? v->s : NULL;
	case CTL_COL_NUM0:
		if (v->n == 0)
			return NULL;
		/* FALLTHROUGH */
	case CTL_COL_NUM:
		snprintf(buf, len, "%" PRId64, v->n);
		return buf;
	case CTL_COL_TIME:
		ctl_out_time(v->n, buf, len);
		return buf[0] != '\0' ? buf : NULL;
	case CTL_COL_BOOLN:
		if (v->n < 0)
			return NULL;
		/* FALLTHROUGH */
	case CTL_COL_BOOL:
		if (fmt == CTL_FMT_TABLE)
			return v->n ? "yes" : "no";
		return v->n ? "true" : "false";
	case CTL_COL_PCT:
		if (v->n < 0)
			return NULL;
		fixed(v->n, 100, fmt == CTL_FMT_TABLE ? "%" : "", buf, len);
		return buf;
	case CTL_COL_MILLI:
		fixed(v->n, 1000, "", buf, len);
		return buf;
	}
	return NULL;
}

/*
 * A CSV field, quoted when it must be (RFC 4180 section 2, rules 5-7).
 * A field that begins with = + - @ (or a tab or CR), but for a plain
 * number, is one a spreadsheet runs as a formula: bounce text and addresses come from the network
 * (a diagnostic "=HYPERLINK(...)"), so such a field gets a leading
 * apostrophe, inside quotes (OWASP's CSV injection advice); import
 * takes it off again.
 */
static bool
is_number(const char *s)
{
	bool	 digits = false;

	if (*s == '-' || *s == '+')
		s++;
	for (; isdigit((unsigned char)*s) || *s == '.'; s++)
		digits = digits || *s != '.';
	return digits && *s == '\0';
}

static void
csv_field(FILE *fp, const char *s)
{
	const char	*p;
	bool		 formula = s[0] != '\0' &&
			    strchr("=+-@\t\r", s[0]) != NULL && !is_number(s);

	if (!formula && s[strcspn(s, ",\"\r\n")] == '\0' &&
	    !isspace((unsigned char)s[0])) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	if (formula)
		putc('\'', fp);
	for (p = s; *p; p++) {
		if (*p == '"')
			putc('"', fp);
		putc(*p, fp);
	}
	putc('"', fp);
}

/* The fields of one JSON object, without its braces' newline. */
static void
json_object(FILE *fp, const struct ctl_col *cols, const struct ctl_val *v,
    size_t n)
{
	const char	*t;
	char		 buf[64];
	size_t		 i;
	bool		 first = true;

	putc('{', fp);
	for (i = 0; i < n; i++) {
		json_key(fp, cols[i].name, &first);
		t = value_text(&cols[i], &v[i], CTL_FMT_JSON, buf, sizeof(buf));
		if (t == NULL)
			fputs("null", fp);
		else if (cols[i].type == CTL_COL_STR ||
		    cols[i].type == CTL_COL_TIME)
			json_string(fp, t);
		else
			fputs(t, fp);
	}
	putc('}', fp);
}

/*
 * ctl_out_object - one JSON object
 *
 * Arguments: fp; cols/v, n columns and their values.
 * Notes: the summary of a command (counts, a report) with --json; the
 * same writer as the rows of ctl_out_row().  Ends with a newline.
 */
void
ctl_out_object(FILE *fp, const struct ctl_col *cols, const struct ctl_val *v,
    size_t n)
{
	json_object(fp, cols, v, n);
	putc('\n', fp);
}

/*
 * ctl_out_init - start an output
 *
 * Arguments: out, filled; fp, where it goes; fmt; cols/ncols, the
 * columns (at most CTL_OUT_MAXCOLS shown in a table), which must outlive
 * out; flags, CTL_OUT_JSONL, CTL_OUT_NOHEAD.
 * Notes: CSV writes its header now, JSON its '['.  Set out->margin
 * after this call to indent a table.
 */
void
ctl_out_init(struct ctl_out *out, FILE *fp, enum ctl_fmt fmt,
    const struct ctl_col *cols, size_t ncols, unsigned flags)
{
	size_t	 i;

	memset(out, 0, sizeof(*out));
	out->fp = fp;
	out->fmt = fmt;
	out->flags = flags;
	out->cols = cols;
	out->ncols = ncols;
	out->margin[0] = out->margin[1] = "";
	if (fmt == CTL_FMT_CSV && !(flags & CTL_OUT_NOHEAD)) {
		for (i = 0; i < ncols; i++) {
			if (i > 0)
				putc(',', fp);
			csv_field(fp, cols[i].name);
		}
		fputs("\r\n", fp);
	} else if (fmt == CTL_FMT_JSON && !(flags & CTL_OUT_JSONL))
		putc('[', fp);
}

/* Keep a row of the table: its cells, made safe for a terminal. */
static void
table_keep(struct ctl_out *out, const struct ctl_val *v)
{
	const char	*t;
	char		 buf[64], **nc;
	size_t		 i, ncap;

	if (out->nrows == out->cap) {
		ncap = out->cap ? out->cap * 2 : 64;
		nc = reallocarray(out->cells, ncap * out->ncols, sizeof(*nc));
		if (nc == NULL) {
			out->oom = true;
			return;
		}
		out->cells = nc;
		out->cap = ncap;
	}
	for (i = 0; i < out->ncols; i++) {
		nc = &out->cells[out->nrows * out->ncols + i];
		*nc = NULL;
		if (!out->cols[i].table)
			continue;
		t = value_text(&out->cols[i], &v[i], CTL_FMT_TABLE, buf,
		    sizeof(buf));
		if ((*nc = ctl_out_cell(t != NULL ? t : "-",
		    out->cols[i].maxw)) == NULL)
			out->oom = true;
	}
	out->nrows++;
}

/*
 * ctl_out_row - write (or keep, for the table) one row
 *
 * Arguments: out; v, one value per column, in the columns' order.
 */
void
ctl_out_row(struct ctl_out *out, const struct ctl_val *v)
{
	const char	*t;
	char		 buf[64];
	size_t		 i;

	switch (out->fmt) {
	case CTL_FMT_CSV:
		for (i = 0; i < out->ncols; i++) {
			if (i > 0)
				putc(',', out->fp);
			t = value_text(&out->cols[i], &v[i], CTL_FMT_CSV, buf,
			    sizeof(buf));
			csv_field(out->fp, t != NULL ? t : "");
		}
		fputs("\r\n", out->fp);
		break;
	case CTL_FMT_JSON:
		if (out->nrows++ > 0 && !(out->flags & CTL_OUT_JSONL))
			putc(',', out->fp);
		json_object(out->fp, out->cols, v, out->ncols);
		if (out->flags & CTL_OUT_JSONL)
			putc('\n', out->fp);
		break;
	case CTL_FMT_TABLE:
		table_keep(out, v);
		break;
	}
}

/* Width in characters of a UTF-8 string (continuation bytes not counted). */
static size_t
disp_width(const char *s)
{
	size_t	 w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* One line of the table: the header (cells NULL) or a kept row. */
static void
table_line(struct ctl_out *out, char **cells, const size_t *w, size_t last)
{
	const char	*c;
	size_t		 i;

	fputs(out->margin[out->lines++ > 0], out->fp);
	for (i = 0; i <= last; i++) {
		if (!out->cols[i].table)
			continue;
		c = cells == NULL ? out->cols[i].name : cells[i];
		if (c == NULL)
			c = "?";
		if (i == last)
			fprintf(out->fp, "%s\n", c);
		else
			fprintf(out->fp, "%s%*s", c,
			    (int)(w[i] - disp_width(c) + 2), "");
	}
}

/* Write the kept table, aligned, and free it. */
static void
table_write(struct ctl_out *out)
{
	size_t	 i, r, w[CTL_OUT_MAXCOLS], n, last = 0;
	bool	 any = false;
	char	*c;

	n = out->ncols < CTL_OUT_MAXCOLS ? out->ncols : CTL_OUT_MAXCOLS;
	for (i = 0; i < n; i++) {
		w[i] = 0;
		if (!out->cols[i].table)
			continue;
		if (!(out->flags & CTL_OUT_NOHEAD))
			w[i] = disp_width(out->cols[i].name);
		last = i;
		any = true;
	}
	for (r = 0; r < out->nrows; r++)
		for (i = 0; i < n; i++)
			if ((c = out->cells[r * out->ncols + i]) != NULL &&
			    disp_width(c) > w[i])
				w[i] = disp_width(c);
	if (any && !(out->flags & CTL_OUT_NOHEAD))
		table_line(out, NULL, w, last);
	for (r = 0; any && r < out->nrows; r++)
		table_line(out, &out->cells[r * out->ncols], w, last);
	for (r = 0; r < out->nrows * out->ncols; r++)
		free(out->cells[r]);
	free(out->cells);
	out->cells = NULL;
}

/*
 * ctl_out_end - finish an output
 *
 * Arguments: out.
 * Returns true, or false when memory ran out for the table (rows are
 * missing or shown as "?").
 * Notes: the table is written here; JSON closes its array.  out may be
 * reused after ctl_out_init() again.
 */
bool
ctl_out_end(struct ctl_out *out)
{
	if (out->fmt == CTL_FMT_JSON && !(out->flags & CTL_OUT_JSONL))
		fputs(out->flags & CTL_OUT_INNER ? "]" : "]\n", out->fp);
	else if (out->fmt == CTL_FMT_TABLE)
		table_write(out);
	return !out->oom;
}
