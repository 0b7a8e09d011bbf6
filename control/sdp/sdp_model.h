// SDP (RFC 8866) as WebRTC uses it (JSEP, RFC 9429): the parsed model.
//
// Control plane only: the parser fills these, the negotiator reads an offer and
// builds an answer, the writer turns an answer into text. Plain values owned by
// whoever holds the SessionDescription. Every struct compares with == so a
// parse -> write -> parse round trip can be checked field by field.
//
// What is modelled: everything tern negotiates (ICE, DTLS, BUNDLE, rtcp-mux,
// codecs, RTX, rtcp-fb, extmap, ssrc, msid, rid, simulcast, SCTP). Attributes the
// model does not know are kept verbatim in `other` (name and value as written),
// so nothing a browser sends is lost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/dtls/certificate.h"

namespace tern {
namespace sdp {

enum class MediaKind : uint8_t { kAudio, kVideo, kApplication, kOther };
const char* media_kind_name(MediaKind k);  // "audio", "video", "application", "other"

// a=sendrecv / sendonly / recvonly / inactive. Absent means sendrecv (RFC 3264 §5.1).
enum class Direction : uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
const char* direction_name(Direction d);  // "sendrecv", ...
// What the other side of an offer/answer says for the same stream (RFC 3264 §6.1).
Direction reverse(Direction d);

// a=setup (RFC 4145 §4, RFC 5763 §5). kNone: the attribute is absent.
enum class Setup : uint8_t { kNone, kActPass, kActive, kPassive, kHoldConn };
const char* setup_name(Setup s);  // "actpass", ...; "" for kNone

// a=fingerprint: tern::Fingerprint with an equality operator (constant time is not
// needed for SDP values).
struct SdpFingerprint {
  Fingerprint fp;
  bool operator==(const SdpFingerprint& o) const;
};

// a=candidate (RFC 8839 §5.1). The address is kept as text: browsers send mDNS
// names ("<uuid>.local") as well as IPv4/IPv6 literals.
struct Candidate {
  std::string foundation;  // 1..32 ice-chars
  uint32_t component = 1;  // 1..256
  std::string transport;   // "udp" / "tcp" as written (matched case-insensitively)
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  std::string type;  // host, srflx, prflx, relay
  std::string rel_addr;
  int32_t rel_port = -1;  // -1: no rport
  std::string tcptype;
  // Extension name/value pairs after the fixed fields (generation, network-id, ...).
  std::vector<std::pair<std::string, std::string>> extensions;
  bool operator==(const Candidate&) const = default;
};

// One payload type of an RTP m-line: a=rtpmap, a=fmtp, a=rtcp-fb for that pt.
struct Codec {
  uint8_t pt = 0;
  bool has_rtpmap = false;
  std::string name;  // encoding name as written ("opus", "VP8", "H264", "rtx")
  uint32_t clock_rate = 0;
  uint16_t channels = 0;             // 0: not given (audio defaults to 1)
  std::string fmtp;                  // parameters after "a=fmtp:<pt> ", verbatim
  std::vector<std::string> rtcp_fb;  // "nack", "nack pli", "transport-cc", ...
  bool operator==(const Codec&) const = default;
};

// a=extmap (RFC 8285 §8).
struct Extmap {
  uint16_t id = 0;  // 1..255
  bool has_direction = false;
  Direction direction = Direction::kSendRecv;
  std::string uri;
  std::string attributes;  // extension attributes after the URI, verbatim
  bool operator==(const Extmap&) const = default;
};

// a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1).
struct SsrcAttr {
  uint32_t ssrc = 0;
  std::string attribute;  // "cname", "msid", ...
  std::string value;
  bool operator==(const SsrcAttr&) const = default;
};

// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2): FID (RTX, RFC 4588), SIM, FEC-FR.
struct SsrcGroup {
  std::string semantics;
  std::vector<uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};

// a=msid:<stream-id> [<track-id>] (RFC 8830).
struct Msid {
  std::string stream_id;
  std::string track_id;
  bool operator==(const Msid&) const = default;
};

// a=rid:<id> send|recv [pt=..;restriction=value;...] (RFC 8851).
struct Rid {
  std::string id;
  bool send = true;                                               // false: recv
  std::vector<uint8_t> payload_types;                             // pt=... (empty: any)
  std::vector<std::pair<std::string, std::string>> restrictions;  // max-width=1280, ...
  bool operator==(const Rid&) const = default;
};

// One alternative inside a simulcast stream ("~h" is paused, RFC 8853 §5.1).
struct SimulcastRid {
  std::string rid;
  bool paused = false;
  bool operator==(const SimulcastRid&) const = default;
};
// a=simulcast:send 1;2;3 recv 4 — each stream is a list of alternative rids.
struct Simulcast {
  std::vector<std::vector<SimulcastRid>> send;
  std::vector<std::vector<SimulcastRid>> recv;
  bool empty() const { return send.empty() && recv.empty(); }
  bool operator==(const Simulcast&) const = default;
};

// a=group:<semantics> <mid>... (RFC 5888); BUNDLE is RFC 8843.
struct Group {
  std::string semantics;
  std::vector<std::string> mids;
  bool operator==(const Group&) const = default;
};

// An attribute the model does not know, verbatim: a=<name>[:<value>].
struct Attribute {
  std::string name;
  std::string value;
  bool has_value = false;
  bool operator==(const Attribute&) const = default;
};

// Transport attributes that may sit at session or media level.
struct TransportAttrs {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::vector<std::string> ice_options;  // "trickle", "ice2", ...
  std::vector<SdpFingerprint> fingerprints;
  Setup setup = Setup::kNone;
  bool operator==(const TransportAttrs&) const = default;
};

struct MediaSection {
  // m=<media> <port>[/<count>] <proto> <fmt>...
  MediaKind kind = MediaKind::kOther;
  std::string media;  // as written: "audio", "video", "application", ...
  uint16_t port = 0;
  uint16_t port_count = 0;  // 0: not given
  std::string proto;        // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ...
  std::vector<std::string> formats;
  std::string connection;               // c= value, "" if absent
  std::vector<std::string> bandwidths;  // b= values ("AS:2500", "TIAS:...")

