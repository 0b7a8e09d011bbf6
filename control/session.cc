#include "control/session.h"

#include <openssl/rand.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "control/datachannel_methods.h"
#include "control/sdp/sdp_parser.h"
#include "control/sfu_json.h"

namespace tern {

using jsonrpc::invalid_param;
using jsonrpc::json;

namespace {

bool receives(sdp::Direction remote) {
  return remote == sdp::Direction::kRecvOnly || remote == sdp::Direction::kSendRecv;
}
bool sends(sdp::Direction remote) {
  return remote == sdp::Direction::kSendOnly || remote == sdp::Direction::kSendRecv;
}

std::optional<sfu::SfuMediaKind> sfu_kind(sdp::MediaKind k) {
  if (k == sdp::MediaKind::kAudio) return sfu::SfuMediaKind::kAudio;
  if (k == sdp::MediaKind::kVideo) return sfu::SfuMediaKind::kVideo;
  return std::nullopt;
}

// Layers of a published m-line: rid simulcast, else SIM/FID ssrc groups, else
// the first signalled ssrc, else one layer learnt from the first packet.
std::vector<sfu::ProducerLayer> layers_of(const sdp::NegotiatedMedia& m) {
  std::vector<sfu::ProducerLayer> out;
  if (!m.simulcast_rids.empty()) {
    for (const sdp::SimulcastRid& r : m.simulcast_rids) {
      if (out.size() == 4) break;
      out.push_back({r.rid, 0, 0});
    }
    return out;
  }
  auto rtx_of = [&](uint32_t ssrc) -> uint32_t {
    for (const sdp::SsrcGroup& g : m.remote_ssrc_groups) {
      if (g.semantics == "FID" && g.ssrcs.size() == 2 && g.ssrcs[0] == ssrc) return g.ssrcs[1];
    }
    return 0;
  };
  for (const sdp::SsrcGroup& g : m.remote_ssrc_groups) {
    if (g.semantics == "SIM" && g.ssrcs.size() > 1) {
      for (uint32_t s : g.ssrcs) {
        if (out.size() == 4) break;
        out.push_back({"", s, rtx_of(s)});
      }
      return out;
    }
  }
  if (!m.remote_ssrcs.empty()) {
    uint32_t media = m.remote_ssrcs[0];
    for (const sdp::SsrcGroup& g : m.remote_ssrc_groups) {
      if (g.semantics == "FID" && g.ssrcs.size() == 2) media = g.ssrcs[0];
    }
    out.push_back({"", media, rtx_of(media)});
    return out;
  }
  out.emplace_back();
  return out;
}

absl::Status offer_error(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kInvalidArgument ||
      s.code() == absl::StatusCode::kResourceExhausted) {
    return invalid_param("params.offer", s.message());
  }
  return s;
}

}  // namespace

SessionManager::SessionManager(TransportManager& transports, SfuManager& sfu,
                               sdp::Capabilities caps)
    : transports_(transports), sfu_(sfu), caps_(std::move(caps)), rng_(std::random_device{}()) {
  SfuManager::SessionHooks h;
  h.close_room_sessions = [this](const std::string& room) {
    std::vector<std::string> ids;
    for (const auto& [id, s] : sessions_)
      if (s.room == room) ids.push_back(id);
    for (const std::string& id : ids) (void)close(id, "room closed");
  };
  h.transport_down = [this](uint64_t t, const std::string& reason) { transport_down(t, reason); };
  sfu_.set_session_hooks(std::move(h));
}

SessionManager::~SessionManager() { sfu_.set_session_hooks({}); }

std::string SessionManager::fresh_id() {
  for (;;) {  // 96 random bits: the WHIP/WHEP resource URL is a capability
    unsigned char b[12];
    if (RAND_bytes(b, sizeof(b)) != 1) {
      for (unsigned char& x : b) x = static_cast<unsigned char>(rng_());
    }
    std::string id =
        absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
    if (!sessions_.count(id)) return id;
  }
}

std::string SessionManager::room_of(const std::string& session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? std::string() : it->second.room;
}

absl::StatusOr<SessionManager::Local> SessionManager::local_for(uint16_t worker) {
  Local l;
  l.worker = worker;
  auto ice = ice::IceCredentials::generate();
  if (!ice.ok()) return ice.status();
  auto cands = transports_.candidates_for(worker);
  if (!cands.ok()) return cands.status();
  if (cands->empty()) {  // an ICE-lite answer without candidates cannot connect
    return absl::FailedPreconditionError(absl::StrCat(
        "worker ", worker,
        " has no concrete UDP address to offer as a host candidate (wildcard addresses are "
        "skipped; set [socket] addresses)"));
  }
  l.params.ice = *ice;
  l.params.candidates = *std::move(cands);
  l.params.fingerprint = transports_.dtls().certificate().fingerprint();
  l.params.session_id = rng_() >> 2;  // o= session id: < 2^62, positive
  l.params.session_version = 2;
  l.params.answer_to_sendrecv = sdp::Direction::kRecvOnly;
  return l;
}

