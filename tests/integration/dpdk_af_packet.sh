#!/bin/bash
# ternd on the DPDK driver, bound to the host end of a veth pair through
# net_af_packet (and then net_af_xdp where the kernel allows), queried from a
# network namespace on the other end with the kernel's own ping / ping -6 and
# coturn's turnutils_stunclient:
#
#   dpdk_af_packet.sh /path/to/ternd
#
#   ping -c 3 198.18.0.1     ARP answered and ICMP echo answered by ternd
#   ping -6 -c 3 2001:2::1   ND (NS -> NA) and ICMPv6 echo answered by ternd
#   turnutils_stunclient     STUN Binding over UDP: mapped address 198.18.0.2
#                            (and 2001:2::2 over IPv6)
#
# Exit 77 (meson: SKIP) with "SKIP: <reason>" when not root, without `ip
# netns`, or without ternd / the clients / ethtool. Addresses: 198.18.0.0/24 and
# 2001:2::/64 inside our own namespace and veth only. Every wait is bounded;
# the namespace, the veth and ternd are removed on exit whatever happens.
set -u

TERND=${1:-}
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (netns, veth, raw packet sockets)"
command -v ip >/dev/null || skip "iproute2 not installed"
[ -n "$TERND" ] && [ -x "$TERND" ] || skip "no ternd binary (${TERND:-not given})"
command -v ping >/dev/null || skip "ping not installed (Debian package iputils-ping)"
command -v turnutils_stunclient >/dev/null || skip "turnutils_stunclient not installed (Debian package coturn)"
command -v timeout >/dev/null || skip "timeout (coreutils) not installed"
# The namespace end must checksum in software (below); without ethtool the
# UDP checks would fail for a reason that is not ternd's.
command -v ethtool >/dev/null || skip "ethtool not installed (Debian package ethtool; scripts/bootstrap installs it)"

TAG=$$
NS=tern-dp-$TAG
HOST_IF=tdph$TAG    # <= 15 characters (IFNAMSIZ)
NS_IF=tdpn$TAG
TMP=$(mktemp -d /tmp/tern-dp.XXXXXX)
PID=

