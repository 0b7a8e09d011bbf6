#!/bin/bash
# ternd's JSON-RPC control socket, driven by ternctl and by raw bytes.
#
#   control_socket.sh /path/to/ternd /path/to/ternctl
#
# 1. ternd on 127.0.0.1 (socket driver) with a temp --control-socket:
#    server.info; stats.get before and after a turnutils_stunclient query (the
#    STUN request count must move); invalid params (exit 1, field named);
#    malformed JSON over the socket gets -32700 and the same connection (and
#    ternctl) keeps working; a line over 1 MiB gets an error and a close; a
#    stats event arrives; a second ternd on the same socket is refused;
#    SIGTERM removes the socket file.
# 2. ternd killed with SIGKILL leaves a stale socket; the next ternd on the
#    same path removes it and serves, here also on TCP with a bearer token:
#    ternctl --tcp without the token fails, with it works.
# Exit 77 (meson: SKIP) when a tool is missing. Loopback only, bounded waits.
# With CONTROL_DOC_OUT=DIR, the outputs are also written there (for the docs).
set -u

TERND=${1:?usage: control_socket.sh /path/to/ternd /path/to/ternctl}
TERNCTL=${2:?usage: control_socket.sh /path/to/ternd /path/to/ternctl}
. "$(dirname "$0")/lib.sh"
need turnutils_stunclient coturn
need python3
need timeout coreutils
[ -x "$TERND" ] || fail "ternd binary not found: $TERND"
[ -x "$TERNCTL" ] || fail "ternctl binary not found: $TERNCTL"

tern_setup control_socket
SOCK=$TMP/ternd.sock
DOC=${CONTROL_DOC_OUT:-}
doc() { [ -n "$DOC" ] && cat > "$DOC/$1" || cat > /dev/null; }

free_port() {  # a UDP port (and the TCP one with the same number) free on 127.0.0.1
  python3 - <<'EOF'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    try:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", port)); t.close()
        u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(("127.0.0.1", port + 1)); u2.close()
        u.close(); print(port); break
    except OSError:
        u.close()
EOF
}

# json_get FILE EXPR: evaluates a Python expression on the parsed JSON `j`.
json_get() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

start_ternd() {  # start_ternd ARGS... ; waits for the banner's Control line
  "$TERND" "$@" >"$OUT" 2>"$ERR" &
  PID=$!
  for _ in $(seq 100); do
    grep -q "^Control: " "$OUT" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || fail "ternd exited during startup"
    sleep 0.1
  done
  fail "no 'Control:' line in the banner after 10 s"
}

ctl() { timeout 10 "$TERNCTL" --socket "$SOCK" "$@"; }

PORT=$(free_port)
[ -n "$PORT" ] || fail "no free port found"

# ---------------------------------------------------------------- part 1
start_ternd --driver socket --workers 1 --base-port "$PORT" --address 127.0.0.1 --control-socket "$SOCK"
echo "ternd up: udp $PORT, control $SOCK"
MODE=$(stat -c %a "$SOCK")
[ "$MODE" = 660 ] || fail "control socket mode $MODE, want 660"

ctl server.info > "$TMP/info.json" || fail "ternctl server.info failed"
doc server.info.json < "$TMP/info.json"
[ "$(json_get "$TMP/info.json" 'j["pid"]')" = "$PID" ] || fail "server.info pid is not $PID"
[ "$(json_get "$TMP/info.json" 'j["driver"]["name"]')" = socket ] || fail "server.info driver is not socket"
[ "$(json_get "$TMP/info.json" 'j["workers"][0]["endpoints"][0]')" = "udp:127.0.0.1:$PORT" ] ||
  fail "server.info does not list udp:127.0.0.1:$PORT"
echo "server.info ok"

