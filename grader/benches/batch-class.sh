#!/usr/bin/env bash
# The batch benchmark of the README's Performance section: a made-up class (`__sample-class`:
# correct, untouched, half done, two kinds of bug, one that does not compile) graded by
# `cargo grade batch`, then by the one-at-a-time `--submission` loop, timed side by side; and
# each student's total in the batch's grades.csv compared with the loop's report.
#
#   bash grader/benches/batch-class.sh [COUNT]      (COUNT: 40 by default)
#
# Both use the dependency cache, built first (not timed). The figures depend on what else the
# machine is doing: the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build -q --profile grade -p grader   # what `cargo grade` runs
grader=target/grade/grader
"$grader" __sample-class "$work/class" "$count"
first=$(ls "$work/class" | head -n 1)
"$grader" --submission "$work/class/$first" create > /dev/null || true # the dependency cache

# Wall time and CPU time (user + system, of the grader and everything it ran).
TIMEFORMAT='%R %U %S'
cpu() { read -r _ user system < "$1"; echo "$user + $system" | bc; }
wall() { read -r real _ < "$1"; echo "$real"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
{ time "$grader" batch "$work/class" --out "$work/batch" > "$work/batch.txt" \
    2> "$work/batch.log"; } 2> "$work/batch.time"

mkdir -p "$work/loop"
loop_all() {
for submission in "$work/class"/*; do
    name=$(basename "$submission")
    status=0
    "$grader" --submission "$submission" --format json --output "$work/loop/$name.json" \
        > /dev/null || status=$?
    if [ "$status" -gt 1 ]; then
        echo "--submission failed for $name (exit $status)" >&2
        exit 1
    fi
done
}
{ time loop_all 2> "$work/loop.log"; } 2> "$work/loop.time"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The same total for every student.
tail -n +2 "$work/batch/grades.csv" | tr -d '\r' | while IFS=, read -r student rest; do
    total=$(echo "$rest" | awk -F, '{print $(NF-1)}')
    alone=$(sed -n 's/^  "score": \(.*\),$/\1/p' "$work/loop/$student.json")
    if [ "$(printf '%.2f' "$total")" != "$(printf '%.2f' "$alone")" ]; then
        echo "$student: $total in the batch, $alone alone" >&2
        exit 1
    fi
done

cat "$work/batch.txt"
printf 'batch: %.1f s (CPU %.1f s)   loop of --submission: %.1f s (CPU %.1f s)   ratio: %.1fx   (%s submissions, %s cores)\n' \
    "$(wall "$work/batch.time")" "$(cpu "$work/batch.time")" \
    "$(wall "$work/loop.time")" "$(cpu "$work/loop.time")" \
    "$(echo "$(wall "$work/loop.time") / $(wall "$work/batch.time")" | bc -l)" "$count" "$(nproc)"
