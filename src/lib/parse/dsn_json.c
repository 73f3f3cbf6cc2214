/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * dsn_json.c - an ESP's JSON delivery notification carried in a mail
 * body: Amazon SES notifications ("notificationType") and events
 * ("eventType"), directly or wrapped in an Amazon SNS message (whose
 * "Message" member holds the notification as a JSON string).  A bounce
 * gives a recipient per bouncedRecipients entry (its action, status and
 * diagnosticCode, else the bounceType and bounceSubType), a complaint
 * an ARF-like feedback report (complaintFeedbackType), a delivery a
 * delivered recipient, a delivery delay a delayed one: the same
 * per-recipient report as an RFC 3464 message.
 *
 * Pure: no I/O, no logging.  The JSON is parsed by json-glib, after
 * checks that bound what it is given: at most DSN_JSON_MAX bytes and
 * DSN_JSON_DEPTH levels of nesting (json-glib's parser recurses per
 * level), and only a text that names a notification type is parsed.
 * Line breaks are dropped first: a mail system may fold a long line
 * inside a JSON string, where RFC 8259 section 7 allows none.
 * Field names: the Amazon SES Developer Guide, "Contents of
 * notifications" and "Event publishing" (bounce, complaint, delivery,
 * deliveryDelay, mail objects).
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-glib/json-glib.h>

#include "parse/dsn_int.h"

#define DSN_JSON_MAX	(1u << 20)	/* bytes of JSON parsed */
#define DSN_JSON_DEPTH	32		/* nesting of arrays and objects */

/*
 * A copy of t[0..n) without CR and LF, if it is small and shallow enough
 * for json-glib; NULL otherwise (or out of memory: *nomem).
 */
static char *
json_prepare(const char *t, size_t n, size_t *outlen, bool *nomem)
{
	char	*s;
	size_t	 i, o = 0;
	int	 depth = 0;
	bool	 str = false, esc = false;

	if (n > DSN_JSON_MAX)
		return NULL;
	if ((s = malloc(n + 1)) == NULL) {
		*nomem = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char ch = t[i];

		if (ch == '\r' || ch == '\n')
			continue;
		if (ch == '\0')
			break;
		s[o++] = ch;
		if (str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				str = false;
		} else if (ch == '"')
			str = true;
		else if (ch == '{' || ch == '[') {
			if (++depth > DSN_JSON_DEPTH) {
				free(s);
				return NULL;
			}
		} else if (ch == '}' || ch == ']')
			depth--;
	}
	s[o] = '\0';
	*outlen = o;
	return s;
}

