#!/bin/bash
# tern-loadgen --scenario turn (pure TURN relay load) against ternd's TURN
# server (socket driver) and against coturn's turnserver, on loopback:
#
#   loadgen_turn.sh /path/to/ternd /path/to/tern-loadgen
#
# For each server: --subscribers 1,4 relay pairs (TURN client + UDP peer,
# 200 pps each way, 1.5 s steps); from the JSON: both steps ran, every pair
# received in both directions, loss <= 1 % each way, no payload errors or
# duplicates, latency percentiles > 0 and ordered (p50 <= p99 <= p999 <=
# max) in both directions, the server's CPU was read (ternd's pid from its
# control socket, coturn's from --server-pid). ternd only: its worker counted
# at least as many channel_data packets as the loadgen's clients sent as
# ChannelData. Both: a wrong password ends the run with exit code 1 on the
# server's 401.
# Exit 77 (meson: SKIP) when a tool is missing; when only coturn is missing
# the ternd part has passed first and the script says so.
set -u
TERND=${1:?usage: loadgen_turn.sh ternd tern-loadgen}
LOADGEN=${2:?}
. "$(dirname "$0")/lib.sh"
tern_setup loadgen_turn
need python3
need timeout
[ -x "$LOADGEN" ] || skip "tern-loadgen not built ($LOADGEN; -Dbench=false or no libsrtp)"

# check_run JSON SERVER: the assertions both servers share.
check_run() {
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
who = sys.argv[2]
steps = r["steps"]
assert r["config"]["target"] == "turn" and r["config"]["scenario"] == "turn", r["config"]
assert [s["pairs"] for s in steps] == [1, 4], f"{who}: steps {[s['pairs'] for s in steps]}"
assert r["ternd_pid"] > 0, f"{who}: no server pid"
assert r["errors"] == [], r["errors"]
cpu = 0.0
for s in steps:
    n = s["pairs"]
    assert len(s["per_pair"]) == n, f"{who} {n}: {len(s['per_pair'])} pairs in the window"
    for p in s["per_pair"]:
        for d in ("to_peer", "to_client"):
            assert p[d]["received"] > 0, f"{who} {n}: pair {p['index']} received nothing {d}: {p}"
        assert p["relayed"].startswith("127.0.0.1:"), p
    for d in ("to_peer", "to_client"):
        x = s[d]
        assert x["sent_packets"] > 0 and x["received_packets"] > 0, f"{who} {n} {d}: {x}"
        assert x["loss_pct"] <= 1.0, f"{who} {n} {d}: loss {x['loss_pct']}"
        lat = x["latency_us"]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], f"{who} {n} {d}: {lat}"
    lat = s["latency_us"]
    assert lat["samples"] > 0 and 0 < lat["p50"] <= lat["p99"] <= lat["p999"], f"{who} {n}: {lat}"
    assert s["loss_pct"] <= 1.0 and s["payload_errors"] == 0 and s["duplicates"] == 0, s
    assert s["pairs_without_packets"] == 0, s
    # 200 pps per direction and pair over the window: the offered load was met.
    want = 2 * 200 * n * s["seconds"]
    assert s["sent_packets"] >= 0.9 * want, f"{who} {n}: sent {s['sent_packets']}, want ~{want:.0f}"
    assert s["server_cpu_pct"] >= 0, f"{who} {n}: server CPU not read ({s['server_cpu_pct']})"
    cpu += s["server_cpu_pct"]
assert cpu > 0, f"{who}: the server used no CPU at all over the steps?"
t = r["totals"]
# Whole run, setup and the 300 ms drain included: what was sent came back.
assert t["channel_data_sent"] > 0 and t["received_packets"] >= 0.99 * t["sent_packets"], t
print(f"{who} ok:", [(s["pairs"], s["received_packets"], round(s["latency_us"]["p99"])) for s in steps],
      "totals", t["sent_packets"], t["received_packets"])
PY
}

# stun_ready PORT: a Binding request to 127.0.0.1:PORT is answered (5 s at most).
stun_ready() {
  python3 - "$1" <<'PY'
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
end = time.monotonic() + 5
while time.monotonic() < end:
    tx = os.urandom(12)
    s.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + tx, ("127.0.0.1", int(sys.argv[1])))
    try:
        d, _ = s.recvfrom(2048)
        if d[8:20] == tx:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

LOAD=(--scenario turn --turn-user lg --subscribers 1,4 --pps 200 --step-seconds 1.5
      --warmup-seconds 0.3 --max-loss 1)

