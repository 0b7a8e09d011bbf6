#!/usr/bin/env python3
"""tern's demo signaling service: a video room in the browser.

Serves the page (index.html, demo.js) and drives ternd over its JSON-RPC
control socket (a Unix socket, one JSON object per line; see
docs/control-protocol.md). Python 3 standard library only.

  python3 examples/demo/server.py --control-socket /tmp/tern/ternd.sock \
      --listen 127.0.0.1:8000

A participant joining room X:
  1. POST /api/join {room, name, offer}: its camera + microphone offer goes to
     ternd as session.publish {room, offer}; the answer comes back, with a
     participant id.
  2. GET /api/events?room=X&pid=P (Server-Sent Events): a "roster" event with
     every published participant, again whenever someone joins or leaves.
     The stream doubles as the participant's presence: when it drops (the tab
     closed), the participant leaves.
  3. POST /api/subscribe {pid, offer} with one recvonly audio + video pair
     per other participant: session.subscribe {room, offer,
     exclude_session: its own publish session}; its previous subscription is
     closed (session.close). The page re-subscribes whenever the roster
     changes, so everybody sees and hears everybody else.
  4. POST /api/leave {pid} (or the event stream dropping): session.close for
     its sessions, a new roster for the others.
"""

import argparse
import itertools
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/demo.js": ("demo.js", "text/javascript; charset=utf-8"),
}
MAX_BODY = 256 * 1024  # SDP offers are a few KiB; ternd's own limit is 64 KiB
ROOM_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def log(msg):
    print(f"[demo] {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


class RpcError(Exception):
    def __init__(self, method, error):
        self.code = error.get("code")
        self.error = error
        super().__init__(f"{method}: {error.get('message')} ({self.code}) {json.dumps(error.get('data', {}))}")


class Ternd:
    """JSON-RPC 2.0 over ternd's Unix socket: one connection per call keeps
    it simple and thread-safe (ternd answers in order on a connection)."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.ids = itertools.count(1)

    def call(self, method, **params):
        req_id = next(self.ids)
        line = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": req_id}) + "\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout)
            s.connect(self.path)
            s.sendall(line.encode())
            buf = b""
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    if not raw.strip():
                        continue
                    msg = json.loads(raw)
                    if msg.get("id") != req_id:
                        continue  # an event
                    if "error" in msg:
                        raise RpcError(method, msg["error"])
                    return msg["result"]
        raise RuntimeError(f"{method}: no answer from ternd on {self.path}")


class Participant:
    def __init__(self, pid, room, name):
        self.pid = pid
        self.room = room
        self.name = name
        self.pub_session = ""
        self.producers = []  # producer ids
        self.sub_session = ""
        self.streams = 0  # live event streams (presence)
        self.last_seen = time.monotonic()


class Rooms:
    """Who is in which room. One lock; a condition wakes the event streams."""

    def __init__(self, ternd):
        self.ternd = ternd
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.participants = {}  # pid -> Participant

    def roster(self, room):
        return [
            {"pid": p.pid, "name": p.name, "producers": p.producers}
            for p in self.participants.values()
            if p.room == room and p.pub_session
        ]

    def bump(self):
        self.version += 1
        self.changed.notify_all()

    def join(self, room, name, offer):
        res = self.ternd.call("session.publish", room=room, offer=offer)
        p = Participant(secrets.token_hex(6), room, name)
        p.pub_session = res["session_id"]
        p.producers = [x["id"] for x in res.get("producers", [])]
        with self.lock:
            self.participants[p.pid] = p
            self.bump()
        log(f"{name} ({p.pid}) joined {room}: session {p.pub_session}, producers {p.producers}")
        return p, res

    def subscribe(self, pid, offer):
        with self.lock:
            p = self.participants.get(pid)
            if p is None:
                raise KeyError(pid)
            old, p.sub_session = p.sub_session, ""
            room, own = p.room, p.pub_session
        if old:
            self.close_session(old)
        res = self.ternd.call("session.subscribe", room=room, offer=offer, exclude_session=own)
        with self.lock:
            p = self.participants.get(pid)
            if p is None:  # left meanwhile
                gone = True
            else:
                gone = False
                p.sub_session = res["session_id"]
                owner = {prod: q for q in self.participants.values() for prod in q.producers}
        if gone:
            self.close_session(res["session_id"])
            raise KeyError(pid)
        consumers = []
        for c in res.get("consumers", []):
            q = owner.get(c.get("producer_id"))
            consumers.append(dict(c, pid=q.pid if q else "", name=q.name if q else "?"))
        log(f"{p.name} ({pid}) subscribed: session {res['session_id']}, {len(consumers)} consumers")
        return res, consumers

    def leave(self, pid, why):
        with self.lock:
            p = self.participants.pop(pid, None)
            if p is None:
                return False
            self.bump()
        for sid in (p.sub_session, p.pub_session):
            if sid:
                self.close_session(sid)
        log(f"{p.name} ({pid}) left {p.room}: {why}")
        return True

    def close_session(self, sid):
        try:
            self.ternd.call("session.close", session_id=sid)
        except RpcError as e:
            if e.code != -32002:  # already gone (ternd closed it) is fine
                log(f"session.close {sid}: {e}")
        except OSError as e:
            log(f"session.close {sid}: {e}")

    def reap(self, grace_s):
        """Participants that joined but never opened an event stream (or whose
        stream dropped without a leave) for grace_s seconds."""
        now = time.monotonic()
        with self.lock:
            stale = [p.pid for p in self.participants.values() if p.streams == 0 and now - p.last_seen > grace_s]
        for pid in stale:
            self.leave(pid, f"no event stream for {grace_s} s")


class Handler(BaseHTTPRequestHandler):
    server_version = "tern-demo/0.1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the service logs what matters
        pass

    @property
    def rooms(self):
        return self.server.rooms

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, msg):
        self.send_json(status, {"error": msg})

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0 or n > MAX_BODY:
            raise ValueError(f"body of {n} bytes (want 1..{MAX_BODY})")
        return json.loads(self.rfile.read(n))

    def do_GET(self):
        url = urlparse(self.path)
        if url.path in STATIC:
            name, ctype = STATIC[url.path]
            with open(os.path.join(HERE, name), "rb") as f:
                body = f.read()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        elif url.path == "/api/events":
            self.events(parse_qs(url.query))
        elif url.path == "/api/config":
            self.send_json(HTTPStatus.OK, {"iceServers": self.ice_servers()})
        elif url.path == "/api/rooms":
            with self.rooms.lock:
                rooms = {}
                for p in self.rooms.participants.values():
                    rooms.setdefault(p.room, []).append(p.name)
            self.send_json(HTTPStatus.OK, rooms)
        else:
            self.error(HTTPStatus.NOT_FOUND, f"no {url.path}")

    def ice_servers(self):
        """TURN REST credentials minted by ternd (turn.credentials) for its
        own TURN server, as RTCPeerConnection iceServers; [] when ternd runs
        without [turn]. A page that forces relay (?relay=1) reaches the SFU
        through them."""
        try:
            c = self.rooms.ternd.call("turn.credentials", user="demo", ttl_s=3600)
        except (RpcError, OSError, RuntimeError) as e:
            log(f"no TURN credentials from ternd ({e}): the page connects directly")
            return []
        return [{"urls": c["uris"], "username": c["username"], "credential": c["password"]}]

    def do_POST(self):
        url = urlparse(self.path)
        try:
            req = self.read_json()
        except (ValueError, json.JSONDecodeError) as e:
            return self.error(HTTPStatus.BAD_REQUEST, f"bad JSON body: {e}")
        try:
            if url.path == "/api/join":
                room, name, offer = req.get("room", ""), str(req.get("name", ""))[:40], req.get("offer", "")
                if not room or len(room) > 64 or not set(room) <= ROOM_CHARS:
                    return self.error(HTTPStatus.BAD_REQUEST, "room: 1..64 of A-Z a-z 0-9 - _ . ~")
                p, res = self.rooms.join(room, name or "guest", offer)
                return self.send_json(HTTPStatus.OK, {"pid": p.pid, "session_id": p.pub_session, "answer": res["answer"]})
            if url.path == "/api/subscribe":
                res, consumers = self.rooms.subscribe(req.get("pid", ""), req.get("offer", ""))
                return self.send_json(
                    HTTPStatus.OK, {"session_id": res["session_id"], "answer": res["answer"], "consumers": consumers}
                )
            if url.path == "/api/leave":
                self.rooms.leave(req.get("pid", ""), "left")
                return self.send_json(HTTPStatus.OK, {"left": True})
            return self.error(HTTPStatus.NOT_FOUND, f"no {url.path}")
        except KeyError:
            return self.error(HTTPStatus.NOT_FOUND, "no such participant (left, or the service restarted)")
        except RpcError as e:
            status = HTTPStatus.BAD_REQUEST if e.code == -32602 else HTTPStatus.CONFLICT
            if e.code in (-32601, -32005):
                status = HTTPStatus.SERVICE_UNAVAILABLE
            return self.error(status, str(e))
        except (OSError, RuntimeError) as e:
            return self.error(HTTPStatus.BAD_GATEWAY, f"ternd: {e}")

    def events(self, q):
        """Server-Sent Events: 'roster' on connect and on every change, a
        comment every few seconds so a closed tab is noticed."""
        pid = (q.get("pid") or [""])[0]
        with self.rooms.lock:
            p = self.rooms.participants.get(pid)
            if p is None:
                return self.error(HTTPStatus.NOT_FOUND, "no such participant")
            p.streams += 1
            room = p.room
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        seen = -1
        try:
            while not self.server.stopping:
                with self.rooms.lock:
                    if self.rooms.version == seen:
                        self.rooms.changed.wait(timeout=5.0)
                    if pid not in self.rooms.participants:
                        break
                    changed = self.rooms.version != seen
                    seen = self.rooms.version
                    roster = self.rooms.roster(room)
                if changed:
                    data = json.dumps({"you": pid, "participants": roster})
                    self.wfile.write(f"event: roster\ndata: {data}\n\n".encode())
                else:
                    self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with self.rooms.lock:
                p = self.rooms.participants.get(pid)
                if p is not None:
                    p.streams -= 1
                    p.last_seen = time.monotonic()
                    orphan = p.streams == 0
                else:
                    orphan = False
            # A reload reconnects within a second; a closed tab does not.
            if orphan:
                threading.Timer(3.0, self.rooms.reap, args=(2.5,)).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--control-socket", required=True, help="ternd's JSON-RPC Unix socket")
    ap.add_argument("--listen", default="127.0.0.1:8000", help="address:port for the page (default %(default)s)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: run until Ctrl-C)")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"

    ternd = Ternd(args.control_socket)
    try:
        info = ternd.call("server.info")
    except (OSError, RuntimeError, RpcError) as e:
        sys.exit(f"demo: cannot reach ternd on {args.control_socket}: {e}")
    try:
        ternd.call("session.get", session_id="-")
    except RpcError as e:
        if e.code == -32601:
            log("warning: this ternd has no session.* methods yet; joining will fail")
    except (OSError, RuntimeError):
        pass

    ThreadingHTTPServer.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.rooms = Rooms(ternd)
    server.stopping = False
    shown = f"[{host}]" if ":" in host else host
    log(f"ternd {info.get('version', '?')} (pid {info.get('pid', '?')}) on {args.control_socket}")
    log(f"open http://{shown}:{server.server_address[1]}/?room=demo in two or more tabs")
    if args.seconds > 0:
        threading.Timer(args.seconds, server.shutdown).start()

    def on_term(signum, frame):
        raise KeyboardInterrupt  # leave every participant, then exit

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping = True
        with server.rooms.lock:
            server.rooms.changed.notify_all()
            pids = list(server.rooms.participants)
        for pid in pids:
            server.rooms.leave(pid, "service stopping")
        server.server_close()
        log("stopped")


if __name__ == "__main__":
    main()
