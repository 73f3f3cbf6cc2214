/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * store_copy.c - one bounced database copied into another, empty one
 * (bouncectl migrate: a relay's SQLite file into the fleet's
 * PostgreSQL), every table row for row with its ids, in one transaction
 * of the target, from one read snapshot of the source.
 *
 * Ids are kept because they are referenced: feed.event_id,
 * recipients.suppress_event, last_event and the list suppress_events
 * name events; an application resumes `bouncectl events` from a feed id.
 * The target's triggers add feed rows of their own while events and
 * recipients go in (their ids from the target's sequence, their dates
 * of today): those are deleted and the source's feed copied after, so
 * that nothing needs a superuser (no session_replication_role, no
 * DISABLE TRIGGER).  On PostgreSQL the id sequences are then set past
 * the copied ids, so that the next event recorded follows them.
 *
 * Rows are read and written as text (both engines convert a bound text
 * to the column's type).  PostgreSQL gets them in batches, one JSON
 * array (json-glib's objects) bound as one parameter and expanded by
 * json_populate_recordset() (one round trip per batch, not per row);
 * SQLite, in process, one prepared INSERT per row.  The columns of each
 * table are listed below and checked against both databases (SELECT *),
 * so that a schema version that adds a column cannot be copied without
 * it.
 *
 * Nothing here logs; progress goes to the caller's callback.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/jsontext.h"
#include "store/store_int.h"

#define COPY_BATCH_ROWS		1000		/* rows of one PostgreSQL batch */
#define COPY_BATCH_BYTES	(1024 * 1024)	/* or this much JSON */
#define COPY_COLS_MAX		DB_PARAMS_MAX

/* A table: its columns, in the schema's order, and its key. */
struct copy_table {
	const char		*name;
	const char		*order;		/* ORDER BY */
	const char *const	*cols;		/* NULL-terminated */
};

static const char *const events_cols[] = {
	"id", "ts", "recipient", "domain", "original_recipient", "action",
	"status", "reply_code", "reason", "hard", "who", "advice", "rule",
	"diagnostic", "remote_mta", "reporting_mta", "queue_id",
	"message_id", "envelope_id", "sender", "campaign", "feedback_type",
	"source", "trusted", "class", "recorded_at", "identity",
	"mail_kind", "trust_why", "client_addr", "msgkey", "reported_at",
	"rank", NULL
};
static const char *const recipients_cols[] = {
	"address", "domain", "state", "reason", "soft_count", "soft_marks",
	"suppressed_since", "suppress_event", "reset_at", "first_bounce",
	"last_bounce", "last_seen", "last_event", "last_status",
	"last_reason", "last_diagnostic", "manual_by", "manual_why",
	"manual_at", "suppress_events", "reset_event", "display",
	"pending_count", "newest", "checkpoint", "checkpoint_ts", NULL
};
static const char *const sends_cols[] = {
	"queue_id", "recipient", "message_id", "ts", "domain", "sender",
	"campaign", "outcome", "outcome_ts", "reason", "envelope_id", NULL
};
static const char *const cursors_cols[] = {
	"source", "dev", "inode", "offset", "updated", NULL
};
static const char *const msgkeys_cols[] = { "key", "canon", "ts", NULL };
static const char *const meta_cols[] = { "key", "value", NULL };
static const char *const feed_cols[] = {
	"id", "ts", "kind", "recipient", "event_id", "old_state",
	"new_state", "old_reason", "new_reason", NULL
};

/*
 * In the order of the copy: the feed last, after the rows its triggers
 * follow.  Keep in step with store_copy_tables[].
 */
static const struct copy_table tables[STORE_COPY_NTABLES] = {
	{ "events", "id", events_cols },
	{ "recipients", "address", recipients_cols },
	{ "sends", "queue_id, recipient", sends_cols },
	{ "cursors", "source", cursors_cols },
	{ "msgkeys", "key", msgkeys_cols },
	{ "meta", "key", meta_cols },
	{ "feed", "id", feed_cols },
};

const char *const store_copy_tables[STORE_COPY_NTABLES + 1] = {
	"events", "recipients", "sends", "cursors", "msgkeys", "meta", "feed",
	NULL
};

/*
 * The rows of meta that are the database's own, not its data: the
 * schema version (PostgreSQL), and the refold a new SQLite database asks
 * for (v7) while it has no states to fold.
 */
#define META_OWN	"key <> 'schema'"

static size_t
ncols(const struct copy_table *t)
{
	size_t	 n = 0;

	while (t->cols[n] != NULL)
		n++;
	return n;
}

/* "a", "b", ... (quoted: "offset" is a keyword). */
static enum bd_status
col_list(struct buf *b, const struct copy_table *t)
{
	size_t	 i;

	for (i = 0; t->cols[i] != NULL; i++)
		if (buf_printf(b, "%s\"%s\"", i > 0 ? ", " : "",
		    t->cols[i]) != BD_OK)
			return BD_ENOMEM;
	return BD_OK;
}

/* Rows of table i (meta without the database's own rows) into *n. */
static enum bd_status
count_rows(struct store *s, size_t i, bool own, int64_t *n)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	enum db_step	 rc;
	char		 sql[128];

	(void)snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s%s%s",
	    tables[i].name, strcmp(tables[i].name, "meta") == 0 ?
	    " WHERE " : "", strcmp(tables[i].name, "meta") != 0 ? "" :
	    own ? META_OWN " AND key <> 'rebuild'" : META_OWN);
	if ((r = store_prepare(s, sql, &st)) != BD_OK)
		return r;
	rc = db_step(st);
	*n = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	r = rc == DB_ROW ? BD_OK : store_dberr(s, tables[i].name);
	db_finalize(st);
	return r;
}

