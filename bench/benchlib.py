"""Helpers shared by the Python benchmarks in bench/ (turn_compare, turn_capacity).

Each script imports this from its own directory: it is not installed. What is
here is what more than one script needs: exit codes meson reads (77 = SKIP),
a STUN readiness probe, CPU time from /proc, and the writer of a generated
block in docs/benchmarks.md.
"""

import glob
import os
import socket
import struct
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


def skip(reason):
    """Exit as meson's SKIP (77), the reason on stdout."""
    log(f"SKIP: {reason}")
    sys.exit(77)


def fail(reason):
    log(f"FAIL: {reason}")
    sys.exit(1)


def on_signal(signum, _frame):
    """SIGINT/SIGTERM handler: unwinds through the script's finally (cleanup)."""
    raise SystemExit(128 + signum)


def stun_ready(port, timeout_s, host="127.0.0.1"):
    """True once a STUN Binding request (RFC 8489) to host:port is answered."""
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            txid = os.urandom(12)
            s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid, (host, port))
            try:
                data, _ = s.recvfrom(2048)
                if len(data) >= 20 and data[8:20] == txid:
                    return True
            except OSError:
                time.sleep(0.1)  # refused (not listening yet) or timed out
    return False


def _stat_fields(text):
    # The command name (field 2) may hold spaces and parentheses: split after it.
    return text.rsplit(")", 1)[1].split()


def cpu_split(pid):
    """(utime, stime) of the whole process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = _stat_fields(f.read())
    return int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)


def cpu_ticks(pid):
    return sum(cpu_split(pid))


def threads_cpu_s(pid, skip_names=()):
    """utime + stime in seconds of the process's threads, except those named in skip_names."""
    total = 0
    for stat in glob.glob(f"/proc/{pid}/task/*/stat"):
        try:
            text = open(stat).read()
        except OSError:
            continue  # the thread ended
        if text[text.index("(") + 1:text.rindex(")")] in skip_names:
            continue
        fields = _stat_fields(text)
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def replace_block(path, section, begin, end, body):
    """Puts `body` (markdown) between the markers `begin` and `end` in `path`.

    The block is replaced where it is; otherwise it goes right under the
    `section` heading, or, without one, at the end under a new heading. The
    begin marker is matched up to its first " (" so its explanation may change.
    """
    block = "\n".join([begin, "", body.strip("\n"), "", end])
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    key = begin.split(" (")[0]
    if key in text and end in text:
        a, b = text.index(key), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    elif section in text:
        i = text.index(section) + len(section)
        text = text[:i] + "\n\n" + block + "\n" + text[i:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)
