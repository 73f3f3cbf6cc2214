/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025, 2026 The bounced authors.
 *
 * store_schema.c - the database schema on both engines, versioned the
 * same way: STORE_SCHEMA_VERSION.
 *
 * SQLite keeps its version in PRAGMA user_version and reaches the
 * current schema through the ordered migrations[] (append, never edit
 * an old one).  PostgreSQL starts at v7 with the same tables, columns
 * and meanings written in its own types (BIGINT dates and ids, text
 * compared byte by byte with COLLATE "C" as SQLite does, PL/pgSQL
 * triggers for the feed) and keeps its version in meta ('schema');
 * later versions append to both lists.  Two relays that start at once on
 * an empty server create the schema once: the creation runs under the
 * fleet's write lock (db_begin()).
 *
 * On PostgreSQL a change of a recipient's state also notifies channel
 * "bounced_state" with the address, at commit: every relay's RCPT cache
 * drops that address (rcache, LISTEN).
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/*
 * SQLite's ordered migrations: migrations[i] takes the schema from
 * version i to version i + 1, all in one transaction with the new
 * user_version.
 */
static const char *const migrations[] = {
	/* v1 */
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"			/* when */
	" recipient TEXT NOT NULL,"
	" domain TEXT NOT NULL,"
	" original_recipient TEXT,"
	" action TEXT NOT NULL,"
	" status TEXT,"
	" reply_code INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT,"
	" hard INTEGER NOT NULL DEFAULT 0,"
	" who TEXT,"
	" advice TEXT,"
	" rule TEXT,"
	" diagnostic TEXT,"
	" remote_mta TEXT,"
	" reporting_mta TEXT,"
	" queue_id TEXT,"
	" message_id TEXT,"
	" envelope_id TEXT,"
	" sender TEXT,"
	" campaign TEXT,"
	" feedback_type TEXT,"
	" source TEXT NOT NULL,"
	" trusted INTEGER NOT NULL DEFAULT 0,"
	" class TEXT NOT NULL,"			/* state_input_name() */
	" recorded_at INTEGER NOT NULL,"
	" identity TEXT NOT NULL UNIQUE);"
	"CREATE INDEX events_recipient ON events(recipient, ts);"
	"CREATE INDEX events_ts ON events(ts);"
	"CREATE INDEX events_queue ON events(queue_id, recipient);"
	"CREATE TABLE recipients ("
	" address TEXT PRIMARY KEY,"
	" domain TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'active'"
	"  CHECK (state IN ('active', 'soft', 'suppressed')),"
	" reason TEXT NOT NULL DEFAULT '',"
	" soft_count INTEGER NOT NULL DEFAULT 0,"
	" soft_marks TEXT NOT NULL DEFAULT '',"
	" suppressed_since INTEGER NOT NULL DEFAULT 0,"
	" suppress_event INTEGER,"
	" reset_at INTEGER NOT NULL DEFAULT 0,"
	" first_bounce INTEGER NOT NULL DEFAULT 0,"
	" last_bounce INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" last_event INTEGER,"
	" last_status TEXT,"
	" last_reason TEXT,"
	" last_diagnostic TEXT,"
	" manual_by TEXT,"
	" manual_why TEXT,"
	" manual_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX recipients_state ON recipients(state, address);"
	"CREATE INDEX recipients_domain ON recipients(domain);"
	/*
	 * Sends this relay made, for a later trust policy and delivery
	 * awareness (DESIGN.md "Trust"); not filled in v1.
	 */
	"CREATE TABLE sends ("
	" queue_id TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" message_id TEXT,"
	" ts INTEGER NOT NULL,"
	" PRIMARY KEY (queue_id, recipient));",
	/*
	 * v2: the MTA log as a source.  cursors: a follower's position per
	 * source name.  sends: one row per original message x recipient
	 * seen in the log, with the latest outcome (a class of
	 * state_input_name()) for bounce rates.  suppress_events: the ids
	 * of the events that led to a suppression.
	 */
	"CREATE TABLE cursors ("
	" source TEXT PRIMARY KEY,"
	" dev INTEGER NOT NULL DEFAULT 0,"
	" inode INTEGER NOT NULL DEFAULT 0,"
	" \"offset\" INTEGER NOT NULL DEFAULT 0,"
	" updated INTEGER NOT NULL DEFAULT 0);"
	"ALTER TABLE sends ADD COLUMN domain TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sends ADD COLUMN sender TEXT;"
	"ALTER TABLE sends ADD COLUMN campaign TEXT;"
	"ALTER TABLE sends ADD COLUMN outcome TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sends ADD COLUMN outcome_ts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sends ADD COLUMN reason TEXT;"
	"CREATE INDEX sends_ts ON sends(ts);"
	"CREATE INDEX sends_domain ON sends(domain, ts);"
	"CREATE INDEX events_class ON events(class, ts);"
	"ALTER TABLE recipients ADD COLUMN suppress_events TEXT NOT NULL "
	" DEFAULT '';"
	/* a v1 suppression's one known event */
	"UPDATE recipients SET suppress_events = CAST(suppress_event AS TEXT)"
	" WHERE state = 'suppressed' AND suppress_event IS NOT NULL;",
	/*
	 * v3: reset_event, the id of the delivery behind reset_at, so that a
	 * soft bounce recorded after it in the same second counts (state.c);
	 * 9223372036854775807 (STATE_SEQ_MANUAL) when it was an unsuppress.
	 */
	"ALTER TABLE recipients ADD COLUMN reset_event INTEGER NOT NULL "
	" DEFAULT 0;"
	"UPDATE recipients SET reset_event = COALESCE((SELECT MAX(e.id) FROM "
	" events e WHERE e.recipient = recipients.address AND e.ts = "
	" recipients.reset_at AND e.class = 'delivered'), 0) "
	" WHERE reset_at > 0;"
	"UPDATE recipients SET reset_event = 9223372036854775807 "
	" WHERE reset_at > 0 AND EXISTS (SELECT 1 FROM events e WHERE "
	" e.recipient = recipients.address AND e.ts = recipients.reset_at AND "
	" e.class = 'unsuppress');",
	/*
	 * v4: the feed behind `bouncectl events` (store_feed() in
	 * store_ops.c): one row per recorded event and per change of a
	 * recipient's state or reason, in the order they happened; its id is
	 * the cursor an application resumes from.  Triggers fill it, so
	 * every writer (milter, log follower, operator, expiry, rebuild) is
	 * covered without a line of its own.  A state row names the newest
	 * event of the recipient when it changed.  Pruned events take their
	 * feed rows with them.
	 */
	"CREATE TABLE feed ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('event', 'state')),"
	" recipient TEXT NOT NULL,"
	" event_id INTEGER,"
	" old_state TEXT, new_state TEXT, old_reason TEXT, new_reason TEXT);"
	"CREATE INDEX feed_event ON feed(event_id);"
	"CREATE INDEX feed_ts ON feed(ts);"
	"CREATE TRIGGER feed_event_ins AFTER INSERT ON events BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id)"
	" VALUES (NEW.recorded_at, 'event', NEW.recipient, NEW.id); END;"
	"CREATE TRIGGER feed_event_del AFTER DELETE ON events BEGIN"
	" DELETE FROM feed WHERE event_id = OLD.id AND kind = 'event'; END;"
	"CREATE TRIGGER feed_state_upd AFTER UPDATE OF state, reason"
	" ON recipients WHEN OLD.state IS NOT NEW.state OR"
	" OLD.reason IS NOT NEW.reason BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id, old_state,"
	"  new_state, old_reason, new_reason)"
	" VALUES (CAST(strftime('%s', 'now') AS INTEGER), 'state',"
	"  NEW.address, (SELECT MAX(id) FROM events"
	"  WHERE recipient = NEW.address), OLD.state, NEW.state, OLD.reason,"
	"  NEW.reason); END;"
	"CREATE TRIGGER feed_state_ins AFTER INSERT ON recipients"
	" WHEN NEW.state IS NOT 'active' BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id, old_state,"
	"  new_state, old_reason, new_reason)"
	" VALUES (CAST(strftime('%s', 'now') AS INTEGER), 'state',"
	"  NEW.address, (SELECT MAX(id) FROM events"
	"  WHERE recipient = NEW.address), 'active', NEW.state, '',"
	"  NEW.reason); END;"
	/* the events kept so far, once, so that a cursor starts at 1 */
	"INSERT INTO feed (ts, kind, recipient, event_id)"
	" SELECT recorded_at, 'event', recipient, id FROM events ORDER BY id;",
	/*
	 * v5: what kind of mail bounced, from the returned original's
	 * headers (dsn.h mail_kind): "bulk", "transactional", NULL when no
	 * original came back (the mail log, an operator).
	 */
	"ALTER TABLE events ADD COLUMN mail_kind TEXT;",
	/*
	 * v6: the trust policy (DESIGN.md "Trust", verdict/trust.c).
	 * events.trust_why: how the policy judged a report (NULL: a producer
	 * trusted as such, and every event of older versions, which were all
	 * acted on); a held report (judged, not trusted) has class
	 * 'untrusted' and never enters a state.  events.client_addr: the SMTP
	 * client that brought it (stats of untrusted reports per source).
	 * sends.envelope_id: the RFC 3461 ENVID the milter saw at MAIL FROM.
	 * sends_recipient: a report is tied to a send of that recipient.
	 * The feed (v4) leaves held reports out: an application that acts
	 * on `bouncectl events` must never act on a forged report.
	 */
	"ALTER TABLE events ADD COLUMN trust_why TEXT;"
	"ALTER TABLE events ADD COLUMN client_addr TEXT;"
	"ALTER TABLE sends ADD COLUMN envelope_id TEXT;"
	"CREATE INDEX sends_recipient ON sends(recipient, ts);"
	"DROP TRIGGER feed_event_ins;"
	"CREATE TRIGGER feed_event_ins AFTER INSERT ON events"
	" WHEN NEW.class IS NOT 'untrusted' BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id)"
	" VALUES (NEW.recorded_at, 'event', NEW.recipient, NEW.id); END;",
	/*
	 * v7: state that follows the facts (store_record.c).
	 * events.msgkey: the message's canonical key, msgkeys: the keys of
	 * one message linked (queue ids, Message-ID, ENVID, hand-offs);
	 * events.rank: the fold's order within a second; reported_at: the
	 * report's own date (ts is the date the rule uses); class
	 * "deferred" for a deferral (provisional), "local" for our own
	 * path.  recipients: display (the form as received; address is
	 * the key: bd_addr_key(), addr_normalize()), pending_count,
	 * newest (the newest date folded), checkpoint (store_prune()).
	 * meta: the policy the states were folded with; "rebuild" asks
	 * store_policy_sync() to fold every state again under v7's rule.
	 */
	"ALTER TABLE events ADD COLUMN msgkey TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE events ADD COLUMN reported_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE events ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;"
	"UPDATE events SET reported_at = ts;"
	"UPDATE events SET class = 'deferred' WHERE class = 'soft' AND "
	" action = 'delayed';"
	"UPDATE events SET msgkey = COALESCE('q:' || NULLIF(queue_id, ''), "
	" 'm:' || NULLIF(trim(message_id, '<> '), ''), "
	" 'e:' || NULLIF(envelope_id, ''), '');"
	"UPDATE events SET rank = CASE class WHEN 'deferred' THEN 1 "
	" WHEN 'soft' THEN 2 WHEN 'hard' THEN 3 WHEN 'sender' THEN 4 "
	" WHEN 'local' THEN 4 WHEN 'delivered' THEN 5 WHEN 'feedback' THEN 6 "
	" WHEN 'suppress' THEN 7 WHEN 'unsuppress' THEN 7 ELSE 0 END;"
	"UPDATE events SET recipient = bd_addr_key(recipient), "
	" domain = bd_addr_domain(bd_addr_key(recipient)) "
	" WHERE recipient <> bd_addr_key(recipient);"
	"CREATE INDEX events_msgkey ON events(msgkey);"
	"CREATE TABLE msgkeys ("
	" key TEXT PRIMARY KEY,"
	" canon TEXT NOT NULL,"
	" ts INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX msgkeys_canon ON msgkeys(canon);"
	"ALTER TABLE recipients ADD COLUMN display TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE recipients ADD COLUMN pending_count INTEGER NOT NULL "
	" DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN newest INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE recipients ADD COLUMN checkpoint TEXT NOT NULL "
	" DEFAULT '';"
	"ALTER TABLE recipients ADD COLUMN checkpoint_ts INTEGER NOT NULL "
	" DEFAULT 0;"
	"UPDATE recipients SET display = address, newest = last_seen;"
	/* variants of one mailbox: one row (the others' events are folded) */
	"UPDATE OR IGNORE recipients SET address = bd_addr_key(address), "
	" domain = bd_addr_domain(bd_addr_key(address)) "
	" WHERE address <> bd_addr_key(address);"
	"DELETE FROM recipients WHERE address <> bd_addr_key(address);"
	"UPDATE OR IGNORE sends SET recipient = bd_addr_key(recipient), "
	" domain = bd_addr_domain(bd_addr_key(recipient)) "
	" WHERE recipient <> bd_addr_key(recipient);"
	"DELETE FROM sends WHERE recipient <> bd_addr_key(recipient);"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('rebuild', 'v4');",
};
#define NMIGRATIONS	((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must match the migrations");

