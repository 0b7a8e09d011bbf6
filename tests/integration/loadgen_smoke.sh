#!/bin/bash
# tern-loadgen against ternd on the socket driver (loopback only):
#
#   loadgen_smoke.sh /path/to/ternd /path/to/tern-loadgen
#
# 1. fanout with 1 then 2 subscribers, 2 s per step at a low rate (video
#    300 kbps + audio): from the JSON, both steps ran, every subscriber
#    received packets, loss <= 1 %, latency percentiles present and
#    positive, nothing failed SRTP authentication; ternd lists no session
#    afterwards (the loadgen closed them) and exits 0 on SIGTERM.
# 2. one subscriber with a wrong SRTP key (--corrupt-subscriber-key 1) next
#    to a good one: its packets are auth failures, not received, and the good
#    subscriber still receives everything.
# 3. audio conference of 3: everyone receives the 2 others, loss <= 1 %.
# 4. --drop-every 10: ternd NACKs the withheld packets, the publisher repairs
#    them (reordered, loss <= 1 %); with --no-retransmit the ~10 % loss stops
#    the ramp after its first step.
# 5. --target whip against a second ternd with [http] (bearer token): fan-out
#    1 -> 2 over WHIP/WHEP receives everything and DELETEs its sessions; a
#    wrong token is refused with the server's 401 and exit code 1.
# 6. --turn: every endpoint through ternd's own TURN server (long-term
#    credentials, ChannelData) into its SFU: fan-out 1 -> 2 receives
#    everything, ternd's worker counted channel_data packets, and a wrong
#    password ends the run on TURN's 401 with exit code 1.
# Exit 77 (meson: SKIP) when a tool or the loadgen binary is missing.
set -u
TERND=${1:?usage: loadgen_smoke.sh ternd tern-loadgen}
LOADGEN=${2:?}
. "$(dirname "$0")/lib.sh"
tern_setup loadgen_smoke
need python3
need timeout
[ -x "$LOADGEN" ] || skip "tern-loadgen not built ($LOADGEN; -Dbench=false or no libsrtp)"

PORT=$(python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCK=$TMP/ternd.sock
"$TERND" --base-port "$PORT" --control-socket "$SOCK" > "$OUT" 2> "$ERR" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd did not start"

# --- 1. fanout 1, 2 ---
timeout 60 "$LOADGEN" --control-socket "$SOCK" --scenario fanout --subscribers 1,2 \
  --video-kbps 300 --audio --step-seconds 2 --warmup-seconds 0.5 --max-loss 1 \
  --json "$TMP/fanout.json" --markdown "$TMP/fanout.md" > "$TMP/lg.out" 2>&1
RC=$?
cat "$TMP/lg.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen exit code $RC"
python3 - "$TMP/fanout.json" <<'PY' || fail "fanout results"
import json, sys
r = json.load(open(sys.argv[1]))
steps = r["steps"]
assert [s["subscribers"] for s in steps] == [1, 2], f"steps {[s['subscribers'] for s in steps]}"
assert r["ternd_pid"] > 0, "no ternd pid"
assert r["errors"] == [], r["errors"]
for s in steps:
    n = s["subscribers"]
    assert s["sent_packets"] > 0, f"{n}: publisher sent nothing"
    per = [x["received"] for x in s["per_subscriber"]]
    assert len(per) == n and all(x > 0 for x in per), f"{n}: per-subscriber received {per}"
    assert s["loss_pct"] <= 1.0, f"{n}: loss {s['loss_pct']}%"
    assert s["auth_failures"] == 0 and s["payload_errors"] == 0, f"{n}: {s}"
    lat = s["latency_us"]
    for k in ("p50", "p99", "p999", "max"):
        assert k in lat and lat[k] > 0, f"{n}: latency {k} missing or 0: {lat}"
    assert lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], f"{n}: percentiles {lat}"
    assert lat["samples"] == s["received_packets"], f"{n}: every received packet is timed"
    assert s["ternd_cpu_pct"] >= 0, f"{n}: ternd CPU not read"
    # Every subscriber gets about what the publisher sent (each step measures its own window).
    assert s["received_packets"] >= 0.9 * n * s["sent_packets"], f"{n}: {s['received_packets']} of {n} x {s['sent_packets']}"
print("fanout ok:", [(s["subscribers"], s["received_packets"], s["loss_pct"], s["latency_us"]["p99"]) for s in steps])
PY
grep -q '^| 2 |' "$TMP/fanout.md" || fail "markdown table without the 2-subscriber row"
echo "PASS: fanout 1,2: every subscriber received, loss <= 1%, latency p50/p99/p999"

# --- 2. a subscriber with the wrong SRTP key ---
timeout 60 "$LOADGEN" --control-socket "$SOCK" --room badkey --subscribers 2 \
  --video-kbps 300 --step-seconds 2 --warmup-seconds 0.5 --corrupt-subscriber-key 1 \
  --json "$TMP/badkey.json" > "$TMP/lg2.out" 2>&1
