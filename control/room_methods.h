// Rooms, producers and consumers on the control socket: room.create / close /
// list / get, producer.create / close / get, consumer.create / close / pause /
// resume / set_layer / get, and the events "producer.closed",
// "consumer.closed", "consumer.layer" (docs/control-protocol.md).
//
// A room lives on one worker (least loaded at room.create: transports plus
// rooms per worker). Every transport created for the room (transport.create
// room=..., or a session) goes on that worker, so its producers and consumers
// meet on one core (engine/sfu/sfu_params.h). The manager keeps the records
// and hands each producer/consumer (sfu::ProducerParams / ConsumerParams,
// owned by the command) to the worker through its command ring; counters are
// read from the shared relaxed-atomic stats without a round trip.
//
// Cascades (records removed at once, one event each, reasons in the event):
//   room.close -> its sessions (SessionHooks) -> its transports
//   transport closed -> producers and consumers on it
//   producer closed  -> its consumers
// The worker does the same on its side when told to close a transport or a
// producer, and may close a producer or consumer by itself (refused, ...):
// its kProducerClosed / kConsumerClosed events remove the records here; an
// event for an id already gone is ignored.
//
// Single-threaded: ternd's main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "control/jsonrpc_registry.h"
#include "control/transport_methods.h"
#include "engine/sfu/sfu_params.h"

namespace tern {

// What producer.create / a publishing session asks for.
struct ProducerSpec {
  uint64_t transport_id = 0;
  sfu::SfuMediaKind kind = sfu::SfuMediaKind::kVideo;
  std::string mid;
  std::vector<sfu::RtpCodecParams> codecs;
  sfu::RtpExtensionIds ext;
  std::vector<sfu::ProducerLayer> layers;  // 1..4
  std::string session;                     // owning session id, "" for producer.create
};

struct ConsumerSpec {
  uint64_t transport_id = 0;
  uint64_t producer_id = 0;
  std::string mid;
  std::vector<sfu::RtpCodecParams> codecs;  // the subscriber's payload types
  sfu::RtpExtensionIds ext;
  uint32_t ssrc = 0;      // 0: generated
  uint32_t rtx_ssrc = 0;  // 0: generated when a codec has RTX
  bool want_rtx = true;   // false: never an RTX ssrc
  int8_t layer = -1;
  bool paused = false;
  std::string session;
};

class SfuManager final : public TransportObserver {
 public:
  using Publish = TransportManager::Publish;

  struct Producer {
    uint64_t id = 0;
    std::string room;
    uint16_t worker = 0;
    ProducerSpec spec;
    std::shared_ptr<sfu::ProducerStats> stats;
  };
  struct Consumer {
    uint64_t id = 0;
    std::string room;
    uint16_t worker = 0;
    ConsumerSpec spec;
    sfu::SfuMediaKind kind = sfu::SfuMediaKind::kVideo;
    int8_t layer = -1;    // requested (set_layer)
    int8_t current = -1;  // last consumer.layer event
    std::shared_ptr<sfu::ConsumerStats> stats;
  };
  struct Room {
    std::string name;
    uint16_t worker = 0;
    std::set<uint64_t> transports;
    std::set<std::string> sessions;
    bool auto_close = false;  // made by a publishing session: closes with its last session
  };
  // Set by the session layer: close every session of a room (before the room
  // goes), and a session transport went down (failed or closed by the peer).
  struct SessionHooks {
    std::function<void(const std::string& room)> close_room_sessions;
    std::function<void(uint64_t transport_id, const std::string& reason)> transport_down;
  };

  explicit SfuManager(TransportManager& transports);
  ~SfuManager() override;

  void set_publish(Publish p) { publish_ = std::move(p); }
  void set_session_hooks(SessionHooks h) { hooks_ = std::move(h); }
  absl::Status register_methods(jsonrpc::MethodRegistry& registry);

