// tern-loadgen: a trivial UDP reflector as the target, to check the
// loadgen's own counting against an independent capture (tshark; see
// tests/integration/loadgen_reflector.sh). There is no signalling, ICE or
// DTLS: every emulated publisher sends SRTP with one static key to the
// reflector, which echoes each datagram to its sender, and receives its own
// streams back as a subscriber would (the same checks on every packet). The
// reflector changes nothing, so what comes back is protected with our own
// outbound key: the inbound key is the same one.
#include <cctype>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "bench/loadgen/target.h"

namespace tern::loadgen {

namespace {

class ReflectorTarget final : public Target {
 public:
  ReflectorTarget(std::string host_port, std::string key_hex)
      : host_port_(std::move(host_port)), key_hex_(std::move(key_hex)) {}
  std::string name() const override { return "reflector"; }

  absl::StatusOr<int> connect() override {
    auto ep = Endpoint::parse(host_port_);
    if (!ep.ok() || !ep->is_v4() || ep->port == 0)
      return absl::InvalidArgumentError(
          absl::StrCat("--reflector: want IPv4 HOST:PORT, got \"", host_port_, "\""));
    to_ = *ep;
    const SrtpProfileInfo& info = srtp_profile_info(SrtpProfile::kAes128CmSha1_80);
    const size_t want = info.key_len + info.salt_len;
    std::string raw;
    if (key_hex_.empty()) {
      std::random_device rd;
      for (size_t i = 0; i < want; ++i) raw += char(rd() & 0xFF);
    } else {
      bool hex = key_hex_.size() == 2 * want;
      for (char c : key_hex_) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
      if (!hex)
        return absl::InvalidArgumentError(
            absl::StrCat("--srtp-key: want ", 2 * want, " hex digits (key | salt)"));
      raw = absl::HexStringToBytes(key_hex_);
    }
    keys_ = SrtpKeyingMaterial{};
    keys_.profile = SrtpProfile::kAes128CmSha1_80;
    for (size_t i = 0; i < info.key_len; ++i)
      keys_.local_key[i] = keys_.remote_key[i] = uint8_t(raw[i]);
    for (size_t i = 0; i < info.salt_len; ++i)
      keys_.local_salt[i] = keys_.remote_salt[i] = uint8_t(raw[info.key_len + i]);
    return 0;  // no server process to measure
  }

  // The publisher's own SSRCs come back: it is its own subscriber.
  absl::StatusOr<Joined> publish(const std::string&, const OfferParams& op) override {
    Joined j;
    j.remote.server = to_;
    if (op.audio) j.streams.push_back({op.audio_ssrc, false});
    if (op.video) j.streams.push_back({op.video_ssrc, true});
    j.keys = keys_;
    return j;
  }

  absl::StatusOr<Joined> subscribe(const std::string&, const OfferParams&,
                                   const std::string&) override {
    return absl::UnimplementedError("the reflector target has no subscribers of its own");
  }

  absl::Status close(const std::string&) override { return absl::OkStatus(); }

 private:
  std::string host_port_, key_hex_;
  Endpoint to_;
  SrtpKeyingMaterial keys_{};
};

}  // namespace

std::unique_ptr<Target> make_reflector_target(const std::string& host_port,
                                              const std::string& key_hex) {
  return std::make_unique<ReflectorTarget>(host_port, key_hex);
}

}  // namespace tern::loadgen
