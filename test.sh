#!/usr/bin/env bash
# Runs sockframe's whole test suite in every configuration (installs what it needs first).
#   ./test.sh              every job in .ci/jobs, in order
#   ./test.sh gcc meson    only the jobs whose file name contains one of the words
set -euo pipefail
cd "$(dirname "$0")"
. .ci/lib.sh

jobs=()
for job in .ci/jobs/*.sh; do
    if [ $# -eq 0 ]; then jobs+=("$job"); continue; fi
    for word in "$@"; do case "$job" in *"$word"*) jobs+=("$job"); break ;; esac; done
done
[ ${#jobs[@]} -gt 0 ] || { echo "no job matches: $*" >&2; exit 2; }

passed=0
failed=0
failures=()
for job in "${jobs[@]}"; do
    name=$(basename "$job" .sh)
    section "$name"
    start=$(date +%s)
    # A child shell, not a subshell in the `if`: errexit is ignored inside an if condition.
    if bash -c 'set -euo pipefail; . .ci/lib.sh; . "$1"' "$name" "$job"; then
        passed=$((passed + 1))
        echo "job $name: passed in $(( $(date +%s) - start ))s"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "job $name: FAILED after $(( $(date +%s) - start ))s"
    fi
done
section "summary"
[ $failed -eq 0 ] || printf 'failed job: %s\n' "${failures[@]}"
echo "jobs: $passed passed, $failed failed"
[ $failed -eq 0 ]
