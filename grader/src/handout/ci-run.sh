#!/usr/bin/env bash
# CI of your shmlab repository (`bash .ci/run`, also run by .github/workflows/shmlab.yml):
# the project's tests, then the grade. Exercises you have not finished do not fail CI (the
# grade is in the log); a failing test does, and so does a grader that cannot run (exit 2).
set -euo pipefail
cd "$(dirname "$0")/.."

printf '\n==> %s\n' "test (the README's test command)"
cargo test --workspace

printf '\n==> %s\n' "grade"
status=0
cargo grade || status=$?
if [ "$status" -ge 2 ]; then
    echo "the grader could not run (exit status $status): see its message above"
    exit "$status"
fi