absl::StatusOr<uint64_t> SessionManager::make_transport(const std::string& room, const Local& l,
                                                        const sdp::NegotiationResult& r) {
  TransportOptions o;
  o.room = room;
  o.worker = l.worker;
  o.local_ice = l.params.ice;
  o.remote_ice = r.remote_ice;
  if (!r.remote_fingerprints.empty()) o.remote_fingerprint = r.remote_fingerprints[0].fp;
  o.role = r.local_setup == sdp::Setup::kActive ? DtlsRole::kClient : DtlsRole::kServer;
  o.sctp = sctp_config(r);  // m=application: data channels, relayed in the room
  auto t = transports_.create_transport(o);
  if (!t.ok()) return t.status();
  if (o.sctp) {
    if (absl::Status s = join_data_room(transports_, t->id, room); !s.ok()) {
      (void)transports_.close_transport(t->id);
      return s;
    }
  }
  return t->id;
}

absl::StatusOr<json> SessionManager::publish(const std::string& room, const std::string& offer) {
  if (sessions_.size() >= max_sessions_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ternd holds ", sessions_.size(), " sessions, the limit; close some"));
  }
  if (auto s = check_room_name(room, "params.room"); !s.ok()) return s;
  auto parsed = sdp::parse_sdp(offer);
  if (!parsed.ok()) return offer_error(parsed.status());
  bool created_room = false;
  if (sfu_.room(room) == nullptr) {
    auto w = sfu_.create_room(room, std::nullopt);
    if (!w.ok()) return w.status();
    sfu_.mutable_room(room)->auto_close = true;
    created_room = true;
  }
  auto undo_room = [&] {
    const SfuManager::Room* r = sfu_.room(room);
    if (created_room && r && r->sessions.empty() && r->transports.empty()) {
      (void)sfu_.close_room(room);
    }
  };
  auto local = local_for(sfu_.room(room)->worker);
  if (!local.ok()) {
    undo_room();
    return local.status();
  }
  auto neg = sdp::negotiate_answer(*parsed, caps_, local->params);
  if (!neg.ok()) {
    undo_room();
    return offer_error(neg.status());
  }
  auto tid = make_transport(room, *local, *neg);
  if (!tid.ok()) {
    undo_room();
    return tid.status();
  }
  Session s;
  s.id = fresh_id();
  s.room = room;
  s.publisher = true;
  s.transport_id = *tid;
  json producers = json::array();
  for (const sdp::NegotiatedMedia& m : neg->media) {
    auto kind = sfu_kind(m.kind);
    if (!m.accepted || !kind || !sends(m.remote_direction)) continue;
    ProducerSpec ps;
    ps.transport_id = *tid;
    ps.kind = *kind;
    ps.mid = m.mid;
    ps.codecs = codecs_from_negotiated(m);
    ps.ext = extensions_from_negotiated(m);
    ps.layers = layers_of(m);
    ps.session = s.id;
    if (ps.codecs.empty()) continue;
    auto pid = sfu_.create_producer(ps);
    if (!pid.ok()) {
      (void)transports_.close_transport(*tid);  // closes the producers made so far
      undo_room();
      return pid.status();
    }
    s.producers.push_back(*pid);
    json rids = json::array();
    for (const sfu::ProducerLayer& l : ps.layers) rids.push_back(l.rid);
    producers.push_back({{"id", *pid},
                         {"kind", sfu_kind_name(ps.kind)},
                         {"mid", ps.mid},
                         {"rids", std::move(rids)}});
  }
  if (SfuManager::Room* r = sfu_.mutable_room(room)) r->sessions.insert(s.id);
  json out{{"session_id", s.id},        {"room", room},
           {"worker", local->worker},   {"transport_id", *tid},
           {"answer", neg->answer_sdp}, {"producers", std::move(producers)}};
  sessions_.emplace(s.id, std::move(s));
  return out;
}

