#include "control/datachannel_methods.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tern {

using jsonrpc::json;
using jsonrpc::ParamType;

std::optional<sfu::SctpTransportConfig> sctp_config(const sdp::NegotiationResult& r) {
  for (const sdp::NegotiatedMedia& m : r.media) {
    if (!m.accepted || !m.data_channel) continue;
    sfu::SctpTransportConfig c;
    if (m.local_sctp_port != 0) c.local_port = m.local_sctp_port;
    if (m.remote_sctp_port != 0) c.remote_port = m.remote_sctp_port;
    if (m.local_max_message_size != 0) c.max_message_size = m.local_max_message_size;
    // RFC 8841 §6.1: absent means 64 KiB is safe; the negotiator reports 0.
    c.remote_max_message_size = m.remote_max_message_size != 0 ? m.remote_max_message_size : 65536;
    return c;
  }
  return std::nullopt;
}

uint64_t data_group_of(const std::string& room) {
  // FNV-1a 64: stable across runs (std::hash need not be).
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : room) h = (h ^ c) * 0x100000001b3ull;
  return h == 0 ? 1 : h;
}

absl::Status join_data_room(TransportManager& transports, uint64_t transport_id,
                            const std::string& room) {
  int w = transports.worker_of(transport_id);
  if (w < 0) return absl::NotFoundError(absl::StrCat("no transport ", transport_id));
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kAddDataConsumer;
  cmd.id = transport_id;
  cmd.group = data_group_of(room);
  if (!transports.worker(uint16_t(w))->post_command(cmd)) {
    return absl::UnavailableError(absl::StrCat("worker ", w, " command ring full; retry"));
  }
  return absl::OkStatus();
}

absl::StatusOr<json> DataChannelManager::send(const json& p) {
  const uint64_t id = p.at("transport_id").get<uint64_t>();
  int w = transports_.worker_of(id);
  if (w < 0) {
    return absl::NotFoundError(absl::StrCat("params.transport_id: no transport ", id));
  }
  const bool has_label = p.contains("label"), has_stream = p.contains("stream");
  if (has_label == has_stream) {
    return jsonrpc::invalid_param("params.label", "give exactly one of label and stream");
  }
  const bool has_text = p.contains("text"), has_bin = p.contains("binary_b64");
  if (has_text == has_bin) {
    return jsonrpc::invalid_param("params.text", "give exactly one of text and binary_b64");
  }
  auto d = std::make_unique<sfu::DataSend>();
  d->transport_id = id;
  if (has_stream) {
    d->stream = p.at("stream").get<int32_t>();
  } else {
    d->label = p.at("label").get<std::string>();
  }
  if (has_text) {
    const std::string t = p.at("text").get<std::string>();
    d->bytes.assign(t.begin(), t.end());
  } else {
    std::string raw;
    if (!absl::Base64Unescape(p.at("binary_b64").get<std::string>(), &raw)) {
      return jsonrpc::invalid_param("params.binary_b64", "not valid base64");
    }
    d->binary = true;
    d->bytes.assign(raw.begin(), raw.end());
  }
  const size_t size = d->bytes.size();
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kSendData;
  cmd.id = id;
  cmd.data = d.get();
  if (!transports_.worker(uint16_t(w))->post_command(cmd)) {
    return absl::UnavailableError(absl::StrCat("worker ", w, " command ring full; retry"));
  }
  d.release();  // the worker owns it now
  return json{{"queued", true}, {"size", size}};
}

std::string DataChannelManager::topic_of(const sfu::DataEvent& ev) {
  switch (ev.type) {
    case sfu::DataEvent::Type::kOpen:
      return kTopics[0];
    case sfu::DataEvent::Type::kClosed:
      return kTopics[1];
    case sfu::DataEvent::Type::kMessage:
      return kTopics[2];
    case sfu::DataEvent::Type::kSendFailed:
      return kTopics[3];
  }
  return kTopics[3];
}

json DataChannelManager::event_json(const sfu::DataEvent& ev) {
  json j{{"transport_id", ev.transport_id}, {"stream", ev.stream}};
  switch (ev.type) {
    case sfu::DataEvent::Type::kOpen:
      j["label"] = ev.label;
      j["protocol"] = ev.protocol;
      j["ordered"] = ev.ordered;
      j["remote"] = ev.remote;
      if (ev.policy == 1) j["max_retransmits"] = ev.reliability;
      if (ev.policy == 2) j["max_packet_life_time"] = ev.reliability;
      break;
    case sfu::DataEvent::Type::kClosed:
      break;
    case sfu::DataEvent::Type::kMessage: {
      std::string bytes(reinterpret_cast<const char*>(ev.data), ev.len);
      if (ev.binary) {
        j["binary_b64"] = absl::Base64Escape(bytes);
      } else {
        // UTF-8 by RFC 8831; a cut one may end mid-character (see poll_events).
        j["text"] = std::move(bytes);
      }
      j["size"] = ev.size;
      j["truncated"] = ev.truncated;
      break;
    }
    case sfu::DataEvent::Type::kSendFailed:
      j["reason"] = ev.label;
      break;
  }
  return j;
}

size_t DataChannelManager::poll_events(const Publish& publish) {
  size_t n = 0;
  for (size_t w = 0; w < transports_.num_workers(); ++w) {
    sfu::DataEvent ev;
    for (int i = 0; i < 4096 && transports_.worker(uint16_t(w))->poll_data_event(&ev); ++i) {
      ++n;
      // Invalid UTF-8 (a cut text message) is replaced by the codec's dump().
      if (publish) publish(topic_of(ev), event_json(ev));
      ev.free_payload();
    }
  }
  return n;
}

absl::Status DataChannelManager::register_methods(jsonrpc::MethodRegistry& registry) {
  std::vector<jsonrpc::ParamSpec> ps = {
      {.name = "transport_id",
       .type = ParamType::kInteger,
       .required = true,
       .min = 1,
       .doc = "transport (session.* transport_id or transport.create id)"},
      {.name = "label",
       .type = ParamType::kString,
       .max_length = 65535,
       .doc = "the first open channel with this label (or give stream)"},
      {.name = "stream",
       .type = ParamType::kInteger,
       .min = 0,
       .max = 65534,
       .doc = "the channel's SCTP stream id (datachannel.open events)"},
      {.name = "text", .type = ParamType::kString, .max_length = 65536, .doc = "a text message"},
      {.name = "binary_b64",
       .type = ParamType::kString,
       .max_length = 87384,
       .doc = "a binary message, base64 (at most 64 KiB decoded)"},
  };
  return registry.register_method(
      {.name = "datachannel.send",
       .params = ps,
       .summary = "send one message into a data channel of a transport"},
      [this](const json& p, jsonrpc::Session&) { return send(p); });
}

}  // namespace tern
