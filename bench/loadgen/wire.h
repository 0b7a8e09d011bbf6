// tern-loadgen: how emulated endpoints reach the network. Every endpoint
// owns one flow (a local UDP port talking to one remote address); the wire
// carries its datagrams and hands what arrives to the flow's sink.
//
//   SocketWire  one connected kernel UDP socket per flow, epoll (socket_wire.cc)
//   DpdkWire    one DPDK port the loadgen drives itself: its own IPv4
//               address, ARP, Ethernet/IPv4/UDP framing, bursts (dpdk_wire.cc)
//
// Single-threaded: every call comes from the loadgen's one loop thread.
// Sends may be queued; poll() and flush() push them out.
#pragma once
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"

namespace tern::loadgen {

Nanos mono_now();  // CLOCK_MONOTONIC (the probe clock; endpoint.cc)

class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  // One UDP payload from the flow's remote. `d` is writable (SRTP decrypts
  // in place) and valid only during the call.
  virtual void on_datagram(uint8_t* d, size_t n, Nanos now) = 0;
};

struct Flow {
  int id = -1;     // the wire's handle; -1 = not open
  Endpoint local;  // our address and port as the remote sees it
  bool open() const { return id >= 0; }
};

struct WireCounters {
  uint64_t tx_frames = 0, rx_frames = 0;
  uint64_t tx_full = 0;       // DPDK: the port refused a burst (the datagrams are lost)
  uint64_t rx_unknown = 0;    // DPDK: a UDP datagram for no open flow
  uint64_t rx_not_udp = 0;    // DPDK: not ARP or UDP for us (counted, dropped)
  uint64_t arp_answered = 0;  // DPDK: ARP requests for our address answered
};

class Wire {
 public:
  virtual ~Wire() = default;
  virtual std::string name() const = 0;  // "socket", "dpdk net_memif0"
  // A new flow from a fresh local port to `to`; only datagrams from `to`
  // reach `sink`.
  virtual absl::StatusOr<Flow> open(const Endpoint& to, DatagramSink* sink) = 0;
  virtual void close(Flow& f) = 0;
  // One datagram made of the iovecs (ChannelData header + payload without a
  // copy on sockets). False: refused now (the caller counts a send error).
  virtual bool send(const Flow& f, const iovec* iov, int iovcnt) = 0;
  // Waits at most `timeout` for traffic, then hands every datagram that
  // arrived to its flow's sink and flushes queued sends.
  virtual void poll(Nanos timeout) = 0;
  virtual void flush() {}
  virtual WireCounters counters() const { return {}; }
};

std::unique_ptr<Wire> make_socket_wire();

// DPDK: EAL arguments (for example "--no-pci --in-memory --vdev=net_memif0,
// role=client,socket=/run/tern-memif.sock"), the port's device name and our
// IPv4 address on that link. Remotes must be on the same link: each one's
// MAC is resolved by ARP when its first flow opens (blocking, bounded).
// Built only when libdpdk is found.
struct DpdkWireConfig {
  std::vector<std::string> eal_args;
  std::string port;
  Endpoint local_ip;  // port ignored
  uint32_t link_wait_ms = 5000;
  uint32_t hold_ms = 0;  // Options::dpdk_hold_ms
};
absl::StatusOr<std::unique_ptr<Wire>> make_dpdk_wire(const DpdkWireConfig& cfg);
bool dpdk_wire_available();

}  // namespace tern::loadgen
