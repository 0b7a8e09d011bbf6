// TurnServer relay fast path: Send indications and ChannelData from clients,
// datagrams from peers. Per packet: no allocation, lock, syscall or copy of
// the payload; drops are counted by reason.
#include <cstring>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"
#include "engine/turn/turn_server_internal.h"

namespace tern {

using stun::Attribute;
using stun::StunMessage;

bool TurnServer::take_tokens(Allocation& a, uint32_t bytes, Nanos now) {
  const int64_t rate = int64_t(cfg_.bandwidth_bytes_per_s);
  if (rate == 0) return true;
  // Bucket depth: one second of traffic (at least a few full datagrams).
  const int64_t depth = rate > 8192 ? rate : 8192;
  Nanos dt = now - a.refill;
  if (dt > 0) {
    if (dt > kSecond) dt = kSecond;
    a.tokens += dt * rate / kSecond;  // rate <= 1e9 (validated): no overflow
    if (a.tokens > depth) a.tokens = depth;
    a.refill = now;
  }
  if (a.tokens < int64_t{bytes}) return false;
  a.tokens -= bytes;
  return true;
}

namespace {

// The payload sum once the ChannelData header (4 bytes) and any UDP padding
// after its `length` bytes are taken off: the received sum minus theirs,
// so the datagram to the peer needs no pass over the data. The header and
// padding are read as they are, so a datagram that arrived corrupted leaves
// with a checksum wrong the same way (the payload was not checked here).
uint32_t carried_sum_after_strip(const Packet& p, uint32_t length) {
  if (p.rx_sum == kNoSum) return kNoSum;
  const uint8_t* d = p.data();
  uint32_t s = checksum_sub(p.rx_sum, checksum_partial(d, turn::kChannelDataHeader));
  const uint32_t end = turn::kChannelDataHeader + length;
  if (p.len > end) {
    const uint32_t tail = checksum_partial(d + end, p.len - end);
    s = checksum_sub(s, (end & 1) ? checksum_at_odd(tail) : tail);
  }
  return s;
}

}  // namespace

bool TurnServer::handle_send(Packet* pkt, Nanos now, Transport t, const StunMessage& msg) {
  stats_.send_indications.add();
  auto it = impl_->by_client.find(ClientKey{pkt->remote, pkt->local, t});
  if (it == impl_->by_client.end() || impl_->allocs[it->second].expiry <= now) {
    stats_.drops.add(Drop::kTurnNoAllocation);
    return false;
  }
  Allocation& a = impl_->allocs[it->second];
  Attribute pa, data;
  Endpoint peer;
  if (!msg.find(turn::attr::kXorPeerAddress, &pa) || !msg.decode_address(pa, true, &peer) ||
      !msg.find(turn::attr::kData, &data)) {
    stats_.drops.add(Drop::kTurnMalformed);
    return false;
  }
  const Endpoint& relay = a.relay[family_index(peer.family)];
  if (relay.family == Family::kNone || a.find_permission(peer, now) == nullptr) {
    stats_.drops.add(Drop::kTurnNoPermission);
    return false;
  }
  if (!take_tokens(a, data.length, now)) {
    stats_.drops.add(Drop::kTurnQuota);
    return false;
  }
  // Trim the packet to the DATA value in place: the payload never moves.
  pkt->off += uint32_t(data.value - pkt->data());
  pkt->len = data.length;
  pkt->remote = peer;
  pkt->local = relay;
  stats_.to_peer_packets.add();
  stats_.to_peer_bytes.add(data.length);
  return true;
}

bool TurnServer::handle_channel_data(Packet* pkt, Nanos now, Transport t) {
  if (pkt->len < turn::kChannelDataHeader) {
    stats_.drops.add(Drop::kTurnMalformed);
    return false;
  }
  const uint8_t* d = pkt->data();
  const uint16_t number = load_be16(d);
  const uint16_t length = load_be16(d + 2);
  // Over UDP the datagram may carry padding after `length` bytes (ignored);
  // a shorter one is malformed (§12.4).
  if (number < turn::kChannelMin || number > channel_max() ||
      length > pkt->len - turn::kChannelDataHeader) {
    stats_.drops.add(Drop::kTurnMalformed);
    return false;
  }
  auto it = impl_->by_client.find(ClientKey{pkt->remote, pkt->local, t});
  if (it == impl_->by_client.end() || impl_->allocs[it->second].expiry <= now) {
    stats_.drops.add(Drop::kTurnNoAllocation);
    return false;
  }
  Allocation& a = impl_->allocs[it->second];
  const Channel* ch = a.channel_by_number(number, now);
  if (ch == nullptr) {
    stats_.drops.add(Drop::kTurnNoChannel);
    return false;
  }
  if (a.find_permission(ch->peer, now) == nullptr) {
    stats_.drops.add(Drop::kTurnNoPermission);
    return false;
  }
  if (!take_tokens(a, length, now)) {
    stats_.drops.add(Drop::kTurnQuota);
    return false;
  }
  pkt->tx_sum = carried_sum_after_strip(*pkt, length);
  pkt->adj(turn::kChannelDataHeader);
  pkt->len = length;
  pkt->remote = ch->peer;
  pkt->local = a.relay[family_index(ch->peer.family)];
  stats_.to_peer_packets.add();
  stats_.to_peer_bytes.add(length);
  return true;
}

bool TurnServer::is_relayed_address(const Endpoint& e) const {
  if (e.family == Family::kNone || !is_relay_port(e.port)) return false;
  const std::vector<uint32_t>& owner = impl_->port_owner[family_index(e.family)];
  if (owner.empty()) return false;
  const uint32_t o = owner[e.port - cfg_.relay_port_min];
  if (o == kPortFree || o == kPortReserved) return false;
  const Allocation& a = impl_->allocs[o - 1];
  return a.relay[family_index(e.family)].same_addr(e);
}

bool TurnServer::handle_peer(Packet* pkt, Nanos now, Transport* client_transport) {
  const Endpoint& local = pkt->local;
  const std::vector<uint32_t>& owner = impl_->port_owner[family_index(local.family)];
  const uint32_t o = local.family != Family::kNone && is_relay_port(local.port) && !owner.empty()
                         ? owner[local.port - cfg_.relay_port_min]
                         : kPortFree;
  if (o == kPortFree || o == kPortReserved || impl_->allocs[o - 1].expiry <= now) {
    stats_.drops.add(Drop::kTurnNoAllocation);
    return false;
  }
  Allocation& a = impl_->allocs[o - 1];
  if (a.find_permission(pkt->remote, now) == nullptr) {
    stats_.drops.add(Drop::kTurnNoPermission);
    return false;
  }
  if (!take_tokens(a, pkt->len, now)) {
    stats_.drops.add(Drop::kTurnQuota);
    return false;
  }
  const uint32_t len = pkt->len;
  const uint32_t pad = (4 - (len & 3)) & 3;
  uint32_t front = 0;  // header bytes put in front
  if (const Channel* ch = a.channel_by_peer(pkt->remote, now)) {
    // ChannelData: 4 bytes in headroom; padded to 4 only over TCP (§12.5).
    const bool tcp = a.key.transport == Transport::kTcp;
    if (len > 0xFFFF || pkt->headroom() < turn::kChannelDataHeader ||
        (tcp && pkt->tailroom() < pad)) {
      stats_.drops.add(Drop::kNoBuffer);
      return false;
    }
    uint8_t* h = pkt->prepend(turn::kChannelDataHeader);
    front = turn::kChannelDataHeader;
    store_be16(h, ch->number);
    store_be16(h + 2, uint16_t(len));
    if (tcp && pad) std::memset(pkt->append(pad), 0, pad);
  } else {
    // Data indication: header + XOR-PEER-ADDRESS + DATA header in front,
    // padding behind.
    const Endpoint& peer = pkt->remote;
    const uint32_t alen = peer.is_v4() ? 8 : 20;
    const uint32_t hdr = uint32_t(stun::kHeaderSize) + 4 + alen + 4;
    const uint32_t body = 4 + alen + 4 + len + pad;
    if (body > 0xFFFC || pkt->headroom() < hdr || pkt->tailroom() < pad) {
      stats_.drops.add(Drop::kNoBuffer);
      return false;
    }
    Impl& I = *impl_;
    uint8_t* h = pkt->prepend(hdr);
    front = hdr;
    store_be16(h, stun::message_type(turn::kMethodData, stun::StunClass::kIndication));
    store_be16(h + 2, uint16_t(body));
    store_be32(h + 4, stun::kMagicCookie);
    std::memcpy(h + 8, I.id_prefix, 4);
    store_be64(h + 12, ++I.counter);
    uint8_t* p = h + stun::kHeaderSize;
    store_be16(p, turn::attr::kXorPeerAddress);
    store_be16(p + 2, uint16_t(alen));
    p[4] = 0;
    p[5] = peer.is_v4() ? turn::kFamilyIpv4 : turn::kFamilyIpv6;
    store_be16(p + 6, uint16_t(peer.port ^ (stun::kMagicCookie >> 16)));
    const uint8_t* key = h + 4;  // magic cookie, then transaction id
    for (uint32_t i = 0; i < alen - 4; ++i) p[8 + i] = uint8_t(peer.addr[i] ^ key[i]);
    p += 4 + alen;
    store_be16(p, turn::attr::kData);
    store_be16(p + 2, uint16_t(len));
    if (pad) std::memset(pkt->append(pad), 0, pad);
    stats_.data_indications.add();
  }
  // Only whole headers went in front (and zero padding behind): the payload's
  // sum carries over, plus theirs (kNoSum stays kNoSum).
  if (pkt->rx_sum != kNoSum)
    pkt->tx_sum = checksum_fold(pkt->rx_sum + checksum_partial(pkt->data(), front));
  pkt->remote = a.key.client;
  pkt->local = a.key.server;
  if (client_transport != nullptr) *client_transport = a.key.transport;
  stats_.to_client_packets.add();
  stats_.to_client_bytes.add(len);
  return true;
}

}  // namespace tern