  std::string mid;
  bool has_direction = false;
  Direction direction = Direction::kSendRecv;
  TransportAttrs transport;
  std::vector<Candidate> candidates;
  bool end_of_candidates = false;
  std::string rtcp;  // a=rtcp: value (RFC 3605), verbatim
  bool rtcp_mux = false;
  bool rtcp_mux_only = false;
  bool rtcp_rsize = false;

  std::vector<Codec> codecs;             // in order of first mention
  std::vector<std::string> rtcp_fb_all;  // a=rtcp-fb:* <value>
  std::vector<Extmap> extmaps;
  bool extmap_allow_mixed = false;
  std::vector<SsrcAttr> ssrcs;
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Msid> msids;
  std::vector<Rid> rids;
  Simulcast simulcast;

  int32_t sctp_port = -1;  // a=sctp-port (RFC 8841), -1 if absent
  bool has_max_message_size = false;
  uint64_t max_message_size = 0;  // 0 = no limit (RFC 8841 §6)

  std::vector<Attribute> other;

  bool is_rtp() const;   // proto contains "RTP/"
  bool is_sctp() const;  // proto "UDP/DTLS/SCTP" or "TCP/DTLS/SCTP"
  Codec* find_codec(uint8_t pt);
  const Codec* find_codec(uint8_t pt) const;
  bool operator==(const MediaSection&) const = default;
};

struct Origin {
  std::string username = "-";
  std::string session_id = "0";  // digits, kept as text (may exceed 64 bits in theory)
  std::string session_version = "0";
  std::string nettype = "IN";
  std::string addrtype = "IP4";
  std::string address = "127.0.0.1";
  bool operator==(const Origin&) const = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::string connection;  // session-level c=, "" if absent
  std::vector<std::string> bandwidths;
  std::string timing = "0 0";
  bool ice_lite = false;
  TransportAttrs transport;
  std::vector<Group> groups;
  bool extmap_allow_mixed = false;
  bool has_direction = false;  // session-level direction (applies to sections without one)
  Direction direction = Direction::kSendRecv;
  std::vector<Attribute> other;  // includes msid-semantic, verbatim
  std::vector<MediaSection> media;

  // First a=group:BUNDLE, or nullptr.
  const Group* bundle_group() const;
  // Index of the section with this mid, or -1.
  int find_mid(absl::string_view mid) const;

  bool operator==(const SessionDescription&) const = default;
};

}  // namespace sdp
}  // namespace tern
