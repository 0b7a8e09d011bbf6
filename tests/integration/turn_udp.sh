#!/bin/bash
# ternd as a TURN server over UDP, driven by coturn's real TURN clients.
#
#   turn_udp.sh /path/to/ternd
#
# Starts ternd on 127.0.0.1 with [turn] enabled (static user and two REST
# secrets, allow_peers = ["127.0.0.0/8"] so the local peer is reachable),
# turnutils_peer as the echoing peer, and runs turnutils_uclient against it:
#   - long-term credentials, channels (ChannelData both ways)
#   - long-term credentials, Send/Data indications (-s)
#   - REST credentials (-W) with the current and the previous secret
#   - RTP+RTCP pairs (EVEN-PORT with RESERVATION-TOKEN), client-to-client (-y)
#   - a wrong password and an unknown REST secret: the client must fail
# Each good run must report every message echoed: tot_send_msgs = tot_recv_msgs
# = the expected count and 0 lost. Then SIGTERM: exit 0 and the TURN final
# counters. Exit 77 (meson: SKIP) when a tool is missing. Loopback only,
# every wait bounded.
set -u

TERND=${1:?usage: turn_udp.sh /path/to/ternd}
. "$(dirname "$0")/lib.sh"

need turnutils_uclient coturn
need turnutils_peer coturn
need python3
need timeout coreutils
[ -x "$TERND" ] || fail "ternd binary not found: $TERND"
tern_setup turn_udp

# Free ports: ternd's, the peer's pair (P, P+1: uclient's RTCP goes to P+1),
# and a relay range of 1000 whose ports are mostly free (ternd skips busy ones).
read -r PORT PEER RELAY <<<"$(python3 - <<'PYEOF'
import random, socket
def free(port, n=1):
    socks = []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind(("127.0.0.1", port + i))
        return True
    except OSError:
        return False
    finally:
        for s in socks: s.close()
out = []
for want in (1, 2):
    for _ in range(200):
        p = random.randint(20000, 32000)
        if free(p, want) and all(abs(p - q) > 2 for q in out):
            out.append(p); break
for _ in range(200):
    r = random.randint(33000, 59000)
    if all(not (r <= q <= r + 999) for q in out) and free(r, 8):
        out.append(r); break
print(*out)
PYEOF
)"
[ -n "${RELAY:-}" ] || fail "no free UDP ports found"

cat >"$TMP/ternd.toml" <<EOF
[udp]
base_port = $PORT
[socket]
addresses = ["127.0.0.1"]
[turn]
enabled = true
realm = "tern.test"
users = ["user:pass"]
rest_secrets = ["rest-secret-now", "rest-secret-old"]
relay_ports = [$RELAY, $((RELAY + 999))]
allow_peers = ["127.0.0.0/8"]
EOF

"$TERND" --config "$TMP/ternd.toml" >"$OUT" 2>"$ERR" &
PID=$!
for _ in $(seq 100); do
  grep -q "running" "$OUT" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || fail "ternd exited during startup"
  sleep 0.1
done
grep -q "running" "$OUT" || fail "no startup banner after 10 s"
grep -q "TURN realm \"tern.test\"" "$OUT" || fail "banner does not show TURN"

turnutils_peer -L 127.0.0.1 -p "$PEER" >"$TMP/peer.out" 2>&1 &
PEER_PID=$!
track "$PEER_PID"
sleep 0.3
kill -0 "$PEER_PID" 2>/dev/null || fail "turnutils_peer did not start: $(cat "$TMP/peer.out")"
echo "ternd on 127.0.0.1:$PORT, relays $RELAY-$((RELAY + 999)), peer 127.0.0.1:$PEER"

N=20
RUNS=0
# run NAME EXPECTED_MESSAGES UCLIENT_FLAGS...
run() {
  local name=$1 want=$2 out rc line lost
  shift 2
  out=$(timeout 60 turnutils_uclient "$@" -n "$N" -z 5 -p "$PORT" -e 127.0.0.1 -r "$PEER" 127.0.0.1 2>&1)
  rc=$?
  line=$(echo "$out" | grep -E "start_mclient: tot_send_msgs=" | tail -1)
  lost=$(echo "$out" | sed -n 's/.*Total lost packets \([0-9]*\).*/\1/p' | tail -1)
  echo "$name: rc $rc; ${line#*start_mclient: }; lost ${lost:-?}"
  [ "$rc" -eq 0 ] || { echo "$out" | tail -20; fail "$name: turnutils_uclient exit code $rc"; }
  echo "$line" | grep -qE "tot_send_msgs=$want, tot_recv_msgs=$want\$" ||
    { echo "$out" | tail -20; fail "$name: want $want messages sent and received"; }
  [ "${lost:-x}" = 0 ] || { echo "$out" | tail -20; fail "$name: $lost packets lost"; }
  RUNS=$((RUNS + 1))
}
# must_fail NAME UCLIENT_FLAGS...: the client cannot allocate, no data flows.
must_fail() {
  local name=$1 out rc
  shift
  out=$(timeout 30 turnutils_uclient "$@" -n 2 -p "$PORT" -e 127.0.0.1 -r "$PEER" 127.0.0.1 2>&1)
  rc=$?
  echo "$name: rc $rc (must fail)"
  [ "$rc" -ne 0 ] || { echo "$out" | tail -20; fail "$name: the client succeeded"; }
  if echo "$out" | grep -qE "tot_recv_msgs=[1-9]"; then fail "$name: data flowed"; fi
  return 0
}

run "long-term, channels" $N -u user -w pass -c
run "long-term, send/data indications" $N -u user -w pass -c -s
run "REST current secret, channels" $N -u user -W rest-secret-now -c
run "REST previous secret, indications" $N -u user -W rest-secret-old -c -s
run "RTP+RTCP (EVEN-PORT, RESERVATION-TOKEN)" $((2 * N)) -u user -w pass
run "client to client" $((2 * N)) -u user -w pass -c -y
must_fail "wrong password" -u user -w wrong -c
must_fail "unknown REST secret" -u user -W not-our-secret -c

kill -0 "$PID" 2>/dev/null || fail "ternd died"
stop_ternd
echo "--- ternd output"
cat "$OUT"
TO_PEERS=$(sed -n 's/.*turn relay: to peers \([0-9]*\) packets.*/\1/p' "$OUT" | head -1)
TO_CLIENTS=$(sed -n 's/.*to clients \([0-9]*\) packets.*/\1/p' "$OUT" | head -1)
CREATED=$(sed -n 's/.*allocations created \([0-9]*\).*/\1/p' "$OUT" | head -1)
WANT=$((8 * N))  # good runs: 20+20+20+20+40+40 messages, each relayed out and back
[ -n "$TO_PEERS" ] || fail "no 'turn relay' line in the final counters"
[ "$TO_PEERS" -ge "$WANT" ] || fail "relayed $TO_PEERS packets to peers, want >= $WANT"
[ "$TO_CLIENTS" -ge "$WANT" ] || fail "relayed $TO_CLIENTS packets to clients, want >= $WANT"
[ "${CREATED:-0}" -ge 8 ] || fail "only ${CREATED:-0} allocations created"
grep -qE "challenges [1-9]" "$OUT" || fail "no 401 challenges counted"
grep -qE "auth failures [1-9]" "$OUT" || fail "the bad credentials were not counted as auth failures"
echo "$RUNS uclient runs passed"
echo "PASS"
