/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * store_metrics.c - what the database says, in the Prometheus text
 * exposition format (version 0.0.4): recipients by state, suppressions
 * by reason, events kept by class and source, the last day's events by
 * reason, bounces by destination domain (the 20 busiest, the rest as
 * "other": a label per domain would grow without bound), untrusted
 * reports, sends by outcome, the newest event, the feed's cursor and
 * each hook's, the database's size.  bouncectl metrics prints it;
 * bounced writes it, after its own process counters, into the
 * node_exporter textfile (MetricsFile).  bouncectl(8), METRICS, says
 * what each metric means.
 *
 * Gauges only: the database forgets (prune), so a count read from it
 * can fall, which a Prometheus counter must never do.  Label values come
 * from the network (domains, reasons) and are escaped as the format
 * says (backslash, quote, newline).  No logging.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>


#include "store/store_int.h"


/* A label value, escaped (Prometheus text format). */
static void
label_value(FILE *fp, const char *v)
{
	if (v == NULL)
		v = "";
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(fp, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", fp);
		else if ((unsigned char)*v >= 0x20)
			putc(*v, fp);
	}
}

static void
help(FILE *fp, const char *name, const char *type, const char *text)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/*
 * One gauge per row of sql: the columns are the label values (names in
 * labels[], n of them) then the value.  BD_OK or a database failure.
 */
static enum bd_status
rows(struct store *s, FILE *fp, const char *name, const char *const *labels,
    int n, const char *sql, int64_t bind)
{
	struct db_stmt	*st;
	enum bd_status	 r;
	int		 rc, i;

	if ((r = store_prepare(s, sql, &st)) != BD_OK)
		return r;
	if (bind != 0)
		db_bind_int64(st, 1, bind);
	while ((rc = db_step(st)) == DB_ROW) {
		fputs(name, fp);
		for (i = 0; i < n; i++) {
			fprintf(fp, "%s%s=\"", i == 0 ? "{" : ",", labels[i]);
			label_value(fp, store_col_text(st, i));
			putc('"', fp);
		}
		fprintf(fp, "%s %" PRId64 "\n", n > 0 ? "}" : "",
		    (int64_t)db_column_int64(st, n));
	}
	db_finalize(st);
	return rc == DB_DONE ? BD_OK : store_dberr(s, name);
}

/*
 * store_metrics - the database's metrics in the Prometheus text format
 *
 * Arguments: s (read-only is enough); fp; now, for "the last 24 hours".
 * Returns BD_OK or a database failure (what was written stays: the
 * caller writes to a temporary file and renames it only on success).
 */
