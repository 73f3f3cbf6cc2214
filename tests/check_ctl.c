/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_ctl.c - unit tests of bouncectl's output writer (src/ctl_out.c:
 * table alignment, CSV quoting per RFC 4180, JSON that stays valid
 * whatever bytes it is given, RFC 8259) and of bouncectl itself: never
 * creating a database by accident, and rebuild replaying the states
 * under a new SoftBounceLimit (the program is run from $TOP_BUILDDIR,
 * "." without it; make check builds it first).
 * The JSON and CSV are checked by small strict readers written here, so
 * that a test compares what a consumer would read back, not bytes.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bouncectl/ctl_json.h"
#include "util/jsontext.h"
#include "bouncectl/ctl_out.h"
#include "verdict/state.h"
#include "store/store.h"
#include "testutil.h"

/* ---- a strict JSON reader (RFC 8259), decoding strings ---- */

struct jr {
	const char	*p;
	char		 str[4][1024];	/* decoded strings, in order */
	size_t		 nstr;
};

static bool jvalue(struct jr *);

static void
jws(struct jr *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r')
		j->p++;
}

/* Length of a valid UTF-8 sequence at p, 0 if invalid. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t	 n, i;
	unsigned long c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	c = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
jhex4(struct jr *j, unsigned long *c)
{
	int	 i, h;

	*c = 0;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(j->p[i])) < 0)
			return false;
		*c = *c * 16 + (unsigned long)h;
	}
	j->p += 4;
	return true;
}

static bool
jstring(struct jr *j)
{
	char		*w = j->nstr < 4 ? j->str[j->nstr] : NULL;
	size_t		 n = 0, k;
	unsigned long	 c, lo;

	if (*j->p++ != '"')
		return false;
	for (;;) {
		unsigned char ch = (unsigned char)*j->p;

		if (ch == '"')
			break;
		if (ch < 0x20)
			return false;	/* raw control, or the end */
		if (ch != '\\') {
			if ((k = utf8_len((const unsigned char *)j->p)) == 0)
				return false;
			if (w != NULL && n + k < 1000)
				memcpy(w + n, j->p, k), n += k;
			j->p += k;
			continue;
		}
		j->p++;
		switch (*j->p++) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (!jhex4(j, &c))
				return false;
			if (c >= 0xdc00 && c <= 0xdfff)
				return false;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (j->p[0] != '\\' || j->p[1] != 'u')
					return false;
				j->p += 2;
				if (!jhex4(j, &lo) || lo < 0xdc00 ||
				    lo > 0xdfff)
					return false;
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			return false;
		}
		if (w == NULL || n + 4 >= 1000)
			continue;
		if (c < 0x80)
			w[n++] = (char)c;
		else if (c < 0x800) {
			w[n++] = (char)(0xc0 | c >> 6);
			w[n++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			w[n++] = (char)(0xe0 | c >> 12);
			w[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			w[n++] = (char)(0x80 | (c & 0x3f));
		} else {
			w[n++] = (char)(0xf0 | c >> 18);
			w[n++] = (char)(0x80 | ((c >> 12) & 0x3f));
			w[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			w[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j->p++;
	if (w != NULL)
		w[n] = '\0';
	j->nstr++;
	return true;
}

static bool
jnumber(struct jr *j)
{
	const char	*s = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (*j->p < '0' || *j->p > '9')
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

/* Members or elements until close; key says an object. */
static bool
jcompound(struct jr *j, char close, bool key)
{
	j->p++;
	jws(j);
	if (*j->p == close) {
		j->p++;
		return true;
	}
	for (;;) {
		jws(j);
		if (key) {
			if (!jstring(j))
				return false;
			jws(j);
			if (*j->p++ != ':')
				return false;
		}
		if (!jvalue(j))
			return false;
		jws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		return *j->p++ == close;
	}
}

static bool
jvalue(struct jr *j)
{
	jws(j);
	switch (*j->p) {
	case '{':
		return jcompound(j, '}', true);
	case '[':
		return jcompound(j, ']', false);
	case '"':
		return jstring(j);
	}
	if (strncmp(j->p, "null", 4) == 0 || strncmp(j->p, "true", 4) == 0) {
		j->p += 4;
		return true;
	}
	if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		return true;
	}
	return jnumber(j);
}

/* One whole JSON text; true when valid with nothing after it. */
static bool
json_valid(const char *text, struct jr *j)
{
	memset(j, 0, sizeof(*j));
	j->p = text;
	if (!jvalue(j))
		return false;
	jws(j);
	return *j->p == '\0';
}

/* ---- helpers ---- */

/*
 * Member name of text's object (idx < 0), or of its array's element idx,
 * as json-glib reads it back: a fraction (percentage, seconds) is
 * written as the nearest double, so it compares equal to the literal.
 */
static double
jmember_double(const char *text, int idx, const char *name)
{
	JsonParser	*p = json_parser_new();
	JsonNode	*root;
	JsonObject	*o;
	double		 d;

	ck_assert(json_parser_load_from_data(p, text, -1, NULL));
	root = json_parser_get_root(p);
	o = idx < 0 ? json_node_get_object(root) :
	    json_array_get_object_element(json_node_get_array(root),
	    (guint)idx);
	d = json_object_get_double_member(o, name);
	g_object_unref(p);
	return d;
}

static char	*membuf;
static size_t	 memlen;

static FILE *
mem_open(void)
{
	FILE	*fp;

	free(membuf);
	membuf = NULL;
	ck_assert_ptr_nonnull(fp = open_memstream(&membuf, &memlen));
	return fp;
}

static const char *
mem_close(FILE *fp)
{
	ck_assert_int_eq(fclose(fp), 0);
	return membuf;
}

static const struct ctl_col tcols[] = {
	{ "name", CTL_COL_STR, true, 0 },
	{ "n", CTL_COL_NUM, true, 0 },
	{ "hidden", CTL_COL_STR, false, 0 },
	{ "rate", CTL_COL_PCT, true, 0 },
	{ "when", CTL_COL_TIME, true, 0 },
	{ "ok", CTL_COL_BOOL, true, 0 },
	{ "note", CTL_COL_STR, true, 8 },
};
#define NT	(sizeof(tcols) / sizeof(tcols[0]))

/* ---- table ---- */

START_TEST(test_ctl_out_table_aligns)
{
	static const char want[] =
	    "name    n      rate    when                  ok   note\n"
	    "a       5      -       -                     no   -\n"
	    "\xc3\xbcn\xc3\xaf" "cod  12345  12.50%  "
	    "1970-01-02T00:00:00Z  yes  bell?tab...\n";
	struct ctl_val	 v[NT];
	struct ctl_out	 out;
	FILE		*fp = mem_open();
	const char	*got;

	ctl_out_init(&out, fp, CTL_FMT_TABLE, tcols, NT, 0);
	memset(v, 0, sizeof(v));
	v[0].s = "a";
	v[1].n = 5;
	v[2].s = "never shown";
	v[3].n = -1;
	ctl_out_row(&out, v);
	/* 6 characters in 8 bytes; a control byte; a cut */
	v[0].s = "\xc3\xbcn\xc3\xaf" "cod";
	v[1].n = 12345;
	v[3].n = 1250;
	v[4].n = 86400;
	v[5].n = 1;
	v[6].s = "bell\atab\there";
	ctl_out_row(&out, v);
	ck_assert(ctl_out_end(&out));
	got = mem_close(fp);
	ck_assert_msg(strcmp(got, want) == 0, "got\n%s\nwant\n%s", got, want);
}
END_TEST

START_TEST(test_ctl_out_table_margin_nohead)
{
	static const char want[] =
	    "  led by: a   5\n"
	    "          bb  6\n";
	static const struct ctl_col c2[] = {
		{ "name", CTL_COL_STR, true, 0 },
		{ "n", CTL_COL_NUM, true, 0 },
	};
	struct ctl_val	 v[2];
	struct ctl_out	 out;
	FILE		*fp = mem_open();
	const char	*got;

	ctl_out_init(&out, fp, CTL_FMT_TABLE, c2, 2, CTL_OUT_NOHEAD);
	out.margin[0] = "  led by: ";
	out.margin[1] = "          ";
	v[0].s = "a";
	v[0].n = 0;
	v[1].s = NULL;
	v[1].n = 5;
	ctl_out_row(&out, v);
	v[0].s = "bb";
	v[1].n = 6;
	ctl_out_row(&out, v);
	ck_assert(ctl_out_end(&out));
	got = mem_close(fp);
	/* widths without a header: "bb" sets the first column */
	ck_assert_msg(strcmp(got, want) == 0, "got\n%s\nwant\n%s", got, want);
}
END_TEST

/* ---- CSV ---- */

/* Read one CSV record (RFC 4180) at *pp into f[]; the field count. */
static int
csv_read(const char **pp, char f[][128], int max)
{
	const char	*p = *pp;
	int		 n = 0;
	size_t		 k;

	for (;;) {
		k = 0;
		if (*p == '"') {
			for (p++; *p != '\0'; p++) {
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++;
				if (k < 127)
					f[n][k++] = *p;
			}
			ck_assert_msg(*p == '"', "unterminated quoted field");
			p++;
		} else
			while (*p != ',' && *p != '\r' && *p != '\0') {
				ck_assert_msg(*p != '"' && *p != '\r',
				    "got a bare quote or CR in \"%s\"", *pp);
				if (k < 127)
					f[n][k++] = *p;
				p++;
			}
		f[n++][k] = '\0';
		if (*p != ',' || n == max)
			break;
		p++;
	}
	/* RFC 4180 section 2, rule 1: CRLF */
	ck_assert_msg(p[0] == '\r' && p[1] == '\n', "record not ended by "
	    "CRLF");
	*pp = p + 2;
	return n;
}

static const char *const hostile[] = {
	"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", " lead",
	"\"", ",", "", "tab\tin", "x\"\",\n\"y",
};
#define NHOSTILE	(sizeof(hostile) / sizeof(hostile[0]))

/*
 * Cells a spreadsheet would run as formulas (issue 11: a diagnostic
 * "=HYPERLINK(...)" was exported as it came) get a leading apostrophe;
 * plain numbers, negative ones too, are left alone.
 */
START_TEST(test_ctl_out_csv_formula)
{
	static const struct ctl_col c2[] = {
		{ "text", CTL_COL_STR, true, 0 },
		{ "n", CTL_COL_NUM, false, 0 },
	};
	static const char *const in[] = {
		"=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0",
		"-2+3", "@SUM(A1)", "\tx", "plain", "a=b",
	};
	static const char *const want[] = {
		"'=HYPERLINK(\"http://x\",\"y\")", "'+1+cmd|' /C calc'!A0",
		"'-2+3", "'@SUM(A1)", "'\tx", "plain", "a=b",
	};
	struct ctl_val	 v[2];
	struct ctl_out	 out;
	FILE		*fp = mem_open();
	const char	*p;
	char		 f[4][128];
	size_t		 i;

	ctl_out_init(&out, fp, CTL_FMT_CSV, c2, 2, 0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		v[0].s = in[i];
		v[1].n = -5;
		ctl_out_row(&out, v);
	}
	ck_assert(ctl_out_end(&out));
	p = mem_close(fp);
	ck_assert_int_eq(csv_read(&p, f, 4), 2);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		ck_assert_int_eq(csv_read(&p, f, 4), 2);
		ck_assert_msg(strcmp(f[0], want[i]) == 0, "row %zu: got "
		    "\"%s\", want \"%s\"", i, f[0], want[i]);
		ck_assert_msg(strcmp(f[1], "-5") == 0, "row %zu n: got \"%s\", "
		    "want \"-5\"", i, f[1]);
	}
}
END_TEST

START_TEST(test_ctl_out_csv_quotes)
{
	static const struct ctl_col c3[] = {
		{ "text", CTL_COL_STR, true, 0 },
		{ "n", CTL_COL_NUM, false, 0 },
		{ "when", CTL_COL_TIME, false, 0 },
	};
	struct ctl_val	 v[3];
	struct ctl_out	 out;
	FILE		*fp = mem_open();
	const char	*p;
	char		 f[4][128];
	size_t		 i;

	ctl_out_init(&out, fp, CTL_FMT_CSV, c3, 3, 0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < NHOSTILE; i++) {
		v[0].s = hostile[i];
		v[1].n = -(int64_t)i;
		ctl_out_row(&out, v);
	}
	ck_assert(ctl_out_end(&out));
	p = mem_close(fp);
	ck_assert_int_eq(csv_read(&p, f, 4), 3);
	ck_assert_msg(strcmp(f[0], "text") == 0 && strcmp(f[2], "when") == 0,
	    "header: got %s,%s,%s", f[0], f[1], f[2]);
	for (i = 0; i < NHOSTILE; i++) {
		ck_assert_msg(csv_read(&p, f, 4) == 3, "row %zu: got another "
		    "field count, want 3", i);
		ck_assert_msg(strcmp(f[0], hostile[i]) == 0, "row %zu: got "
		    "\"%s\", want \"%s\"", i, f[0], hostile[i]);
		ck_assert_msg(strtoll(f[1], NULL, 10) == -(long long)i,
		    "row %zu n: got %s", i, f[1]);
		ck_assert_msg(f[2][0] == '\0', "row %zu when: got \"%s\", "
		    "want empty", i, f[2]);
	}
	ck_assert_msg(*p == '\0', "got trailing \"%s\"", p);
}
END_TEST

/* ---- JSON ---- */

START_TEST(test_ctl_out_json_hostile_bytes)
{
	static const struct ctl_col c4[] = {
		{ "s", CTL_COL_STR, true, 0 },
		{ "pct", CTL_COL_PCT, true, 0 },
		{ "ms", CTL_COL_MILLI, true, 0 },
		{ "b", CTL_COL_BOOL, true, 0 },
		{ "when", CTL_COL_TIME, true, 0 },
	};
	struct ctl_val	 v[5];
	struct ctl_out	 out;
	struct jr	 j;
	char		 all[256], bad[32];
	FILE		*fp;
	const char	*got;
	int		 i, jl;

	/* every byte from 1 to 255, and broken UTF-8 of every kind */
	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	snprintf(bad, sizeof(bad), "%s", "\xc3\x28\xe2\x82\xf0\x9f\x98"
	    "\xed\xa0\x80\xc0\xaf\xff\"\\");
	for (jl = 0; jl < 2; jl++) {
		fp = mem_open();
		ctl_out_init(&out, fp, CTL_FMT_JSON, c4, 5,
		    jl ? CTL_OUT_JSONL : 0);
		memset(v, 0, sizeof(v));
		v[0].s = all;
		v[1].n = 1234;
		v[2].n = 1500;
		v[3].n = 1;
		ctl_out_row(&out, v);
		v[0].s = bad;
		v[1].n = -1;
		v[2].n = 0;
		v[4].n = 1;
		ctl_out_row(&out, v);
		v[0].s = "";
		ctl_out_row(&out, v);
		ck_assert(ctl_out_end(&out));
		got = mem_close(fp);
		if (!jl) {
			ck_assert_msg(json_valid(got, &j), "got invalid JSON "
			    "at \"%.40s\"", j.p);
			ck_assert_msg(j.nstr >= 2, "got %zu strings", j.nstr);
			/* the valid ASCII part round-trips exactly */
			ck_assert_msg(strncmp(j.str[1], all, 127) == 0,
			    "ASCII 1..127: got another text back");
			/* a lone byte >= 0x80 reads back as U+FFFD */
			ck_assert_msg(strncmp(j.str[1] + 127, "\xef\xbf\xbd",
			    3) == 0, "byte 0x80: got \"%.6s\", want U+FFFD",
			    j.str[1] + 127);
			ck_assert_msg(jmember_double(got, 0, "pct") == 12.34 &&
			    jmember_double(got, 0, "ms") == 1.5 &&
			    strstr(got, "\"pct\":null") != NULL &&
			    strstr(got, "\"s\":null") != NULL &&
			    strstr(got, "\"when\":\"1970-01-01T00:00:01Z\"") !=
			    NULL, "typed values: got %s", got);
		} else {
			const char	*nl;
			char		 line[4096];
			int		 n = 0;

			for (; (nl = strchr(got, '\n')) != NULL; got = nl + 1) {
				ck_assert((size_t)(nl - got) < sizeof(line));
				memcpy(line, got, (size_t)(nl - got));
				line[nl - got] = '\0';
				ck_assert_msg(json_valid(line, &j) &&
				    line[0] == '{', "JSON line %d: got invalid "
				    "\"%.60s\"", n, line);
				n++;
			}
			ck_assert_msg(n == 3 && *got == '\0', "got %d lines, "
			    "want 3", n);
		}
	}
}
END_TEST

START_TEST(test_ctl_out_object_and_empty)
{
	static const struct ctl_col c5[] = {
		{ "source", CTL_COL_STR, true, 0 },
		{ "lines", CTL_COL_NUM, true, 0 },
		{ "seconds", CTL_COL_MILLI, true, 0 },
	};
	struct ctl_val	 v[3];
	struct ctl_out	 out;
	struct jr	 j;
	FILE		*fp = mem_open();
	const char	*got;

	v[0].s = "file:/var/log/mail\x7f\x01.log";
	v[0].n = 0;
	v[1].s = NULL;
	v[1].n = 42;
	v[2].s = NULL;
	v[2].n = 2005;
	ctl_out_object(fp, c5, v, 3);
	got = mem_close(fp);
	ck_assert_msg(json_valid(got, &j), "got invalid \"%s\"", got);
	ck_assert_str_eq(j.str[1], "file:/var/log/mail\x7f\x01.log");
	ck_assert_msg(strstr(got, "\"lines\":42,\"seconds\":") != NULL &&
	    jmember_double(got, -1, "seconds") == 2.005 &&
	    got[strlen(got) - 1] == '\n', "got %s", got);
	/* no row at all: still valid JSON, CSV a header, table a header */
	fp = mem_open();
	ctl_out_init(&out, fp, CTL_FMT_JSON, c5, 3, 0);
	ck_assert(ctl_out_end(&out));
	ck_assert_str_eq(mem_close(fp), "[]\n");
	fp = mem_open();
	ctl_out_init(&out, fp, CTL_FMT_CSV, c5, 3, 0);
	ck_assert(ctl_out_end(&out));
	ck_assert_str_eq(mem_close(fp), "source,lines,seconds\r\n");
	fp = mem_open();
	ctl_out_init(&out, fp, CTL_FMT_TABLE, c5, 3, 0);
	ck_assert(ctl_out_end(&out));
	ck_assert_str_eq(mem_close(fp), "source  lines  seconds\n");
}
END_TEST

/*
 * A diagnostic of invalid UTF-8 and control bytes (0x1f and 0x7f among
 * them): json-glib's own parser reads the object back, with U+FFFD for
 * each byte that is not UTF-8 and every control byte kept.
 */
START_TEST(test_ctl_out_json_glib_reads_back)
{
	static const struct ctl_col c2[] = {
		{ "diagnostic", CTL_COL_STR, true, 0 },
		{ "n", CTL_COL_NUM, true, 0 },
	};
	static const char diag[] = "550 5.1.1 \xff\x01\x1f\x7f\t\"\\"
	    "\xc3\x28 caf\xc3\xa9 \xed\xa0\x80\xe2\x82";
	static const char want[] = "550 5.1.1 \xef\xbf\xbd\x01\x1f\x7f\t"
	    "\"\\\xef\xbf\xbd( caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
	struct ctl_val	 v[2] = { { diag, 0 }, { NULL, 7 } };
	struct ctl_out	 out;
	JsonParser	*p;
	JsonArray	*a;
	GError		*err = NULL;
	FILE		*fp;
	const char	*got, *s;
	int		 jl;

	for (jl = 0; jl < 3; jl++) {
		fp = mem_open();
		if (jl == 2)
			ctl_out_object(fp, c2, v, 2);
		else {
			ctl_out_init(&out, fp, CTL_FMT_JSON, c2, 2,
			    jl ? CTL_OUT_JSONL : 0);
			ctl_out_row(&out, v);
			ck_assert(ctl_out_end(&out));
		}
		got = mem_close(fp);
		ck_assert_msg(g_utf8_validate(got, -1, NULL),
		    "got invalid UTF-8 \"%s\"", got);
		p = json_parser_new();
		ck_assert_msg(json_parser_load_from_data(p, got, -1, &err),
		    "got \"%s\", which json-glib refuses: %s", got,
		    err != NULL ? err->message : "?");
		if (jl == 0) {
			a = json_node_get_array(json_parser_get_root(p));
			s = json_object_get_string_member(
			    json_array_get_object_element(a, 0), "diagnostic");
		} else
			s = json_object_get_string_member(json_node_get_object(
			    json_parser_get_root(p)), "diagnostic");
		ck_assert_msg(strcmp(s, want) == 0, "got \"%s\", want \"%s\"",
		    s, want);
		g_object_unref(p);
	}
}
END_TEST

/*
 * The line writer (classify --json) writes the text json-glib's
 * generator makes of the same object, byte for byte: strings of every
 * byte 0x01-0xff (made valid UTF-8, as for json-glib), quotes,
 * backslashes, 0x1f and 0x7f alone, plain text, empty; integers at the
 * ends of their range, booleans, null; a member reset away; a line
 * without members.  And no raw control byte is left (RFC 8259 section
 * 7; json-glib 1.6 leaves 0x1f, util/jsontext.c mends it).
 */
START_TEST(test_ctl_jline_is_json_glib)
{
	static const char *const strs[] = {
		"550 5.1.1 <kim@example.net>: user unknown", "",
		"say \"no\"", "C:\\path", "\x1f", "\x7f", "tab\there",
		"caf\xc3\xa9 \xe2\x82\xac", "\xff\xfe bad", NULL,
	};
	struct ctl_jline *jl = ctl_jline_new();
	JsonGenerator	*gen = json_generator_new();
	JsonObject	*o;
	JsonNode	*root;
	GString		*want = g_string_new(NULL);
	char		 all[256], name[16], *tmp;
	const char	*got;
	FILE		*fp;
	size_t		 i, k;

	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	fp = mem_open();
	ctl_jline_str(jl, "gone", "reset away");
	ctl_jline_reset(jl);
	o = json_object_new();
	ctl_jline_str(jl, "all", all);
	json_object_set_string_member(o, "all", ctl_json_utf8(all, &tmp));
	g_free(tmp);
	for (k = 0; strs[k] != NULL; k++) {
		g_snprintf(name, sizeof(name), "s%zu", k);
		ctl_jline_str(jl, name, strs[k]);
		json_object_set_string_member(o, name,
		    ctl_json_utf8(strs[k], &tmp));
		g_free(tmp);
	}
	ctl_jline_str(jl, "none", NULL);
	json_object_set_null_member(o, "none");
	ctl_jline_int(jl, "min", G_MININT64);
	json_object_set_int_member(o, "min", G_MININT64);
	ctl_jline_int(jl, "max", G_MAXINT64);
	json_object_set_int_member(o, "max", G_MAXINT64);
	ctl_jline_bool(jl, "t", true);
	json_object_set_boolean_member(o, "t", true);
	ctl_jline_bool(jl, "f", false);
	json_object_set_boolean_member(o, "f", false);
	ctl_jline_null(jl, "n");
	json_object_set_null_member(o, "n");
	ctl_jline_put(jl, fp);
	ctl_jline_put(jl, fp);
	ctl_jline_free(jl);
	root = json_node_init_object(json_node_alloc(), o);
	jsontext_append(gen, root, want);
	g_string_append(want, "\n{}\n");
	got = mem_close(fp);
	ck_assert_str_eq(got, want->str);
	for (i = 0; got[i] != '\0'; i++)
		ck_assert_msg((unsigned char)got[i] >= 0x20 || got[i] == '\n',
		    "raw byte 0x%02x at %zu", (unsigned char)got[i], i);
	json_node_unref(root);
	json_object_unref(o);
	g_object_unref(gen);
	g_string_free(want, TRUE);
}
END_TEST

/* ---- bouncectl never creates a database by accident ---- */

static char	 ctl_path[512], tdir[256];

/* Read what a child wrote to path into buf, then remove it. */
static void
slurp(const char *path, char *buf, size_t len)
{
	ssize_t	 n = -1, k;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = 0;
		while ((size_t)n < len - 1 &&
		    (k = read(fd, buf + n, len - 1 - (size_t)n)) > 0)
			n += k;
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	unlink(path);
}

/*
 * Run bouncectl with argv (stdin from input, or /dev/null); its status.
 * Its stderr goes to err, its stdout to out when out is not NULL.
 */
static int
run_ctl_out(const char *const *args, const char *input, char *out,
    size_t outlen, char *err, size_t errlen)
{
	char		*argv[16], ep[300], op[300];
	pid_t		 pid;
	int		 i, fd, status;

	snprintf(ep, sizeof(ep), "%s/stderr", tdir);
	snprintf(op, sizeof(op), "%s/stdout", tdir);
	argv[0] = ctl_path;
	for (i = 0; args[i] != NULL && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		fd = open(input != NULL ? input : "/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = out != NULL ? open(op, O_WRONLY | O_CREAT | O_TRUNC,
		    0600) : open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		fd = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(ctl_path, argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	slurp(ep, err, errlen);
	if (out != NULL)
		slurp(op, out, outlen);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
run_ctl(const char *const *args, const char *input, char *err,
    size_t errlen)
{
	return run_ctl_out(args, input, NULL, 0, err, errlen);
}

static void
ctl_setup(void)
{
	const char	*b = getenv("TOP_BUILDDIR"), *t = getenv("TMPDIR");

	snprintf(ctl_path, sizeof(ctl_path), "%s/bouncectl",
	    b != NULL ? b : ".");
	snprintf(tdir, sizeof(tdir), "%s/check_ctl.XXXXXX",
	    t != NULL ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void
ctl_teardown(void)
{
	testutil_rmtree(tdir);
}

#define WRITES	"start bounced once, or pass --create"
#define READS	"bounced has not created it yet"
#define EXISTS	"start bounced once, or --db or the config's Database"

static const struct {
	const char	*args[6];
	const char	*want;	/* after "no database at PATH: " */
} missing_cases[] = {
	{ { "suppress", "a@example.org" }, WRITES },
	{ { "unsuppress", "a@example.org" }, WRITES },
	{ { "import", "ADDR" }, WRITES },
	{ { "ingest-log", "/dev/null" }, WRITES },
	{ { "follow-log", "/dev/null" }, WRITES },
	{ { "expire", "hard:1d" }, WRITES },
	{ { "prune", "--older-than", "1" }, WRITES },
	/* nothing to replay in a new database: --create does not help */
	{ { "rebuild" }, EXISTS },
	{ { "rebuild", "--dry-run", "--create" }, EXISTS },
	{ { "status", "a@example.org" }, READS },
	{ { "list" }, READS },
	{ { "history", "a@example.org" }, READS },
	{ { "stats" }, READS },
	{ { "export" }, READS },
};

START_TEST(test_ctl_refuses_missing_db)
{
	const char	*args[12];
	char		 db[300], addr[300], err[1024], want[512];
	struct stat	 sb;
	FILE		*fp;
	size_t		 n = 0, k;
	int		 rc;

	ck_assert_msg(access(ctl_path, X_OK) == 0, "got no program at %s",
	    ctl_path);
	snprintf(db, sizeof(db), "%s/x.db", tdir);
	snprintf(addr, sizeof(addr), "%s/addr", tdir);
	ck_assert_ptr_nonnull(fp = fopen(addr, "w"));
	fputs("a@example.org\n", fp);
	fclose(fp);
	args[n++] = "--db";
	args[n++] = db;
	for (k = 0; missing_cases[_i].args[k] != NULL; k++)
		args[n++] = strcmp(missing_cases[_i].args[k], "ADDR") == 0 ?
		    addr : missing_cases[_i].args[k];
	args[n] = NULL;
	rc = run_ctl(args, NULL, err, sizeof(err));
	ck_assert_msg(rc == 2, "%s: exit got %d, want 2 (%s)", args[2], rc,
	    err);
	snprintf(want, sizeof(want), "no database at %s: %s", db,
	    missing_cases[_i].want);
	ck_assert_msg(strstr(err, want) != NULL, "%s: stderr got \"%s\", "
	    "want \"%s\"", args[2], err, want);
	ck_assert_msg(stat(db, &sb) != 0, "%s: got a database at %s, want "
	    "none", args[2], db);
}
END_TEST

START_TEST(test_ctl_create_makes_db)
{
	const char	*sup[] = { "--db", NULL, "suppress", "--create",
	    "a@example.org", NULL };
	const char	*stat_args[] = { "--db", NULL, "status",
	    "a@example.org", NULL };
	char		 db[300], err[1024];
	struct stat	 sb;
	int		 rc;

	ck_assert_msg(access(ctl_path, X_OK) == 0, "got no program at %s",
	    ctl_path);
	snprintf(db, sizeof(db), "%s/x.db", tdir);
	sup[1] = stat_args[1] = db;
	rc = run_ctl(sup, NULL, err, sizeof(err));
	ck_assert_msg(rc == 0, "suppress --create: exit got %d, want 0 (%s)",
	    rc, err);
	ck_assert_msg(stat(db, &sb) == 0, "got no database at %s", db);
	rc = run_ctl(stat_args, NULL, err, sizeof(err));
	ck_assert_msg(rc == 1, "status: exit got %d, want 1 (suppressed) (%s)",
	    rc, err);
	/* an existing database needs no --create */
	sup[3] = "b@example.org";
	rc = run_ctl(sup, NULL, err, sizeof(err));
	ck_assert_msg(rc == 0, "suppress: exit got %d, want 0 (%s)", rc, err);
}
END_TEST

/* ---- rebuild: the states replayed under a new SoftBounceLimit ---- */

/* A soft bounce of rcpt about message qid, recorded under p. */
static void
record_soft(struct store *s, const char *rcpt, const char *qid,
    int64_t when, const struct state_policy *p)
{
	struct bd_event	 ev;
	enum bd_status	 r;

	memset(&ev, 0, sizeof(ev));
	ev.when = when;
	ev.recipient = rcpt;
	ev.action = EV_ACT_FAILED;	/* given up: a soft bounce */
	ev.status = "4.2.2";
	ev.queue_id = qid;
	ev.diagnostic = "smtp; 452 4.2.2 mailbox full";
	ev.verdict.reason = "mailboxfull";
	ev.verdict.who = EV_WHO_RECIPIENT;
	ev.source = EV_SRC_DSN_INTERNAL;
	r = store_record(s, &ev, 1, p, when, NULL);
	ck_assert_msg(r == BD_OK, "record %s: got %s, want ok", rcpt,
	    bd_strerror(r));
}

/* The stored state of addr is want ("suppressed(soft-limit)", "soft"). */
static void
assert_ctl_state(const char *db, const char *addr, const char *want,
    unsigned want_count)
{
	struct store_recipient	 rc;
	struct store		*s;
	char			 err[256], got[64];

	ck_assert_int_eq(store_open(db, STORE_RDONLY, 2000, &s, err,
	    sizeof(err)), BD_OK);
	ck_assert_int_eq(store_lookup(s, addr, &rc), BD_OK);
	store_close(s);
	snprintf(got, sizeof(got), rc.reason[0] != '\0' ? "%s(%s)" : "%s",
	    rc.state, rc.reason);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got %s, want %s", addr,
	    got, want);
	ck_assert_msg(rc.soft_count == want_count, "%s soft count: got %u, "
	    "want %u", addr, rc.soft_count, want_count);
}

/* bouncectl -c conf --db db [--json] rebuild [--dry-run]: its stdout. */
static void
ctl_rebuild(const char *conf, const char *db, bool json, bool dry_run,
    char *out, size_t outlen)
{
	const char	*args[8];
	char		 err[1024];
	size_t		 n = 0;
	int		 rc;

	args[n++] = "-c";
	args[n++] = conf;
	args[n++] = "--db";
	args[n++] = db;
	if (json)
		args[n++] = "--json";
	args[n++] = "rebuild";
	if (dry_run)
		args[n++] = "--dry-run";
	args[n] = NULL;
	rc = run_ctl_out(args, NULL, out, outlen, err, sizeof(err));
	ck_assert_msg(rc == 0, "rebuild: exit got %d, want 0 (%s)", rc, err);
}

/*
 * rebuild --dry-run --list under conf names lim@ alone, as text, JSON
 * and CSV; nothing is kept.
 */
static void
rebuild_list(const char *conf, const char *db)
{
	static const char *const fmt[] = { NULL, "--json", "--csv" };
	static const char *const want[] = {
	    "addresses:\n  lim@x.example: soft -> suppressed(soft-limit)\n",
	    "\"addresses\":[{\"address\":\"lim@x.example\",\"from\":"
	    "\"soft\",\"to\":\"suppressed(soft-limit)\"}]}",
	    "address,from,to\r\nlim@x.example,soft,suppressed(soft-limit)"
	    "\r\n" };
	const char	*args[10];
	char		 out[4096], err[1024];
	size_t		 i, n;
	int		 rc;

	for (i = 0; i < 3; i++) {
		n = 0;
		args[n++] = "-c";
		args[n++] = conf;
		args[n++] = "--db";
		args[n++] = db;
		if (fmt[i] != NULL)
			args[n++] = fmt[i];
		args[n++] = "rebuild";
		args[n++] = "--dry-run";
		args[n++] = "--list";
		args[n] = NULL;
		rc = run_ctl_out(args, NULL, out, sizeof(out), err,
		    sizeof(err));
		ck_assert_msg(rc == 0, "rebuild --list: exit %d (%s)", rc, err);
		ck_assert_msg(strstr(out, want[i]) != NULL &&
		    strstr(out, "op@") == NULL && strstr(out, "one@") == NULL,
		    "rebuild --list %s: got \"%s\", want \"%s\"",
		    fmt[i] != NULL ? fmt[i] : "(text)", out, want[i]);
	}
	assert_ctl_state(db, "lim@x.example", "soft", 4);
}

/*
 * Soft bounces recorded under SoftBounceLimit 5 leave lim@ soft; a
 * rebuild under 3 suppresses it and says so (soft -> suppressed), a dry
 * run says the same and changes nothing; the operator's unsuppress of
 * op@ and suppress of ms@ survive; a second rebuild changes nothing.
 */
START_TEST(test_ctl_rebuild_new_limit)
{
	static const struct state_policy p5 = { .soft_limit = 5, .soft_window = 30 * 86400,
	    .complaint_types = 0 };
	static const char want_t[] = "{\"from\":\"soft\","
	    "\"to\":\"suppressed(soft-limit)\",\"count\":1}";
	struct store	*s;
	struct jr	 j;
	char		 db[300], c3[300], c5[300], out[4096], err[256];
	char		 q[16];
	int		 i;

	ck_assert_msg(access(ctl_path, X_OK) == 0, "got no program at %s",
	    ctl_path);
	snprintf(db, sizeof(db), "%s/x.db", tdir);
	snprintf(c3, sizeof(c3), "%s/limit3.conf", tdir);
	snprintf(c5, sizeof(c5), "%s/limit5.conf", tdir);
	testutil_write_file(c3, "SoftBounceLimit 3\n", 18);
	testutil_write_file(c5, "SoftBounceLimit 5\n", 18);
	ck_assert_int_eq(store_open(db, 0, 2000, &s, err, sizeof(err)), BD_OK);
	for (i = 0; i < 4; i++) {
		snprintf(q, sizeof(q), "L%d", i);
		record_soft(s, "lim@x.example", q, 1000 + i, &p5);
		snprintf(q, sizeof(q), "O%d", i);
		record_soft(s, "op@x.example", q, 1000 + i, &p5);
	}
	record_soft(s, "one@x.example", "N0", 1000, &p5);
	testutil_manual(s, "op@x.example", false, NULL, 1100);
	testutil_manual(s, "ms@x.example", true, NULL, 1100);
	store_close(s);
	assert_ctl_state(db, "lim@x.example", "soft", 4);
	assert_ctl_state(db, "op@x.example", "active", 0);

	/* the same limit: nothing changes */
	ctl_rebuild(c5, db, true, true, out, sizeof(out));
	ck_assert_msg(json_valid(out, &j), "got invalid JSON: %s", out);
	ck_assert_msg(strstr(out, "\"changed\":0,") != NULL &&
	    strstr(out, "\"soft_limit\":5,") != NULL &&
	    strstr(out, "\"transitions\":[]") != NULL,
	    "limit 5: got %s, want 0 changed under soft_limit 5", out);

	/* limit 3, dry run: reported, not kept */
	ctl_rebuild(c3, db, true, true, out, sizeof(out));
	ck_assert_msg(json_valid(out, &j), "got invalid JSON: %s", out);
	ck_assert_msg(strstr(out, "\"dry_run\":true,") != NULL &&
	    strstr(out, "\"soft_limit\":3,") != NULL &&
	    strstr(out, "\"recipients\":4,") != NULL &&
	    strstr(out, "\"changed\":1,") != NULL &&
	    strstr(out, want_t) != NULL,
	    "dry run: got %s, want 1 changed: %s", out, want_t);
	assert_ctl_state(db, "lim@x.example", "soft", 4);
	rebuild_list(c3, db);

	/* limit 3: kept */
	ctl_rebuild(c3, db, false, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "changed state: 1\n") != NULL &&
	    strstr(out, "\n  soft -> suppressed(soft-limit): 1\n") != NULL &&
	    strstr(out, "dry run") == NULL,
	    "rebuild: got \"%s\", want soft -> suppressed(soft-limit): 1",
	    out);
	assert_ctl_state(db, "lim@x.example", "suppressed(soft-limit)", 4);
	assert_ctl_state(db, "op@x.example", "active", 0);
	assert_ctl_state(db, "ms@x.example", "suppressed(manual)", 0);
	assert_ctl_state(db, "one@x.example", "soft", 1);

	/* replayed again: the same states */
	ctl_rebuild(c3, db, false, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "changed state: 0\n") != NULL &&
	    strstr(out, " -> ") == NULL,
	    "second rebuild: got \"%s\", want nothing changed", out);
	/* back to 5: the way back is reported too */
	ctl_rebuild(c5, db, false, false, out, sizeof(out));
	ck_assert_msg(strstr(out, "\n  suppressed(soft-limit) -> soft: 1\n") !=
	    NULL, "limit 5 again: got \"%s\", want suppressed(soft-limit) "
	    "-> soft: 1", out);
	assert_ctl_state(db, "lim@x.example", "soft", 4);
	assert_ctl_state(db, "ms@x.example", "suppressed(manual)", 0);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite	*s = suite_create("ctl");
	TCase	*tc;

	tc = tcase_create("out");
	tcase_add_test(tc, test_ctl_out_table_aligns);
	tcase_add_test(tc, test_ctl_out_table_margin_nohead);
	tcase_add_test(tc, test_ctl_out_csv_quotes);
	tcase_add_test(tc, test_ctl_out_csv_formula);
	tcase_add_test(tc, test_ctl_out_json_hostile_bytes);
	tcase_add_test(tc, test_ctl_out_object_and_empty);
	tcase_add_test(tc, test_ctl_out_json_glib_reads_back);
	tcase_add_test(tc, test_ctl_jline_is_json_glib);
	suite_add_tcase(s, tc);

	tc = tcase_create("create");
	tcase_add_checked_fixture(tc, ctl_setup, ctl_teardown);
	tcase_add_loop_test(tc, test_ctl_refuses_missing_db, 0,
	    (int)(sizeof(missing_cases) / sizeof(missing_cases[0])));
	tcase_add_test(tc, test_ctl_create_makes_db);
	tcase_add_test(tc, test_ctl_rebuild_new_limit);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ctl_suite());
	int	 nfail;

	srunner_run_all(sr, CK_ENV);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(membuf);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
