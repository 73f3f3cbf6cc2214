# SPDX-License-Identifier: BSD-2-Clause
# tests/pg/lib.sh - a private PostgreSQL server for one test: initdb in a
# temporary folder, listening on a unix socket in that folder only (no
# TCP port, so tests side by side cannot collide), owned by an
# unprivileged user (initdb refuses root; CI runs as root: the server
# runs as "postgres", created by Debian's postgresql package, or as the
# caller when not root).  Source it, then:
#   pg_start DIR      sets PG_CONNINFO ("host=DIR/sock dbname=postgres ...")
#   pg_stop           stops the server (also on exit, through a trap)
#   pg_halt           stops it as an outage would (clients disconnected),
#   pg_resume         and starts it again on the same data (and socket)
# Exits 77 (skipped) when the server binaries are missing.

pg_bindir() {
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	PG_DIR=$1
	PG_BIN=$(pg_bindir) || true
	if [ -z "$PG_BIN" ]; then
		echo "SKIP: no PostgreSQL server (install postgresql)" >&2
		exit 77
	fi
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=postgres
		id "$PG_USER" >/dev/null 2>&1 || {
			echo "SKIP: no postgres user" >&2; exit 77; }
	else
		PG_USER=$(id -un)
	fi
	mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
	[ "$(id -u)" -eq 0 ] && chown -R "$PG_USER" "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" \
	    --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_resume || return 1
	trap pg_stop EXIT INT TERM
	PG_CONNINFO="host=$PG_DIR/sock dbname=postgres user=$PG_USER"
	export PG_CONNINFO
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
	    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
	    >/dev/null 2>&1
	[ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
	PG_DIR=
}

pg_resume() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 60 -o "-c listen_addresses='' -k $PG_DIR/sock \
	    -c fsync=off" start >/dev/null || {
		cat "$PG_DIR/server.log" >&2; return 1; }
}

# pg_halt - "fast" shutdown: sessions are ended, the data stays
pg_halt() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop \
	    >/dev/null
}