/* The object member name as a string, or NULL. */
static const char *
member_str(JsonObject *o, const char *name)
{
	JsonNode	*n;

	if (o == NULL || (n = json_object_get_member(o, name)) == NULL ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

static JsonObject *
member_obj(JsonObject *o, const char *name)
{
	JsonNode	*n;

	if (o == NULL || (n = json_object_get_member(o, name)) == NULL ||
	    !JSON_NODE_HOLDS_OBJECT(n))
		return NULL;
	return json_node_get_object(n);
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
	JsonNode	*n;

	if (o == NULL || (n = json_object_get_member(o, name)) == NULL ||
	    !JSON_NODE_HOLDS_ARRAY(n))
		return NULL;
	return json_node_get_array(n);
}

/*
 * Unix seconds of an ISO 8601 / RFC 3339 time stamp as SES writes it
 * ("2016-10-21T06:58:02.245Z"; GLib's parser, UTC when the stamp names
 * no zone), 0 if it is not one.
 */
static int64_t
iso_time(const char *s)
{
	GTimeZone	*utc;
	GDateTime	*dt;
	int64_t		 t = 0;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return 0;
	utc = g_time_zone_new_utc();
	if ((dt = g_date_time_new_from_iso8601(s, utc)) != NULL) {
		t = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
	}
	g_time_zone_unref(utc);
	return t;
}

/* s without an RFC 3464 "type;" prefix; the type into type[]. */
static const char *
after_type(const char *s, char *type, size_t typelen)
{
	const char	*semi = strchr(s, ';'), *q;
	size_t		 n = 0;

	type[0] = '\0';
	if (semi == NULL || semi - s > 24)
		return s;
	for (q = s; q < semi; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != ' ')
			return s;
	for (q = s; q < semi && n + 1 < typelen; q++)
		if (*q != ' ')
			type[n++] = (char)tolower((unsigned char)*q);
	type[n] = '\0';
	for (semi++; *semi == ' ' || *semi == '\t'; semi++)
		;
	return semi;
}

/*
 * The status an SES bounce implies when its recipient entry has none:
 * its bounceType (Permanent: 5, Transient: 4) and bounceSubType, as the
 * SES Developer Guide defines them.  NULL: nothing implied.
 */
static const char *
bounce_status(const char *type, const char *sub)
{
	bool	 perm = type != NULL && strcasecmp(type, "Permanent") == 0;

	if (type == NULL || (!perm && strcasecmp(type, "Transient") != 0))
		return NULL;	/* "Undetermined" */
	if (sub != NULL) {
		/* "the email address does not exist" */
		if (strcasecmp(sub, "NoEmail") == 0)
			return perm ? "5.1.1" : "4.1.1";
		if (strcasecmp(sub, "MailboxFull") == 0)
			return perm ? "5.2.2" : "4.2.2";
		if (strcasecmp(sub, "MessageTooLarge") == 0)
			return "5.3.4";
		if (strcasecmp(sub, "ContentRejected") == 0 ||
		    strcasecmp(sub, "AttachmentRejected") == 0)
			return "5.6.0";
	}
	return perm ? "5.0.0" : "4.0.0";
}

/* One reported recipient from an entry (an object, or a bare address). */
static void
add_recipient(struct dsn_ctx *c, JsonNode *entry, enum ev_action act,
    const char *status, const char *diag, const char *remote, int64_t when)
{
	struct dsn_rcpt	*rc;
	JsonObject	*o = NULL;
	const char	*addr, *v;
	char		 type[32], *a;

	if (JSON_NODE_HOLDS_OBJECT(entry)) {
		o = json_node_get_object(entry);
		addr = member_str(o, "emailAddress");
	} else if (json_node_get_value_type(entry) == G_TYPE_STRING)
		addr = json_node_get_string(entry);
	else
		return;
	if (addr == NULL ||
	    (a = dsn_clean_addr(c, addr, strlen(addr))) == NULL)
		return;
	if (dsn_has_rcpt(c->r, a) || (rc = dsn_add_rcpt(c)) == NULL) {
		free(a);
		return;
	}
	rc->final_recipient = a;
	rc->action = act;
	if ((v = member_str(o, "action")) != NULL)
		rc->action = ev_action_parse(v);
	if ((v = member_str(o, "status")) != NULL &&
	    dsn_find_status(v, strnlen(v, 32), type, sizeof(type)))
		dsn_set(c, &rc->status, type, strlen(type), 16);
	else if (status != NULL)
		dsn_set(c, &rc->status, status, strlen(status), 16);
	if ((v = member_str(o, "diagnosticCode")) != NULL)
		diag = v;
	if (diag != NULL && *diag != '\0') {
		diag = after_type(diag, type, sizeof(type));
		if (type[0] != '\0')
			dsn_set(c, &rc->diagnostic_type, type, strlen(type),
			    32);
		dsn_set(c, &rc->diagnostic, diag, strlen(diag),
		    c->opt->max_diagnostic);
		if (rc->diagnostic != NULL)
			rc->reply_code = dsn_reply_code(rc->diagnostic);
	}
	if (remote != NULL)
		dsn_set(c, &rc->remote_mta, remote, strlen(remote),
		    c->opt->max_field);
	rc->last_attempt.t = when;
	rc->last_attempt.read = true;
}

/* Every entry of list as a recipient. */
static void
add_all(struct dsn_ctx *c, JsonArray *list, enum ev_action act,
    const char *status, const char *diag, const char *remote, int64_t when)
{
	guint	 i, n;

	n = list != NULL ? json_array_get_length(list) : 0;
	for (i = 0; i < n && !c->nomem; i++)
		add_recipient(c, json_array_get_element(list, i), act, status,
		    diag, remote, when);
}

/* The mail object: the original's sender, message ids. */
static void
read_mail(struct dsn_ctx *c, JsonObject *mail)
{
	struct dsn_report	*r = c->r;
	const char		*v;
	JsonObject		*h = member_obj(mail, "commonHeaders");

	if ((v = member_str(mail, "source")) != NULL && r->sender == NULL)
		r->sender = dsn_clean_addr(c, v, strlen(v));
	if ((v = member_str(mail, "messageId")) != NULL && r->queue_id == NULL)
		dsn_set(c, &r->queue_id, v, strlen(v), c->opt->max_field);
	if ((v = member_str(h, "messageId")) != NULL &&
	    r->orig_message_id == NULL) {
		size_t n = strlen(v);

		if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
			v++;
			n -= 2;
		}
		dsn_set(c, &r->orig_message_id, v, n, c->opt->max_field);
	}
}

/* The notification object; true when it was one. */
static bool
read_notification(struct dsn_ctx *c, JsonObject *o)
{
	struct dsn_report	*r = c->r;
	JsonObject		*b;
	const char		*type, *v, *remote;
	int64_t			 when;

	if ((type = member_str(o, "notificationType")) == NULL &&
	    (type = member_str(o, "eventType")) == NULL)
		return false;
	if (strcasecmp(type, "Bounce") == 0 &&
	    (b = member_obj(o, "bounce")) != NULL) {
		r->kind = DSN_KIND_REPORT;
		when = iso_time(member_str(b, "timestamp"));
		remote = member_str(b, "remoteMtaIp");
		add_all(c, member_array(b, "bouncedRecipients"),
		    EV_ACT_FAILED, bounce_status(member_str(b, "bounceType"),
		    member_str(b, "bounceSubType")), NULL, remote, when);
	} else if (strcasecmp(type, "Complaint") == 0 &&
	    (b = member_obj(o, "complaint")) != NULL) {
		r->kind = DSN_KIND_ARF;
		v = member_str(b, "complaintFeedbackType");
		dsn_set(c, &r->feedback_type, v != NULL ? v : "abuse",
		    strlen(v != NULL ? v : "abuse"), 64);
		if (r->feedback_type != NULL) {
			char *p;

			for (p = r->feedback_type; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
		}
		add_all(c, member_array(b, "complainedRecipients"),
		    EV_ACT_FAILED, NULL, NULL, NULL,
		    iso_time(member_str(b, "timestamp")));
	} else if (strcasecmp(type, "Delivery") == 0 &&
	    (b = member_obj(o, "delivery")) != NULL) {
		r->kind = DSN_KIND_REPORT;
		add_all(c, member_array(b, "recipients"), EV_ACT_DELIVERED,
		    "2.0.0", member_str(b, "smtpResponse"),
		    member_str(b, "remoteMtaIp"),
		    iso_time(member_str(b, "timestamp")));
	} else if (strcasecmp(type, "DeliveryDelay") == 0 &&
	    (b = member_obj(o, "deliveryDelay")) != NULL) {
		r->kind = DSN_KIND_REPORT;
		add_all(c, member_array(b, "delayedRecipients"),
		    EV_ACT_DELAYED, "4.0.0", NULL,
		    member_str(b, "remoteMtaIp"),
		    iso_time(member_str(b, "timestamp")));
	} else
		return false;
	if (b != NULL && (v = member_str(b, "reportingMTA")) != NULL) {
		char	 t[32];

		v = after_type(v, t, sizeof(t));
		dsn_set(c, &r->reporting_mta, v, strlen(v),
		    c->opt->max_field);
	}
	read_mail(c, member_obj(o, "mail"));
	return true;
}

/*
 * Parse text t[0..n) as JSON and read the notification it is, or the
 * one an SNS message wraps (depth: how many wrappers were opened).
 */
static bool
read_json(struct dsn_ctx *c, const char *t, size_t n, int depth)
{
	JsonParser	*p;
	JsonNode	*root;
	JsonObject	*o;
	const char	*inner;
	char		*s;
	size_t		 len;
	bool		 ok = false;

	if ((s = json_prepare(t, n, &len, &c->nomem)) == NULL)
		return false;
	p = json_parser_new_immutable();
	if (json_parser_load_from_data(p, s, (gssize)len, NULL) &&
	    (root = json_parser_get_root(p)) != NULL &&
	    JSON_NODE_HOLDS_OBJECT(root)) {
		o = json_node_get_object(root);
		ok = read_notification(c, o);
		/* Amazon SNS: the notification is the Message string. */
		if (!ok && depth == 0 &&
		    (inner = member_str(o, "Message")) != NULL)
			ok = read_json(c, inner, strlen(inner), depth + 1);
	}
	g_object_unref(p);
	free(s);
	return ok;
}

/*
 * dsn_json - read an ESP's JSON notification from the bounce's body
 *
 * Arguments: c, the parser; its document is open.
 * Returns true when a body part (not inside an enclosed message) is a
 * JSON notification of a known type: the report then has its kind
 * (DSN_KIND_REPORT, or DSN_KIND_ARF for a complaint), mta "amazonses"
 * and a recipient per address it names.
 * Notes: a part is parsed only when it starts with '{' and names
 * "notificationType" or "eventType"; bounded as the file comment says.
 */
bool
dsn_json(struct dsn_ctx *c)
{
	struct mime_doc	*d = &c->doc;
	const char	*t;
	size_t		 i, n, k;

	for (i = 0; i < d->nparts; i++) {
		if (d->parts[i].depth != 0 || d->parts[i].message ||
		    (t = d->parts[i].text) == NULL)
			continue;
		n = d->parts[i].len;
		for (k = 0; k < n && isspace((unsigned char)t[k]); k++)
			;
		if (k == n || t[k] != '{' ||
		    (memmem(t, n, "otificationType", 15) == NULL &&
		    memmem(t, n, "eventType", 9) == NULL))
			continue;
		if (!read_json(c, t + k, n - k, 0))
			continue;
		if (c->r->mta == NULL &&
		    (c->r->mta = strdup("amazonses")) == NULL)
			c->nomem = true;
		return true;
	}
	return false;
}
