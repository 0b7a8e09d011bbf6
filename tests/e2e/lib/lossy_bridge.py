#!/usr/bin/env python3
"""A two-port Ethernet bridge that drops UDP frames at random.

    lossy_bridge.py IF_A IF_B PERCENT

Forwards every frame received on IF_A out of IF_B and back (AF_PACKET raw
sockets), for the e2e loss test on kernels without sch_netem. Loss applies
to IPv4/IPv6 UDP frames only (ARP, ND and the pages' TCP pass untouched) and
only while enabled: SIGUSR1 turns it on, SIGUSR2 off (it starts off).
SIGTERM prints the counters as one line of JSON and exits. Run it inside the
test's own network namespace (both interfaces there, no addresses on them).
"""
import json
import random
import select
import signal
import socket
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def is_udp(frame):
    if len(frame) < 34:
        return False
    et = int.from_bytes(frame[12:14], "big")
    off = 14
    if et == 0x8100 and len(frame) >= 38:  # one VLAN tag
        et = int.from_bytes(frame[16:18], "big")
        off = 18
    if et == 0x0800:
        return frame[off + 9] == 17
    if et == 0x86DD and len(frame) >= off + 40:
        return frame[off + 6] == 17
    return False


def main():
    if_a, if_b, percent = sys.argv[1], sys.argv[2], float(sys.argv[3])
    state = {"on": False, "stop": False}
    stats = {"forwarded": {if_a: 0, if_b: 0}, "udp": {if_a: 0, if_b: 0}, "dropped": {if_a: 0, if_b: 0},
             "send_errors": 0}
    signal.signal(signal.SIGUSR1, lambda *_: state.update(on=True))
    signal.signal(signal.SIGUSR2, lambda *_: state.update(on=False))
    signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
    signal.signal(signal.SIGINT, lambda *_: state.update(stop=True))
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
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
                udp = is_udp(frame)
                if udp:
                    stats["udp"][src] += 1
                    if state["on"] and random.random() * 100 < percent:
                        stats["dropped"][src] += 1
                        continue
                try:
                    other[s][1].send(frame)
                    stats["forwarded"][src] += 1
                except OSError:
                    stats["send_errors"] += 1
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
