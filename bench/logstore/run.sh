#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - throughput of `bouncectl ingest-log` on a generated log.
#
#   bench/logstore/run.sh [LINES]      (from the build folder; default 100000)
#
# Generates LINES lines with gen-maillog.awk (needs gawk for strftime),
# ingests them into a fresh database, prints lines per second, then
# ingests again to show that a second run adds nothing.
set -eu
lines=${1:-100000}
srcdir=${TOP_SRCDIR:-$(dirname "$0")/../..}
builddir=${TOP_BUILDDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-logstore.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
awk=$(command -v gawk || command -v awk)
"$awk" -v lines="$lines" -f "$srcdir/bench/logstore/gen-maillog.awk" \
    > "$tmp/mail.log"
echo "generated $(wc -l < "$tmp/mail.log") lines ($(wc -c < "$tmp/mail.log") bytes)"
"$builddir/bouncectl" --db "$tmp/b.db" --create ingest-log "$tmp/mail.log"
"$builddir/bouncectl" --db "$tmp/b.db" ingest-log "$tmp/mail.log"
"$builddir/bouncectl" --db "$tmp/b.db" ingest-log --from-start "$tmp/mail.log"
"$builddir/bouncectl" --db "$tmp/b.db" stats || [ $? -eq 1 ]	# 1: a threshold crossed
