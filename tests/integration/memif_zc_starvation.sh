#!/bin/bash
# ternd as a net_memif zero-copy client whose mbuf pool cannot fill its RX
# ring while its TX ring holds what it sent (4223 mbufs, 2 x 4096 slots),
# under the full tern-loadgen TURN load (192 pairs, 768k relayed pps, 4 s),
# the loadgen frozen for 30 ms a few times meanwhile:
#
#   memif_zc_starvation.sh /path/to/bench/turn_capacity /path/to/ternd /path/to/tern-loadgen
#
# memif frees sent buffers only inside a TX burst and refills RX only in one
# bulk, so without the driver's empty TX bursts on idle RX polls the link
# deadlocks (nothing received, so nothing sent, so nothing reclaimed): the
# run relays next to nothing, turn_capacity discards it, and after three
# such runs gives up (the driver without the guard failed so in 2 tries of 2).
# Passes when the run relays a million packets or more with loss <= 50 %
# (the freezes and the short pool lose some: 3-15 % here) and none was
# discarded. SKIP without hugepages (zero-copy needs them), coturn or DPDK.
set -u
BENCH=${1:?usage: memif_zc_starvation.sh turn_capacity ternd tern-loadgen}
TERND=${2:?ternd}
LOADGEN=${3:?tern-loadgen}
TMP=$(mktemp -d /tmp/memif_zc_starvation.XXXXXX)
timeout 240 python3 "$BENCH" --repeats 1 --memif zero-copy --zc-mbufs 4223 --coturn-pairs 2 \
  --step-seconds 4 --no-doc --ternd "$TERND" --loadgen "$LOADGEN" --json "$TMP/result.json" >"$TMP/out" 2>&1 &
BENCH_PID=$!
# The bench's own children (ternd, tern-loadgen), under timeout and python3.
child() { pgrep -P "$(pgrep -P "$BENCH_PID" | head -1)" -f -- "$1" | head -1; }
LG=
trap '[ -n "$LG" ] && kill -CONT "$LG" 2>/dev/null; rm -rf "$TMP"' EXIT
# Freeze the loadgen for 30 ms now and then while it loads ternd: ternd
# drains its RX ring into its TX ring, which the frozen loadgen does not
# empty, so the pool is short when RX wants its bulk refill. Without the
# guard that is the deadlock, every time; with it, a short loss.
pauses=0
# ternd starts 0.7 s after the loadgen (the memif server); its 192 pairs
# are set up and warmed up within about 2 s of that, then the 4 s step runs.
for _ in $(seq 1 150); do
  kill -0 "$BENCH_PID" 2>/dev/null || break
  [ -n "$(child --control-socket)" ] && break
  sleep 0.1
done
sleep 2.2
for _ in 1 2 3 4 5 6; do
  LG=$(child tern-loadgen)
  [ -n "$LG" ] || break
  kill -STOP "$LG" 2>/dev/null && sleep 0.03 && kill -CONT "$LG" 2>/dev/null && pauses=$((pauses + 1))
  sleep 0.4
done
wait "$BENCH_PID"
RC=$?
cat "$TMP/out"
echo "loadgen frozen $pauses time(s) for 30 ms during the run"
if [ "$RC" -eq 77 ] || grep -q "^note: zero-copy mode left out" "$TMP/out"; then
  echo "SKIP: zero-copy memif needs 128 free hugepages (scripts/bootstrap reserves them) and coturn + DPDK"
  exit 77
fi
[ "$RC" -eq 0 ] || { echo "FAIL: turn_capacity exit code $RC (the link stalled in every attempt?)"; exit 1; }
python3 - "$TMP/result.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
runs = [x for x in r["runs"] if x["server"] == "tern-zero-copy"]
errors = []
if r["meta"]["zc_mbufs"] != 4223:
    errors.append(f"zc_mbufs {r['meta']['zc_mbufs']}, want 4223")
if len(runs) != 1 or runs[0]["loss_pct"] > 50.0 or runs[0]["relayed"] < 1000000:
    errors.append(f"zero-copy runs: {[(x['loss_pct'], x['relayed']) for x in runs]}")
if r["discarded"]:
    errors.append(f"{len(r['discarded'])} stalled run(s): {[d['why'] for d in r['discarded']]}")
if errors:
    print("FAIL: " + "; ".join(errors))
    sys.exit(1)
x = runs[0]
print(f"PASS: a starved pool (4223 mbufs for 2 x 4096 ring slots) relayed {x['relayed']:,} packets, "
      f"loss {x['loss_pct']:.3f}%, no stall")
PYEOF
