// RTP header extensions (RFC 8285): both forms, read in place, ids rewritten
// in place, and a writer that builds a new packet with extensions.
//
//   one-byte form   profile 0xBEDE          element: ID(4) L(4) value(L+1 bytes)
//                   ids 1..14; 0 is a padding byte; 15 stops parsing (§4.2)
//   two-byte form   profile 0x100 + appbits  element: ID(8) L(8) value(L bytes)
//                   ids 1..255; 0 is a padding byte (§4.3)
//
// Rewriting ids in place (an SFU forwards to consumers that negotiated other
// ids): a new id that the packet's form cannot carry (above 14 in the
// one-byte form) cannot be written without growing the packet. The in-place
// functions then leave that element alone (rewrite_extension_id returns
// false) or erase it (remap_extension_ids: the element's bytes become padding
// bytes, 0, which every receiver skips, so the packet stays valid and the same
// size). A caller that must keep such an extension rebuilds the packet with
// RtpWriter, which picks the two-byte form.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/net/nanos.h"
#include "engine/rtp/rtp_packet.h"

namespace tern {
namespace rtp {

inline constexpr uint16_t kOneByteProfile = 0xBEDE;
inline constexpr uint16_t kTwoByteProfile = 0x1000;  // low 4 bits: appbits
inline constexpr uint8_t kOneByteMaxId = 14;
inline constexpr size_t kOneByteMaxSize = 16;

enum class ExtensionForm : uint8_t { kNone = 0, kOneByte, kTwoByte };
// kNone without X or with a profile that is not RFC 8285's.
ExtensionForm extension_form(const RtpView& v);

struct Extension {
  uint8_t id = 0;
  uint8_t size = 0;     // value bytes (0 only in the two-byte form)
  uint32_t offset = 0;  // of the value from the packet start
  const uint8_t* value = nullptr;
};

// Walks the elements of a parsed packet. Padding bytes are skipped; an
// element running past the block ends the walk and sets malformed().
//   ExtensionReader r(view); Extension e; while (r.next(&e)) ...
class ExtensionReader {
 public:
  explicit ExtensionReader(const RtpView& v);
  bool next(Extension* out);
  bool malformed() const { return malformed_; }
  ExtensionForm form() const { return form_; }

 private:
  const uint8_t* packet_;
  uint32_t pos_;
  uint32_t end_;
  ExtensionForm form_;
  bool malformed_ = false;
};

// First element with this id.
bool find_extension(const RtpView& v, uint8_t id, Extension* out);

// Rewrites the id of every element `from` to `to`. False (packet untouched)
// if `from` is absent or `to` is 0 or does not fit the packet's form.
bool rewrite_extension_id(RtpPacket& p, uint8_t from, uint8_t to);

// Per-consumer translation: table[id] is the id to write, 0 to erase the
// element. One pass over the elements; see the top of the file for ids the
// form cannot carry (erased, counted in `erased`).
using ExtensionIdTable = std::array<uint8_t, 256>;
struct RemapResult {
  int rewritten = 0;  // ids changed
  int erased = 0;     // elements turned into padding (table 0 or id too large)
};
RemapResult remap_extension_ids(RtpPacket& p, const ExtensionIdTable& table);

// Turns the element(s) with this id into padding bytes. False if absent.
bool erase_extension(RtpPacket& p, uint8_t id);

// Value bytes of the element with this id in a writable packet, or empty.
absl::Span<uint8_t> mutable_extension(RtpPacket& p, uint8_t id);

// ---- typed values --------------------------------------------------------

// mid (RFC 9143), rtp-stream-id and repaired-rtp-stream-id (RFC 8852): text
// that must not be empty.
bool read_string_extension(const Extension& e, absl::string_view* out);
// abs-send-time: 24 bits, 6.18 fixed-point seconds (wraps every 64 s).
bool read_abs_send_time(const Extension& e, uint32_t* out);
uint32_t abs_send_time_from_nanos(Nanos t);
Nanos abs_send_time_to_nanos(uint32_t v);  // within [0, 64 s)
// transport-wide-cc: the 16-bit transport sequence number.
bool read_transport_cc_seq(const Extension& e, uint16_t* out);
// ssrc-audio-level (RFC 6464): V bit and level 0..127 in -dBov.
bool read_audio_level(const Extension& e, bool* voice, uint8_t* level);
inline uint8_t audio_level_byte(bool voice, uint8_t level) {
  return uint8_t((voice ? 0x80 : 0) | (level & 0x7F));
}
// In-place updates (the SFU stamps its own transport-cc sequence and send
// time per consumer). False if the element is absent or has the wrong size.
bool set_transport_cc_seq(RtpPacket& p, uint8_t id, uint16_t seq);
bool set_abs_send_time(RtpPacket& p, uint8_t id, uint32_t v);

// ---- negotiated ids --------------------------------------------------------

enum class ExtensionKind : uint8_t {
  kUnknown = 0,
  kMid,
  kRid,
  kRepairedRid,
  kAbsSendTime,
  kTransportWideCc,
  kAudioLevel,
  kTransmissionOffset,
  kVideoOrientation,
  kPlayoutDelay,
  kAbsCaptureTime,
  kDependencyDescriptor,
  kCount
};
// The a=extmap URI of a kind, and back (kUnknown for URIs we do not know).
absl::string_view extension_uri(ExtensionKind k);
ExtensionKind extension_kind_from_uri(absl::string_view uri);

// id -> kind for one transport (a=extmap, negotiated per transport). Built on
// the control plane, read on the hot path.
class ExtensionMap {
 public:
  // id 1..255; one id per kind and one kind per id.
  absl::Status add(uint8_t id, ExtensionKind kind);
  // Unknown URIs are accepted and ignored (we forward what we do not parse).
  absl::Status add_uri(uint8_t id, absl::string_view uri);
  void clear();