/* PostgreSQL: text compared as bytes, like SQLite's BINARY collation. */
#define T	"TEXT COLLATE \"C\""

/* PostgreSQL: schema v7 at once (the columns in SQLite's order). */
static const char pg_schema_v7[] =
	"CREATE TABLE events ("
	" id BIGSERIAL PRIMARY KEY,"
	" ts BIGINT NOT NULL,"
	" recipient " T " NOT NULL,"
	" domain " T " NOT NULL,"
	" original_recipient " T ","
	" action " T " NOT NULL,"
	" status " T ","
	" reply_code INTEGER NOT NULL DEFAULT 0,"
	" reason " T ","
	" hard INTEGER NOT NULL DEFAULT 0,"
	" who " T ", advice " T ", rule " T ", diagnostic " T ","
	" remote_mta " T ", reporting_mta " T ", queue_id " T ","
	" message_id " T ", envelope_id " T ", sender " T ","
	" campaign " T ", feedback_type " T ","
	" source " T " NOT NULL,"
	" trusted INTEGER NOT NULL DEFAULT 0,"
	" class " T " NOT NULL,"
	" recorded_at BIGINT NOT NULL,"
	" identity " T " NOT NULL UNIQUE,"
	" mail_kind " T ", trust_why " T ", client_addr " T ","
	" msgkey " T " NOT NULL DEFAULT '',"
	" reported_at BIGINT NOT NULL DEFAULT 0,"
	" rank INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX events_recipient ON events(recipient, ts);"
	"CREATE INDEX events_ts ON events(ts);"
	"CREATE INDEX events_queue ON events(queue_id, recipient);"
	"CREATE INDEX events_class ON events(class, ts);"
	"CREATE INDEX events_msgkey ON events(msgkey);"
	"CREATE TABLE recipients ("
	" address " T " PRIMARY KEY,"
	" domain " T " NOT NULL,"
	" state " T " NOT NULL DEFAULT 'active'"
	"  CHECK (state IN ('active', 'soft', 'suppressed')),"
	" reason " T " NOT NULL DEFAULT '',"
	" soft_count INTEGER NOT NULL DEFAULT 0,"
	" soft_marks " T " NOT NULL DEFAULT '',"
	" suppressed_since BIGINT NOT NULL DEFAULT 0,"
	" suppress_event BIGINT,"
	" reset_at BIGINT NOT NULL DEFAULT 0,"
	" first_bounce BIGINT NOT NULL DEFAULT 0,"
	" last_bounce BIGINT NOT NULL DEFAULT 0,"
	" last_seen BIGINT NOT NULL DEFAULT 0,"
	" last_event BIGINT,"
	" last_status " T ", last_reason " T ", last_diagnostic " T ","
	" manual_by " T ", manual_why " T ","
	" manual_at BIGINT NOT NULL DEFAULT 0,"
	" suppress_events " T " NOT NULL DEFAULT '',"
	" reset_event BIGINT NOT NULL DEFAULT 0,"
	" display " T " NOT NULL DEFAULT '',"
	" pending_count INTEGER NOT NULL DEFAULT 0,"
	" newest BIGINT NOT NULL DEFAULT 0,"
	" checkpoint " T " NOT NULL DEFAULT '',"
	" checkpoint_ts BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX recipients_state ON recipients(state, address);"
	"CREATE INDEX recipients_domain ON recipients(domain);"
	"CREATE TABLE sends ("
	" queue_id " T " NOT NULL,"
	" recipient " T " NOT NULL,"
	" message_id " T ","
	" ts BIGINT NOT NULL,"
	" domain " T " NOT NULL DEFAULT '',"
	" sender " T ", campaign " T ","
	" outcome " T " NOT NULL DEFAULT '',"
	" outcome_ts BIGINT NOT NULL DEFAULT 0,"
	" reason " T ","
	" envelope_id " T ","
	" PRIMARY KEY (queue_id, recipient));"
	"CREATE INDEX sends_ts ON sends(ts);"
	"CREATE INDEX sends_domain ON sends(domain, ts);"
	"CREATE INDEX sends_recipient ON sends(recipient, ts);"
	"CREATE TABLE cursors ("
	" source " T " PRIMARY KEY,"
	" dev BIGINT NOT NULL DEFAULT 0,"
	" inode BIGINT NOT NULL DEFAULT 0,"
	" \"offset\" BIGINT NOT NULL DEFAULT 0,"
	" updated BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE feed ("
	" id BIGSERIAL PRIMARY KEY,"
	" ts BIGINT NOT NULL,"
	" kind " T " NOT NULL CHECK (kind IN ('event', 'state')),"
	" recipient " T " NOT NULL,"
	" event_id BIGINT,"
	" old_state " T ", new_state " T ", old_reason " T ","
	" new_reason " T ");"
	"CREATE INDEX feed_event ON feed(event_id);"
	"CREATE INDEX feed_ts ON feed(ts);"
	"CREATE TABLE msgkeys ("
	" key " T " PRIMARY KEY,"
	" canon " T " NOT NULL,"
	" ts BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX msgkeys_canon ON msgkeys(canon);"
	"CREATE TABLE meta ("
	" key " T " PRIMARY KEY,"
	" value " T " NOT NULL);"
	/* the feed's triggers, as SQLite's (v4, v6) */
	"CREATE FUNCTION bd_feed_event_ins() RETURNS trigger AS $$ BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id)"
	" VALUES (NEW.recorded_at, 'event', NEW.recipient, NEW.id);"
	" RETURN NULL; END $$ LANGUAGE plpgsql;"
	"CREATE TRIGGER feed_event_ins AFTER INSERT ON events FOR EACH ROW"
	" WHEN (NEW.class IS DISTINCT FROM 'untrusted')"
	" EXECUTE FUNCTION bd_feed_event_ins();"
	"CREATE FUNCTION bd_feed_event_del() RETURNS trigger AS $$ BEGIN"
	" DELETE FROM feed WHERE event_id = OLD.id AND kind = 'event';"
	" RETURN NULL; END $$ LANGUAGE plpgsql;"
	"CREATE TRIGGER feed_event_del AFTER DELETE ON events FOR EACH ROW"
	" EXECUTE FUNCTION bd_feed_event_del();"
	"CREATE FUNCTION bd_feed_state() RETURNS trigger AS $$ BEGIN"
	" INSERT INTO feed (ts, kind, recipient, event_id, old_state,"
	"  new_state, old_reason, new_reason)"
	" VALUES (CAST(extract(epoch FROM now()) AS BIGINT), 'state',"
	"  NEW.address, (SELECT MAX(id) FROM events"
	"  WHERE recipient = NEW.address),"
	"  CASE TG_OP WHEN 'INSERT' THEN 'active' ELSE OLD.state END,"
	"  NEW.state, CASE TG_OP WHEN 'INSERT' THEN '' ELSE OLD.reason END,"
	"  NEW.reason);"
	" PERFORM pg_notify('bounced_state', NEW.address);"
	" RETURN NULL; END $$ LANGUAGE plpgsql;"
	"CREATE TRIGGER feed_state_upd AFTER UPDATE OF state, reason"
	" ON recipients FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM"
	" NEW.state OR OLD.reason IS DISTINCT FROM NEW.reason)"
	" EXECUTE FUNCTION bd_feed_state();"
	"CREATE TRIGGER feed_state_ins AFTER INSERT ON recipients FOR EACH ROW"
	" WHEN (NEW.state IS DISTINCT FROM 'active')"
	" EXECUTE FUNCTION bd_feed_state();";

