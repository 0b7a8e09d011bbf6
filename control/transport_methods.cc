#include "control/transport_methods.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/dtls/certificate.h"
#include "engine/stun/ice_candidate.h"

namespace tern {

using jsonrpc::invalid_param;
using jsonrpc::json;
using jsonrpc::ParamType;
using jsonrpc::Session;

absl::StatusOr<DtlsNodeConfig> parse_dtls_config(const toml::table& t, absl::string_view source) {
  ConfigSection sec(t, "dtls", std::string(source));
  DtlsNodeConfig c;
  for (absl::Status s : {sec.only_keys({"cert", "key"}), sec.read_string("cert", &c.cert_file),
                         sec.read_string("key", &c.key_file)}) {
    if (!s.ok()) return s;
  }
  if (c.cert_file.empty() != c.key_file.empty()) {
    const char* given = c.cert_file.empty() ? "key" : "cert";
    return sec.error(*t.get(given), given, "dtls.cert and dtls.key go together (both or neither)");
  }
  return c;
}

absl::StatusOr<std::shared_ptr<const DtlsContext>> make_dtls_context(const DtlsNodeConfig& cfg) {
  absl::StatusOr<std::shared_ptr<const DtlsCertificate>> cert =
      cfg.cert_file.empty() ? DtlsCertificate::generate()
                            : DtlsCertificate::load_pem_files(cfg.cert_file, cfg.key_file);
  if (!cert.ok())
    return absl::Status(cert.status().code(), absl::StrCat("dtls: ", cert.status().message()));
  auto ctx = DtlsContext::create(*cert);
  if (!ctx.ok()) return ctx.status();
  return std::shared_ptr<const DtlsContext>(*std::move(ctx));
}

namespace {

// ice-chars (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/".
absl::Status check_ice_field(const json& p, const char* key, size_t min, size_t max) {
  const std::string& v = p[key].get_ref<const std::string&>();
  std::string field = absl::StrCat("params.", key);
  if (v.size() < min || v.size() > max) {
    return invalid_param(field,
                         absl::StrCat("must be ", min, "..", max, " ice-chars, got ", v.size()));
  }
  for (char c : v) {
    if (!ice::is_ice_char(c)) {
      return invalid_param(
          field, absl::StrCat("'", std::string(1, c), "' is not an ice-char (ALPHA DIGIT + /)"));
    }
  }
  return absl::OkStatus();
}

// remote_ice_ufrag + remote_ice_pwd (both or neither).
absl::StatusOr<std::optional<ice::IceCredentials>> remote_ice_from(const json& p) {
  bool u = p.contains("remote_ice_ufrag"), w = p.contains("remote_ice_pwd");
  if (!u && !w) return std::optional<ice::IceCredentials>();
  if (u != w) {
    return invalid_param(u ? "params.remote_ice_pwd" : "params.remote_ice_ufrag",
                         "remote_ice_ufrag and remote_ice_pwd go together");
  }
  if (auto s = check_ice_field(p, "remote_ice_ufrag", 4, 256); !s.ok()) return s;
  if (auto s = check_ice_field(p, "remote_ice_pwd", 22, 256); !s.ok()) return s;
  return std::optional<ice::IceCredentials>(ice::IceCredentials{
      p["remote_ice_ufrag"].get<std::string>(), p["remote_ice_pwd"].get<std::string>()});
}

absl::StatusOr<std::optional<Fingerprint>> fingerprint_from(const json& p) {
  if (!p.contains("remote_fingerprint")) return std::optional<Fingerprint>();
  auto fp = parse_fingerprint(p["remote_fingerprint"].get<std::string>());
  if (!fp.ok()) return invalid_param("params.remote_fingerprint", fp.status().message());
  return std::optional<Fingerprint>(*fp);
}

std::vector<jsonrpc::ParamSpec> signalling_params() {
  return {
      {.name = "remote_ice_ufrag",
       .type = ParamType::kString,
       .max_length = 256,
       .doc = "the peer's a=ice-ufrag"},
      {.name = "remote_ice_pwd",
       .type = ParamType::kString,
       .max_length = 256,
       .doc = "the peer's a=ice-pwd"},
      {.name = "remote_fingerprint",
       .type = ParamType::kString,
       .max_length = 256,
       .doc = "the peer's a=fingerprint, e.g. \"sha-256 AB:CD:...\""},
  };
}

const char* overall_state(ice::IceState ice, DtlsState dtls, bool failed) {
  if (failed || ice == ice::IceState::kFailed || dtls == DtlsState::kFailed) return "failed";
  if (ice == ice::IceState::kClosed || dtls == DtlsState::kClosed) return "closed";
  if (dtls == DtlsState::kConnected) {
    return ice == ice::IceState::kDisconnected ? "disconnected" : "connected";
  }
  if (ice == ice::IceState::kNew) return "new";
  return "connecting";
}

}  // namespace

TransportManager::TransportManager(std::vector<Worker*> workers, const PacketDriver* driver,
                                   std::shared_ptr<const DtlsContext> dtls)
    : workers_(std::move(workers)), driver_(driver), dtls_(std::move(dtls)) {}

std::vector<size_t> TransportManager::load() const {
  std::vector<size_t> load(workers_.size(), 0);
  for (const auto& [id, r] : records_) ++load[r.worker];
  return load;
}

int TransportManager::worker_of(uint64_t id) const {
  auto it = records_.find(id);
  return it == records_.end() ? -1 : it->second.worker;
}

std::string TransportManager::room_of(uint64_t id) const {
  auto it = records_.find(id);
  return it == records_.end() ? std::string() : it->second.room;
}

absl::StatusOr<std::vector<ice::IceCandidate>> TransportManager::candidates_for(uint16_t w) const {
  std::vector<ice::HostAddress> addrs;
  if (driver_ != nullptr) {
    for (const Endpoint& e : driver_->local_endpoints(w)) {
      std::string a = e.addr_string();
      if (a == "0.0.0.0" || a == "::") continue;  // a wildcard is no candidate
      addrs.push_back(ice::HostAddress{e, Endpoint{}});
    }
  }
  auto cands = ice::host_candidates(addrs);
  if (!cands.ok())
    return absl::InternalError(absl::StrCat("candidates: ", cands.status().message()));
  return *std::move(cands);
}

absl::StatusOr<TransportInfo> TransportManager::create_transport(const TransportOptions& o) {
  if (workers_.empty()) return absl::UnavailableError("no workers");
  uint16_t w = 0;
  if (!o.room.empty()) {
    if (observer_ == nullptr) return absl::UnavailableError("rooms are not available");
    auto rw = observer_->room_worker(o.room);
    if (!rw.ok()) return rw.status();
    if (o.worker && *o.worker != *rw) {
      return invalid_param("params.worker", absl::StrCat("room \"", o.room, "\" lives on worker ",
                                                         *rw, ", not ", *o.worker));
    }
    w = *rw;
  } else if (o.worker) {
    if (*o.worker >= workers_.size()) {
      return invalid_param("params.worker",
                           absl::StrCat("no worker ", *o.worker, "; this ternd runs ",
                                        workers_.size(), " (0..", workers_.size() - 1, ")"));
    }
    w = *o.worker;
  } else {  // least loaded: fewest transports (records include ones in flight)
    std::vector<size_t> l = load();
    w = uint16_t(std::min_element(l.begin(), l.end()) - l.begin());
  }
  auto cands = candidates_for(w);
  if (!cands.ok()) return cands.status();

  sfu::WebRtcTransportConfig c;
  c.id = next_id_;
  if (o.local_ice) c.local_ice = *o.local_ice;
  if (o.remote_ice) c.remote_ice = *o.remote_ice;
  c.dtls.role = o.role;
  if (o.remote_fingerprint) {
    c.dtls.has_remote_fingerprint = true;
    c.dtls.remote_fingerprint = *o.remote_fingerprint;
  }
  c.echo = o.echo;
  c.sctp = o.sctp;
  auto t = sfu::WebRtcTransport::create(std::move(c), dtls_, Worker::now());
  if (!t.ok()) return absl::InternalError(absl::StrCat("transport: ", t.status().message()));
  Record r;
  r.id = next_id_;
  r.worker = w;
  r.local_ice = (*t)->local_ice();
  r.role = o.role;
  r.echo = (*t)->echo();
  r.has_remote_fingerprint = o.remote_fingerprint.has_value();
  r.room = o.room;
  r.stats = (*t)->stats();
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kAddTransport;
  cmd.id = r.id;
  cmd.transport = t->get();
  if (!workers_[w]->post_command(cmd)) {
    return absl::UnavailableError(absl::StrCat("worker ", w, " command ring full; retry"));
  }
  (void)t->release();  // the worker owns it now
  ++next_id_;
  TransportInfo info{r.id, w, r.local_ice, *std::move(cands)};
  records_.emplace(r.id, std::move(r));
  if (observer_ != nullptr) observer_->transport_added(info.id, o.room);
  return info;
}

absl::StatusOr<json> TransportManager::create(const json& p) {
  TransportOptions o;
  if (p.contains("worker")) {
    int64_t v = p["worker"].get<int64_t>();
    if (v < 0 || v >= int64_t(workers_.size())) {
      return invalid_param("params.worker",
                           absl::StrCat("no worker ", v, "; this ternd runs ", workers_.size(),
                                        " (0..", workers_.size() - 1, ")"));
    }
    o.worker = uint16_t(v);
  }
  if (p.contains("room")) o.room = p["room"].get<std::string>();
  auto remote = remote_ice_from(p);
  if (!remote.ok()) return remote.status();
  o.remote_ice = *remote;
  auto fp = fingerprint_from(p);
  if (!fp.ok()) return fp.status();
  o.remote_fingerprint = *fp;
  std::string role_s = p.value("dtls_role", std::string("auto"));
  // ICE-lite answering an offer: a=setup:passive, i.e. DTLS server ("auto").
  o.role = role_s == "client" ? DtlsRole::kClient : DtlsRole::kServer;
  o.echo = p.value("echo", false);
  auto info = create_transport(o);
  if (!info.ok()) return info.status();
  json candidates = json::array();
  for (const ice::IceCandidate& ic : info->candidates) candidates.push_back(ic.to_sdp());
  json out{
      {"id", info->id},
      {"worker", info->worker},
      {"ice", {{"ufrag", info->local_ice.ufrag}, {"pwd", info->local_ice.pwd}, {"lite", true}}},
      {"candidates", std::move(candidates)},
      {"dtls",
       {{"fingerprint", dtls_->certificate().sdp_fingerprint()},
        {"role", o.role == DtlsRole::kServer ? "server" : "client"},
        {"setup", o.role == DtlsRole::kServer ? "passive" : "active"}}},
      {"echo", o.echo}};
  if (!o.room.empty()) out["room"] = o.room;
  return out;
}

absl::StatusOr<TransportManager::Record*> TransportManager::find(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  auto it = records_.find(id);
  if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no transport ", id));
  return &it->second;
}

absl::StatusOr<json> TransportManager::connect(const json& p) {
  auto r = find(p);
  if (!r.ok()) return r.status();
  auto remote = remote_ice_from(p);
  if (!remote.ok()) return remote.status();
  auto fp = fingerprint_from(p);
  if (!fp.ok()) return fp.status();
  if (!*remote && !*fp) {
    return invalid_param("params",
                         "nothing to set: give remote_ice_ufrag/remote_ice_pwd and/or "
                         "remote_fingerprint");
  }
  Record& rec = **r;
  // The DTLS endpoint accepts a fingerprint until the peer's certificate
  // arrived, i.e. while the handshake has not finished.
  if (*fp && rec.stats->dtls_state.load(std::memory_order_relaxed) >=
                 static_cast<uint8_t>(DtlsState::kConnected)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transport ", rec.id, ": the DTLS handshake is over; the fingerprint is fixed"));
  }
  auto* cc = new TransportConnect{*remote, *fp};
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kConnectTransport;
  cmd.id = rec.id;
  cmd.connect = cc;
  if (!workers_[rec.worker]->post_command(cmd)) {
    delete cc;
    return absl::UnavailableError(absl::StrCat("worker ", rec.worker, " command ring full; retry"));
  }
  if (*fp) rec.has_remote_fingerprint = true;
  return json{{"id", rec.id}};
}

absl::StatusOr<json> TransportManager::restart_ice(const json& p) {
  auto r = find(p);
  if (!r.ok()) return r.status();
  // Both required: a restart without the peer's new credentials could not
  // check the new generation's USERNAME.
  for (const char* key : {"remote_ice_ufrag", "remote_ice_pwd"}) {
    if (!p.contains(key)) {
      return invalid_param(absl::StrCat("params.", key), "required for an ICE restart");
    }
  }
  auto remote = remote_ice_from(p);
  if (!remote.ok()) return remote.status();
  Record& rec = **r;
  if (rec.failed) {
    return absl::FailedPreconditionError(
        absl::StrCat("transport ", rec.id, " has failed (", rec.reason, "); create a new one"));
  }
  // RFC 8445 §9: both ufrag and pwd change. generate() is random (48 bits of
  // ufrag), so a repeat is practically impossible; bounded retry anyway.
  ice::IceCredentials local;
  for (int i = 0; i < 4; ++i) {
    auto c = ice::IceCredentials::generate();
    if (!c.ok())
      return absl::InternalError(absl::StrCat("ice credentials: ", c.status().message()));
    local = *std::move(c);
    if (local.ufrag != rec.local_ice.ufrag && local.pwd != rec.local_ice.pwd) break;
  }
  if (local.ufrag == rec.local_ice.ufrag || local.pwd == rec.local_ice.pwd) {
    return absl::InternalError("ice credentials: could not generate fresh ones");
  }
  auto* ir = new IceRestart{local, **remote};
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kRestartIce;
  cmd.id = rec.id;
  cmd.ice_restart = ir;
  if (!workers_[rec.worker]->post_command(cmd)) {
    delete ir;
    return absl::UnavailableError(absl::StrCat("worker ", rec.worker, " command ring full; retry"));
  }
  rec.local_ice = local;
  return json{{"id", rec.id}, {"ice_ufrag", local.ufrag}, {"ice_pwd", local.pwd}};
}

absl::Status TransportManager::close_transport(uint64_t id) {
  auto it = records_.find(id);
  if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no transport ", id));
  Record& rec = it->second;
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kCloseTransport;
  cmd.id = rec.id;
  if (!workers_[rec.worker]->post_command(cmd)) {
    return absl::UnavailableError(absl::StrCat("worker ", rec.worker, " command ring full; retry"));
  }
  std::string room = std::move(rec.room);
  records_.erase(it);
  if (observer_ != nullptr) observer_->transport_closed(id, room);
  return absl::OkStatus();
}

absl::StatusOr<json> TransportManager::close(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  if (absl::Status s = close_transport(id); !s.ok()) return s;
  return json{{"id", id}, {"closed", true}};
}

json TransportManager::record_json(const Record& r) const {
  const sfu::WebRtcTransportStats& s = *r.stats;
  auto ice = static_cast<ice::IceState>(s.ice_state.load(std::memory_order_relaxed));
  auto dtls = static_cast<DtlsState>(s.dtls_state.load(std::memory_order_relaxed));
  json out{{"id", r.id},
           {"worker", r.worker},
           {"state", overall_state(ice, dtls, r.failed)},
           {"ice", {{"state", ice::ice_state_name(ice)}, {"ufrag", r.local_ice.ufrag}}},
           {"dtls",
            {{"state", dtls_state_name(dtls)},
             {"role", r.role == DtlsRole::kServer ? "server" : "client"},
             {"remote_fingerprint_set", r.has_remote_fingerprint}}},
           {"echo", r.echo},
           {"counters",
            {{"ice_checks", s.ice_checks.get()},
             {"dtls_in", s.dtls_in.get()},
             {"dtls_out", s.dtls_out.get()},
             {"rtp_in", s.rtp_in.get()},
             {"rtcp_in", s.rtcp_in.get()},
             {"rtp_out", s.rtp_out.get()},
             {"rtcp_out", s.rtcp_out.get()},
             {"bytes_in", s.bytes_in.get()},
             {"bytes_out", s.bytes_out.get()},
             {"media_not_ready", s.media_not_ready.get()},
             {"drops", drops_json(s.drops)}}}};
  if (!r.reason.empty()) out["reason"] = r.reason;
  if (!r.room.empty()) out["room"] = r.room;
  return out;
}

absl::StatusOr<json> TransportManager::get(const json& p) const {
  uint64_t id = p["id"].get<uint64_t>();
  auto it = records_.find(id);
  if (it == records_.end()) return absl::NotFoundError(absl::StrCat("no transport ", id));
  return record_json(it->second);
}

size_t TransportManager::poll_events(const Publish& publish) {
  size_t n = 0;
  sfu::TransportEvent ev;
  for (size_t w = 0; w < workers_.size(); ++w) {
    for (int i = 0; i < 4096 && workers_[w]->poll_event(&ev); ++i) {
      ++n;
      if (ev.type == sfu::TransportEventType::kProducerClosed ||
          ev.type == sfu::TransportEventType::kConsumerClosed ||
          ev.type == sfu::TransportEventType::kConsumerLayerChanged) {
        if (observer_ != nullptr) observer_->sfu_event(uint16_t(w), ev);
        continue;
      }
      json data{
          {"id", ev.transport_id}, {"worker", w}, {"event", sfu::transport_event_name(ev.type)}};
      auto it = records_.find(ev.transport_id);
      bool failure = ev.type == sfu::TransportEventType::kIceFailed ||
                     ev.type == sfu::TransportEventType::kDtlsFailed ||
                     ev.type == sfu::TransportEventType::kAttachFailed;
      bool known = it != records_.end();
      if (known) {
        Record& r = it->second;
        if (failure) {
          r.failed = true;
          const char* what = ev.type == sfu::TransportEventType::kIceFailed ? "ice: " : "dtls: ";
          if (ev.type == sfu::TransportEventType::kAttachFailed) what = "";
          r.reason = absl::StrCat(what, ev.reason);
        }
        json full = record_json(r);
        data["state"] = full["state"];
        data["ice"] = full["ice"]["state"];
        data["dtls"] = full["dtls"]["state"];
        if (!r.room.empty()) data["room"] = r.room;
        if (ev.type == sfu::TransportEventType::kAttachFailed) data["state"] = "failed";
      } else {
        data["state"] = "closed";
      }
      if (ev.reason[0] != '\0' && ev.type != sfu::TransportEventType::kDtlsConnected) {
        data["reason"] = ev.reason;
      }
      if (ev.type == sfu::TransportEventType::kDtlsConnected) data["srtp_profile"] = ev.reason;
      if (publish) publish("transport.state", data);
      // Last: the observer may close the transport (a failed session).
      if (known && observer_ != nullptr &&
          (failure || ev.type == sfu::TransportEventType::kClosed)) {
        observer_->transport_event(ev, failure);
      }
    }
  }
  return n;
}

absl::Status TransportManager::register_methods(jsonrpc::MethodRegistry& registry) {
  std::vector<jsonrpc::ParamSpec> cp = signalling_params();
  cp.push_back({.name = "worker",
                .type = ParamType::kInteger,
                .min = 0,
                .max = 1023,
                .doc = "worker to place it on (default: least loaded)"});
  cp.push_back({.name = "room",
                .type = ParamType::kString,
                .max_length = 128,
                .doc = "room (room.create) whose worker it goes on; closes with the room"});
  cp.push_back({.name = "dtls_role",
                .type = ParamType::kString,
                .one_of = {"server", "client", "auto"},
                .doc = "our DTLS role: server (a=setup:passive), client (active), auto (server)"});
  cp.push_back({.name = "echo",
                .type = ParamType::kBoolean,
                .doc = "test/diagnostic: send every SRTP/SRTCP packet back re-protected"});
  absl::Status s =
      registry.register_method({.name = "transport.create",
                                .params = cp,
                                .summary = "a WebRTC transport (ICE-lite + DTLS-SRTP) on a worker"},
                               [this](const json& p, Session&) { return create(p); });
  if (!s.ok()) return s;
  jsonrpc::ParamSpec id{.name = "id",
                        .type = ParamType::kInteger,
                        .required = true,
                        .min = 1,
                        .doc = "transport id from transport.create"};
  std::vector<jsonrpc::ParamSpec> conn = signalling_params();
  conn.insert(conn.begin(), id);
  s = registry.register_method(
      {.name = "transport.connect",
       .params = conn,
       .summary = "set the peer's ICE credentials and/or DTLS fingerprint"},
      [this](const json& p, Session&) { return connect(p); });
  if (!s.ok()) return s;
  std::vector<jsonrpc::ParamSpec> restart = {id};
  for (jsonrpc::ParamSpec ps : signalling_params()) {
    if (ps.name == "remote_fingerprint") continue;  // DTLS is kept
    ps.required = true;
    ps.doc =
        ps.name == "remote_ice_ufrag" ? "the peer's NEW a=ice-ufrag" : "the peer's NEW a=ice-pwd";
    restart.push_back(ps);
  }
  s = registry.register_method(
      {.name = "transport.restart_ice",
       .params = restart,
       .summary = "ICE restart: new local credentials (returned) and the peer's new ones"},
      [this](const json& p, Session&) { return restart_ice(p); });
  if (!s.ok()) return s;
  s = registry.register_method({.name = "transport.close",
                                .params = {id},
                                .summary = "close a transport (close_notify, frees everything)"},
                               [this](const json& p, Session&) { return close(p); });
  if (!s.ok()) return s;
  return registry.register_method(
      {.name = "transport.get", .params = {id}, .summary = "state and counters of a transport"},
      [this](const json& p, Session&) { return get(p); });
}

}  // namespace tern
