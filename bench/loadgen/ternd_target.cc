// tern-loadgen: ternd as the target, through its control socket
// (docs/control-protocol.md): session.publish / session.subscribe carry the
// loadgen's offer and return ternd's answer; a subscriber's `consumers` say
// which SSRCs ternd will send it.
#include "absl/strings/str_cat.h"
#include "bench/loadgen/control_client.h"
#include "bench/loadgen/target.h"

namespace tern::loadgen {

namespace {

using nlohmann::json;

class TerndTarget final : public Target {
 public:
  explicit TerndTarget(std::string path) : path_(std::move(path)) {}
  std::string name() const override { return "ternd"; }

  absl::StatusOr<int> connect() override {
    if (auto st = ctl_.connect(path_); !st.ok()) return st;
    auto info = ctl_.call("server.info", json::object());
    if (!info.ok()) return info.status();
    return (*info).value("pid", 0);
  }

  absl::StatusOr<Joined> publish(const std::string& room, const OfferParams& op) override {
    return join("session.publish", {{"room", room}, {"offer", build_offer(op)}});
  }

  absl::StatusOr<Joined> subscribe(const std::string& room, const OfferParams& op,
                                   const std::string& exclude_id) override {
    json params = {{"room", room}, {"offer", build_offer(op)}};
    if (!exclude_id.empty()) params["exclude_session"] = exclude_id;
    return join("session.subscribe", params);
  }

  absl::Status close(const std::string& id) override {
    return ctl_.call("session.close", {{"session_id", id}}).status();
  }

  std::optional<ServerWork> work() override {
    auto res = ctl_.call("stats.get", json::object());
    if (!res.ok() || !res->contains("workers")) return std::nullopt;
    ServerWork w;
    for (const json& wj : (*res)["workers"]) {
      w.busy_s += double(wj.value("busy_ns", uint64_t{0})) / 1e9;
      w.rx_packets += wj.value("rx_packets", uint64_t{0});
      w.tx_packets += wj.value("tx_packets", uint64_t{0});
    }
    return w;
  }

 private:
  absl::StatusOr<Joined> join(const char* method, const json& params) {
    auto res = ctl_.call(method, params);
    if (!res.ok()) return res.status();
    Joined j;
    j.id = (*res).value("session_id", "");
    if (auto it = res->find("consumers"); it != res->end() && it->is_array())
      for (const json& c : *it)
        j.streams.push_back({c.value("ssrc", 0u), c.value("kind", "") == "video"});
    auto ans = read_answer((*res).value("answer", ""));
    if (!ans.ok()) return ans.status();
    j.remote = *ans;
    return j;
  }

  std::string path_;
  ControlClient ctl_;
};

}  // namespace

std::unique_ptr<Target> make_ternd_target(const std::string& control_socket) {
  return std::make_unique<TerndTarget>(control_socket);
}

}  // namespace tern::loadgen
