#!/bin/bash
# Smoke run of bench/turn_capacity (TURN relay per core: ternd over DPDK
# memif, copy and zero-copy, vs coturn on kernel sockets):
#
#   turn_capacity_smoke.sh /path/to/bench/turn_capacity /path/to/ternd /path/to/tern-loadgen
#
# One repeat of a tiny load (4 relay pairs for ternd, 2 for coturn, 200 pps
# each way), then checks the JSON: every server that ran relayed with loss
# <= 1 %, its CPU was measured, ternd's worker busy time was read and a
# tern/coturn ratio was derived for each ternd mode. The zero-copy mode needs
# 128 free hugepages: without them the script leaves it out and says so, and
# this test says so too. Exit 77 (SKIP) without coturn or DPDK (the script
# says which).
set -u
SCRIPT=${1:?usage: turn_capacity_smoke.sh turn_capacity ternd tern-loadgen}
TERND=${2:?ternd}
LOADGEN=${3:?tern-loadgen}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$LOADGEN" ] || { echo "SKIP: tern-loadgen not built ($LOADGEN)"; exit 77; }
TMP=$(mktemp -d /tmp/turn_capacity_smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

timeout 240 python3 "$SCRIPT" --smoke --ternd "$TERND" --loadgen "$LOADGEN" --json "$TMP/result.json"
RC=$?
[ "$RC" -eq 77 ] && exit 77
[ "$RC" -eq 0 ] || { echo "FAIL: turn_capacity --smoke exit code $RC"; exit 1; }
python3 - "$TMP/result.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
errors = []
modes = r["meta"]["memif_modes"]
if "copy" not in modes:
    errors.append(f"memif modes {modes}: copy mode missing")
servers = {x["server"] for x in r["runs"]}
want = {f"tern-{m}" for m in modes} | {"coturn"}
if servers != want:
    errors.append(f"servers that ran: {sorted(servers)}, want {sorted(want)}")
for x in r["runs"]:
    who = x["server"]
    if x["loss_pct"] > 1.0 or x["relayed"] <= 0 or not x["pps_per_core"] or x["cpu_s"] <= 0:
        errors.append(f"{who}: loss {x['loss_pct']}%, relayed {x['relayed']}, cpu {x['cpu_s']}, "
                      f"per core {x['pps_per_core']}")
    if who != "coturn" and x["worker_busy_s"] <= 0:
        errors.append(f"{who}: no worker busy time read")
for m in modes:
    if f"tern-{m}" not in r["summary"]["ratio_tern_over_coturn"]:
        errors.append(f"no tern/coturn ratio for {m}")
if errors:
    print("FAIL: " + "; ".join(errors))
    sys.exit(1)
if "zero-copy" not in modes:
    print("note: zero-copy mode not run (fewer than 128 free hugepages)")
print(f"PASS: {sorted(servers)} relayed; ratios {r['summary']['ratio_tern_over_coturn']}")
PYEOF