/* The columns of table i in s are those we copy (a schema we know). */
static enum bd_status
check_columns(struct store *s, size_t i)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	char		 sql[128];
	int		 have;

	(void)snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 1",
	    tables[i].name);
	if ((r = store_prepare(s, sql, &st)) != BD_OK)
		return r;
	if (db_step(st) == DB_ERROR) {
		r = store_dberr(s, tables[i].name);
		db_finalize(st);
		return r;
	}
	have = db_column_count(st);
	db_finalize(st);
	if (have != (int)ncols(&tables[i])) {
		store_seterr(s, "table %s has %d columns, this program copies "
		    "%zu (another schema version?)", tables[i].name, have,
		    ncols(&tables[i]));
		return BD_ECONFIG;
	}
	return BD_OK;
}

/*
 * store_copy_count - the rows of every table store_copy() copies
 *
 * Arguments: s; n[STORE_COPY_NTABLES] receives them, in the order of
 * store_copy_tables[] (meta: without the schema's version).
 * Returns BD_OK or a database failure (text in store_errmsg()).
 */
enum bd_status
store_copy_count(struct store *s, int64_t n[STORE_COPY_NTABLES])
{
	enum bd_status	 r = BD_OK;
	size_t		 i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < STORE_COPY_NTABLES && r == BD_OK; i++)
		r = count_rows(s, i, false, &n[i]);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* One copy in progress. */
struct copy {
	struct store	*from, *to;
	bool		 pg;		/* the target is PostgreSQL */
	store_copy_cb	 cb;
	void		*arg;
	int64_t		 total[STORE_COPY_NTABLES];
	struct buf	 json;		/* PostgreSQL: the batch */
	size_t		 inbatch;	/* rows in it */
	JsonGenerator	*gen;		/* PostgreSQL: a row's object */
	GString		*row;		/* its text */
	char		*err;
	size_t		 errlen;
};

static enum bd_status
copy_fail(struct copy *c, struct store *s, enum bd_status r)
{
	if (c->err[0] == '\0')
		(void)snprintf(c->err, c->errlen, "%s: %s",
		    s == c->from ? "source" : "target", store_errmsg(s));
	return r;
}

/*
 * The source's row as one JSON object of the batch, generated by
 * json-glib (the batch's brackets and commas are ours: rows are added
 * as they are read).  Text goes as it is, UTF-8 or not: PostgreSQL
 * refuses a batch that is not, and the copy fails rather than change a
 * byte of the source.
 */
