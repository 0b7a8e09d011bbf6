#!/usr/bin/env python3
"""A two-port Ethernet bridge that drops UDP frames at random.

    lossy_bridge.py IF_A IF_B PERCENT [--from IF] [--rtp-only] [--on] [--log FILE]

Forwards every frame received on IF_A out of IF_B and back (AF_PACKET raw
sockets), for the loss tests on kernels without sch_netem. Loss applies to
IPv4/IPv6 UDP frames only (ARP, ND and the pages' TCP pass untouched) and
only while enabled: SIGUSR1 turns it on, SIGUSR2 off (it starts off unless
--on). SIGTERM prints the counters as one line of JSON and exits. Run it
inside the test's own network namespace (both interfaces there, no
addresses on them).

For a test that needs the exact ground truth of its loss
(tests/integration/loadgen_loss.sh):
  --from IF    drop only frames received on IF (one direction)
  --rtp-only   drop only RTP media: RFC 7983's first byte 128..191 and,
               RFC 5761, a second byte whose low 7 bits are not 72..79
               (RTCP), so STUN, DTLS and RTCP always pass
  --log FILE   on exit, write JSON to FILE: for every RTP stream of the
               lossy direction, keyed "<udp dst port>/<ssrc>", the 16-bit
               sequence numbers it forwarded and dropped, in arrival order
The counters also carry the packet sockets' own drops (PACKET_STATISTICS):
a frame the bridge never read is a loss it did not log.
"""
import argparse
import json
import random
import select
import signal
import socket
import struct

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6


def udp_payload(frame):
    """(dst port, UDP payload) of an IPv4/IPv6 UDP frame, else None."""
    if len(frame) < 34:
        return None
    et = int.from_bytes(frame[12:14], "big")
    off = 14
    if et == 0x8100 and len(frame) >= 38:  # one VLAN tag
        et = int.from_bytes(frame[16:18], "big")
        off = 18
    if et == 0x0800 and frame[off + 9] == 17:
        off += (frame[off] & 0x0F) * 4
    elif et == 0x86DD and len(frame) >= off + 40 and frame[off + 6] == 17:
        off += 40  # no extension headers on our links
    else:
        return None
    if len(frame) < off + 8:
        return None
    return int.from_bytes(frame[off + 2:off + 4], "big"), frame[off + 8:]


def rtp_key(payload):
    """("port/ssrc", seq) of an RTP (not RTCP) packet, else None."""
    port, p = payload
    if len(p) < 12 or not 128 <= p[0] <= 191 or 72 <= (p[1] & 0x7F) <= 79:
        return None
    return f"{port}/{int.from_bytes(p[8:12], 'big')}", int.from_bytes(p[2:4], "big")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("if_a")
    ap.add_argument("if_b")
    ap.add_argument("percent", type=float)
    ap.add_argument("--from", dest="lossy_from")
    ap.add_argument("--rtp-only", action="store_true")
    ap.add_argument("--on", action="store_true")
    ap.add_argument("--log")
    a = ap.parse_args()
    if_a, if_b, percent = a.if_a, a.if_b, a.percent
    state = {"on": a.on, "stop": False}
    stats = {"forwarded": {if_a: 0, if_b: 0}, "udp": {if_a: 0, if_b: 0}, "dropped": {if_a: 0, if_b: 0},
             "send_errors": 0}
    streams = {}  # "port/ssrc" -> {"forwarded": [seq], "dropped": [seq]} (--log)
    signal.signal(signal.SIGUSR1, lambda *_: state.update(on=True))
    signal.signal(signal.SIGUSR2, lambda *_: state.update(on=False))
    signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
    signal.signal(signal.SIGINT, lambda *_: state.update(stop=True))
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((name, 0))
        s.setblocking(False)
        socks[name] = s
    other = {socks[if_a]: (if_b, socks[if_b]), socks[if_b]: (if_a, socks[if_a])}
    names = {socks[if_a]: if_a, socks[if_b]: if_b}
    print(f"bridging {if_a} <-> {if_b}, {percent}% UDP loss when on", flush=True)
    while not state["stop"]:
        try:
            ready, _, _ = select.select(list(socks.values()), [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            for _ in range(64):  # bounded per wake-up
                try:
                    frame, addr = s.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue  # what we (or the kernel) sent on this port
                src = names[s]
                udp = udp_payload(frame)
                lossy = udp is not None and a.lossy_from in (None, src)
                rtp = rtp_key(udp) if lossy and (a.rtp_only or a.log) else None
                if udp is not None:
                    stats["udp"][src] += 1
                drop = lossy and state["on"] and (rtp is not None or not a.rtp_only) \
                    and random.random() * 100 < percent
                if a.log and rtp is not None:
                    streams.setdefault(rtp[0], {"forwarded": [], "dropped": []})[
                        "dropped" if drop else "forwarded"].append(rtp[1])
                if drop:
                    stats["dropped"][src] += 1
                    continue
                try:
                    other[s][1].send(frame)
                    stats["forwarded"][src] += 1
                except OSError:
                    stats["send_errors"] += 1
    stats["socket_drops"] = {}
    for name, s in socks.items():
        _, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        stats["socket_drops"][name] = drops
    if a.log:
        with open(a.log, "w") as f:
            json.dump(streams, f)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