enum bd_status
store_metrics(struct store *s, FILE *fp, int64_t now)
{
	static const char *const state[] = { "state" };
	static const char *const reason[] = { "reason" };
	static const char *const cls[] = { "class", "source" };
	static const char *const dom[] = { "domain" };
	static const char *const out[] = { "outcome" };
	static const char *const kind[] = { "kind" };
	static const char *const hook[] = { "name" };
	enum bd_status	 r;
	int64_t		 day = now - 86400;

	pthread_mutex_lock(&s->lock);
	/* one snapshot: the numbers agree with each other */
	if (db_begin(s->db, false) != BD_OK) {
		r = store_dberr(s, "BEGIN");
		goto out;
	}
	help(fp, "bounced_recipients", "gauge",
	    "Recipients known, by state (active, soft, suppressed).");
	if ((r = rows(s, fp, "bounced_recipients", state, 1,
	    "SELECT v, (SELECT COUNT(*) FROM recipients WHERE state = v) "
	    "FROM (SELECT 'active' AS v UNION ALL SELECT 'soft' "
	    "UNION ALL SELECT 'suppressed') AS states", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_suppressed", "gauge",
	    "Addresses suppressed now, by reason.");
	if ((r = rows(s, fp, "bounced_suppressed", reason, 1,
	    "SELECT reason, COUNT(*) FROM recipients WHERE state = "
	    "'suppressed' GROUP BY reason ORDER BY reason", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_events", "gauge", "Events kept in the database, by "
	    "class and source (falls after prune).");
	if ((r = rows(s, fp, "bounced_events", cls, 2,
	    "SELECT class, source, COUNT(*) FROM events GROUP BY class, "
	    "source ORDER BY class, source", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_events_24h", "gauge", "Events dated in the last 24 "
	    "hours, by the classifier's reason.");
	if ((r = rows(s, fp, "bounced_events_24h", reason, 1,
	    "SELECT COALESCE(reason, ''), COUNT(*) FROM events WHERE ts >= ?1 "
	    "AND class NOT IN ('suppress', 'unsuppress') GROUP BY 1 "
	    "ORDER BY 1", day)) != BD_OK)
		goto end;
	help(fp, "bounced_bounces_24h", "gauge", "Hard and soft bounces dated "
	    "in the last 24 hours, by destination domain (the 20 busiest; "
	    "the rest as other).");
	if ((r = rows(s, fp, "bounced_bounces_24h", dom, 1,
	    "WITH d AS (SELECT domain, COUNT(*) AS n FROM events WHERE "
	    "ts >= ?1 AND class IN ('hard', 'soft') GROUP BY domain), "
	    "t AS (SELECT domain, n FROM d ORDER BY n DESC, domain LIMIT 20) "
	    "SELECT domain, n FROM t UNION ALL SELECT 'other', "
	    "(SELECT COALESCE(SUM(n), 0) FROM d) - (SELECT COALESCE(SUM(n), 0) "
	    "FROM t)", day)) != BD_OK)
		goto end;
	help(fp, "bounced_events_by_kind_24h", "gauge", "Events dated in the "
	    "last 24 hours by the kind of mail that bounced (bulk, "
	    "transactional; empty: no original came back).");
	if ((r = rows(s, fp, "bounced_events_by_kind_24h", kind, 1,
	    "SELECT COALESCE(mail_kind, ''), COUNT(*) FROM events WHERE "
	    "ts >= ?1 AND class NOT IN ('suppress', 'unsuppress') GROUP BY 1 "
	    "ORDER BY 1", day)) != BD_OK)
		goto end;
	help(fp, "bounced_untrusted_events_24h", "gauge", "Reports dated in "
	    "the last 24 hours that were not tied to mail this relay sent "
	    "(recorded, never acted on).");
	if ((r = rows(s, fp, "bounced_untrusted_events_24h", NULL, 0,
	    "SELECT COUNT(*) FROM events WHERE ts >= ?1 AND trusted = 0",
	    day)) != BD_OK)
		goto end;
	help(fp, "bounced_sends_24h", "gauge", "Sends seen in the mail log in "
	    "the last 24 hours, by their latest outcome.");
	if ((r = rows(s, fp, "bounced_sends_24h", out, 1,
	    "SELECT CASE outcome WHEN '' THEN 'pending' ELSE outcome END, "
	    "COUNT(*) FROM sends WHERE ts >= ?1 AND COALESCE(sender, '?') "
	    "NOT IN ('', '<>') GROUP BY 1 ORDER BY 1", day)) != BD_OK)
		goto end;
	help(fp, "bounced_last_event_timestamp_seconds", "gauge",
	    "When the newest event was recorded (0: none).");
	if ((r = rows(s, fp, "bounced_last_event_timestamp_seconds", NULL, 0,
	    "SELECT COALESCE(MAX(recorded_at), 0) FROM events", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_feed_cursor", "gauge", "The newest cursor of "
	    "bouncectl events.");
	if ((r = rows(s, fp, "bounced_feed_cursor", NULL, 0,
	    "SELECT COALESCE(MAX(id), 0) FROM feed", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_hook_cursor", "gauge", "The cursor each event hook "
	    "has handed over (bounced_feed_cursor minus it: its backlog).");
	if ((r = rows(s, fp, "bounced_hook_cursor", hook, 1,
	    "SELECT substr(source, 6), \"offset\" FROM cursors WHERE source "
	    "LIKE 'hook:%' ORDER BY source", 0)) != BD_OK)
		goto end;
	help(fp, "bounced_database_bytes", "gauge", "Size of the database "
	    "(pages in use times page size).");
	r = rows(s, fp, "bounced_database_bytes", NULL, 0,
	    db_kind(s->db) == DB_SQLITE ?
	    "SELECT (SELECT page_count FROM pragma_page_count()) * "
	    "(SELECT page_size FROM pragma_page_size())" :
	    "SELECT pg_database_size(current_database())", 0);
end:
	if (db_in_transaction(s->db))
		(void)db_commit(s->db);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}
