#!/bin/bash
# tern-loadgen's packet counts against tshark's (loopback only, no ternd):
#
#   loadgen_reflector.sh /path/to/tern-loadgen
#
# The loadgen's reflector target (--reflector): each emulated peer sends
# SRTP with a static key to udp_reflector.py, which echoes every datagram to
# its sender, and receives its own streams back, checking every packet as a
# subscriber does. tshark captures the reflector's port on lo for the whole
# run. Asserted, with every count taken from the loadgen's JSON: the
# datagrams tshark saw going to the reflector == the SRTP packets the
# loadgen says it sent (and == all datagrams it sent: the reflector target
# sends no RTCP); the datagrams tshark saw coming from the reflector == the
# RTP packets the loadgen says it received (distinct, authenticated, and
# every datagram it read); both ways equal (loss 0), every step's loss 0,
# no auth failure, no payload error, no duplicate. This proves the loadgen
# counts what is on the wire, no more and no less. (The loss accounting
# under real loss is loadgen_loss.sh.)
#
# How the capture is known to be complete: the capture filter also takes a
# canary port; the loadgen starts only once tshark (-P, -l) has printed a
# canary datagram, and tshark stops only once it has printed a second canary
# sent after the loadgen exited (lo keeps order). The loadgen itself stops
# its publishers and drains 300 ms before it reports its totals. A run in
# which tshark reports dropped packets (dumpcap starved on a busy machine)
# proves nothing and is repeated once.
# Exit 77 (meson: SKIP) when tshark is missing or cannot capture on lo.
set -u
LOADGEN=${1:?usage: loadgen_reflector.sh tern-loadgen}
. "$(dirname "$0")/lib.sh"
tern_setup loadgen_reflector
need python3
need timeout
need tshark tshark
[ -x "$LOADGEN" ] || skip "tern-loadgen not built ($LOADGEN; -Dbench=false or no libsrtp)"

HERE=$(dirname "$0")
# The canary port stays bound (by a sleeper) so no loadgen socket can get it.
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(300)' > "$TMP/canary.port" &
track $!
for _ in $(seq 50); do [ -s "$TMP/canary.port" ] && break; sleep 0.1; done
CANARY=$(cat "$TMP/canary.port")
[ -n "$CANARY" ] || fail "no canary port"
canary() {  # one datagram to the canary port (nobody reads it; tshark sees it)
  python3 -c 'import socket,sys
socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b"canary",("127.0.0.1",int(sys.argv[1])))' "$CANARY"
}
canaries_seen() { grep -c "\b$CANARY\b" "$TMP/tshark.out" 2>/dev/null || true; }