/*
 * PostgreSQL's ordered migrations after v7: pg_migrations[i] takes the
 * schema from version 7 + i to 8 + i (none yet).
 */
static const char *const pg_migrations[] = { NULL };
#define PG_BASE	7

_Static_assert(PG_BASE == STORE_SCHEMA_VERSION,
    "a new schema version needs its PostgreSQL migration");

/* SQLite: PRAGMA user_version.  PostgreSQL: meta 'schema' (0: none). */
static enum bd_status
schema_version(struct store *s, int *v)
{
	struct db_stmt	*st;
	enum bd_status	 rs;
	enum db_step	 rc;
	bool		 pg = db_kind(s->db) == DB_POSTGRES;

	*v = 0;
	if (pg) {
		if ((rs = store_prepare(s, "SELECT to_regclass('meta') IS NULL",
		    &st)) != BD_OK)
			return rs;
		rc = db_step(st);
		if (rc == DB_ROW && db_column_int64(st, 0) != 0) {
			db_finalize(st);
			return BD_OK;	/* an empty database */
		}
		db_finalize(st);
	}
	if ((rs = store_prepare(s, pg ? "SELECT CAST(value AS INTEGER) FROM "
	    "meta WHERE key = 'schema'" : "PRAGMA user_version", &st)) !=
	    BD_OK)
		return rs;
	if ((rc = db_step(st)) == DB_ERROR) {
		rs = store_dberr(s, "schema version");
		db_finalize(st);
		return rs;
	}
	if (rc == DB_ROW)
		*v = (int)db_column_int64(st, 0);
	db_finalize(st);
	return BD_OK;
}