  // --- C++ API ---
  // AlreadyExists for a taken name; InvalidArgument naming params.room.
  absl::StatusOr<uint16_t> create_room(const std::string& name, std::optional<uint16_t> worker);
  absl::Status close_room(const std::string& name);
  const Room* room(const std::string& name) const;
  absl::StatusOr<uint64_t> create_producer(ProducerSpec spec);
  absl::StatusOr<uint64_t> create_consumer(ConsumerSpec spec);
  absl::Status close_producer(uint64_t id, const std::string& reason);
  absl::Status close_consumer(uint64_t id, const std::string& reason);
  const Producer* producer(uint64_t id) const;
  const Consumer* consumer(uint64_t id) const;
  // Producers of a room in creation order.
  std::vector<const Producer*> producers_in(const std::string& room) const;
  Room* mutable_room(const std::string& name);

  size_t num_rooms() const { return rooms_.size(); }
  size_t num_producers() const { return producers_.size(); }
  size_t num_consumers() const { return consumers_.size(); }

  // TransportObserver.
  absl::StatusOr<uint16_t> room_worker(const std::string& room) override;
  void transport_added(uint64_t id, const std::string& room) override;
  void transport_closed(uint64_t id, const std::string& room) override;
  void transport_event(const sfu::TransportEvent& ev, bool failure) override;
  void sfu_event(uint16_t worker, const sfu::TransportEvent& ev) override;

  // JSON handlers, public for unit tests.
  absl::StatusOr<jsonrpc::json> room_create(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> room_close(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> room_list(const jsonrpc::json& p) const;
  absl::StatusOr<jsonrpc::json> room_get(const jsonrpc::json& p) const;
  absl::StatusOr<jsonrpc::json> producer_create(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> producer_close(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> producer_get(const jsonrpc::json& p) const;
  absl::StatusOr<jsonrpc::json> consumer_create(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> consumer_close(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> consumer_pause(const jsonrpc::json& p, bool pause);
  absl::StatusOr<jsonrpc::json> consumer_set_layer(const jsonrpc::json& p);
  absl::StatusOr<jsonrpc::json> consumer_get(const jsonrpc::json& p) const;

  jsonrpc::json producer_json(const Producer& p) const;
  jsonrpc::json consumer_json(const Consumer& c) const;

 private:
  // Record removal + event; no worker command (the caller sent one, or the
  // worker already closed it).
  void drop_producer(uint64_t id, const std::string& reason);
  void drop_consumer(uint64_t id, const std::string& reason);
  absl::Status post(uint16_t worker, const WorkerCommand& cmd);
  // post(), deleting the params the command carries when the ring is full.
  absl::Status post_owned(uint16_t worker, const WorkerCommand& cmd);
  // Tells the worker to close `id` of `records` (NotFound "no <what> <id>"),
  // then drops the record.
  template <typename Record>
  absl::Status close_record(const std::map<uint64_t, Record>& records, const char* what,
                            WorkerCommand::Type type, uint64_t id,
                            void (SfuManager::*drop)(uint64_t, const std::string&),
                            const std::string& reason);
  // params.mid: 1..16 characters, not used on the transport by a producer
  // (nor, with consumers_too, by a consumer).
  absl::Status check_mid(const std::string& mid, uint64_t transport_id, bool consumers_too) const;
  uint32_t fresh_ssrc(uint64_t transport_id);
  void emit(const char* topic, jsonrpc::json data);

  TransportManager& transports_;
  Publish publish_;
  SessionHooks hooks_;
  std::map<std::string, Room> rooms_;
  std::map<uint64_t, Producer> producers_;
  std::map<uint64_t, Consumer> consumers_;
  uint64_t next_producer_ = 1;
  uint64_t next_consumer_ = 1;
  std::mt19937_64 rng_;
};

// &records[id] (const for const records), or NotFound "no <what> <id>".
template <typename Records>
auto find_record(Records& records, const char* what, uint64_t id)
    -> absl::StatusOr<decltype(&records.begin()->second)> {
  auto it = records.find(id);
  if (it == records.end()) return absl::NotFoundError(absl::StrCat("no ", what, " ", id));
  return &it->second;
}

// Room names: 1..64 of A-Z a-z 0-9 - _ . ~ (URL-safe: WHIP/WHEP paths).
absl::Status check_room_name(const std::string& name, const char* field);

}  // namespace tern