# --- ternd ---
TPORT=$(free_udp_port)
# The relay range must not hold the listening port (ternd refuses that).
if [ "$TPORT" -lt 45000 ]; then RELAY="50000, 50999"; else RELAY="40000, 40999"; fi
SOCK=$TMP/ternd.sock
printf '[turn]\nenabled = true\nrealm = "lg.test"\nusers = ["lg:s3cret"]\nallow_peers = ["127.0.0.0/8"]\nrelay_ports = [%s]\n' \
  "$RELAY" > "$TMP/turn.toml"
"$TERND" --config "$TMP/turn.toml" --base-port "$TPORT" --control-socket "$SOCK" > "$OUT" 2> "$ERR" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd did not start"
# The control socket only gives the loadgen ternd's pid (server.info).
timeout 40 "$LOADGEN" "${LOAD[@]}" --turn "127.0.0.1:$TPORT" --turn-password s3cret \
  --control-socket "$SOCK" --json "$TMP/ternd.json" > "$TMP/lg1.out" 2>&1
RC=$?
cat "$TMP/lg1.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen --scenario turn against ternd: exit code $RC"
check_run "$TMP/ternd.json" ternd || fail "ternd results"
python3 - "$TMP/ternd.json" "$SOCK" <<'PY' || fail "ternd's channel_data counter"
import json, socket, sys
r = json.load(open(sys.argv[1]))
c = socket.socket(socket.AF_UNIX); c.settimeout(10); c.connect(sys.argv[2])
c.sendall(b'{"jsonrpc":"2.0","method":"stats.get","id":1}\n')
buf = b""
while b"\n" not in buf:
    buf += c.recv(1 << 20)
st = json.loads(buf.split(b"\n")[0])["result"]
cd = sum(w["classes"].get("channel_data", 0) for w in st["workers"])
sent = r["totals"]["channel_data_sent"]
assert cd >= sent, f"ternd counted {cd} ChannelData packets, the loadgen's clients sent {sent}"
print("ternd channel_data", cd, ">= loadgen ChannelData sent", sent)
PY
timeout 20 "$LOADGEN" "${LOAD[@]}" --turn "127.0.0.1:$TPORT" --turn-password wrong \
  --subscribers 1 > "$TMP/lg2.out" 2>&1
RC=$?
[ "$RC" -eq 1 ] || { cat "$TMP/lg2.out"; fail "ternd, wrong password: exit code $RC, want 1"; }
grep -q "TURN: Allocate answered 401" "$TMP/lg2.out" \
  || { cat "$TMP/lg2.out"; fail "ternd, wrong password: no 401 in the output"; }
stop_ternd
echo "PASS: --scenario turn against ternd: 1 and 4 pairs relayed both ways; a wrong password is a 401"

# --- coturn ---
command -v turnserver > /dev/null \
  || skip "turnserver not installed (Debian package coturn); the ternd part passed"
CPORT=$(free_udp_port)
if [ "$CPORT" -lt 45000 ]; then CMIN=52000; else CMIN=42000; fi
turnserver -n --listening-ip 127.0.0.1 --listening-port "$CPORT" --relay-threads 1 --no-tls \
  --no-dtls --no-tcp --no-cli --lt-cred-mech --user lg:s3cret --realm lg.test \
  --allow-loopback-peers --min-port "$CMIN" --max-port $((CMIN + 999)) \
  --log-file "$TMP/coturn.log" --no-stdout-log --simple-log --pidfile "$TMP/coturn.pid" \
  --userdb "$TMP/turndb" > "$TMP/coturn.out" 2>&1 &
CPID=$!
track "$CPID"
stun_ready "$CPORT" || { cat "$TMP/coturn.out"; fail "turnserver did not answer STUN on $CPORT"; }
timeout 40 "$LOADGEN" "${LOAD[@]}" --turn "127.0.0.1:$CPORT" --turn-password s3cret \
  --server-pid "$CPID" --json "$TMP/coturn.json" > "$TMP/lg3.out" 2>&1
RC=$?
cat "$TMP/lg3.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen --scenario turn against coturn: exit code $RC"
check_run "$TMP/coturn.json" coturn || fail "coturn results"
timeout 20 "$LOADGEN" "${LOAD[@]}" --turn "127.0.0.1:$CPORT" --turn-password wrong \
  --subscribers 1 --server-pid "$CPID" > "$TMP/lg4.out" 2>&1
RC=$?
[ "$RC" -eq 1 ] || { cat "$TMP/lg4.out"; fail "coturn, wrong password: exit code $RC, want 1"; }
grep -q "TURN: Allocate answered 401" "$TMP/lg4.out" \
  || { cat "$TMP/lg4.out"; fail "coturn, wrong password: no 401 in the output"; }
echo "PASS: --scenario turn against coturn: 1 and 4 pairs relayed both ways; a wrong password is a 401"
echo "PASS: loadgen_turn"
