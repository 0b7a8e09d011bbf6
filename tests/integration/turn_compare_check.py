#!/usr/bin/env python3
"""Checks the JSON of `bench/turn_compare --smoke` (run by bench_smoke.sh).

The smoke run is one repeat of a tiny turnutils_uclient load against ternd
and coturn's turnserver. Both servers must have run, every message must have
come back (0 lost) and the server CPU must have been measured; REST
credentials minted by `ternctl turn.credentials` must have worked with
turnutils_uclient against ternd. When tern-loadgen is built, its
--scenario turn runs (1 and 2 relay pairs) against both servers must have
relayed every step without loss and read the server's CPU.
"""

import json
import sys

r = json.load(open(sys.argv[1]))
errors = []
for server in ("tern", "coturn"):
    runs = [x for x in r["runs"] if x["server"] == server]
    if not runs:
        errors.append(f"no run for {server}")
    for x in runs:
        if x["lost"] != 0 or x["sent"] != x["expected"] or x["received"] != x["expected"]:
            errors.append(f"{server}: sent {x['sent']} received {x['received']} lost {x['lost']}, "
                          f"want {x['expected']} and 0 lost")
        if x.get("server_cpu_s") is None or x["server_cpu_s"] < 0:
            errors.append(f"{server}: no server CPU measurement")
    if r["summary"][server]["lost_total"] != 0:
        errors.append(f"{server}: lost_total {r['summary'][server]['lost_total']}")
for x in r.get("loadgen_runs", []):
    who = x["server"]
    if not x["ok"] or [s["pairs"] for s in x["steps"]] != [1, 2]:
        errors.append(f"loadgen {who}: rc {x['rc']}, steps {[s['pairs'] for s in x['steps']]}")
    for s in x["steps"]:
        if s["received"] <= 0 or s["loss_pct"] > 1.0 or s["server_cpu_pct"] < 0:
            errors.append(f"loadgen {who} {s['pairs']} pairs: {s}")
rc = r["rest_credentials"]
if not rc.get("ok") or rc.get("received") != rc.get("sent") or not rc.get("username", "").endswith(":alice"):
    errors.append(f"turn.credentials check failed: {rc}")
if errors:
    print("FAIL: " + "; ".join(errors))
    sys.exit(1)
print(f"PASS: tern and coturn relayed every message; turn.credentials -> {rc['username']} worked")
