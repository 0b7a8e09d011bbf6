// tern-loadgen: any WHIP (RFC 9725) / WHEP server as the target, with the
// URL layout ternd serves (docs/control-protocol.md "WHIP and WHEP"):
// POST /whip/{room} and /whep/{room} with the offer (application/sdp),
// 201 + Location + the answer; DELETE Location to close. A subscriber
// expects the SSRCs the answer declares (a=ssrc, without FID
// retransmission SSRCs). WHEP has no way to leave out a publisher, so the
// audio conference (a participant does not receive itself) is refused.
#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/target.h"
#include "control/sdp/sdp_parser.h"

namespace tern::loadgen {

namespace {

class WhipTarget final : public Target {
 public:
  WhipTarget(std::string url, std::string token) : url_(std::move(url)), token_(std::move(token)) {}
  std::string name() const override { return "whip"; }

  absl::StatusOr<int> connect() override {
    auto u = parse_http_url("--whip-url", url_);
    if (!u.ok()) return u.status();
    base_ = u->path;
    cli_ = std::make_unique<httplib::Client>(u->host, u->port);
    cli_->set_connection_timeout(5, 0);
    cli_->set_read_timeout(15, 0);
    if (!token_.empty()) cli_->set_bearer_token_auth(token_);
    return 0;  // WHIP does not say; pass --server-pid
  }

  absl::StatusOr<Joined> publish(const std::string& room, const OfferParams& op) override {
    return post("/whip/", room, op);
  }

  absl::StatusOr<Joined> subscribe(const std::string& room, const OfferParams& op,
                                   const std::string& exclude_id) override {
    if (!exclude_id.empty())
      return absl::UnimplementedError(
          "WHEP cannot leave out a publisher: the conference scenario needs --target ternd or "
          "janus");
    return post("/whep/", room, op);
  }

  absl::Status close(const std::string& id) override {
    auto r = cli_->Delete(id);
    if (!r)
      return absl::UnavailableError(
          absl::StrCat("DELETE ", id, ": ", httplib::to_string(r.error())));
    if (r->status != 200 && r->status != 204)
      return absl::UnavailableError(absl::StrCat("DELETE ", id, ": HTTP ", r->status));
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<Joined> post(const char* kind, const std::string& room, const OfferParams& op) {
    const std::string path = absl::StrCat(base_, kind, room);
    auto r = cli_->Post(path, build_offer(op), "application/sdp");
    if (!r)
      return absl::UnavailableError(
          absl::StrCat("POST ", path, ": ", httplib::to_string(r.error())));
    if (r->status != 201)
      return absl::FailedPreconditionError(
          absl::StrCat("POST ", path, ": HTTP ", r->status, " ", r->body.substr(0, 200)));
    Joined j;
    j.id = r->get_header_value("Location");
    if (j.id.empty())
      return absl::InternalError(absl::StrCat("POST ", path, ": 201 without Location"));
    if (j.id.front() != '/') {  // an absolute URL: keep its path
      auto u = parse_http_url("Location", j.id);
      if (!u.ok()) return u.status();
      j.id = u->path;
    }
    auto remote = read_answer(r->body);
    if (!remote.ok()) return remote.status();
    j.remote = *remote;
    auto sd = sdp::parse_sdp(r->body);
    if (sd.ok()) j.streams = offered_streams(*sd);
    return j;
  }

  std::string url_, token_, base_;
  std::unique_ptr<httplib::Client> cli_;
};

}  // namespace

std::unique_ptr<Target> make_whip_target(const std::string& url, const std::string& token) {
  return std::make_unique<WhipTarget>(url, token);
}

}  // namespace tern::loadgen