/* Record v as the schema's version (inside the migration). */
static enum bd_status
set_version(struct store *s, int v)
{
	char	 sql[128];

	if (db_kind(s->db) == DB_SQLITE)
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	else
		(void)snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) "
		    "VALUES ('schema', '%d') ON CONFLICT (key) DO UPDATE SET "
		    "value = excluded.value", v);
	return store_exec(s, sql);
}

/* The step from version v to v + 1 on s's engine. */
static const char *
migration(struct store *s, int v)
{
	if (db_kind(s->db) == DB_SQLITE)
		return migrations[v];
	return v == 0 ? pg_schema_v7 : pg_migrations[v - PG_BASE];
}

static enum bd_status
migrate(struct store *s)
{
	enum bd_status	 rs;
	int		 v;

	/* Up to date (the usual case): no need for the write lock. */
	if ((rs = schema_version(s, &v)) != BD_OK)
		return rs;
	if (v == NMIGRATIONS)
		return BD_OK;
	if (db_begin(s->db, true) != BD_OK)
		return store_dberr(s, "BEGIN");
	/* again under the lock: another process may have migrated */
	if ((rs = schema_version(s, &v)) != BD_OK)
		goto fail;
	if (v > NMIGRATIONS) {
		store_seterr(s, "database schema v%d is newer than this "
		    "program's (v%d)", v, NMIGRATIONS);
		rs = BD_ECONFIG;
		goto fail;
	}
	while (v < NMIGRATIONS) {
		if ((rs = store_exec(s, migration(s, v))) != BD_OK)
			goto fail;
		/* PostgreSQL's first step is the whole of v7 */
		v = db_kind(s->db) == DB_POSTGRES && v == 0 ? PG_BASE : v + 1;
		if ((rs = set_version(s, v)) != BD_OK)
			goto fail;
	}
	if (db_commit(s->db) != BD_OK) {
		rs = store_dberr(s, "COMMIT");
		goto fail;
	}
	return BD_OK;
fail:
	db_rollback(s->db);
	return rs;
}