ctl stats.get > "$TMP/stats0.json" || fail "ternctl stats.get failed"
BEFORE=$(json_get "$TMP/stats0.json" 'j["workers"][0]["stun"]["requests"]')
timeout 10 turnutils_stunclient -p "$PORT" 127.0.0.1 > "$TMP/stun.out" 2>&1 || fail "turnutils_stunclient failed: $(cat "$TMP/stun.out")"
ctl stats.get worker=0 > "$TMP/stats1.json" || fail "ternctl stats.get worker=0 failed"
doc stats.get.json < "$TMP/stats1.json"
AFTER=$(json_get "$TMP/stats1.json" 'j["workers"][0]["stun"]["requests"]')
[ "$AFTER" -ge $((BEFORE + 1)) ] || fail "STUN requests $BEFORE -> $AFTER, want an increase"
[ "$(json_get "$TMP/stats1.json" 'j["workers"][0]["classes"]["stun"]')" -ge 1 ] || fail "no stun class count"
echo "stats.get ok: STUN requests $BEFORE -> $AFTER"

# Invalid params: exit 1, the field named on stderr.
ctl stats.get worker=7 > "$TMP/bad.out" 2> "$TMP/bad.err"
RC=$?
doc stats.get.invalid.txt < "$TMP/bad.err"
[ "$RC" -eq 1 ] || fail "ternctl stats.get worker=7 exit $RC, want 1"
grep -q "code -32602" "$TMP/bad.err" || fail "no -32602 for worker=7: $(cat "$TMP/bad.err")"
grep -q "params.worker" "$TMP/bad.err" || fail "params.worker not named: $(cat "$TMP/bad.err")"
ctl no.such.method 2> "$TMP/nomethod.err" && fail "unknown method succeeded"
grep -q "code -32601" "$TMP/nomethod.err" || fail "no -32601: $(cat "$TMP/nomethod.err")"
echo "errors ok"

# Raw bytes: malformed JSON, then a valid request on the same connection, a
# batch, a notification; then a line over 1 MiB on a second connection.
python3 - "$SOCK" "$TMP" <<'EOF' || fail "raw socket checks failed"
import json, socket, sys
path, tmp = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5); s.connect(path)
    return s, s.makefile("rb")
s, f = conn()
raw = {}
def exchange(name, line):
    s.sendall(line)
    reply = f.readline()
    raw[name] = (line.decode(errors="replace"), reply.decode())
    return json.loads(reply)
r = exchange("parse_error", b'{"jsonrpc":"2.0","method":"server.ping","id":1\n')
assert r["error"]["code"] == -32700 and r["id"] is None, r
r = exchange("ping", b'{"jsonrpc":"2.0","method":"server.ping","id":2}\n')
assert r["result"]["pong"] is True and r["id"] == 2, r
r = exchange("invalid_request", b'{"jsonrpc":"1.0","method":"server.ping","id":3}\n')
assert r["error"]["code"] == -32600 and r["error"]["data"]["field"] == "jsonrpc", r
r = exchange("batch", b'[{"jsonrpc":"2.0","method":"server.ping","id":"a"},'
                      b'{"jsonrpc":"2.0","method":"server.ping"},'
                      b'{"jsonrpc":"2.0","method":"nope","id":"b"}]\n')
assert [x["id"] for x in r] == ["a", "b"] and r[1]["error"]["code"] == -32601, r
r = exchange("invalid_params", b'{"jsonrpc":"2.0","method":"stats.get","params":{"worker":"0"},"id":4}\n')
assert r["error"]["code"] == -32602 and r["error"]["data"]["field"] == "params.worker", r
json.dump(raw, open(tmp + "/raw.json", "w"), indent=1)
# Over the line limit: an error line, then EOF.
s2, f2 = conn()
try:
    s2.sendall(b"[" * (1 << 20) + b"[[[")
except OSError:
    pass
r = json.loads(f2.readline())
assert r["error"]["code"] == -32600 and "line longer than" in r["error"]["data"]["reason"], r
raw["too_long"] = ("<1 MiB + 3 bytes without a newline>", json.dumps(r))
json.dump(raw, open(tmp + "/raw.json", "w"), indent=1)
assert f2.readline() == b"", "connection not closed after an overlong line"
EOF
[ -n "$DOC" ] && cp "$TMP/raw.json" "$DOC/raw.json"
kill -0 "$PID" 2>/dev/null || fail "ternd died after malformed input"
ctl server.ping > /dev/null || fail "ternctl server.ping failed after malformed input"
echo "malformed input ok"