  ExtensionKind kind(uint8_t id) const { return kind_[id]; }
  uint8_t id(ExtensionKind k) const { return id_[static_cast<size_t>(k)]; }
  bool find(const RtpView& v, ExtensionKind k, Extension* out) const {
    const uint8_t i = id(k);
    return i != 0 && find_extension(v, i, out);
  }

 private:
  std::array<ExtensionKind, 256> kind_{};
  std::array<uint8_t, static_cast<size_t>(ExtensionKind::kCount)> id_{};
};

// The translation table from a producer's ids to a consumer's: each kind the
// producer negotiated maps to the consumer's id of that kind, or 0 (erase).
// Unknown ids are erased too: the consumer did not negotiate them.
ExtensionIdTable make_id_table(const ExtensionMap& from, const ExtensionMap& to);

// ---- building a packet ----------------------------------------------------

// Writes a new RTP packet: header, extensions, payload, padding. Extensions
// are laid out in the two-byte form and packed into the one-byte form when
// finishing if every id is 1..14 and every value 1..16 bytes (RFC 8285 §4.2),
// so callers never pick the form. Errors are sticky: check ok()/finish().
class RtpWriter {
 public:
  RtpWriter(uint8_t* buf, size_t capacity) : buf_(buf), cap_(capacity) {}

  bool begin(const RtpHeaderFields& h);
  // Returns the value area (len bytes) or nullptr (sticky).
  uint8_t* add_extension(uint8_t id, size_t len);
  bool add_extension(uint8_t id, const void* value, size_t len);
  bool add_string_extension(uint8_t id, absl::string_view s) {
    return add_extension(id, s.data(), s.size());
  }
  bool add_abs_send_time(uint8_t id, uint32_t v);
  bool add_transport_cc_seq(uint8_t id, uint16_t seq);
  bool add_audio_level(uint8_t id, bool voice, uint8_t level);
  // Keep the two-byte form even when the one-byte form would do.
  void force_two_byte() { force_two_byte_ = true; }

  // Closes the extension block, appends payload and `padding` bytes (0 or
  // 1..255, RFC 3550 §5.1), and returns the packet size, or 0 on error.
  size_t finish(absl::Span<const uint8_t> payload, uint8_t padding = 0);
  bool ok() const { return ok_; }

 private:
  bool fail() { return ok_ = false; }

  uint8_t* buf_;
  size_t cap_;
  size_t size_ = 0;
  size_t ext_hdr_ = 0;  // offset of the extension header, 0 = none yet
  bool packable_ = true;
  bool force_two_byte_ = false;
  bool ok_ = false;
};

}  // namespace rtp
}  // namespace tern