RC=$?
cat "$TMP/lg2.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen (corrupt key) exit code $RC"
python3 - "$TMP/badkey.json" <<'PY' || fail "corrupt key results"
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
bad, good = s["per_subscriber"]
assert bad["corrupt_key"] and not good["corrupt_key"], s["per_subscriber"]
assert bad["received"] == 0, f"mis-keyed subscriber received {bad['received']}"
assert s["auth_failures"] > 0, "no SRTP auth failures reported"
assert good["received"] > 0 and s["loss_pct"] <= 1.0, f"good subscriber: {good}, loss {s['loss_pct']}"
print("corrupt key ok: auth_failures", s["auth_failures"], "good received", good["received"])
PY
echo "PASS: a mis-keyed subscriber counts auth failures, not received packets"

# --- 3. audio conference: 3 participants, each receives the 2 others ---
timeout 60 "$LOADGEN" --control-socket "$SOCK" --scenario conference --room conf \
  --subscribers 3 --step-seconds 1 --warmup-seconds 0.5 --json "$TMP/conf.json" > "$TMP/lg3.out" 2>&1
RC=$?
cat "$TMP/lg3.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen (conference) exit code $RC"
python3 - "$TMP/conf.json" <<'PY' || fail "conference results"
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
per = [x["received"] for x in s["per_subscriber"]]
assert len(per) == 3 and all(x > 0 for x in per), per
assert s["loss_pct"] <= 1.0 and s["auth_failures"] == 0, s
# 3 publishers x 2 receivers each: about twice what was sent.
assert s["received_packets"] >= 0.9 * 2 * s["sent_packets"], (s["received_packets"], s["sent_packets"])
print("conference ok:", per)
PY
echo "PASS: audio conference 3 x 2"

# --- 4. NACK loop: the publisher withholds 1 video packet in 10 ---
# ternd NACKs the gap, the publisher retransmits, every subscriber gets it
# late (reordered, not lost). Without retransmission the loss stops the run.
timeout 60 "$LOADGEN" --control-socket "$SOCK" --room nack --subscribers 2 --video-kbps 300 \
  --step-seconds 2 --warmup-seconds 0.5 --drop-every 10 --json "$TMP/nack.json" > "$TMP/lg4.out" 2>&1 \
  || { cat "$TMP/lg4.out"; fail "tern-loadgen (drop-every) failed"; }
timeout 60 "$LOADGEN" --control-socket "$SOCK" --room lossy --subscribers 1,2 --video-kbps 300 \
  --step-seconds 2 --warmup-seconds 0.5 --drop-every 10 --no-retransmit --max-loss 1 \
  --json "$TMP/lossy.json" > "$TMP/lg5.out" 2>&1 || { cat "$TMP/lg5.out"; fail "tern-loadgen (lossy) failed"; }
python3 - "$TMP/nack.json" "$TMP/lossy.json" <<'PY' || fail "NACK / loss stop results"
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
assert s["publisher_withheld"] > 0 and s["publisher_retransmits"] > 0, s
assert s["reordered"] > 0 and s["loss_pct"] <= 1.0, f"repairs: reordered {s['reordered']} loss {s['loss_pct']}"
r = json.load(open(sys.argv[2]))
assert len(r["steps"]) == 1 and r["steps"][0]["stopped"], "run did not stop at the first lossy step"
assert 5 <= r["steps"][0]["loss_pct"] <= 15, r["steps"][0]["loss_pct"]
assert r["stop_reason"].startswith("loss "), r["stop_reason"]
print("nack ok: withheld", s["publisher_withheld"], "retransmitted", s["publisher_retransmits"],
      "| lossy run stopped:", r["stop_reason"])
PY
echo "PASS: NACK repairs withheld packets; unrepaired loss stops the ramp"

# The loadgen closed its sessions (and with them the rooms).
python3 - "$SOCK" <<'PY' || fail "sessions left after the loadgen"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","method":"room.list","id":1}\n')
buf = b""
while b"\n" not in buf:
    buf += s.recv(65536)
rooms = json.loads(buf.split(b"\n")[0])["result"]["rooms"]
left = [r for r in rooms if r.get("sessions")]
assert not left, f"rooms with sessions left: {left}"
PY
stop_ternd

# --- 5. WHIP/WHEP target: a ternd with [http] ---
free_tcp() { python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_tcp)
printf '[http]\nlisten = "127.0.0.1:%s"\ntoken = "lg-token"\n' "$HTTP_PORT" > "$TMP/http.toml"
rm -f "$SOCK"
"$TERND" --config "$TMP/http.toml" --base-port "$PORT" --control-socket "$SOCK" >> "$OUT" 2>> "$ERR" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd with [http] did not start"
sleep 0.3  # the HTTP listener comes up next to the control socket
timeout 60 "$LOADGEN" --target whip --whip-url "http://127.0.0.1:$HTTP_PORT" --http-token lg-token \
  --server-pid "$PID" --room whip --subscribers 1,2 --video-kbps 300 --audio --step-seconds 1.5 \
  --warmup-seconds 0.5 --json "$TMP/whip.json" > "$TMP/lg6.out" 2>&1 \
  || { cat "$TMP/lg6.out"; fail "tern-loadgen --target whip failed"; }
