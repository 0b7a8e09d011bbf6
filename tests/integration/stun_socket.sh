#!/bin/bash
# ternd on the kernel socket driver, queried by coturn's real STUN client.
#
#   stun_socket.sh /path/to/ternd
#
# Starts ternd on 127.0.0.1 and ::1 on a free UDP port, checks that
# turnutils_stunclient sees its own address mapped back over IPv4 and IPv6,
# sends a malformed STUN datagram and an unclassifiable one, checks ternd still
# answers, then SIGTERMs it and checks exit code 0 and the final counters.
# Exit 77 (meson: SKIP) when a tool is missing. Loopback only, bounded waits.
set -u

TERND=${1:?usage: stun_socket.sh /path/to/ternd}
. "$(dirname "$0")/lib.sh"

need turnutils_stunclient coturn
need python3
need timeout coreutils
[ -x "$TERND" ] || fail "ternd binary not found: $TERND"
tern_setup stun_socket

# IPv6 loopback may be disabled (some containers): then test IPv4 only.
HAVE_V6=$(python3 - <<'EOF'
import socket
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0)); print(1)
except OSError:
    print(0)
EOF
)

# A port free on both loopback addresses (racy, but only against ourselves).
PORT=$(python3 - "$HAVE_V6" <<'EOF'
import socket, sys
v6 = sys.argv[1] == "1"
for _ in range(50):
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.bind(("127.0.0.1", 0))
    port = s4.getsockname()[1]
    try:
        if v6:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s6.bind(("::1", port))
            s6.close()
        s4.close()
        print(port)
        break
    except OSError:
        s4.close()
EOF
)
[ -n "$PORT" ] || fail "no free UDP port found"

ADDRS=(--address 127.0.0.1)
[ "$HAVE_V6" = 1 ] && ADDRS+=(--address ::1)
"$TERND" --driver socket --workers 1 --base-port "$PORT" "${ADDRS[@]}" >"$OUT" 2>"$ERR" &
PID=$!

# Wait (bounded) for the banner.
for _ in $(seq 100); do
  grep -q "running" "$OUT" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || fail "ternd exited during startup"
  sleep 0.1
done
grep -q "running" "$OUT" || fail "no startup banner after 10 s"
echo "ternd up on port $PORT (ipv6: $HAVE_V6)"

query() {  # query ADDR -> prints the client's output, checks the mapped address
  local addr=$1 out
  out=$(timeout 10 turnutils_stunclient -p "$PORT" "$addr" 2>&1) || fail "turnutils_stunclient $addr failed: $out"
  echo "$out"
  # coturn prints e.g. "UDP reflexive addr: 127.0.0.1:36003" / "::1:54178".
  echo "$out" | grep -qF "reflexive addr: $addr:" || fail "mapped address is not $addr"
}

query 127.0.0.1
EXPECT_REQUESTS=1
if [ "$HAVE_V6" = 1 ]; then
  query ::1
  EXPECT_REQUESTS=2
else
  echo "note: no IPv6 loopback, ::1 not tested"
fi

# A malformed STUN Binding request (header says 4 attribute bytes, none follow)
# and a datagram in no RFC 7983 range. ternd must drop both and keep serving.
python3 - "$PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bad_stun = b"\x00\x01\x00\x04" + b"\x21\x12\xa4\x42" + b"\xab" * 12
s.sendto(bad_stun, ("127.0.0.1", port))
s.sendto(b"\xff\xff\xff\xff", ("127.0.0.1", port))
EOF
sleep 0.2
kill -0 "$PID" 2>/dev/null || fail "ternd died after the malformed datagram"
query 127.0.0.1
EXPECT_REQUESTS=$((EXPECT_REQUESTS + 1))

stop_ternd

echo "--- ternd output"
cat "$OUT"
REQ=$(sed -n 's/.*stun: requests \([0-9]*\).*/\1/p' "$OUT" | head -1)
[ -n "$REQ" ] || fail "no 'stun: requests' line in the final counters"
# The client may retransmit on a loaded machine: at least one per query.
[ "$REQ" -ge "$EXPECT_REQUESTS" ] || fail "final counters show $REQ STUN requests, want >= $EXPECT_REQUESTS"
grep -qE "drops \(stun\):.* stun_malformed 1( |$)" "$OUT" || fail "final counters do not show the malformed STUN drop"
grep -qE "drops \(worker\):.* unclassified 1( |$)" "$OUT" || fail "final counters do not show the unclassified drop"
echo "PASS"
