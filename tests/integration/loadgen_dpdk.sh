#!/bin/bash
# tern-loadgen on its DPDK wire against ternd on the DPDK driver, the two
# processes joined by net_memif (shared memory, no kernel, no NIC):
#
#   loadgen_dpdk.sh /path/to/ternd /path/to/tern-loadgen
#
# 1. fanout 1 -> 4 (video + audio): both steps ran, every subscriber
#    received, loss <= 1 %, nothing failed SRTP authentication; the JSON
#    says the wire was DPDK net_memif0 (ternd's MAC found by ARP), no
#    datagram reached a port without a flow; ternd's own stats give its
#    workers' busy time and at least as many packets out as were received.
# 2. --turn over the same memif: every endpoint through ternd's TURN on its
#    DPDK address into its own SFU; everyone receives and ternd counted
#    channel_data.
# Both sides run with --no-huge --in-memory, so no hugepages or root are
# needed. Exit 77 (meson: SKIP) when ternd or the loadgen lack DPDK.
set -u
TERND=${1:?usage: loadgen_dpdk.sh ternd tern-loadgen}
LOADGEN=${2:?}
. "$(dirname "$0")/lib.sh"
tern_setup loadgen_dpdk
need python3
need timeout
[ -x "$LOADGEN" ] || skip "tern-loadgen not built ($LOADGEN)"
"$LOADGEN" --help | grep -q -- "--dpdk" || skip "tern-loadgen without the DPDK wire"

MEMIF=$TMP/memif.sock
EAL_COMMON="--no-pci --no-huge --in-memory --no-telemetry --log-level=lib.eal:error"
cat > "$TMP/ternd.toml" <<CONF
[engine]
workers = 1

[udp]
base_port = 3478

[driver]
kind = "dpdk"

[dpdk]
eal_args = ["--no-pci", "--no-huge", "--in-memory", "--no-telemetry", "--log-level=lib.eal:error",
            "--vdev=net_memif0,role=server,socket=$MEMIF"]
mbufs = 4095
rx_desc = 512
tx_desc = 512
link_wait_ms = 100

[[dpdk.ports]]
name = "net_memif0"
ipv4 = "198.18.7.1/24"

[turn]
enabled = true
realm = "lg.test"
users = ["lg:s3cret"]
allow_peers = ["198.18.7.0/24"]
relay_ports = [50000, 50999]
CONF
SOCK=$TMP/ternd.sock
"$TERND" --config "$TMP/ternd.toml" --control-socket "$SOCK" > "$OUT" 2> "$ERR" &
PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; kill -0 $PID 2>/dev/null || break; sleep 0.1; done
if [ ! -S "$SOCK" ]; then
  grep -qi "dpdk.*not built\|without dpdk\|unknown driver" "$ERR" "$OUT" && skip "ternd built without DPDK"
  cat "$OUT" "$ERR"; fail "ternd (dpdk, net_memif server) did not start"
fi
LG_DPDK="$EAL_COMMON --vdev=net_memif0,role=client,socket=$MEMIF"

# --- 1. fanout 1, 4 over memif ---
timeout 90 "$LOADGEN" --control-socket "$SOCK" --dpdk "$LG_DPDK" --dpdk-ip 198.18.7.2 \
  --subscribers 1,4 --video-kbps 500 --audio --step-seconds 2 --warmup-seconds 0.5 \
  --json "$TMP/fanout.json" > "$TMP/lg1.out" 2>&1
RC=$?
cat "$TMP/lg1.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen --dpdk exit code $RC"
python3 - "$TMP/fanout.json" <<'PY' || fail "fanout over memif"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["wire"] == "dpdk net_memif0", r["wire"]
w = r["wire_counters"]
assert w["rx_unknown"] == 0 and w["tx_full"] == 0, w
steps = r["steps"]
assert [s["subscribers"] for s in steps] == [1, 4], [s["subscribers"] for s in steps]
for s in steps:
    n = s["subscribers"]
    per = [x["received"] for x in s["per_subscriber"]]
    assert len(per) == n and all(x > 0 for x in per), f"{n}: per-subscriber {per}"
    assert s["loss_pct"] <= 1.0, f"{n}: loss {s['loss_pct']}"
    assert s["auth_failures"] == 0 and s["payload_errors"] == 0, s
    assert s["received_packets"] >= 0.9 * n * s["sent_packets"], (s["received_packets"], s["sent_packets"])
    assert 0 < s["server_busy_pct"] < 100, f"{n}: workers busy {s['server_busy_pct']}"
    assert s["server_tx_packets"] >= s["received_packets"], (s["server_tx_packets"], s["received_packets"])
    assert s["server_busy_ns_per_tx"] > 0, s["server_busy_ns_per_tx"]
print("memif fanout ok:", [(s["subscribers"], s["received_packets"], round(s["server_busy_ns_per_tx"]))
                           for s in steps], w)
PY

# --- 2. every endpoint through ternd's TURN (DPDK address) into its SFU ---
timeout 90 "$LOADGEN" --control-socket "$SOCK" --dpdk "$LG_DPDK" --dpdk-ip 198.18.7.2 \
  --turn 198.18.7.1:3478 --turn-user lg --turn-password s3cret --room turn \
  --subscribers 2 --video-kbps 300 --audio --step-seconds 1.5 --warmup-seconds 0.5 \
  --json "$TMP/turn.json" > "$TMP/lg2.out" 2>&1
RC=$?
cat "$TMP/lg2.out"
[ "$RC" -eq 0 ] || fail "tern-loadgen --dpdk --turn exit code $RC"
python3 - "$TMP/turn.json" "$SOCK" <<'PY' || fail "TURN over memif"
import json, socket, sys
r = json.load(open(sys.argv[1]))
s = r["steps"][0]
per = [x["received"] for x in s["per_subscriber"]]
assert len(per) == 2 and all(x > 0 for x in per), per
assert s["loss_pct"] <= 1.0 and s["auth_failures"] == 0, s
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[2]); c.settimeout(5)
c.sendall(b'{"jsonrpc":"2.0","id":1,"method":"stats.get","params":{}}\n')
buf = b""
while not buf.endswith(b"\n"):
    buf += c.recv(65536)
st = json.loads(buf)["result"]
cd = sum(w["classes"].get("channel_data", 0) for w in st["workers"])
assert cd >= s["received_packets"] // 2, f"channel_data {cd} vs received {s['received_packets']}"
print("memif TURN ok: received", per, "channel_data", cd)
PY
stop_ternd
echo "PASS: loadgen over DPDK net_memif (fanout and TURN)"
