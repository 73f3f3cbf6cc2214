/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_out.h - bouncectl's output: rows of typed columns written as an
 * aligned table, one JSON document (or JSON Lines) or CSV, the same way
 * for every subcommand (src/ctl_out.c).
 */
#ifndef BD_CTL_OUT_H
#define BD_CTL_OUT_H

#include <stdint.h>
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "bouncectl/ctl.h"

#define CTL_OUT_MAXCOLS	32	/* columns of one output */

enum ctl_fmt { CTL_FMT_TABLE, CTL_FMT_JSON, CTL_FMT_CSV };

/*
 * What a column holds (struct ctl_val): COL_STR s; COL_NUM n; COL_TIME n
 * seconds since the epoch, 0 for none; COL_BOOL n; COL_PCT n hundredths
 * of a percent, -1 for none; COL_MILLI n thousandths (seconds in ms).
 */
enum ctl_col_type {
	CTL_COL_STR, CTL_COL_NUM, CTL_COL_TIME, CTL_COL_BOOL, CTL_COL_PCT,
	CTL_COL_MILLI,
	CTL_COL_NUM0,	/* n, 0 for none (null, "-") */
	CTL_COL_BOOLN	/* n, < 0 for none */
};

struct ctl_col {
	const char		*name;
	enum ctl_col_type	 type;
	bool			 table;	/* in the table (JSON, CSV: all) */
	size_t			 maxw;	/* table: most characters, 0: all */
};

struct ctl_val {
	const char	*s;
	int64_t		 n;
};

#define CTL_OUT_JSONL	0x01	/* JSON: one object a line, no array */
#define CTL_OUT_NOHEAD	0x02	/* table, CSV: no header line */
#define CTL_OUT_INNER	0x04	/* JSON: the array inside a document, no newline */

/* One output in progress; fields are private to ctl_out.c but margin. */
struct ctl_out {
	FILE			*fp;
	enum ctl_fmt		 fmt;
	unsigned		 flags;
	const struct ctl_col	*cols;
	size_t			 ncols;
	/* table: written before its first line, and before each other */
	const char		*margin[2];
	char			**cells;	/* table: nrows * ncols */
	size_t			 nrows, cap, lines;
	bool			 oom;
	JsonGenerator		*gen;	/* JSON: one for all rows */
	GString			*json;	/* JSON: a row's text, reused */
	JsonObject		*obj;	/* JSON: the row object (gen's root) */
	JsonNode		**jv;	/* JSON: its members, by column */
};

/* ctl_out_fmt - the format the global options ask for */
enum ctl_fmt ctl_out_fmt(const struct ctl_opts *o);
/* ctl_out_init - start an output of ncols cols (the CSV header, JSON '[') */
void ctl_out_init(struct ctl_out *out, FILE *fp, enum ctl_fmt fmt,
    const struct ctl_col *cols, size_t ncols, unsigned flags);
/* ctl_out_row - one row, v[ncols] (the table keeps it until the end) */
void ctl_out_row(struct ctl_out *out, const struct ctl_val *v);
/* ctl_out_end - finish (the table is written now); false if memory ran out */
bool ctl_out_end(struct ctl_out *out);
/* ctl_out_object - one flat JSON object of n columns and a newline */
void ctl_out_object(FILE *fp, const struct ctl_col *cols,
    const struct ctl_val *v, size_t n);
/* ctl_out_time - t as ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ", "" for t <= 0 */
void ctl_out_time(int64_t t, char *buf, size_t len);
/* ctl_out_cell - s for a terminal: controls to '?', cut to maxw with "..." */
char *ctl_out_cell(const char *s, size_t maxw);

#endif