absl::StatusOr<json> SessionManager::subscribe(const std::string& room, const std::string& offer,
                                               const std::string& exclude_session) {
  if (sessions_.size() >= max_sessions_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ternd holds ", sessions_.size(), " sessions, the limit; close some"));
  }
  if (auto s = check_room_name(room, "params.room"); !s.ok()) return s;
  auto parsed = sdp::parse_sdp(offer);
  if (!parsed.ok()) return offer_error(parsed.status());
  const SfuManager::Room* r = sfu_.room(room);
  if (r == nullptr) return absl::NotFoundError(absl::StrCat("no room \"", room, "\""));
  auto local = local_for(r->worker);
  if (!local.ok()) return local.status();
  // Pass 1: what the browser can receive on each m-line.
  auto first = sdp::negotiate_answer(*parsed, caps_, local->params);
  if (!first.ok()) return offer_error(first.status());

  std::vector<const SfuManager::Producer*> avail;
  for (const SfuManager::Producer* p : sfu_.producers_in(room)) {
    if (exclude_session.empty() || p->spec.session != exclude_session) avail.push_back(p);
  }
  struct Match {
    size_t index;
    const SfuManager::Producer* producer;
    uint32_t ssrc, rtx_ssrc;
  };
  std::vector<Match> matches;
  std::set<uint64_t> used;
  std::set<uint32_t> ssrcs;
  auto ssrc = [&] {
    for (;;) {
      uint32_t x = static_cast<uint32_t>(rng_());
      if (x != 0 && ssrcs.insert(x).second) return x;
    }
  };
  sdp::SessionDescription offer2 = *parsed;
  bool any_other = false;  // an accepted data channel keeps the session useful
  for (const sdp::NegotiatedMedia& m : first->media) {
    auto kind = sfu_kind(m.kind);
    if (m.accepted && m.data_channel) any_other = true;
    if (!m.accepted || !kind) continue;
    const SfuManager::Producer* pick = nullptr;
    if (receives(m.remote_direction)) {
      std::vector<sfu::RtpCodecParams> can = codecs_from_negotiated(m);
      for (const SfuManager::Producer* p : avail) {
        if (used.count(p->id) || p->spec.kind != *kind) continue;
        bool common = false;
        for (const auto& pc : p->spec.codecs)
          for (const auto& c : can) common = common || c.codec == pc.codec;
        if (common) {
          pick = p;
          break;
        }
      }
    }
    if (pick == nullptr) {  // nothing for this m-line: answered with port 0
      sdp::MediaSection& ms = offer2.media[m.index];
      ms.port = 0;
      ms.other.erase(
          std::remove_if(ms.other.begin(), ms.other.end(),
                         [](const sdp::Attribute& a) { return a.name == "bundle-only"; }),
          ms.other.end());
      continue;
    }
    used.insert(pick->id);
    bool rtx = false;
    for (const sdp::NegotiatedCodec& c : m.codecs) rtx = rtx || c.rtx_pt >= 0;
    uint32_t main = ssrc();
    matches.push_back({m.index, pick, main, rtx ? ssrc() : 0});
  }
  if (matches.empty() && !any_other) {
    return absl::FailedPreconditionError(absl::StrCat(
        "room \"", room, "\" has no producer the offer can receive (", avail.size(),
        " producer(s); the offer needs recvonly audio/video m-lines with a common codec)"));
  }
  for (const Match& mt : matches) {
    sdp::SendStream st;
    st.mid = first->media[mt.index].mid;
    st.stream_id = mt.producer->spec.session.empty() ? absl::StrCat("tern-p", mt.producer->id)
                                                     : mt.producer->spec.session;
    st.track_id = absl::StrCat("producer-", mt.producer->id);
    st.ssrc = mt.ssrc;
    st.rtx_ssrc = mt.rtx_ssrc;
    local->params.send_streams.push_back(std::move(st));
  }
  // Pass 2: the answer, with our streams and the unmatched m-lines rejected.
  auto neg = sdp::negotiate_answer(offer2, caps_, local->params);
  if (!neg.ok()) return offer_error(neg.status());
  auto tid = make_transport(room, *local, *neg);
  if (!tid.ok()) return tid.status();
  Session s;
  s.id = fresh_id();
  s.room = room;
  s.publisher = false;
  s.transport_id = *tid;
  json consumers = json::array();
  for (const Match& mt : matches) {
    const sdp::NegotiatedMedia& m = neg->media[mt.index];
    ConsumerSpec cs;
    cs.transport_id = *tid;
    cs.producer_id = mt.producer->id;
    cs.mid = m.mid;
    cs.codecs = codecs_from_negotiated(m);
    cs.ext = extensions_from_negotiated(m);
    cs.ssrc = mt.ssrc;
    cs.rtx_ssrc = mt.rtx_ssrc;
    cs.want_rtx = mt.rtx_ssrc != 0;
    cs.session = s.id;
    auto cid = sfu_.create_consumer(cs);
    if (!cid.ok()) {
      (void)transports_.close_transport(*tid);
      return cid.status();
    }
    s.consumers.push_back(*cid);
    const SfuManager::Consumer* c = sfu_.consumer(*cid);
    consumers.push_back({{"id", *cid},
                         {"producer_id", mt.producer->id},
                         {"kind", sfu_kind_name(c->kind)},
                         {"mid", m.mid},
                         {"ssrc", c->spec.ssrc},
                         {"rtx_ssrc", c->spec.rtx_ssrc}});
  }
  if (SfuManager::Room* rr = sfu_.mutable_room(room)) rr->sessions.insert(s.id);
  json out{{"session_id", s.id},        {"room", room},
           {"worker", local->worker},   {"transport_id", *tid},
           {"answer", neg->answer_sdp}, {"consumers", std::move(consumers)}};
  sessions_.emplace(s.id, std::move(s));
  return out;
}