stop_ternd() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
  fi
  [ -n "$PID" ] && wait "$PID" 2>/dev/null
  PID=
}
cleanup() {
  stop_ternd
  ip netns del "$NS" 2>/dev/null
  ip link del "$HOST_IF" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (ip netns add)"
ip link add "$HOST_IF" type veth peer name "$NS_IF" || skip "cannot create a veth pair"
ip link set "$NS_IF" netns "$NS" || exit 1
# The host end belongs to DPDK: the kernel must not answer ND for the same
# MAC-derived link-local address, nor send its own router solicitations.
sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1" 2>/dev/null
ip link set "$HOST_IF" up || exit 1
NSX() { ip netns exec "$NS" "$@"; }
NSX ip link set lo up
NSX ip addr add 198.18.0.2/24 dev "$NS_IF"
NSX ip -6 addr add 2001:2::2/64 dev "$NS_IF" nodad
NSX ip link set "$NS_IF" up
# veth hands frames over with the UDP checksum still partial (offload); a
# raw packet socket on the other end would see a wrong checksum. Have the
# namespace compute checksums in software, as a real NIC's peer would.
NSX ethtool -K "$NS_IF" tx off >/dev/null || exit 1

FAILS=0
RESULTS=()

# run_one PMD VDEV_ARGS DEVNAME: starts ternd on that vdev and runs the checks.
# Returns 0 pass, 1 fail, 2 the PMD did not start (skip that half).
run_one() {
  local pmd=$1 vdev=$2 dev=$3
  local conf=$TMP/$pmd.toml out=$TMP/$pmd.out err=$TMP/$pmd.err
  cat >"$conf" <<CONF
[engine]
workers = 1
idle_max_sleep_us = 200

[udp]
base_port = 3478

[driver]
kind = "dpdk"

[dpdk]
eal_args = ["--no-pci", "--no-huge", "--no-shconf", "-l", "0", "--file-prefix=$NS-$pmd",
            "--log-level=lib.eal:error", "--vdev=$vdev"]
mbufs = 4095
rx_desc = 512
tx_desc = 512
link_wait_ms = 2000

[[dpdk.ports]]
name = "$dev"
ipv4 = "198.18.0.1/24"
ipv6 = "2001:2::1/64"
CONF
  echo "=== $pmd: ternd --config $conf ($vdev)"
  "$TERND" --config "$conf" >"$out" 2>"$err" &
  PID=$!
  local up=0
  for _ in $(seq 150); do
    if grep -q "running" "$out" 2>/dev/null; then up=1; break; fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$up" -ne 1 ]; then
    echo "--- ternd stdout"; cat "$out"; echo "--- ternd stderr"; tail -20 "$err"
    stop_ternd
    return 2
  fi
  grep -h "\[dpdk\]" "$err" "$out" 2>/dev/null
  local ok=0
  if NSX timeout 20 ping -c 3 -i 0.3 -W 2 198.18.0.1; then
    echo "ok: $pmd: ping 198.18.0.1 (ARP + ICMP echo)"
  else
    echo "FAIL: $pmd: ping 198.18.0.1"; ok=1
  fi
  if NSX timeout 20 ping -6 -c 3 -i 0.3 -W 2 2001:2::1; then
    echo "ok: $pmd: ping -6 2001:2::1 (ND + ICMPv6 echo)"
  else
    echo "FAIL: $pmd: ping -6 2001:2::1"; ok=1
  fi
  local s
  s=$(NSX timeout 15 turnutils_stunclient -p 3478 198.18.0.1 2>&1)
  echo "$s"
  if echo "$s" | grep -qF "reflexive addr: 198.18.0.2:"; then
    echo "ok: $pmd: STUN mapped address 198.18.0.2"
  else
    echo "FAIL: $pmd: turnutils_stunclient did not see 198.18.0.2"; ok=1
  fi
  s=$(NSX timeout 15 turnutils_stunclient -p 3478 2001:2::1 2>&1)
  echo "$s"
  if echo "$s" | grep -qF "reflexive addr: 2001:2::2:"; then
    echo "ok: $pmd: STUN over IPv6 mapped address 2001:2::2"
  else
    echo "FAIL: $pmd: turnutils_stunclient over IPv6 did not see 2001:2::2"; ok=1
  fi
  stop_ternd
  echo "--- $pmd: ternd output"; cat "$out"
  if [ "$ok" -ne 0 ]; then echo "--- ternd stderr"; tail -30 "$err"; fi
  return $ok
}

run_one af_packet "net_af_packet0,iface=$HOST_IF,qpairs=1" net_af_packet0
rc=$?
case $rc in
  0) RESULTS+=("af_packet: PASS") ;;
  2) RESULTS+=("af_packet: FAIL (ternd did not start)"); FAILS=$((FAILS + 1)) ;;
  *) RESULTS+=("af_packet: FAIL"); FAILS=$((FAILS + 1)) ;;
esac

if [ -e "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/librte_net_af_xdp.so" ] || \
   ls /usr/lib/*/dpdk/pmds-*/librte_net_af_xdp.so >/dev/null 2>&1; then
  run_one af_xdp "net_af_xdp0,iface=$HOST_IF,start_queue=0,queue_count=1" net_af_xdp0
  rc=$?
  case $rc in
    0) RESULTS+=("af_xdp: PASS") ;;
    2) RESULTS+=("af_xdp: skipped: the af_xdp PMD did not start on this kernel (see above)") ;;
    *) RESULTS+=("af_xdp: FAIL"); FAILS=$((FAILS + 1)) ;;
  esac
else
  RESULTS+=("af_xdp: skipped: DPDK built without the af_xdp PMD")
fi

echo "=== summary"
printf '%s\n' "${RESULTS[@]}"
[ "$FAILS" -eq 0 ] || exit 1
echo "PASS"
