#!/bin/bash
# WebRTC transport end to end on the socket driver (loopback only):
#
#   webrtc_echo.sh /path/to/ternd /path/to/ternctl /path/to/webrtc_echo_client
#
# 1. `ternctl transport.create echo=true`, then webrtc_echo_client (our own
#    ICE/DTLS/SRTP cores over a real UDP socket) connects ICE + DTLS to the
#    worker port, sends 1000 SRTP packets and must get all of them back
#    decrypted byte-exact; transport.get shows the counters; transport.close,
#    then transport.get -> -32002.
# 2. Wrong ICE password: no connection (401, DTLS never answered) and the
#    transport stays "new".
# 3. Fingerprint mismatch (the transport expects another certificate): the
#    handshake fails and a transport.state event "dtls_failed" with reason
#    "fingerprint mismatch" is published.
# Exit 77 (meson: SKIP) when a tool is missing. Bounded waits throughout.
set -u
TERND=${1:?usage: webrtc_echo.sh ternd ternctl webrtc_echo_client}
TERNCTL=${2:?}
CLIENT=${3:?}
for t in python3 timeout; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
TMP=$(mktemp -d /tmp/tern-webrtc-echo.XXXXXX)
PID=
EVPID=
cleanup() {
  [ -n "$EVPID" ] && kill "$EVPID" 2>/dev/null
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- ternd log:"; tail -30 "$TMP/ternd.log" 2>/dev/null; exit 1; }

PORT=$(python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCK=$TMP/ternd.sock
"$TERND" --base-port "$PORT" --control-socket "$SOCK" > "$TMP/ternd.log" 2>&1 &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd did not start"
ctl() { timeout 10 "$TERNCTL" --socket "$SOCK" "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

# --- 1. echo ---
ctl transport.create echo=true > "$TMP/t1.json" || fail "transport.create"
cat "$TMP/t1.json"
ID=$(field '["id"]' < "$TMP/t1.json")
UFRAG=$(field '["ice"]["ufrag"]' < "$TMP/t1.json")
PWD_=$(field '["ice"]["pwd"]' < "$TMP/t1.json")
FP=$(field '["dtls"]["fingerprint"]' < "$TMP/t1.json")
grep -q "127.0.0.1 $PORT typ host" "$TMP/t1.json" || fail "no host candidate for 127.0.0.1:$PORT"
# The client's fingerprint arrives later, as from an SDP answer: transport.connect.
timeout 60 "$CLIENT" --server "127.0.0.1:$PORT" --ufrag "$UFRAG" --pwd "$PWD_" \
  --fingerprint "$FP" --count 1000 --fp-out "$TMP/client.fp" --go "$TMP/go" &
CPID=$!
for _ in $(seq 100); do [ -s "$TMP/client.fp" ] && break; sleep 0.1; done
[ -s "$TMP/client.fp" ] || fail "client wrote no fingerprint"
ctl transport.connect id="$ID" remote_fingerprint="$(cat "$TMP/client.fp")" || fail "transport.connect"
touch "$TMP/go"
wait "$CPID" || fail "echo client"
ctl transport.get id="$ID" > "$TMP/get1.json" || fail "transport.get"
cat "$TMP/get1.json"
[ "$(field '["counters"]["rtp_in"]' < "$TMP/get1.json")" = 1000 ] || fail "rtp_in != 1000"
[ "$(field '["counters"]["rtp_out"]' < "$TMP/get1.json")" = 1000 ] || fail "rtp_out != 1000"
ctl transport.close id="$ID" || fail "transport.close"
ctl transport.get id="$ID" > "$TMP/get2.out" 2>&1 && fail "transport.get after close succeeded"
grep -q -- "-32002" "$TMP/get2.out" || fail "transport.get after close: $(cat "$TMP/get2.out")"
echo "PASS: echo 1000 packets, close, get -> -32002"

# --- 2. wrong ICE password ---
ctl transport.create echo=true > "$TMP/t2.json" || fail "transport.create 2"
ID2=$(field '["id"]' < "$TMP/t2.json")
timeout 30 "$CLIENT" --server "127.0.0.1:$PORT" --ufrag "$(field '["ice"]["ufrag"]' < "$TMP/t2.json")" \
  --pwd "$(field '["ice"]["pwd"]' < "$TMP/t2.json")" --fingerprint "$(field '["dtls"]["fingerprint"]' < "$TMP/t2.json")" \
  --mode wrong-pwd || fail "wrong-pwd client"
ctl transport.get id="$ID2" > "$TMP/get3.json" || fail "transport.get 2"
[ "$(field '["state"]' < "$TMP/get3.json")" = new ] || fail "wrong password changed the state: $(cat "$TMP/get3.json")"
[ "$(field '["counters"]["dtls_in"]' < "$TMP/get3.json")" = 0 ] || fail "DTLS reached the transport"
ctl transport.close id="$ID2" > /dev/null || fail "close 2"
echo "PASS: wrong ICE password: no connection, no state"

# --- 3. fingerprint mismatch -> transport.state failed event ---
timeout 20 "$TERNCTL" --socket "$SOCK" events transport.state --count 3 > "$TMP/events.txt" 2>&1 &
EVPID=$!
sleep 0.5
OTHER="sha-256 $(python3 -c 'print(":".join(["AB"]*32))')"
ctl transport.create echo=true remote_fingerprint="$OTHER" > "$TMP/t3.json" || fail "transport.create 3"
ID3=$(field '["id"]' < "$TMP/t3.json")
timeout 30 "$CLIENT" --server "127.0.0.1:$PORT" --ufrag "$(field '["ice"]["ufrag"]' < "$TMP/t3.json")" \
  --pwd "$(field '["ice"]["pwd"]' < "$TMP/t3.json")" --fingerprint "$(field '["dtls"]["fingerprint"]' < "$TMP/t3.json")" \
  --mode handshake-fail || fail "handshake-fail client"
for _ in $(seq 50); do grep -q dtls_failed "$TMP/events.txt" && break; sleep 0.1; done
cat "$TMP/events.txt"
grep -q '"dtls_failed"' "$TMP/events.txt" || fail "no dtls_failed transport.state event"
grep -q 'fingerprint mismatch' "$TMP/events.txt" || fail "event without the reason"
ctl transport.get id="$ID3" > "$TMP/get4.json" || fail "transport.get 3"
[ "$(field '["state"]' < "$TMP/get4.json")" = failed ] || fail "state not failed"
grep -q "fingerprint mismatch" "$TMP/get4.json" || fail "transport.get without the reason"
ctl transport.close id="$ID3" > /dev/null || fail "close 3"
echo "PASS: fingerprint mismatch -> transport.state dtls_failed (fingerprint mismatch)"
kill "$EVPID" 2>/dev/null; EVPID=
kill -TERM "$PID"; wait "$PID"; PID=
grep -q "srtp" "$TMP/ternd.log" || true
echo "PASS: webrtc_echo"