/*
 * store_schema_setup - a read-write handle's settings, then the schema
 * brought up to date
 */
enum bd_status
store_schema_setup(struct store *s)
{
	enum bd_status	 rs;

	if (db_kind(s->db) == DB_POSTGRES)
		return migrate(s);
	/* WAL: readers (bouncectl) do not block the milter. */
	if ((rs = store_exec(s, "PRAGMA journal_mode = WAL")) != BD_OK ||
	    /*
	     * FULL: a commit is on disk before store_record() returns, so
	     * that an OS crash cannot roll back a bounce the MTA was told
	     * was recorded (and deleted).  Measured with make bench-milter
	     * (2 busy cores): 663 new bounces/s against 927 with NORMAL,
	     * 1.1 ms against 0.7 ms each one at a time.
	     */
	    (rs = store_exec(s, "PRAGMA synchronous = FULL")) != BD_OK ||
	    (rs = store_exec(s, "PRAGMA cache_size = -16384")) != BD_OK ||
	    /* savepoints of a batch journal in memory, not a file */
	    (rs = store_exec(s, "PRAGMA temp_store = MEMORY")) != BD_OK)
		return rs;
	return migrate(s);
}

/*
 * store_schema_check - a read-only handle: the schema must be this
 * program's, as it cannot migrate
 */
enum bd_status
store_schema_check(struct store *s)
{
	enum bd_status	 rs;
	int		 v;

	if ((rs = schema_version(s, &v)) != BD_OK)
		return rs;
	if (v == NMIGRATIONS)
		return BD_OK;
	if (v == 0)
		store_seterr(s, "not a bounced database (no schema)");
	else
		store_seterr(s, "database schema v%d, this program needs v%d%s",
		    v, NMIGRATIONS, v < NMIGRATIONS ? " (open it read-write "
		    "once to migrate)" : "");
	return BD_ECONFIG;
}

/*
 * store_schema_version - the database's schema version
 *
 * Arguments: s; *version receives it (0: none).
 * Returns BD_OK or a database failure.
 */
enum bd_status
store_schema_version(struct store *s, int *version)
{
	enum bd_status	 rs;

	pthread_mutex_lock(&s->lock);
	rs = schema_version(s, version);
	pthread_mutex_unlock(&s->lock);
	return rs;
}
