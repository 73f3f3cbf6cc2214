#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# tests/faults/run.sh - `make check-faults`: the fault scenarios of issue
# 11, one after the other (each starts a Postfix and pushes hundreds of
# bounces through it: run alone, under the e2e lock when others share
# the machine).  One line per scenario; its output in
# $TOP_BUILDDIR/tests/faults/NAME.log.  Exit 1 when one failed.
# Environment: FAULT_N (1000 bounces per scenario), FAULTS (the list).
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${TOP_BUILDDIR:-.}/tests/faults
mkdir -p "$out"
rc=0
for f in ${FAULTS:-kill9-tempfail kill9-accept readonly locked diskfull hostile rebuild}; do
	t0=$(date +%s)
	bash "$top/tests/faults/f-$f.sh" >"$out/f-$f.log" 2>&1
	r=$?
	t=$(( $(date +%s) - t0 ))
	case $r in
	0)	echo "PASS: f-$f ($t s)" ;;
	77)	echo "SKIP: f-$f ($t s): $(grep SKIP "$out/f-$f.log" | tail -n 1)" ;;
	*)	echo "FAIL: f-$f ($t s, exit $r)"
		grep -E 'FAIL|ERROR' "$out/f-$f.log" | head -n 20
		rc=1 ;;
	esac
done
exit "$rc"