static enum bd_status
batch_add(struct copy *c, const struct copy_table *t, struct db_stmt *src)
{
	JsonObject	*o = json_object_new();
	JsonNode	*node;
	size_t		 i;

	for (i = 0; t->cols[i] != NULL; i++)
		if (db_column_null(src, (int)i))
			json_object_set_null_member(o, t->cols[i]);
		else
			json_object_set_string_member(o, t->cols[i],
			    db_column_text(src, (int)i));
	node = json_node_init_object(json_node_alloc(), o);
	json_object_unref(o);
	g_string_assign(c->row, c->inbatch == 0 ? "[" : ",");
	jsontext_append(c->gen, node, c->row);
	json_node_unref(node);
	if (buf_append(&c->json, c->row->str, c->row->len) != BD_OK)
		return BD_ENOMEM;
	c->inbatch++;
	return BD_OK;
}

/* PostgreSQL: the batch into the table, through its one statement. */
static enum bd_status
batch_flush(struct copy *c, struct db_stmt *ins)
{
	enum db_step	 rc;

	if (c->inbatch == 0)
		return BD_OK;
	if (buf_puts(&c->json, "]") != BD_OK)
		return BD_ENOMEM;
	db_bind_text(ins, 1, c->json.data, c->json.len);
	rc = db_step(ins);
	db_reset(ins);
	buf_reset(&c->json);
	c->inbatch = 0;
	return rc == DB_ERROR ? store_dberr(c->to, "insert") : BD_OK;
}

/* SQLite: the source's row through the prepared INSERT. */
static enum bd_status
row_insert(struct copy *c, const struct copy_table *t, struct db_stmt *src,
    struct db_stmt *ins)
{
	enum db_step	 rc;
	size_t		 i;

	for (i = 0; t->cols[i] != NULL; i++) {
		if (db_column_null(src, (int)i))
			db_bind_null(ins, (int)i + 1);
		else
			db_bind_text(ins, (int)i + 1,
			    db_column_text(src, (int)i), SIZE_MAX);
	}
	rc = db_step(ins);
	db_reset(ins);
	return rc == DB_ERROR ? store_dberr(c->to, "insert") : BD_OK;
}

/* The target's INSERT for table t: a batch (PostgreSQL) or a row. */
static enum bd_status
prepare_insert(struct copy *c, const struct copy_table *t,
    struct db_stmt **ins)
{
	struct buf	 sql;
	enum bd_status	 r;
	size_t		 i;

	buf_init(&sql, 0);
	r = buf_printf(&sql, "INSERT INTO %s (", t->name);
	if (r == BD_OK)
		r = col_list(&sql, t);
	if (r == BD_OK && c->pg) {
		r = buf_puts(&sql, ") SELECT ");
		if (r == BD_OK)
			r = col_list(&sql, t);
		if (r == BD_OK)
			r = buf_printf(&sql, " FROM json_populate_recordset("
			    "NULL::%s, CAST(? AS json))", t->name);
	} else if (r == BD_OK) {
		r = buf_puts(&sql, ") VALUES (");
		for (i = 0; r == BD_OK && t->cols[i] != NULL; i++)
			r = buf_puts(&sql, i > 0 ? ", ?" : "?");
		if (r == BD_OK)
			r = buf_puts(&sql, ")");
	}
	if (r != BD_OK) {
		buf_free(&sql);
		store_seterr(c->to, "out of memory");
		return BD_ENOMEM;
	}
	r = store_prepare(c->to, sql.data, ins);
	buf_free(&sql);
	return r;
}

/* The source's SELECT for table t, in key order. */
static enum bd_status
prepare_select(struct copy *c, const struct copy_table *t,
    struct db_stmt **sel)
{
	struct buf	 sql;
	enum bd_status	 r;

