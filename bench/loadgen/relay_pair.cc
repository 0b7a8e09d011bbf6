#include "bench/loadgen/relay_pair.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/stream.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"

namespace tern::loadgen {

Pacer::Pacer(uint32_t pps, Nanos now, double phase)
    : per_ns_(double(pps) / 1e9),
      credit_(std::clamp(phase, 0.0, 0.999)),
      burst_(std::max(1.0, double(pps) * 0.005)),
      last_(now) {}

uint32_t Pacer::due(Nanos now) {
  if (now > last_) {
    credit_ += double(now - last_) * per_ns_;
    last_ = now;
  }
  if (credit_ > burst_ + 1) {  // a stall: what does not fit is not sent at all
    const double over = std::floor(credit_ - burst_);
    skipped_ += uint64_t(over);
    credit_ -= over;
  }
  const uint32_t n = uint32_t(credit_);
  credit_ -= n;
  return n;
}

absl::StatusOr<std::unique_ptr<RelayPair>> RelayPair::create(RelayPairConfig cfg, Nanos now) {
  if (cfg.wire == nullptr) return absl::FailedPreconditionError(cfg.name + ": no wire");
  if (cfg.payload < kProbeSize || cfg.payload > 65000)
    return absl::InvalidArgumentError(absl::StrCat(cfg.name, ": payload ", cfg.payload, " bytes"));
  std::unique_ptr<RelayPair> p(new RelayPair(std::move(cfg)));
  auto f = p->cfg_.wire->open(p->cfg_.turn.server, &p->a_sink_);
  if (!f.ok())
    return absl::UnavailableError(absl::StrCat(p->cfg_.name, ": ", f.status().message()));
  p->a_flow_ = *f;
  p->deadline_ = now + p->cfg_.setup_timeout;
  uint8_t buf[512];
  const size_t n = p->leg_.start(buf, sizeof(buf), now);
  if (n == 0 || !p->send_turn(buf, n))
    return absl::UnavailableError(p->cfg_.name + ": could not send the Allocate");
  return p;
}

RelayPair::RelayPair(RelayPairConfig cfg)
    : cfg_(std::move(cfg)),
      leg_(cfg_.turn, cfg_.index),
      a_buf_(new uint8_t[cfg_.payload]()),
      b_buf_(new uint8_t[cfg_.payload]()) {}

RelayPair::~RelayPair() {
  if (cfg_.wire) {
    cfg_.wire->close(a_flow_);
    cfg_.wire->close(b_flow_);
  }
}

void RelayPair::close() {
  uint8_t buf[512];
  if (a_flow_.open())
    if (const size_t n = leg_.release(buf, sizeof(buf)); n > 0) send_turn(buf, n);
  cfg_.wire->flush();
  cfg_.wire->close(a_flow_);
  cfg_.wire->close(b_flow_);
  ready_ = false;
}

void RelayPair::fail(std::string why) {
  if (failure_.empty()) failure_ = std::move(why);
  ready_ = false;
}

std::string RelayPair::relayed() const { return leg_.relayed() ? leg_.relayed()->to_string() : ""; }

bool RelayPair::send_turn(const uint8_t* d, size_t n) {
  iovec iov{const_cast<uint8_t*>(d), n};
  if (!cfg_.wire->send(a_flow_, &iov, 1)) return false;
  ++datagrams_out_;
  return true;
}

// The relayed address is known: B's flow goes towards it, and the
// ChannelBind names B's local address (which also installs the permission
// for it, RFC 8656 §12).
void RelayPair::on_allocated(Nanos now) {
  auto f = cfg_.wire->open(*leg_.relayed(), &b_sink_);
  if (!f.ok()) return fail(absl::StrCat("peer flow: ", f.status().message()));
  b_flow_ = *f;
  uint8_t buf[512];
  const size_t n = leg_.set_peer(b_flow_.local, buf, sizeof(buf), now);
  if (n == 0 || !send_turn(buf, n)) fail("could not send the ChannelBind");
}

void RelayPair::on_client(uint8_t* d, size_t n, Nanos now) {
  ++datagrams_in_;
  if (n >= TurnLeg::kHeader && (d[0] & 0xC0) == 0x40) {  // ChannelData (RFC 7983 range 64..79)
    size_t len = 0;
    if (const uint8_t* p = TurnLeg::payload(d, n, &len))
      on_probe(to_client_, 2 * cfg_.index + 1, p, len, now);
    else
      ++to_client_.payload_errors;
    return;
  }
  stun::StunMessage m;
  if (m.parse(d, n) != stun::ParseError::kOk) return;
  if (m.cls() == stun::StunClass::kIndication && m.method() == turn::kMethodData) {
    ++data_indications_;  // the peer's data before the channel existed: not ours to count
    return;
  }
  const bool was_allocated = leg_.allocated();
  uint8_t out[512];
  size_t out_len = 0;
  leg_.on_response(m, out, sizeof(out), &out_len);
  if (out_len > 0) send_turn(out, out_len);
  if (leg_.failed()) return fail(leg_.failure());
  if (!was_allocated && leg_.allocated() && !b_flow_.open()) on_allocated(now);
  if (leg_.ready() && !ready_ && failure_.empty()) {
    ready_ = true;
    to_peer_.pacer = Pacer(cfg_.pps, now, cfg_.phase);
    to_client_.pacer = Pacer(cfg_.pps, now, cfg_.phase);
  }
}

void RelayPair::on_peer(uint8_t* d, size_t n, Nanos now) {
  ++datagrams_in_;
  on_probe(to_peer_, 2 * cfg_.index, d, n, now);
}

void RelayPair::on_probe(RelayDirection& dir, uint32_t stream_id, const uint8_t* p, size_t n,
                         Nanos now) {
  Probe pr;
  if (!read_probe(p, n, &pr) || pr.stream_id != stream_id) {
    ++dir.payload_errors;
    return;
  }
  ++dir.datagrams_in;
  bool dup = false, late = false;
  // The datagram as received: the ChannelData header counts on A's side.
  const size_t bytes = &dir == &to_client_ ? n + TurnLeg::kHeader : n;
  dir.seq.on_packet(uint16_t(pr.seq), bytes, &dup, &late);
  if (!dup && now >= pr.sent) dir.latency.add(now - pr.sent);
}

void RelayPair::reset_window() {
  for (RelayDirection* d : {&to_peer_, &to_client_}) {
    d->seq.reset_window();
    d->latency.clear();
  }
}

void RelayPair::send_streams(Nanos now) {
  // A -> B: ChannelData, header and payload as two iovecs (no copy).
  uint8_t hdr[TurnLeg::kHeader];
  TurnLeg::write_header(hdr, cfg_.payload);
  for (uint32_t k = to_peer_.pacer.due(now), i = 0; i < k; ++i) {
    write_probe(a_buf_.get(), {.stream_id = 2 * cfg_.index, .seq = to_peer_.next_seq, .sent = now});
    const iovec iov[2] = {{hdr, sizeof(hdr)}, {a_buf_.get(), cfg_.payload}};
    if (!cfg_.wire->send(a_flow_, iov, 2)) {
      ++to_peer_.send_errors;
      to_peer_.pacer.skip(k - i);
      break;
    }
    ++to_peer_.next_seq, ++to_peer_.sent, ++datagrams_out_;
    to_peer_.sent_bytes += sizeof(hdr) + cfg_.payload;
  }
  // B -> A: plain UDP to the relayed address.
  for (uint32_t k = to_client_.pacer.due(now), i = 0; i < k; ++i) {
    write_probe(b_buf_.get(),
                {.stream_id = 2 * cfg_.index + 1, .seq = to_client_.next_seq, .sent = now});
    const iovec iov{b_buf_.get(), cfg_.payload};
    if (!cfg_.wire->send(b_flow_, &iov, 1)) {
      ++to_client_.send_errors;
      to_client_.pacer.skip(k - i);
      break;
    }
    ++to_client_.next_seq, ++to_client_.sent, ++datagrams_out_;
    to_client_.sent_bytes += cfg_.payload;
  }
}

void RelayPair::tick(Nanos now) {
  if (failed()) return;
  if (!ready_) {
    uint8_t buf[512];
    if (const size_t n = leg_.tick(buf, sizeof(buf), now); n > 0) send_turn(buf, n);
    if (leg_.failed()) return fail(leg_.failure());
    if (now >= deadline_) fail("TURN: no relay within the setup timeout");
    return;
  }
  if (!media_stopped_) send_streams(now);
}

}  // namespace tern::loadgen
