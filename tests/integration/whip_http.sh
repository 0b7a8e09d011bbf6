#!/bin/bash
# WHIP/WHEP over HTTP end to end (loopback only):
#
#   whip_http.sh /path/to/ternd /path/to/ternctl SDP_OFFERS_DIR
#
# ternd with [http] (port 0, bearer token) on the socket driver. curl POSTs
# Chrome's WHIP offer (audio + 3-layer simulcast video): 201, Location, an
# answer SDP with ICE-lite, our host candidate, recvonly and simulcast recv;
# room.get over the control socket shows the two producers. Chrome's WHEP
# offer: 201 and a sendonly answer with a=ssrc. DELETE both: 200, then 404,
# and nothing is left (room.list). Errors: bad token 401, bad SDP 400 (with
# the parser's reason), wrong Content-Type 415, unknown room (WHEP) 404,
# PATCH 405, OPTIONS 204 with CORS headers. A WHIP session that never
# connects is closed by the ICE timeout (30 s) with its room. ternd stops
# with exit code 0.
# Exit 77 (meson: SKIP) when a tool is missing. Bounded waits throughout.
set -u
TERND=${1:?usage: whip_http.sh ternd ternctl offers_dir}
TERNCTL=${2:?}
OFFERS=${3:?}
. "$(dirname "$0")/lib.sh"
need curl curl
need python3
need timeout coreutils
tern_setup whip_http