	buf_init(&sql, 0);
	r = buf_puts(&sql, "SELECT ");
	if (r == BD_OK)
		r = col_list(&sql, t);
	if (r == BD_OK)
		r = buf_printf(&sql, " FROM %s%s ORDER BY %s", t->name,
		    strcmp(t->name, "meta") == 0 ? " WHERE " META_OWN : "",
		    t->order);
	if (r != BD_OK) {
		buf_free(&sql);
		store_seterr(c->from, "out of memory");
		return BD_ENOMEM;
	}
	r = store_prepare(c->from, sql.data, sel);
	buf_free(&sql);
	return r;
}

/* Every row of table i from the source into the target. */
static enum bd_status
copy_table(struct copy *c, size_t i)
{
	const struct copy_table	*t = &tables[i];
	struct db_stmt		*sel = NULL, *ins = NULL;
	enum bd_status		 r;
	enum db_step		 rc;
	int64_t			 done = 0;

	if ((r = prepare_select(c, t, &sel)) != BD_OK)
		return copy_fail(c, c->from, r);
	if ((r = prepare_insert(c, t, &ins)) != BD_OK) {
		db_finalize(sel);
		return copy_fail(c, c->to, r);
	}
	while ((rc = db_step(sel)) == DB_ROW) {
		if (c->pg) {
			if ((r = batch_add(c, t, sel)) == BD_ENOMEM)
				store_seterr(c->to, "out of memory");
			else if (c->inbatch >= COPY_BATCH_ROWS ||
			    c->json.len >= COPY_BATCH_BYTES)
				r = batch_flush(c, ins);
		} else
			r = row_insert(c, t, sel, ins);
		if (r != BD_OK)
			break;
		if (++done % 1000 == 0 && c->cb != NULL)
			c->cb(c->arg, t->name, done, c->total[i]);
	}
	if (r == BD_OK && rc == DB_ERROR)
		r = copy_fail(c, c->from, store_dberr(c->from, t->name));
	if (r == BD_OK && c->pg)
		r = batch_flush(c, ins);
	if (r != BD_OK)
		(void)copy_fail(c, c->to, r);
	else if (c->cb != NULL)
		c->cb(c->arg, t->name, done, c->total[i]);
	buf_reset(&c->json);
	c->inbatch = 0;
	db_finalize(sel);
	db_finalize(ins);
	return r;
}

/*
 * The target holds nothing but what store_open() put there: no row in
 * any table, meta apart from the schema's version and SQLite's refold.
 */
static enum bd_status
check_empty(struct copy *c)
{
	enum bd_status	 r;
	int64_t		 n;
	size_t		 i;

	for (i = 0; i < STORE_COPY_NTABLES; i++) {
		if ((r = count_rows(c->to, i, true, &n)) != BD_OK)
			return copy_fail(c, c->to, r);
		if (n > 0) {
			(void)snprintf(c->err, c->errlen, "the target is not "
			    "empty (%s: %" PRId64 " row%s); migrate copies "
			    "into a new database only", tables[i].name, n,
			    n == 1 ? "" : "s");
			return BD_ECONFIG;
		}
	}
	for (i = 0; i < STORE_COPY_NTABLES; i++) {
		if ((r = check_columns(c->from, i)) != BD_OK)
			return copy_fail(c, c->from, r);
		if ((r = check_columns(c->to, i)) != BD_OK)
			return copy_fail(c, c->to, r);
	}
	return BD_OK;
}

/*
 * PostgreSQL: the id sequences past the copied ids (setval's false: the
 * next nextval() returns that value itself, 1 for an empty table).
 */
static enum bd_status
set_sequences(struct copy *c)
{
	static const char *const sql[] = {
		"SELECT setval(pg_get_serial_sequence('events', 'id'), "
		"COALESCE(MAX(id), 0) + 1, false) FROM events",
		"SELECT setval(pg_get_serial_sequence('feed', 'id'), "
		"COALESCE(MAX(id), 0) + 1, false) FROM feed",
	};
	size_t	 i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		if (store_exec(c->to, sql[i]) != BD_OK)
			return copy_fail(c, c->to, BD_EIO);
	return BD_OK;
}

/*
 * PostgreSQL: the planner's statistics of table i, as it stands now.  A
 * table filled in this transaction has none, and the feed's trigger on
 * recipients (the newest event of the address: MAX(id) WHERE recipient)
 * then walked the events' primary key backwards, 5 ms a suppressed
 * address (100,000 events: 25 s); the relays that take over get fresh
 * statistics too, before autovacuum comes by.
 */
