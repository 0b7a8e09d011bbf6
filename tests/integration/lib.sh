# Shared by the integration scripts: source it after setting the script's
# name, e.g.
#   . "$(dirname "$0")/lib.sh"; tern_setup stun_socket
# It gives:
#   $TMP (a private temp dir), $OUT/$ERR (ternd's stdout/stderr files), $PID
#   (ternd's pid once started), fail/skip, need TOOL..., free_udp_port,
#   track PID (killed at exit), stop_ternd (SIGTERM, bounded wait, exit code 0 required).
# Everything started is killed and $TMP removed on exit. Bounded waits only.

fail() {
  echo "FAIL: $*"
  [ -f "${OUT:-}" ] && { echo "--- ternd stdout"; cat "$OUT"; }
  [ -f "${ERR:-}" ] && { echo "--- ternd stderr"; cat "$ERR"; }
  exit 1
}
skip() { echo "SKIP: $*"; exit 77; }

# need TOOL [package]: SKIP (77) when a tool is missing.
need() {
  command -v "$1" >/dev/null || skip "$1 not installed${2:+ (Debian package $2)}"
}

# free_udp_port [ADDR]: a UDP port nothing is bound to on ADDR (127.0.0.1).
free_udp_port() {
  python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' \
    "${1:-127.0.0.1}"
}

TERN_TRACKED=()
track() { TERN_TRACKED+=("$1"); }

tern_cleanup() {
  for p in "${PID:-}" "${TERN_TRACKED[@]}"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  [ -n "${TMP:-}" ] && rm -rf "$TMP"
}

tern_setup() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  OUT=$TMP/ternd.out
  ERR=$TMP/ternd.err
  PID=
  trap tern_cleanup EXIT
}

# stop_ternd: SIGTERM, wait at most 10 s, require exit code 0.
stop_ternd() {
  kill -TERM "$PID"
  for _ in $(seq 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$PID" 2>/dev/null && fail "ternd still running 10 s after SIGTERM"
  wait "$PID"
  local rc=$?
  PID=
  [ "$rc" -eq 0 ] || fail "ternd exit code $rc, want 0"
}
