// tern-loadgen: Janus as the target, through the VideoRoom plugin over
// Janus's REST transport (janus.transport.http; the API is documented at
// janus.conf.meetecho.com/docs/rest.html and .../videoroom.html).
//
// One Janus session for the run, one plugin handle per emulated endpoint
// plus one for room management. A loadgen room name maps to a numeric
// VideoRoom room created on first use. A publisher sends `joinandconfigure`
// with its offer (a=setup:active: the loadgen is always the DTLS client) and
// gets the answer as an asynchronous event; a subscriber `join`s with the
// feeds it wants, gets Janus's offer, answers it (recvonly, setup:active)
// with `start`. Asynchronous events come from long-polling the session.
#include <httplib.h>

#include <chrono>
#include <deque>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bench/loadgen/target.h"
#include "control/sdp/sdp_parser.h"
#include "nlohmann/json.hpp"

namespace tern::loadgen {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kEventTimeoutS = 15;

class JanusTarget final : public Target {
 public:
  explicit JanusTarget(std::string url) : url_(std::move(url)) {}
  ~JanusTarget() override {
    if (!cli_ || session_ == 0) return;
    for (const auto& [name, room] : rooms_)
      (void)request(admin_, {{"request", "destroy"}, {"room", room.id}});
    (void)post(base_ + "/" + std::to_string(session_), {{"janus", "destroy"}});
  }
  std::string name() const override { return "janus"; }

  absl::StatusOr<int> connect() override {
    auto u = parse_http_url("--janus-url", url_);
    if (!u.ok()) return u.status();
    base_ = u->path.empty() ? "/janus" : u->path;
    cli_ = std::make_unique<httplib::Client>(u->host, u->port);
    cli_->set_connection_timeout(5, 0);
    cli_->set_read_timeout(kEventTimeoutS + 35, 0);  // a long poll answers within 30 s
    auto s = post(base_, {{"janus", "create"}});
    if (!s.ok()) return s.status();
    session_ = (*s)["data"].value("id", uint64_t(0));
    auto h = attach();
    if (!h.ok()) return h.status();
    admin_ = *h;
    return 0;  // the REST API does not say; pass --server-pid
  }

  absl::StatusOr<Joined> publish(const std::string& room, const OfferParams& op) override {
    auto rid = room_id(room);
    if (!rid.ok()) return rid.status();
    auto h = attach();
    if (!h.ok()) return h.status();
    OfferParams o = op;
    o.setup_active = true;
    auto ev = message(*h,
                      {{"request", "joinandconfigure"},
                       {"ptype", "publisher"},
                       {"room", *rid},
                       {"display", o.cname}},
                      json{{"type", "offer"}, {"sdp", build_offer(o)}});
    if (!ev.ok()) return ev.status();
    if (auto st = end_of_candidates(*h); !st.ok()) return st;
    const json& data = (*ev)["plugindata"]["data"];
    Joined j;
    j.id = std::to_string(*h);
    auto remote = read_answer((*ev)["jsep"].value("sdp", ""));
    if (!remote.ok()) return remote.status();
    j.remote = *remote;
    rooms_[room].feeds.push_back({*h, data.value("id", uint64_t(0))});
    return j;
  }

  absl::StatusOr<Joined> subscribe(const std::string& room, const OfferParams& op,
                                   const std::string& exclude_id) override {
    auto rid = room_id(room);
    if (!rid.ok()) return rid.status();
    json streams = json::array();
    for (const Feed& f : rooms_[room].feeds)
      if (std::to_string(f.handle) != exclude_id) streams.push_back({{"feed", f.id}});
    if (streams.empty())
      return absl::FailedPreconditionError("janus: no publisher to subscribe to");
    auto h = attach();
    if (!h.ok()) return h.status();
    auto ev = message(
        *h, {{"request", "join"}, {"ptype", "subscriber"}, {"room", *rid}, {"streams", streams}});
    if (!ev.ok()) return ev.status();
    auto offer = sdp::parse_sdp((*ev)["jsep"].value("sdp", ""));
    if (!offer.ok())
      return absl::InvalidArgumentError(absl::StrCat("janus offer: ", offer.status().message()));
    Joined j;
    j.id = std::to_string(*h);
    auto remote = read_answer((*ev)["jsep"].value("sdp", ""));
    if (!remote.ok()) return remote.status();
    j.remote = *remote;
    j.streams = offered_streams(*offer);
    auto started = message(*h, {{"request", "start"}},
                           json{{"type", "answer"}, {"sdp", build_answer(*offer, op)}});
    if (!started.ok()) return started.status();
    if (auto st = end_of_candidates(*h); !st.ok()) return st;
    return j;
  }

  absl::Status close(const std::string& id) override {
    uint64_t h = 0;
    if (!absl::SimpleAtoi(id, &h)) return absl::InvalidArgumentError("janus: bad handle id " + id);
    for (auto& [name, room] : rooms_)
      std::erase_if(room.feeds, [&](const Feed& f) { return f.handle == h; });
    return post(handle_path(h), {{"janus", "detach"}}).status();
  }

 private:
  struct Feed {
    uint64_t handle = 0, id = 0;
  };
  struct Room {
    uint64_t id = 0;
    std::vector<Feed> feeds;
  };

  std::string handle_path(uint64_t h) const { return absl::StrCat(base_, "/", session_, "/", h); }

