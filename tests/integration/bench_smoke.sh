#!/bin/bash
# Smoke run of a Python benchmark under bench/ and a check of its JSON:
#
#   bench_smoke.sh BENCH_SCRIPT CHECK_SCRIPT [bench args...]
#
# Runs `BENCH_SCRIPT --smoke --json RESULT [bench args...]` (bounded by 240 s),
# then `CHECK_SCRIPT RESULT`, which prints PASS or FAIL with what it found.
# The bench's own exit 77 (SKIP: no coturn, no DPDK, ...; it prints why) is
# passed on.
set -u
BENCH=${1:?usage: bench_smoke.sh BENCH_SCRIPT CHECK_SCRIPT [bench args...]}
CHECK=${2:?check script}
shift 2
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
name=$(basename "$BENCH")
TMP=$(mktemp -d "/tmp/${name}_smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

timeout 240 python3 "$BENCH" --smoke --json "$TMP/result.json" "$@"
RC=$?
[ "$RC" -eq 77 ] && exit 77
[ "$RC" -eq 0 ] || { echo "FAIL: $name --smoke exit code $RC"; exit 1; }
python3 "$CHECK" "$TMP/result.json"
