#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# corpus_accuracy.sh - score `bouncectl classify --json` on the shared
# corpus (../shared/corpus next to the source tree) and fail when the
# reason, hard or found agreement falls below tests/corpus-threshold.txt
# or the share of soft failures called hard (soft-called-hard, counted
# here: the shared scorer does not) rises above it.
# Exits 77 (skip) when the corpus, the scorer or python3 is absent.
# With --report (make accuracy) it also prints the confusion detail.
srcdir=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${TOP_BUILDDIR:-.}
shared="$srcdir/../shared"
corpus="$shared/corpus"
scorer="$shared/tools/score-corpus"
threshold="$srcdir/tests/corpus-threshold.txt"
bouncectl="$builddir/bouncectl"
detail=
[ "$1" = "--report" ] && detail=--detail

if [ ! -d "$corpus/emails" ] || [ ! -f "$corpus/labels.tsv" ] ||
    [ ! -f "$scorer" ]; then
	echo "SKIP: no corpus at $corpus"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
if [ ! -x "$bouncectl" ]; then
	echo "FAIL: $bouncectl not built"
	exit 99
fi

out=$(mktemp "${TMPDIR:-/tmp}/corpus.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT INT TERM
"$bouncectl" classify --json "$corpus"/emails/*.eml >"$out"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: bouncectl classify exited $rc"
	exit 1
fi
report=$(python3 "$scorer" "$corpus/labels.tsv" "$out" \
    --negatives is-not-bounce-01.eml,is-not-bounce-02.eml $detail) || {
	echo "FAIL: scorer failed"
	exit 99
}
# Soft failures called hard: the costliest error of a suppression tool
# (a good address suppressed for good).
sch=$(python3 - "$corpus/labels.tsv" "$out" <<'PY'
import csv, json, sys
got = {}
for line in open(sys.argv[2], errors="replace"):
    if line.startswith("{"):
        o = json.loads(line)
        got.setdefault((o["file"].rsplit("/", 1)[-1], int(o["index"])), o)
soft = sch = hard = hcs = 0
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    o = got.get((r["file"], int(r["recipient_index"])))
    if o is None:
        continue
    if r["expected_hardbounce"] == "true":
        hard += 1
        hcs += o.get("hard") is not True
    else:
        soft += 1
        sch += o.get("hard") is True
print(f"soft-called-hard={100.0 * sch / max(soft, 1):.1f}% ({sch}/{soft}) "
      f"hard-called-soft={100.0 * hcs / max(hard, 1):.1f}% ({hcs}/{hard})")
PY
) || { echo "FAIL: soft-called-hard count failed"; exit 99; }
report="$report $sch"
echo "$report"
summary=$(echo "$report" | tail -n 1)

# threshold file: "key percent" lines, # comments; found, reason and
# hard are minimums, soft-called-hard and hard-called-soft maximums.
status=0
while read -r key want; do
	case $key in ''|\#*) continue ;; esac
	got=$(echo "$summary" | sed -n "s/.* $key=\([0-9.]*\)%.*/\1/p")
	if [ -z "$got" ]; then
		echo "FAIL: no $key= in \"$summary\""
		status=1
		continue
	fi
	case $key in
	*-called-*) op='>'; sign='<=' ;;
	*) op='<'; sign='>=' ;;
	esac
	if awk -v g="$got" -v w="$want" \
	    "BEGIN { exit !(g + 0 $op w + 0) }"; then
		echo "FAIL: $key: got $got%, want $sign $want%"
		status=1
	else
		echo "ok: $key: got $got%, want $sign $want%"
	fi
done <"$threshold"
exit $status