absl::Status SessionManager::close(const std::string& id, const std::string& reason) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat("no session \"", id, "\""));
  Session s = std::move(it->second);
  sessions_.erase(it);
  if (transports_.has(s.transport_id)) {
    absl::Status st = transports_.close_transport(s.transport_id);
    if (!st.ok()) {  // ring full: keep the session so a retry can close it
      sessions_.emplace(s.id, std::move(s));
      return st;
    }
  }
  if (SfuManager::Room* r = sfu_.mutable_room(s.room)) {
    r->sessions.erase(s.id);
    if (r->auto_close && r->sessions.empty() && r->transports.empty()) {
      (void)sfu_.close_room(s.room);
    }
  }
  if (publish_) {
    publish_("session",
             json{{"session_id", s.id}, {"room", s.room}, {"event", "closed"}, {"reason", reason}});
  }
  return absl::OkStatus();
}

void SessionManager::transport_down(uint64_t transport_id, const std::string& reason) {
  for (const auto& [id, s] : sessions_) {
    if (s.transport_id == transport_id) {
      std::string sid = id;  // close() erases the entry
      (void)close(sid, reason);
      return;
    }
  }
}

absl::StatusOr<json> SessionManager::get(const std::string& id) const {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return absl::NotFoundError(absl::StrCat("no session \"", id, "\""));
  const Session& s = it->second;
  json t = transports_.has(s.transport_id) ? *transports_.get(json{{"id", s.transport_id}})
                                           : json(nullptr);
  // Only the live ones: the worker may have closed some (refused, producer gone).
  json producers = json::array(), consumers = json::array();
  for (uint64_t id : s.producers)
    if (sfu_.producer(id)) producers.push_back(id);
  for (uint64_t id : s.consumers)
    if (sfu_.consumer(id)) consumers.push_back(id);
  return json{{"session_id", s.id},
              {"room", s.room},
              {"kind", s.publisher ? "publish" : "subscribe"},
              {"transport", std::move(t)},
              {"producers", std::move(producers)},
              {"consumers", std::move(consumers)}};
}

absl::Status SessionManager::register_methods(jsonrpc::MethodRegistry& reg) {
  using jsonrpc::ParamSpec;
  using jsonrpc::ParamType;
  ParamSpec room{.name = "room", .type = ParamType::kString, .required = true, .max_length = 64};
  ParamSpec offer{.name = "offer",
                  .type = ParamType::kString,
                  .required = true,
                  .max_length = 64 * 1024,
                  .doc = "the browser's SDP offer"};
  ParamSpec sid{
      .name = "session_id", .type = ParamType::kString, .required = true, .max_length = 64};
  absl::Status st = reg.register_method(
      {.name = "session.publish",
       .params = {room, offer},
       .summary = "answer a publisher's offer: transport + producers (room made on demand)"},
      [this](const json& p, jsonrpc::Session&) {
        return publish(p["room"].get<std::string>(), p["offer"].get<std::string>());
      });
  if (!st.ok()) return st;
  ParamSpec excl{.name = "exclude_session",
                 .type = ParamType::kString,
                 .max_length = 64,
                 .doc = "skip this session's producers (a participant's own tracks)"};
  st = reg.register_method(
      {.name = "session.subscribe",
       .params = {room, offer, excl},
       .summary = "answer a subscriber's offer: transport + one consumer per producer"},
      [this](const json& p, jsonrpc::Session&) {
        return subscribe(p["room"].get<std::string>(), p["offer"].get<std::string>(),
                         p.value("exclude_session", std::string()));
      });
  if (!st.ok()) return st;
  st = reg.register_method(
      {.name = "session.close", .params = {sid}, .summary = "close a session and its transport"},
      [this](const json& p, jsonrpc::Session&) -> absl::StatusOr<json> {
        std::string id = p["session_id"].get<std::string>();
        if (absl::Status s = close(id, "session.close"); !s.ok()) return s;
        return json{{"session_id", id}, {"closed", true}};
      });
  if (!st.ok()) return st;
  return reg.register_method(
      {.name = "session.get", .params = {sid}, .summary = "a session, its transport and objects"},
      [this](const json& p, jsonrpc::Session&) { return get(p["session_id"].get<std::string>()); });
}

}  // namespace tern
