#!/usr/bin/env python3
"""A trivial UDP reflector: every datagram goes back, unchanged, to its sender.

    udp_reflector.py [HOST]

Binds HOST (127.0.0.1) on a free port and prints "reflecting on HOST:PORT"
once it is ready. On SIGTERM it prints its counters as one line of JSON
({"received": N, "sent": N, "send_errors": N}) and exits. The target of
tern-loadgen --reflector (tests/integration/loadgen_reflector.sh): it knows
nothing of RTP or SRTP, so the loadgen's counts can only come from what it
sent and what came back.
"""
import json
import signal
import socket
import sys

stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1", 0))
s.settimeout(0.2)  # so SIGTERM is seen within 0.2 s
counts = {"received": 0, "sent": 0, "send_errors": 0}
print("reflecting on %s:%d" % s.getsockname(), flush=True)
while not stop:
    try:
        data, peer = s.recvfrom(65536)
    except (socket.timeout, InterruptedError):
        continue
    counts["received"] += 1
    try:
        s.sendto(data, peer)
        counts["sent"] += 1
    except OSError:
        counts["send_errors"] += 1
print(json.dumps(counts), flush=True)
