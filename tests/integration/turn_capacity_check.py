#!/usr/bin/env python3
"""Checks the JSON of `bench/turn_capacity --smoke` (run by bench_smoke.sh).

The smoke run is one repeat of a tiny load (4 relay pairs for ternd, 2 for
coturn, 200 pps each way): ternd over DPDK memif, copy and zero-copy, and
coturn on kernel sockets. Every server that ran must have relayed with loss
<= 1 % and had its CPU measured, ternd's worker busy time must have been
read and a tern/coturn ratio derived for each ternd mode. The zero-copy mode
needs 128 free hugepages: without them the bench leaves it out and says so,
and so does this check.
"""

import json
import sys

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