  // One request/response; a Janus "error" becomes a status with its reason.
  absl::StatusOr<json> post(const std::string& path, json body) {
    body["transaction"] = std::to_string(++txn_);
    auto r = cli_->Post(path, body.dump(), "application/json");
    if (!r)
      return absl::UnavailableError(
          absl::StrCat("janus ", url_, ": ", httplib::to_string(r.error())));
    if (r->status != 200)
      return absl::UnavailableError(absl::StrCat("janus: HTTP ", r->status, " for ", path));
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return absl::InternalError("janus: response is not JSON");
    if (j.value("janus", "") == "error")
      return absl::FailedPreconditionError(
          absl::StrCat("janus: ", j["error"].value("reason", "error")));
    return j;
  }

  // The loadgen signals no candidates (Janus is ICE-lite and learns ours as
  // peer-reflexive from the checks); without "completed" Janus keeps waiting
  // for trickled ones and never lets ICE reach the connected state.
  absl::Status end_of_candidates(uint64_t h) {
    return post(handle_path(h), {{"janus", "trickle"}, {"candidate", {{"completed", true}}}})
        .status();
  }

  absl::StatusOr<uint64_t> attach() {
    auto h = post(absl::StrCat(base_, "/", session_),
                  {{"janus", "attach"}, {"plugin", "janus.plugin.videoroom"}});
    if (!h.ok()) return h.status();
    return (*h)["data"].value("id", uint64_t(0));
  }

  // A synchronous plugin request (create, destroy): its plugindata.data.
  absl::StatusOr<json> request(uint64_t h, const json& body) {
    auto r = post(handle_path(h), {{"janus", "message"}, {"body", body}});
    if (!r.ok()) return r.status();
    const json& data = (*r)["plugindata"]["data"];
    if (data.contains("error"))
      return absl::FailedPreconditionError(
          absl::StrCat("janus videoroom: ", data.value("error", "")));
    return data;
  }

  // An asynchronous plugin request: waits for the handle's event that
  // answers it (carrying a jsep when `jsep` was sent or one is offered).
  absl::StatusOr<json> message(uint64_t h, const json& body, const json& jsep = nullptr) {
    json req = {{"janus", "message"}, {"body", body}};
    if (!jsep.is_null()) req["jsep"] = jsep;
    auto r = post(handle_path(h), req);
    if (!r.ok()) return r.status();
    const std::string txn = (*r).value("transaction", "");
    const auto deadline = Clock::now() + std::chrono::seconds(kEventTimeoutS);
    while (Clock::now() < deadline) {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (it->value("sender", uint64_t(0)) != h || it->value("transaction", "") != txn) continue;
        json ev = std::move(*it);
        events_.erase(it);
        const json& data = ev["plugindata"]["data"];
        if (data.contains("error"))
          return absl::FailedPreconditionError(
              absl::StrCat("janus videoroom: ", data.value("error", "")));
        return ev;
      }
      if (auto st = poll_events(); !st.ok()) return st;
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "janus: no answer to ", body.value("request", ""), " within ", kEventTimeoutS, " s"));
  }

  // One long poll of the session; keeps the plugin events (media, webrtcup
  // and keepalives are not answers to anything).
  absl::Status poll_events() {
    auto r = cli_->Get(absl::StrCat(base_, "/", session_, "?maxev=10"));
    if (!r)
      return absl::UnavailableError(
          absl::StrCat("janus long poll: ", httplib::to_string(r.error())));
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return absl::InternalError("janus: event is not JSON");
    if (!j.is_array()) j = json::array({j});
    for (json& e : j)
      if (e.value("janus", "") == "event") events_.push_back(std::move(e));
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> room_id(const std::string& name) {
    Room& r = rooms_[name];
    if (r.id != 0) return r.id;
    static std::mt19937_64 rng{std::random_device{}()};
    const uint64_t id = 1 + rng() % 1000000000;
    auto created = request(admin_, {{"request", "create"},
                                    {"room", id},
                                    {"publishers", 1024},
                                    {"bitrate", 0},
                                    {"fir_freq", 0},
                                    {"audiocodec", "opus"},
                                    {"videocodec", "vp8"},
                                    {"notify_joining", false}});
    if (!created.ok()) {
      rooms_.erase(name);
      return created.status();
    }
    r.id = id;
    return id;
  }

  std::string url_, base_;
  std::unique_ptr<httplib::Client> cli_;
  uint64_t session_ = 0, admin_ = 0, txn_ = 0;
  std::map<std::string, Room> rooms_;
  std::deque<json> events_;
};

}  // namespace

absl::StatusOr<HttpUrl> parse_http_url(const std::string& flag, const std::string& url) {
  absl::string_view u = url;
  if (!absl::ConsumePrefix(&u, "http://"))
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": want http://HOST:PORT[/PATH], got ", url));
  const size_t slash = u.find('/');
  const absl::string_view hostport = u.substr(0, slash);
  HttpUrl out;
  if (slash != absl::string_view::npos) out.path = std::string(u.substr(slash));
  const size_t colon = hostport.rfind(':');
  out.host = std::string(hostport.substr(0, colon));
  if (colon != absl::string_view::npos &&
      (!absl::SimpleAtoi(hostport.substr(colon + 1), &out.port) || out.port <= 0 ||
       out.port > 65535))
    return absl::InvalidArgumentError(absl::StrCat(flag, ": bad port in ", url));
  if (out.host.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": no host in ", url));
  return out;
}

std::unique_ptr<Target> make_janus_target(const std::string& url) {
  return std::make_unique<JanusTarget>(url);
}

}  // namespace tern::loadgen