UDP=$(python3 -c 'import socket
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SOCK=$TMP/ternd.sock
cat > "$TMP/ternd.toml" <<EOF
[udp]
base_port = $UDP
[socket]
addresses = ["127.0.0.1"]
[control]
socket = "$SOCK"
[http]
listen = "127.0.0.1:0"
token = "t0ken"
EOF
"$TERND" --config "$TMP/ternd.toml" > "$OUT" 2> "$ERR" &
PID=$!
BASE=
for _ in $(seq 100); do
  BASE=$(grep -o 'WHIP/WHEP: http://127.0.0.1:[0-9]*' "$OUT" 2>/dev/null | cut -d' ' -f2)
  [ -n "$BASE" ] && [ -S "$SOCK" ] && break
  sleep 0.1
done
[ -n "$BASE" ] || fail "no WHIP/WHEP line in ternd's banner"
echo "ternd: WHIP/WHEP at $BASE, UDP 127.0.0.1:$UDP"
ctl() { timeout 10 "$TERNCTL" --socket "$SOCK" "$@"; }
jfield() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
AUTH="Authorization: Bearer t0ken"

# req NAME METHOD PATH [curl args...]: headers to $TMP/NAME.h, body to
# $TMP/NAME.b, prints the status code.
req() {
  local name=$1 method=$2 path=$3
  shift 3
  timeout 15 curl -s -o "$TMP/$name.b" -D "$TMP/$name.h" -w '%{http_code}' -X "$method" \
    "$@" "$BASE$path"
}
header() { grep -i "^$2:" "$TMP/$1.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
expect_status() {  # NAME GOT WANT
  [ "$2" = "$3" ] || fail "$1: HTTP $2, want $3: $(cat "$TMP/$1.b" 2>/dev/null)"
  echo "OK $1: HTTP $2"
}
expect_line() {  # NAME LINE (a whole line of the body, CRLF stripped)
  tr -d '\r' < "$TMP/$1.b" | grep -qxF -- "$2" || fail "$1: no line '$2' in the answer"
}

# A publisher that never connects: ICE gives up after connect_timeout (30 s),
# the session closes itself and its room goes (checked at the end).
S=$(req abandoned POST /whip/abandoned -H "$AUTH" -H 'Content-Type: application/sdp' \
  --data-binary @"$OFFERS/chrome_whip_simulcast.sdp")
expect_status abandoned "$S" 201
T0=$(date +%s)

# --- WHIP publish ---
S=$(req whip POST /whip/live -H "$AUTH" -H 'Content-Type: application/sdp' \
  --data-binary @"$OFFERS/chrome_whip_simulcast.sdp")
expect_status whip "$S" 201
WHIP_LOC=$(header whip Location)
[[ "$WHIP_LOC" =~ ^/whip/live/[0-9a-f]{24}$ ]] || fail "whip: Location '$WHIP_LOC'"
[ "$(header whip Content-Type)" = "application/sdp" ] || fail "whip: Content-Type"
[ "$(header whip Access-Control-Allow-Origin)" = "*" ] || fail "whip: no CORS header"
for l in "v=0" "a=ice-lite" "a=group:BUNDLE 0 1" "a=setup:passive" "a=recvonly" \
  "a=end-of-candidates" "a=rid:q recv" "a=simulcast:recv q;h;f" "a=rtpmap:111 opus/48000/2" \
  "a=rtpmap:96 VP8/90000" "m=audio $UDP UDP/TLS/RTP/SAVPF 111" "c=IN IP4 127.0.0.1"; do
  expect_line whip "$l"
done
tr -d '\r' < "$TMP/whip.b" | grep -qE "^a=candidate:[0-9]+ 1 udp [0-9]+ 127\.0\.0\.1 $UDP typ host$" ||
  fail "whip: no host candidate 127.0.0.1:$UDP"
tr -d '\r' < "$TMP/whip.b" | grep -qE '^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$' ||
  fail "whip: no sha-256 fingerprint"
echo "OK whip answer: ICE-lite, host candidate, recvonly, simulcast q;h;f"
ctl room.get room=live > "$TMP/room.json" || fail "room.get"
[ "$(jfield '["producers"].__len__()' < "$TMP/room.json")" = 2 ] || fail "room.get: $(cat "$TMP/room.json")"
[ "$(jfield '["sessions"][0]' < "$TMP/room.json")" = "${WHIP_LOC##*/}" ] || fail "room.get sessions"
echo "OK room.get: 2 producers, session ${WHIP_LOC##*/}"

# --- WHEP subscribe ---
S=$(req whep POST /whep/live -H "$AUTH" -H 'Content-Type: application/sdp' \
  --data-binary @"$OFFERS/chrome_whep_recvonly.sdp")
expect_status whep "$S" 201
WHEP_LOC=$(header whep Location)
[[ "$WHEP_LOC" =~ ^/whep/live/[0-9a-f]{24}$ ]] || fail "whep: Location '$WHEP_LOC'"
expect_line whep "a=sendonly"
VIDEO_PRODUCER=$(jfield '["producers"][1]["id"]' < "$TMP/room.json")
expect_line whep "a=msid:${WHIP_LOC##*/} producer-$VIDEO_PRODUCER"
tr -d '\r' < "$TMP/whep.b" | grep -qE '^a=ssrc-group:FID [0-9]+ [0-9]+$' || fail "whep: no FID group"
ctl session.get session_id="${WHEP_LOC##*/}" > "$TMP/sess.json" || fail "session.get"
[ "$(jfield '["consumers"].__len__()' < "$TMP/sess.json")" = 2 ] || fail "session.get: $(cat "$TMP/sess.json")"
echo "OK whep answer: sendonly, msid of the publisher, 2 consumers"

# --- errors ---
S=$(req badtoken POST /whip/live -H 'Authorization: Bearer nope' -H 'Content-Type: application/sdp' \
  --data-binary @"$OFFERS/chrome_whip_simulcast.sdp")
expect_status badtoken "$S" 401
[ "$(header badtoken WWW-Authenticate)" = "Bearer" ] || fail "401 without WWW-Authenticate"
S=$(req notoken DELETE "$WHEP_LOC")
expect_status notoken "$S" 401
S=$(req badsdp POST /whip/live -H "$AUTH" -H 'Content-Type: application/sdp' --data-binary $'v=0\r\nx\r\n')
expect_status badsdp "$S" 400
grep -q "^offer: line 2" "$TMP/badsdp.b" || fail "400 body: $(cat "$TMP/badsdp.b")"
S=$(req badtype POST /whip/live -H "$AUTH" -H 'Content-Type: text/plain' --data-binary 'v=0')
expect_status badtype "$S" 415
S=$(req noroom POST /whep/nosuchroom -H "$AUTH" -H 'Content-Type: application/sdp' \
  --data-binary @"$OFFERS/chrome_whep_recvonly.sdp")
expect_status noroom "$S" 404
S=$(req patch PATCH "$WHIP_LOC" -H "$AUTH" -H 'Content-Type: application/trickle-ice-sdpfrag' \
  --data-binary $'a=end-of-candidates\r\n')
expect_status patch "$S" 405
S=$(req options OPTIONS /whip/live -H 'Origin: http://example.test' \
  -H 'Access-Control-Request-Method: POST')
expect_status options "$S" 204
header options Access-Control-Allow-Methods | grep -q DELETE || fail "OPTIONS: Allow-Methods"
header options Access-Control-Allow-Headers | grep -qi authorization || fail "OPTIONS: Allow-Headers"

# --- teardown ---
S=$(req delwhep DELETE "$WHEP_LOC" -H "$AUTH")
expect_status delwhep "$S" 200
S=$(req delwhep2 DELETE "$WHEP_LOC" -H "$AUTH")
expect_status delwhep2 "$S" 404
S=$(req delwhip DELETE "$WHIP_LOC" -H "$AUTH")
expect_status delwhip "$S" 200
S=$(req delwhip2 DELETE "$WHIP_LOC" -H "$AUTH")
expect_status delwhip2 "$S" 404
ctl room.list > "$TMP/rooms.json" || fail "room.list"
[ "$(python3 -c 'import json,sys; print(" ".join(r["room"] for r in json.load(sys.stdin)["rooms"]))' \
  < "$TMP/rooms.json")" = "abandoned" ] ||
  fail "rooms left: $(cat "$TMP/rooms.json")"
ctl server.info | grep -q '"whip"' || fail "server.info features lack whip"
echo "OK nothing left after DELETE (room made by WHIP closed with its last session)"
for _ in $(seq 60); do
  ctl room.list > "$TMP/rooms.json" || fail "room.list"
  [ "$(jfield '["rooms"].__len__()' < "$TMP/rooms.json")" = 0 ] && break
  sleep 1
done
[ "$(jfield '["rooms"].__len__()' < "$TMP/rooms.json")" = 0 ] ||
  fail "the never-connected session is still there after 60 s: $(cat "$TMP/rooms.json")"
echo "OK the never-connected WHIP session closed itself after $(($(date +%s) - T0)) s (ICE timeout)"
stop_ternd
echo "PASS whip_http"
