#!/bin/bash
# tern-loadgen reports a loss injected on purpose within 0.1 percentage point:
#
#   loadgen_loss.sh /path/to/ternd /path/to/tern-loadgen
#
#   ns tern-lgloss-<pid>-c       ns tern-lgloss-<pid>-l                     root ns
#   tern-loadgen  lgl<pid>cn ---- lgl<pid>cl [lossy_bridge.py] lgl<pid>sl ---- lgl<pid>sh  ternd
#                 10.94.0.2                                                    10.94.0.1
#
# ternd (socket driver) serves 10.94.0.1; the loadgen (one publisher, two
# subscribers, video 1000 kbps + audio, --no-nack so nothing is repaired)
# runs in the client namespace. tests/e2e/lib/lossy_bridge.py forwards the
# frames between the two veth pairs and drops 3 % of the RTP media packets
# coming from ternd (--from lgl<pid>sl --rtp-only: STUN, DTLS, RTCP and the
# publisher's upstream pass), on from the start (--on). It logs the
# sequence number of every RTP packet it forwarded or dropped per
# (destination port, SSRC), which is exact ground truth, not a rate.
#
# Asserted: for every subscriber stream of the measured step, the bridge's
# drops are counted inside exactly the loadgen's window (the JSON's
# first_seq..highest_seq, extended sequences mapped back to 16 bits); the
# true loss (dropped / (dropped + forwarded) in those windows) is within
# 0.1 percentage point of the loss_pct the loadgen reported, and between
# 1.5 % and 4.5 % (so the injection worked and the check could fail);
# nothing was NACKed or retransmitted; the bridge's packet sockets dropped
# nothing themselves.
#
# This kernel has no sch_netem, and netem's own drops are not logged per
# packet, so the bridge is the only loss here even where netem exists.
# Needs root (network namespaces, veth, AF_PACKET): SKIP (77) otherwise.
set -u
TERND=${1:?usage: loadgen_loss.sh ternd tern-loadgen}
LOADGEN=${2:?}
HERE=$(cd "$(dirname "$0")" && pwd)
BRIDGE=$HERE/../e2e/lib/lossy_bridge.py
. "$HERE/lib.sh"
tern_setup loadgen_loss
need python3
need timeout
need ip iproute2
need ethtool ethtool
[ -x "$LOADGEN" ] || skip "tern-loadgen not built ($LOADGEN; -Dbench=false or no libsrtp)"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, veth, AF_PACKET)"

NET=10.94.0  # a /24 no other test uses (bench/compare: 10.92.0, e2e: 198.18.71-84)
LOSS=3
NS_C=tern-lgloss-$$-c
NS_L=tern-lgloss-$$-l
H_S=lgl$$sh L_S=lgl$$sl L_C=lgl$$cl N_C=lgl$$cn