static enum bd_status
analyze(struct copy *c, size_t i)
{
	char	 sql[64];

	(void)snprintf(sql, sizeof(sql), "ANALYZE %s", tables[i].name);
	if (store_exec(c->to, sql) != BD_OK)
		return copy_fail(c, c->to, BD_EIO);
	return BD_OK;
}

/* The copy itself, both handles locked, in the target's transaction. */
static enum bd_status
copy_all(struct copy *c)
{
	enum bd_status	 r;
	size_t		 i;

	if ((r = check_empty(c)) != BD_OK)
		return r;
	for (i = 0; i < STORE_COPY_NTABLES; i++)
		if ((r = count_rows(c->from, i, false, &c->total[i])) != BD_OK)
			return copy_fail(c, c->from, r);
	/* the target's own meta (SQLite's refold) gives way to the source's */
	if ((r = store_exec(c->to, "DELETE FROM meta WHERE " META_OWN)) !=
	    BD_OK)
		return copy_fail(c, c->to, r);
	for (i = 0; i < STORE_COPY_NTABLES; i++) {
		/* the rows the target's triggers added: the source's instead */
		if (strcmp(tables[i].name, "feed") == 0 &&
		    (r = store_exec(c->to, "DELETE FROM feed")) != BD_OK)
			return copy_fail(c, c->to, r);
		if ((r = copy_table(c, i)) != BD_OK)
			return r;
		if (c->pg && (r = analyze(c, i)) != BD_OK)
			return r;
	}
	return c->pg ? set_sequences(c) : BD_OK;
}

/*
 * store_copy - copy every row of one database into another, empty one
 *
 * Arguments: from, the source (read-only is enough; never changed);
 * to, the target, read-write, created by store_open() and holding no
 * data; cb/arg (cb may be NULL), told of the progress of each table;
 * err/errlen, why it failed.
 * Returns BD_OK; BD_ECONFIG when the target is not empty or either
 * schema is not the one this program copies; a database failure
 * (BD_EIO, BD_EBUSY, BD_ENOMEM).  On failure the target is unchanged.
 * Notes: one transaction on the target (on PostgreSQL it holds the
 * fleet's write lock: no relay records meanwhile), one read snapshot of
 * the source.  Counting the rows of both afterwards (store_copy_count())
 * is the caller's check.
 */
enum bd_status
store_copy(struct store *from, struct store *to, store_copy_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct copy	 c;
	enum bd_status	 r;

	memset(&c, 0, sizeof(c));
	c.from = from;
	c.to = to;
	c.pg = db_kind(to->db) == DB_POSTGRES;
	c.cb = cb;
	c.arg = arg;
	c.err = err;
	c.errlen = errlen;
	err[0] = '\0';
	if (from == to || (r = store_writable(to)) != BD_OK) {
		(void)snprintf(err, errlen, "the target must be another "
		    "database, opened read-write");
		return BD_ECONFIG;
	}
	buf_init(&c.json, 0);
	c.gen = json_generator_new();
	c.row = g_string_sized_new(512);
	pthread_mutex_lock(&from->lock);
	pthread_mutex_lock(&to->lock);
	if (db_begin(from->db, false) != BD_OK) {
		r = copy_fail(&c, from, store_dberr(from, "BEGIN"));
		goto out;
	}
	if ((r = store_tx_begin(to)) != BD_OK) {
		(void)copy_fail(&c, to, r);
		db_rollback(from->db);
		goto out;
	}
	if ((r = copy_all(&c)) != BD_OK)
		store_tx_rollback(to);
	else if ((r = store_tx_commit(to)) != BD_OK)
		(void)copy_fail(&c, to, r);
	/* the source was only read */
	db_rollback(from->db);
out:
	pthread_mutex_unlock(&to->lock);
	pthread_mutex_unlock(&from->lock);
	buf_free(&c.json);
	g_object_unref(c.gen);
	g_string_free(c.row, TRUE);
	return r;
}