# One run: a fresh reflector, tshark, the loadgen; sets P, TO, FROM.
# Returns 1 when tshark itself reports dropped packets (a busy machine can
# starve dumpcap; then the capture, not the loadgen, is incomplete).
attempt() {
  python3 "$HERE/udp_reflector.py" 127.0.0.1 > "$TMP/reflector.out" 2>&1 &
  REFL=$!
  track "$REFL"
  for _ in $(seq 50); do grep -q '^reflecting on' "$TMP/reflector.out" && break; sleep 0.1; done
  P=$(sed -n 's/^reflecting on 127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/reflector.out")
  [ -n "$P" ] || fail "udp_reflector.py did not start: $(cat "$TMP/reflector.out")"

  # -P: a summary line per packet on stdout even while writing the file;
  # -l: flushed per line; -B 32: a 32 MiB capture buffer.
  tshark -i lo -B 32 -f "udp port $P or udp port $CANARY" -w "$TMP/cap.pcapng" -P -l \
    > "$TMP/tshark.out" 2> "$TMP/tshark.err" &
  TSHARK=$!
  track "$TSHARK"
  for _ in $(seq 100); do
    kill -0 "$TSHARK" 2>/dev/null || break
    canary
    [ "$(canaries_seen)" -gt 0 ] && break
    sleep 0.1
  done
  if [ "$(canaries_seen)" -eq 0 ]; then
    kill -0 "$TSHARK" 2>/dev/null \
      || skip "tshark cannot capture on lo: $(grep -v 'Running as user' "$TMP/tshark.err" | head -3)"
    fail "tshark printed no canary in 10 s: $(cat "$TMP/tshark.err")"
  fi
  local seen
  seen=$(canaries_seen)

  timeout 60 "$LOADGEN" --reflector "127.0.0.1:$P" --subscribers 1,2 --video-kbps 500 --audio \
    --step-seconds 2 --warmup-seconds 0.5 --max-loss 0 --json "$TMP/refl.json" > "$TMP/lg.out" 2>&1
  local rc=$?
  cat "$TMP/lg.out"
  [ "$rc" -eq 0 ] || fail "tern-loadgen exit code $rc"

  # Everything the run put on lo is captured once tshark shows a later canary.
  canary
  for _ in $(seq 100); do [ "$(canaries_seen)" -gt "$seen" ] && break; sleep 0.1; done
  [ "$(canaries_seen)" -gt "$seen" ] || fail "tshark did not show the closing canary within 10 s"
  kill -INT "$TSHARK"
  for _ in $(seq 100); do kill -0 "$TSHARK" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$TSHARK" 2>/dev/null && fail "tshark still running 10 s after SIGINT"
  wait "$TSHARK"
  grep -v 'Running as user' "$TMP/tshark.err"
  kill -TERM "$REFL"
  for _ in $(seq 50); do kill -0 "$REFL" 2>/dev/null || break; sleep 0.1; done
  tail -1 "$TMP/reflector.out" > "$TMP/reflector.json"

  # Datagrams to / from the reflector's port, counted by tshark from the file.
  count() { tshark -r "$TMP/cap.pcapng" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l; }
  TO=$(count "udp.dstport == $P && !icmp")
  FROM=$(count "udp.srcport == $P && !icmp")
  echo "tshark: $TO datagrams to port $P, $FROM from it"
  ! grep -q 'packets dropped' "$TMP/tshark.err"
}

attempt || { echo "tshark dropped packets; once more"; attempt; } \
  || fail "tshark dropped packets in two runs: the capture is incomplete (machine too busy?)"

python3 - "$TMP/refl.json" "$TO" "$FROM" "$TMP/reflector.json" <<'PY' || fail "loadgen counts vs tshark"
import json, sys
r = json.load(open(sys.argv[1]))
to_p, from_p = int(sys.argv[2]), int(sys.argv[3])
refl = json.load(open(sys.argv[4]))
t = r["totals"]
steps = r["steps"]
assert r["config"]["target"] == "reflector", r["config"]
assert [s["subscribers"] for s in steps] == [1, 2], [s["subscribers"] for s in steps]
for s in steps:
    n = s["subscribers"]
    assert s["sent_packets"] > 0 and s["received_packets"] > 0, f"{n}: nothing measured: {s}"
    assert s["loss_pct"] == 0, f"{n} peers: loss {s['loss_pct']}%"
    assert s["auth_failures"] == 0 and s["payload_errors"] == 0 and s["duplicates"] == 0, s
    per = [x["received"] for x in s["per_subscriber"]]
    assert len(per) == n and all(x > 0 for x in per), f"{n}: per peer {per}"
assert t["sent_packets"] > 500, f"too small a run to mean much: {t}"
assert t["send_errors"] == 0 and t["auth_failures"] == 0, t
print(f"loadgen: sent {t['sent_packets']} (datagrams {t['datagrams_sent']}), "
      f"received {t['received_packets']} (RTP datagrams {t['rtp_datagrams_received']}, "
      f"datagrams {t['datagrams_received']}); tshark: to {to_p}, from {from_p}; reflector {refl}")
assert to_p == t["sent_packets"] == t["datagrams_sent"], \
    f"to the reflector: tshark {to_p}, loadgen sent {t['sent_packets']} / {t['datagrams_sent']} datagrams"
assert from_p == t["received_packets"] == t["rtp_datagrams_received"] == t["datagrams_received"], \
    f"from the reflector: tshark {from_p}, loadgen received {t['received_packets']} " \
    f"({t['rtp_datagrams_received']} RTP, {t['datagrams_received']} datagrams)"
assert t["received_packets"] == t["sent_packets"], "loss over the whole run"
assert refl["received"] == to_p and refl["sent"] == from_p, f"reflector {refl}"
PY
echo "PASS: loadgen_reflector: tshark $TO to / $FROM from the reflector == the loadgen's sent / received"
