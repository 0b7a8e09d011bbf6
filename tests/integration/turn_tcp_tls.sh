#!/bin/bash
# ternd as a TURN server over TCP and TLS (RFC 8656 §3.1), driven by coturn's
# real TURN client over TCP (-t) and TLS (-t -S) against turnutils_peer.
#
#   turn_tcp_tls.sh /path/to/ternd
#
# ternd on 127.0.0.1 with [turn] tcp_listen and tls_listen (self-signed
# certificate generated at startup), a static user and a REST secret,
# allow_peers = ["127.0.0.0/8"]. turnutils_uclient runs:
#   - TCP: long-term channels, Send/Data indications, REST, RTP+RTCP pairs
#   - TLS: long-term channels, REST indications, client to client
#   - a wrong password over TCP: the client must fail
#   - raw garbage on the TCP and TLS ports: ternd closes those connections,
#     and a TCP and a TLS run afterwards still pass
# Each good run must report every message echoed (tot_send_msgs =
# tot_recv_msgs = the expected count) and 0 lost. Then SIGTERM: exit 0 and
# final counters with the TCP/TLS connections. Exit 77 (meson: SKIP) when a
# tool is missing. Loopback only, every wait bounded.
set -u

TERND=${1:?usage: turn_tcp_tls.sh /path/to/ternd}
fail() { echo "FAIL: $*"; [ -f "$OUT" ] && { echo "--- ternd stdout"; cat "$OUT"; }; \
         [ -f "$ERR" ] && { echo "--- ternd stderr"; cat "$ERR"; }; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

for tool in turnutils_uclient turnutils_peer; do
  command -v $tool >/dev/null || skip "$tool not installed (Debian package coturn)"
done
command -v python3 >/dev/null || skip "python3 not installed"
command -v timeout >/dev/null || skip "timeout (coreutils) not installed"
[ -x "$TERND" ] || { echo "FAIL: ternd binary not found: $TERND"; exit 1; }

TMP=$(mktemp -d /tmp/turn_tcp_tls.XXXXXX)
OUT=$TMP/ternd.out
ERR=$TMP/ternd.err
PID=
PEER_PID=
cleanup() {
  for p in "$PID" "$PEER_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# Free ports: ternd's UDP port, TCP and TLS ports, the peer's pair (P, P+1),
# and a relay range of 1000.
read -r PORT TCP TLS PEER RELAY <<<"$(python3 - <<'PYEOF'
import random, socket
def free(port, n=1, kinds=(socket.SOCK_DGRAM,)):
    socks = []
    try:
        for i in range(n):
            for k in kinds:
                s = socket.socket(socket.AF_INET, k)
                socks.append(s)
                s.bind(("127.0.0.1", port + i))
        return True
    except OSError:
        return False
    finally:
        for s in socks: s.close()
both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
out = []
for want, kinds in ((1, both), (1, both), (1, both), (2, both)):
    for _ in range(200):
        p = random.randint(20000, 32000)
        if free(p, want, kinds) and all(abs(p - q) > 2 for q in out):
            out.append(p); break
for _ in range(200):
    r = random.randint(33000, 59000)
    if all(not (r <= q <= r + 999) for q in out) and free(r, 8):
        out.append(r); break
print(*out)
PYEOF
)"
[ -n "${RELAY:-}" ] || fail "no free ports found"

cat >"$TMP/ternd.toml" <<EOF
[udp]
base_port = $PORT
[socket]
addresses = ["127.0.0.1"]
[turn]
enabled = true
realm = "tern.test"
users = ["user:pass"]
rest_secrets = ["rest-secret-now"]
relay_ports = [$RELAY, $((RELAY + 999))]
allow_peers = ["127.0.0.0/8"]
tcp_listen = ["127.0.0.1:$TCP"]
tls_listen = ["127.0.0.1:$TLS"]
tcp_max_connections = 64
tcp_idle_timeout_s = 30
EOF

"$TERND" --config "$TMP/ternd.toml" --control-socket "" >"$OUT" 2>"$ERR" &
PID=$!
for _ in $(seq 100); do
  grep -q "TURN over" "$OUT" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || fail "ternd exited during startup"
  sleep 0.1
done
grep -q "TURN over tcp 127.0.0.1:$TCP, tls 127.0.0.1:$TLS" "$OUT" ||
  fail "banner does not show the TCP/TLS listeners"
grep -qE "TURN TLS certificate sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2} \(self-signed" "$OUT" ||
  fail "banner does not show the self-signed certificate's fingerprint"

turnutils_peer -L 127.0.0.1 -p "$PEER" >"$TMP/peer.out" 2>&1 &
PEER_PID=$!
sleep 0.3
kill -0 "$PEER_PID" 2>/dev/null || fail "turnutils_peer did not start: $(cat "$TMP/peer.out")"
echo "ternd on 127.0.0.1 udp $PORT tcp $TCP tls $TLS, relays $RELAY-$((RELAY + 999)), peer $PEER"

N=20
RUNS=0
# run NAME PORT EXPECTED_MESSAGES UCLIENT_FLAGS...
run() {
  local name=$1 port=$2 want=$3 out rc line lost
  shift 3
  out=$(timeout 60 turnutils_uclient "$@" -n "$N" -z 5 -p "$port" -e 127.0.0.1 -r "$PEER" 127.0.0.1 2>&1)
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
must_fail() {
  local name=$1 port=$2 out rc
  shift 2
  out=$(timeout 30 turnutils_uclient "$@" -n 2 -p "$port" -e 127.0.0.1 -r "$PEER" 127.0.0.1 2>&1)
  rc=$?
  echo "$name: rc $rc (must fail)"
  [ "$rc" -ne 0 ] || { echo "$out" | tail -20; fail "$name: the client succeeded"; }
  if echo "$out" | grep -qE "tot_recv_msgs=[1-9]"; then fail "$name: data flowed"; fi
  return 0
}
# garbage NAME PORT PYTHON_BYTES: connects, sends the bytes, and wants the
# server to close the connection within 3 s.
garbage() {
  local name=$1 port=$2 bytes=$3 res
  res=$(timeout 10 python3 - "$port" "$bytes" <<'PYEOF'
import socket, sys, time
port, data = int(sys.argv[1]), eval(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=3)
s.sendall(data)
t = time.time()
try:
    while True:
        r = s.recv(4096)
        if not r:
            print("closed"); break
except socket.timeout:
    print("open")
except ConnectionResetError:
    print("closed")
PYEOF
)
  echo "$name: $res"
  [ "$res" = closed ] || fail "$name: ternd did not close the connection"
}

run "TCP long-term, channels" "$TCP" $N -t -u user -w pass -c
run "TCP long-term, send/data indications" "$TCP" $N -t -u user -w pass -c -s
run "TCP REST, channels" "$TCP" $N -t -u user -W rest-secret-now -c
run "TCP RTP+RTCP (EVEN-PORT)" "$TCP" $((2 * N)) -t -u user -w pass
run "TLS long-term, channels" "$TLS" $N -t -S -u user -w pass -c
run "TLS REST, send/data indications" "$TLS" $N -t -S -u user -W rest-secret-now -c -s
run "TLS client to client" "$TLS" $((2 * N)) -t -S -u user -w pass -c -y
must_fail "TCP wrong password" "$TCP" -t -u user -w wrong -c
garbage "TCP garbage (first byte 0x90)" "$TCP" 'b"\x90" + b"x" * 40'
garbage "TCP garbage (HTTP request)" "$TCP" 'b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"'
garbage "TCP garbage (STUN header, no magic cookie)" "$TCP" 'b"\x00\x01\x00\x08" + b"\xAA" * 24'
garbage "TLS port, not TLS" "$TLS" 'b"\x00\x01\x00\x00" + b"junk" * 8'
kill -0 "$PID" 2>/dev/null || fail "ternd died after the garbage"
run "TCP after garbage" "$TCP" $N -t -u user -w pass -c
run "TLS after garbage" "$TLS" $N -t -S -u user -w pass -c

kill -0 "$PID" 2>/dev/null || fail "ternd died"
kill -TERM "$PID"
for _ in $(seq 100); do
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$PID" 2>/dev/null && fail "ternd still running 10 s after SIGTERM"
wait "$PID"
RC=$?
PID=
[ "$RC" -eq 0 ] || fail "ternd exit code $RC, want 0"
echo "--- ternd output"
cat "$OUT"
line=$(grep "turn tcp/tls:" "$OUT" | head -1)
[ -n "$line" ] || fail "no 'turn tcp/tls' line in the final counters"
num() { echo "$line" | sed -n "s/.*$1 \([0-9][0-9]*\).*/\1/p" | head -1; }
ACC_TCP=$(num "accepted tcp")
ACC_TLS=$(num " tls")
HANDSHAKES=$(num "tls handshakes")
GARBAGE=$(num "garbage")
OPEN=$(num "open")
# TCP runs: 1+1+1+2+1(+1 must_fail+1 after) clients; TLS: 1+1+2+1 (uclient
# also probes TLS 1.0/1.1 first: those connections fail as they must).
[ "${ACC_TCP:-0}" -ge 9 ] || fail "accepted $ACC_TCP TCP connections, want >= 9"
[ "${ACC_TLS:-0}" -ge 6 ] || fail "accepted $ACC_TLS TLS connections, want >= 6"
[ "${HANDSHAKES:-0}" -ge 5 ] || fail "$HANDSHAKES TLS handshakes, want >= 5"
[ "${GARBAGE:-0}" -ge 3 ] || fail "closed $GARBAGE connections for garbage, want >= 3"
[ "${OPEN:-x}" = 0 ] || fail "$OPEN connections still open at exit"
TO_PEERS=$(sed -n 's/.*turn relay: to peers \([0-9]*\) packets.*/\1/p' "$OUT" | head -1)
TO_CLIENTS=$(sed -n 's/.*to clients \([0-9]*\) packets.*/\1/p' "$OUT" | head -1)
WANT=$((11 * N))  # 20+20+20+40 TCP, 20+20+40 TLS, 20+20 after the garbage
[ "${TO_PEERS:-0}" -ge "$WANT" ] || fail "relayed $TO_PEERS packets to peers, want >= $WANT"
[ "${TO_CLIENTS:-0}" -ge "$WANT" ] || fail "relayed $TO_CLIENTS packets to clients, want >= $WANT"
grep -qE "active 0;" "$OUT" || fail "allocations left active after the connections closed"
echo "$RUNS uclient runs passed"
echo "PASS"
