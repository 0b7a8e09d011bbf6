// Fuzz target: bytes -> parse_sdp -> write_sdp -> parse_sdp, and
// negotiate_answer on every offer that parses.
//
// Invariants checked (abort on violation):
//  - a description that parses writes to text that parses to an equal model,
//    and writing that model again gives the same text (round trip);
//  - written text is CRLF-terminated lines only;
//  - a successful negotiation yields one NegotiatedMedia per offered m-line,
//    a BUNDLE group of accepted mids, and an answer that parses back to the
//    answer model;
//  - errors name a line ("line N: ") or a field, never an empty message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/sdp/sdp_negotiate.h"
#include "control/sdp/sdp_parser.h"
#include "control/sdp/sdp_writer.h"

namespace {

using namespace tern;

const sdp::LocalParameters& local() {
  static const sdp::LocalParameters* l = [] {
    auto* p = new sdp::LocalParameters;
    p->ice = ice::IceCredentials{"tErN", "0123456789abcdefABCDEF+/"};
    p->candidates = *ice::host_candidates(std::vector<ice::HostAddress>{
        {*Endpoint::parse("198.18.0.1:40000"), {}}, {*Endpoint::parse("[2001:2::1]:40000"), {}}});
    p->fingerprint = *parse_fingerprint(
        "sha-256 77:D1:EE:FA:F7:E6:E9:1B:0F:4D:16:B7:7F:AD:6B:48:3E:7B:A5:F6:6F:03:AD:5A:08:E6:"
        "4A:BC:78:3F:BC:14");
    p->send_streams.push_back(sdp::SendStream{.mid = "0", .track_id = "a", .ssrc = 1});
    p->send_streams.push_back(
        sdp::SendStream{.mid = "1", .track_id = "v", .ssrc = 2, .rtx_ssrc = 3});
    return p;
  }();
  return *l;
}

const sdp::Capabilities& caps() {
  static const sdp::Capabilities* c = new sdp::Capabilities(sdp::Capabilities::defaults());
  return *c;
}

void check_crlf(const std::string& t) {
  if (!t.empty() && (t.size() < 2 || t[t.size() - 2] != '\r' || t.back() != '\n')) std::abort();
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r')) std::abort();
    if (t[i] == '\r' && (i + 1 >= t.size() || t[i + 1] != '\n')) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto sd = sdp::parse_sdp(text);
  if (!sd.ok()) {
    if (sd.status().message().empty()) std::abort();
    return 0;
  }
  const std::string written = sdp::write_sdp(*sd);
  check_crlf(written);
  sdp::SdpLimits roomy;  // the writer may add a few bytes (canonical forms)
  roomy.max_size = 4 * written.size() + 1024;
  auto again = sdp::parse_sdp(written, roomy);
  if (!again.ok() || !(*again == *sd)) std::abort();
  if (sdp::write_sdp(*again) != written) std::abort();

  for (sdp::Direction d : {sdp::Direction::kRecvOnly, sdp::Direction::kSendRecv}) {
    sdp::LocalParameters l = local();
    l.answer_to_sendrecv = d;
    auto r = sdp::negotiate_answer(*sd, caps(), l);
    if (!r.ok()) {
      if (r.status().message().empty()) std::abort();
      continue;
    }
    if (r->media.size() != sd->media.size() || r->answer.media.size() != sd->media.size()) {
      std::abort();
    }
    if (r->bundle_mids.empty()) std::abort();
    for (const std::string& mid : r->bundle_mids) {
      const int i = r->answer.find_mid(mid);
      if (i < 0 || !r->media[i].accepted || r->answer.media[i].port == 0) std::abort();
    }
    check_crlf(r->answer_sdp);
    roomy.max_size = 4 * r->answer_sdp.size() + 1024;
    auto ans = sdp::parse_sdp(r->answer_sdp, roomy);
    if (!ans.ok() || !(*ans == r->answer)) std::abort();
  }
  return 0;
}