# Namespaces left by a killed run (their pid gone) go first.
for ns in $(ip netns list | grep -o '^tern-lgloss-[0-9]*-[cl]'); do
  pid=${ns#tern-lgloss-}
  [ -d "/proc/${pid%-*}" ] || ip netns del "$ns" 2>/dev/null
done
net_cleanup() {
  ip netns del "$NS_C" 2>/dev/null
  ip netns del "$NS_L" 2>/dev/null
  ip link del "$H_S" 2>/dev/null
}
trap 'tern_cleanup; net_cleanup' EXIT  # processes first, then their namespaces
ip netns add "$NS_C" 2>/dev/null || skip "cannot create a network namespace (ip netns add $NS_C)"
ip netns add "$NS_L" || fail "ip netns add $NS_L"
ip link add "$H_S" type veth peer name "$L_S" 2>/dev/null || skip "cannot create a veth pair"
ip link add "$L_C" type veth peer name "$N_C" || fail "veth $L_C"
ip link set "$L_S" netns "$NS_L" && ip link set "$L_C" netns "$NS_L" && ip link set "$N_C" netns "$NS_C" \
  || fail "moving the veths into the namespaces"
inns() { ip netns exec "$@"; }
sysctl -qw "net.ipv6.conf.$H_S.disable_ipv6=1" "net.ipv4.conf.$H_S.forwarding=0" 2>/dev/null
for dev in "$L_S" "$L_C"; do inns "$NS_L" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null; done
inns "$NS_C" sysctl -qw "net.ipv6.conf.$N_C.disable_ipv6=1" 2>/dev/null
ip addr add "$NET.1/24" dev "$H_S" || fail "address on $H_S"
inns "$NS_C" ip addr add "$NET.2/24" dev "$N_C" || fail "address on $N_C"
# Complete frames on the wire: the bridge reads and writes them as bytes
# (no partial checksums, no GSO/GRO super-frames).
OFF=(tx off sg off tso off gso off gro off)
ethtool -K "$H_S" "${OFF[@]}" > /dev/null 2>&1
inns "$NS_L" ethtool -K "$L_S" "${OFF[@]}" > /dev/null 2>&1
inns "$NS_L" ethtool -K "$L_C" "${OFF[@]}" > /dev/null 2>&1
inns "$NS_C" ethtool -K "$N_C" "${OFF[@]}" > /dev/null 2>&1
ip link set "$H_S" up
for dev in lo "$L_S" "$L_C"; do inns "$NS_L" ip link set "$dev" up; done
for dev in lo "$N_C"; do inns "$NS_C" ip link set "$dev" up; done

ip netns exec "$NS_L" python3 "$BRIDGE" "$L_C" "$L_S" "$LOSS" --from "$L_S" --rtp-only --on \
  --log "$TMP/bridge_log.json" > "$TMP/bridge.out" 2>&1 &
BR=$!  # ip netns exec execs python3: this is the bridge's pid
track "$BR"
for _ in $(seq 50); do grep -q bridging "$TMP/bridge.out" && break; sleep 0.1; done
grep -q bridging "$TMP/bridge.out" || fail "lossy_bridge.py did not start: $(cat "$TMP/bridge.out")"

PORT=$(free_udp_port "$NET.1")
SOCK=$TMP/ternd.sock
"$TERND" --workers 1 --address "$NET.1" --base-port "$PORT" --control-socket "$SOCK" > "$OUT" 2> "$ERR" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd did not start"

# One step of 2 subscribers x (video + audio) for 6 s: ~2000 packets, so
# 3 % loss gives ~60 drops (the 1.5-4.5 % band is > 3.5 sigma wide).
timeout 60 ip netns exec "$NS_C" "$LOADGEN" --control-socket "$SOCK" --room lossy --subscribers 2 \
  --video-kbps 1000 --audio --step-seconds 6 --warmup-seconds 0.5 --no-nack --max-loss 100 \
  --json "$TMP/loss.json" > "$TMP/lg.out" 2>&1
RC=$?
cat "$TMP/lg.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen exit code $RC"
kill -TERM "$BR"
for _ in $(seq 50); do kill -0 "$BR" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BR" 2>/dev/null && fail "lossy_bridge.py still running 5 s after SIGTERM"
echo "bridge: $(tail -n +2 "$TMP/bridge.out")"
[ -s "$TMP/bridge_log.json" ] || fail "the bridge wrote no drop log"

python3 - "$TMP/loss.json" "$TMP/bridge_log.json" "$LOSS" <<'PY' || fail "reported loss vs the bridge's drops"
import json, sys
r = json.load(open(sys.argv[1]))
log = json.load(open(sys.argv[2]))
injected = float(sys.argv[3])
assert not r["config"]["nack"], "the run did NACK"
assert len(r["steps"]) == 1, [s["subscribers"] for s in r["steps"]]
s = r["steps"][0]
assert s["nack_sent"] == 0 and s["publisher_retransmits"] == 0, "loss was repaired"
assert s["auth_failures"] == 0 and s["duplicates"] == 0, s
dropped = seen = 0
for sub in s["per_subscriber"]:
    assert sub["streams"], f"subscriber {sub['index']}: no streams"
    for w in sub["streams"]:
        key = f"{sub['local_port']}/{w['ssrc']}"
        assert w["window_open"] and key in log, f"{key}: not in the window or never seen by the bridge"
        fwd, drp = log[key]["forwarded"], log[key]["dropped"]
        # 16-bit sequences map back into the window without ambiguity only
        # while a stream stays under 65536 packets over the whole run.
        assert len(fwd) + len(drp) < 65536, f"{key}: too long a run to map 16-bit sequences"
        first, length = w["first_seq"], w["highest_seq"] - w["first_seq"] + 1
        assert length == w["expected"], w
        inside = lambda q: (q - first) & 0xFFFF < length
        d = sum(1 for q in drp if inside(q))
        f = sum(1 for q in fwd if inside(q))
        print(f"  sub {sub['index']} {w['kind']} ssrc {w['ssrc']}: window {length} seqs, "
              f"bridge forwarded {f} dropped {d}; loadgen received {w['received']} expected {w['expected']}")
        dropped, seen = dropped + d, seen + d + f
true_loss = 100.0 * dropped / seen
print(f"reported loss {s['loss_pct']:.4f}% ({s['received_packets']}/{s['expected_packets']}), "
      f"true loss {true_loss:.4f}% ({dropped} of {seen} dropped by the bridge), injected {injected}%")
assert abs(s["loss_pct"] - true_loss) <= 0.1, f"reported {s['loss_pct']}% vs true {true_loss}%"
assert injected / 2 <= true_loss <= injected * 1.5, f"true loss {true_loss}% far from the {injected}% injected"
PY
python3 - "$TMP/bridge.out" <<'PY' || fail "the bridge lost frames of its own"
import json, sys
b = json.loads(open(sys.argv[1]).read().strip().split("\n")[-1])
assert b["send_errors"] == 0 and not any(b["socket_drops"].values()), b
PY
stop_ternd
echo "PASS: loadgen_loss: reported loss within 0.1 point of the bridge's logged drops"