timeout 30 "$LOADGEN" --target whip --whip-url "http://127.0.0.1:$HTTP_PORT" --http-token wrong \
  --room whip2 --subscribers 1 --step-seconds 1 > "$TMP/lg7.out" 2>&1
RC=$?
[ "$RC" -eq 1 ] || { cat "$TMP/lg7.out"; fail "wrong token: exit code $RC, want 1"; }
grep -q "HTTP 401" "$TMP/lg7.out" || { cat "$TMP/lg7.out"; fail "wrong token: no HTTP 401 in the output"; }
python3 - "$TMP/whip.json" "$SOCK" <<'PY' || fail "WHIP/WHEP results"
import json, socket, sys
r = json.load(open(sys.argv[1]))
assert r["config"]["target"] == "whip", r["config"]
steps = r["steps"]
assert [s["subscribers"] for s in steps] == [1, 2], steps
for s in steps:
    per = [x["received"] for x in s["per_subscriber"]]
    assert all(x > 0 for x in per) and s["loss_pct"] <= 1.0 and s["auth_failures"] == 0, s
assert r["errors"] == [], r["errors"]
c = socket.socket(socket.AF_UNIX); c.settimeout(10); c.connect(sys.argv[2])
c.sendall(b'{"jsonrpc":"2.0","method":"room.list","id":1}\n')
buf = b""
while b"\n" not in buf:
    buf += c.recv(65536)
left = [x for x in json.loads(buf.split(b"\n")[0])["result"]["rooms"] if x.get("sessions")]
assert not left, f"WHIP/WHEP sessions left after DELETE: {left}"
print("whip ok:", [(s["subscribers"], s["received_packets"]) for s in steps])
PY
echo "PASS: --target whip (WHIP/WHEP) fan-out 1,2; a wrong bearer token is a 401"
stop_ternd

# --- 6. through ternd's TURN relay into its SFU ---
TPORT=$(free_udp_port)
# The relay range must not hold the listening port (ternd refuses that).
if [ "$TPORT" -lt 45000 ]; then RELAY="50000, 50999"; else RELAY="40000, 40999"; fi
printf '[turn]\nenabled = true\nrealm = "lg.test"\nusers = ["lg:s3cret"]\nallow_peers = ["127.0.0.0/8"]\nrelay_ports = [%s]\n' \
  "$RELAY" > "$TMP/turn.toml"
rm -f "$SOCK"
"$TERND" --config "$TMP/turn.toml" --base-port "$TPORT" --control-socket "$SOCK" >> "$OUT" 2>> "$ERR" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "ternd with [turn] did not start"
timeout 60 "$LOADGEN" --control-socket "$SOCK" --turn "127.0.0.1:$TPORT" --turn-user lg \
  --turn-password s3cret --room turn --subscribers 1,2 --video-kbps 300 --audio --step-seconds 1.5 \
  --warmup-seconds 0.5 --json "$TMP/turn.json" > "$TMP/lg8.out" 2>&1 \
  || { cat "$TMP/lg8.out"; fail "tern-loadgen --turn failed"; }
timeout 30 "$LOADGEN" --control-socket "$SOCK" --turn "127.0.0.1:$TPORT" --turn-user lg \
  --turn-password wrong --room turn2 --subscribers 1 --step-seconds 1 > "$TMP/lg9.out" 2>&1
RC=$?
[ "$RC" -eq 1 ] || { cat "$TMP/lg9.out"; fail "wrong TURN password: exit code $RC, want 1"; }
grep -q "TURN: Allocate answered 401" "$TMP/lg9.out" || { cat "$TMP/lg9.out"; fail "wrong TURN password: no 401"; }
python3 - "$TMP/turn.json" "$SOCK" <<'PY' || fail "TURN results"
import json, socket, sys
r = json.load(open(sys.argv[1]))
steps = r["steps"]
assert [s["subscribers"] for s in steps] == [1, 2], steps
for s in steps:
    per = [x["received"] for x in s["per_subscriber"]]
    assert all(x > 0 for x in per) and s["loss_pct"] <= 1.0 and s["auth_failures"] == 0, s
c = socket.socket(socket.AF_UNIX); c.settimeout(10); c.connect(sys.argv[2])
c.sendall(b'{"jsonrpc":"2.0","method":"stats.get","id":1}\n')
buf = b""
while b"\n" not in buf:
    buf += c.recv(1 << 20)
st = json.loads(buf.split(b"\n")[0])["result"]
cd = sum(w["classes"].get("channel_data", 0) for w in st["workers"])
sent = sum(s["sent_packets"] for s in steps)
# Every publisher media packet arrived as ChannelData (plus ICE, DTLS, RTCP).
assert cd >= sent, f"ternd counted {cd} ChannelData packets, the publisher sent {sent} media packets"
print("turn ok:", [(s["subscribers"], s["received_packets"]) for s in steps], "channel_data", cd)
PY
echo "PASS: --turn: fan-out 1,2 through ternd's TURN into its SFU; a wrong password is TURN's 401"
stop_ternd
echo "PASS: loadgen_smoke"
