#!/bin/bash
# Smoke run of bench/turn_compare (tern vs coturn TURN relay benchmark):
#
#   turn_compare_smoke.sh /path/to/bench/turn_compare /path/to/ternd /path/to/ternctl
#
# One repeat of a tiny load against ternd and coturn's turnserver, then checks
# the JSON: both servers ran, every message came back (0 lost), the server
# CPU was measured, and REST credentials minted by `ternctl turn.credentials`
# worked with turnutils_uclient against ternd; when tern-loadgen is built,
# its --scenario turn runs (1 and 2 relay pairs) against both servers
# relayed every step without loss and read the server's CPU. Exit 77 (SKIP) when coturn is
# missing (the script says so).
set -u
SCRIPT=${1:?usage: turn_compare_smoke.sh turn_compare ternd ternctl}
TERND=${2:?ternd}
TERNCTL=${3:?ternctl}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
TMP=$(mktemp -d /tmp/turn_compare_smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

timeout 240 python3 "$SCRIPT" --smoke --ternd "$TERND" --ternctl "$TERNCTL" --json "$TMP/result.json"
RC=$?
[ "$RC" -eq 77 ] && exit 77
[ "$RC" -eq 0 ] || { echo "FAIL: turn_compare --smoke exit code $RC"; exit 1; }
python3 - "$TMP/result.json" <<'PYEOF'
import json, sys
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
PYEOF