# One periodic stats event.
timeout 10 "$TERNCTL" --socket "$SOCK" events stats --interval 1 --count 1 > "$TMP/event.json" ||
  fail "ternctl events got no stats event"
doc event.stats.json < "$TMP/event.json"
[ "$(json_get "$TMP/event.json" 'j["topic"]')" = stats ] || fail "event topic is not stats"
echo "events ok"

# A second ternd on the same control socket is refused, the first unharmed.
"$TERND" --driver socket --base-port $((PORT + 1)) --address 127.0.0.1 --control-socket "$SOCK" \
  > "$TMP/second.out" 2> "$TMP/second.err" &
P2=$!
for _ in $(seq 100); do kill -0 "$P2" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$P2" 2>/dev/null; then kill -KILL "$P2"; wait "$P2"; fail "second ternd on the same socket did not exit"; fi
wait "$P2"
RC2=$?
[ "$RC2" -eq 2 ] || fail "second ternd exit $RC2, want 2"
grep -q "another ternd is listening on $SOCK" "$TMP/second.err" || fail "second ternd: $(cat "$TMP/second.err")"
doc second_ternd.txt < "$TMP/second.err"
ctl server.ping > /dev/null || fail "first ternd stopped answering"
echo "second ternd refused ok"

stop_ternd
[ -e "$SOCK" ] && fail "socket file left after SIGTERM"
echo "SIGTERM ok (socket removed)"

# ---------------------------------------------------------------- part 2
cat > "$TMP/ternd.toml" <<EOF
[control]
socket = "$SOCK"
tcp = "127.0.0.1:$PORT"
token = "integration-test-token"
EOF
start_ternd --config "$TMP/ternd.toml" --driver socket --base-port "$PORT" --address 127.0.0.1
kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=
[ -S "$SOCK" ] || fail "no stale socket after SIGKILL (test premise)"
start_ternd --config "$TMP/ternd.toml" --driver socket --base-port "$PORT" --address 127.0.0.1
ctl server.ping > /dev/null || fail "ternd did not replace the stale socket"
grep -q "^Control: tcp:127.0.0.1:$PORT" "$OUT" || fail "no TCP control endpoint in the banner"
echo "stale socket ok"

TERN_CONTROL_TOKEN= timeout 10 "$TERNCTL" --tcp "127.0.0.1:$PORT" server.ping 2> "$TMP/tcp0.err" &&
  fail "TCP without a token succeeded"
timeout 10 "$TERNCTL" --tcp "127.0.0.1:$PORT" --token wrong server.ping 2> "$TMP/tcp1.err" &&
  fail "TCP with a wrong token succeeded"
grep -q "auth failed" "$TMP/tcp1.err" || fail "wrong token: $(cat "$TMP/tcp1.err")"
python3 - "$PORT" "$TMP" <<'EOF' || fail "raw TCP auth checks failed"
import json, socket, sys
port, tmp = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5); f = s.makefile("rb")
raw = {}
def exchange(name, line):
    s.sendall(line); reply = f.readline()
    raw[name] = (line.decode(), reply.decode()); return json.loads(reply)
r = exchange("tcp_unauthenticated", b'{"jsonrpc":"2.0","method":"server.info","id":1}\n')
assert r["error"]["code"] == -32001, r
r = exchange("tcp_auth", b'{"jsonrpc":"2.0","method":"auth","params":{"token":"integration-test-token"},"id":2}\n')
assert r["result"]["authenticated"] is True, r
r = exchange("tcp_after_auth", b'{"jsonrpc":"2.0","method":"server.ping","id":3}\n')
assert r["result"]["pong"] is True, r
json.dump(raw, open(tmp + "/raw_tcp.json", "w"), indent=1)
EOF
[ -n "$DOC" ] && cp "$TMP/raw_tcp.json" "$DOC/raw_tcp.json"
timeout 10 "$TERNCTL" --tcp "127.0.0.1:$PORT" --token integration-test-token stats.get > /dev/null ||
  fail "ternctl over TCP with the token failed"
echo "tcp auth ok"
stop_ternd
echo "PASS"
