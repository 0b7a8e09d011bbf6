// tern-loadgen: results as JSON and as a markdown table.
#include "absl/strings/str_format.h"
#include "bench/loadgen/scenario.h"

namespace tern::loadgen {

using nlohmann::json;

namespace {

json latency_json(const StepResult& s) {
  return {{"samples", s.latency_samples},
          {"p50", s.p50_us},
          {"p99", s.p99_us},
          {"p999", s.p999_us},
          {"max", s.max_us}};
}

json direction_json(const StepResult::Direction& d) {
  return {{"sent_packets", d.sent},
          {"received_packets", d.received},
          {"expected_packets", d.expected},
          {"loss_pct", d.loss_pct},
          {"duplicates", d.duplicates},
          {"reordered", d.reordered},
          {"silent_pairs", d.silent_pairs},
          {"latency_us",
           {{"p50", d.p50_us}, {"p99", d.p99_us}, {"p999", d.p999_us}, {"max", d.max_us}}}};
}

// --scenario turn: the fields every step has (subscribers = pairs,
// forwarded = relayed), both directions and every pair.
json turn_step_json(const StepResult& s) {
  json pairs = json::array();
  for (size_t i = 0; i < s.pairs.size(); ++i) {
    const StepResult::Pair& p = s.pairs[i];
    pairs.push_back(
        {{"index", i},
         {"client_port", p.client_port},
         {"peer_port", p.peer_port},
         {"relayed", p.relayed},
         {"to_peer", {{"received", p.to_peer_received}, {"expected", p.to_peer_expected}}},
         {"to_client", {{"received", p.to_client_received}, {"expected", p.to_client_expected}}}});
  }
  // Relayed packets per second of server CPU: a server's capacity per core.
  const double cpu_s = s.ternd_cpu_pct / 100 * s.seconds;
  return {
      {"pairs", s.subscribers},
      {"subscribers", s.subscribers},
      {"seconds", s.seconds},
      {"sent_packets", s.sent_packets},
      {"sent_bytes", s.sent_bytes},
      {"received_packets", s.received},
      {"expected_packets", s.expected},
      {"received_bytes", s.bytes},
      {"relayed_pps", s.pps},
      {"forwarded_pps", s.pps},
      {"relayed_mbps", s.mbps},
      {"forwarded_mbps", s.mbps},
      {"loss_pct", s.loss_pct},
      {"duplicates", s.duplicates},
      {"reordered", s.reordered},
      {"payload_errors", s.payload_errors},
      {"pairs_without_packets", s.subscribers_without_packets},
      {"pacing_skipped", s.pacing_skipped},
      {"send_errors", s.send_errors},
      {"latency_us", latency_json(s)},
      {"to_peer", direction_json(s.to_peer)},
      {"to_client", direction_json(s.to_client)},
      {"server_cpu_pct", s.ternd_cpu_pct},
      {"ternd_cpu_pct", s.ternd_cpu_pct},
      {"relayed_per_server_cpu_s", s.ternd_cpu_pct > 0 ? json(double(s.received) / cpu_s) : json()},
      {"loadgen_cpu_pct", s.loadgen_cpu_pct},
      {"per_pair", pairs},
      {"stopped", s.stopped},
      {"stop_reason", s.stop_reason}};
}

std::string turn_markdown(const RunResult& r) {
  const Options& o = r.options;
  std::string md = absl::StrFormat(
      "tern-loadgen turn against %s: %u pps per pair and direction, %u B payload, %.1f s per "
      "step, stop at loss > %.2f%%\n\n",
      o.turn_server, o.pps, o.payload, o.step_seconds, o.max_loss_pct);
  md +=
      "| pairs | sent pkts | recv pkts | relayed pps | Mbps | loss % | reord | dup | p50 us | "
      "p99 us | p999 us | server CPU % | relayed / server CPU-s | loadgen CPU % |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const StepResult& s : r.steps) {
    const double cpu_s = s.ternd_cpu_pct / 100 * s.seconds;
    md += absl::StrFormat(
        "| %u | %llu | %llu | %.0f | %.2f | %.3f | %llu | %llu | %.0f | %.0f | %.0f | %.1f | %s | "
        "%.1f |\n",
        s.subscribers, (unsigned long long)s.sent_packets, (unsigned long long)s.received, s.pps,
        s.mbps, s.loss_pct, (unsigned long long)s.reordered, (unsigned long long)s.duplicates,
        s.p50_us, s.p99_us, s.p999_us, s.ternd_cpu_pct,
        s.ternd_cpu_pct > 0 ? absl::StrFormat("%.0f", double(s.received) / cpu_s) : "n/a",
        s.loadgen_cpu_pct);
  }
  md += "\nStopped: " + r.stop_reason + "\n";
  return md;
}

}  // namespace

double loss_pct(uint64_t expected, uint64_t received) {
  if (expected == 0) return 100;
  return std::max(0.0, 100.0 * double(int64_t(expected) - int64_t(received)) / double(expected));
}

bool push_step(RunResult* r, StepResult st, double max_loss_pct) {
  const bool over = st.loss_pct > max_loss_pct;
  if (over) {
    st.stopped = true;
    st.stop_reason = absl::StrFormat("loss %.3f%% > --max-loss %.3f%%", st.loss_pct, max_loss_pct);
    r->stop_reason = st.stop_reason;
  }
  r->steps.push_back(std::move(st));
  return over;
}

std::string totals_line(const RunTotals& t, const char* what) {
  return absl::StrFormat(
      "totals: sent %llu %s packets, received %llu; datagrams out %llu, in %llu",
      (unsigned long long)t.sent_packets, what, (unsigned long long)t.received_packets,
      (unsigned long long)t.datagrams_sent, (unsigned long long)t.datagrams_received);
}

json to_json(const RunResult& r) {
  const Options& o = r.options;
  json j;
  j["tool"] = "tern-loadgen";
  j["config"] = {{"target", o.target},
                 {"scenario", o.scenario},
                 {"room_size", o.room_size},
                 {"room", o.room},
                 {"subscribers", o.subscribers},
                 {"video_kbps", o.video_kbps},
                 {"audio", o.audio},
                 {"audio_kbps", o.audio_kbps},
                 {"fps", o.fps},
                 {"keyframe_interval", o.keyframe_interval},
                 {"step_seconds", o.step_seconds},
                 {"warmup_seconds", o.warmup_seconds},
                 {"max_loss_pct", o.max_loss_pct},
                 {"decrypt_every", o.decrypt_every},
                 {"corrupt_subscribers", o.corrupt_subscribers},
                 {"drop_every", o.drop_every},
                 {"retransmit", o.retransmit},
                 {"nack", o.nack},
                 {"reflector", o.reflector}};
  if (o.scenario == "turn")
    j["config"].update({{"turn_server", o.turn_server},
                        {"turn_user", o.turn_user},
                        {"pairs", o.subscribers},
                        {"pps_per_direction", o.pps},
                        {"payload_bytes", o.payload}});
  j["ternd_pid"] = r.ternd_pid;  // the server's pid whatever the target (kept for old readers)
  j["srtp_profile"] = r.srtp_profile;
  j["wire"] = r.wire;
  const WireCounters& w = r.wire_counters;
  j["wire_counters"] = {{"tx_frames", w.tx_frames},   {"rx_frames", w.rx_frames},
                        {"tx_full", w.tx_full},       {"rx_unknown", w.rx_unknown},
                        {"rx_not_udp", w.rx_not_udp}, {"arp_answered", w.arp_answered}};
  j["stop_reason"] = r.stop_reason;
  j["errors"] = r.errors;
  json steps = json::array();
  for (const StepResult& s : r.steps) {
    if (o.scenario == "turn") {
      steps.push_back(turn_step_json(s));
      continue;
    }
    json subs = json::array();
    for (size_t i = 0; i < s.received_per_subscriber.size(); ++i) {
      // Each received SSRC's window: extended sequences first..highest
      // (RFC 3550 A.1; the first packet of a stream is 65536 + its seq).
      json streams = json::array();
      for (const StreamWindow& w : s.streams_per_subscriber[i])
        streams.push_back({{"ssrc", w.ssrc},
                           {"kind", w.video ? "video" : "audio"},
                           {"window_open", w.open},
                           {"first_seq", w.first},
                           {"highest_seq", w.highest},
                           {"received", w.received},
                           {"expected", w.expected}});
      subs.push_back({{"index", i},
                      {"received", s.received_per_subscriber[i]},
                      {"corrupt_key", i < o.corrupt_subscribers},
                      {"local_port", s.port_per_subscriber[i]},
                      {"streams", streams}});
    }
    steps.push_back({{"subscribers", s.subscribers},
                     {"seconds", s.seconds},
                     {"sent_packets", s.sent_packets},
                     {"sent_bytes", s.sent_bytes},
                     {"received_packets", s.received},
                     {"expected_packets", s.expected},
                     {"received_bytes", s.bytes},
                     {"forwarded_pps", s.pps},
                     {"forwarded_mbps", s.mbps},
                     {"loss_pct", s.loss_pct},
                     {"duplicates", s.duplicates},
                     {"reordered", s.reordered},
                     {"auth_failures", s.auth_fail},
                     {"payload_errors", s.payload_errors},
                     {"subscribers_without_packets", s.subscribers_without_packets},
                     {"nack_sent", s.nack_out},
                     {"publisher_retransmits", s.retransmits},
                     {"publisher_pli_in", s.pli_in},
                     {"publisher_frames_skipped", s.frames_skipped},
                     {"publisher_withheld", s.withheld},
                     {"latency_us", latency_json(s)},
                     {"ternd_cpu_pct", s.ternd_cpu_pct},
                     {"loadgen_cpu_pct", s.loadgen_cpu_pct},
                     {"server_busy_pct", s.server_busy_pct},
                     {"server_busy_ns_per_tx", s.server_busy_ns_per_tx},
                     {"server_rx_packets", s.server_rx},
                     {"server_tx_packets", s.server_tx},
                     {"per_subscriber", subs},
                     {"stopped", s.stopped},
                     {"stop_reason", s.stop_reason}});
  }
  j["steps"] = steps;
  const RunTotals& t = r.totals;
  j["totals"] = {{"sent_packets", t.sent_packets},
                 {"received_packets", t.received_packets},
                 {"rtp_datagrams_received", t.rtp_datagrams_received},
                 {"datagrams_sent", t.datagrams_sent},
                 {"datagrams_received", t.datagrams_received},
                 {"auth_failures", t.auth_failures},
                 {"send_errors", t.send_errors}};
  if (o.scenario == "turn")
    j["totals"].update({{"channel_data_sent", t.channel_data_sent}, {"peer_sent", t.peer_sent}});
  return j;
}

std::string to_markdown(const RunResult& r) {
  if (r.options.scenario == "turn") return turn_markdown(r);
  const Options& o = r.options;
  const std::string media =
      o.scenario == "conference"
          ? absl::StrFormat("audio %u kbps per participant", o.audio_kbps)
          : absl::StrFormat("video %u kbps%s", o.video_kbps,
                            o.audio ? absl::StrFormat(" + audio %u kbps", o.audio_kbps) : "");
  std::string md =
      absl::StrFormat("tern-loadgen %s against %s: %s, %.1f s per step, stop at loss > %.2f%%\n\n",
                      o.scenario, o.target, media, o.step_seconds, o.max_loss_pct);
  const char* first = o.scenario == "conference" ? "participants"
                      : o.scenario == "rooms"    ? "rooms"
                                                 : "subs";
  md += "| " + std::string(first) +
        " | sent pkts | recv pkts | fwd pps | fwd Mbps | loss % | reord | dup | "
        "p50 us | p99 us | p999 us | server CPU % | loadgen CPU % |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const StepResult& s : r.steps)
    md += absl::StrFormat(
        "| %u | %llu | %llu | %.0f | %.2f | %.3f | %llu | %llu | %.0f | %.0f | %.0f | %.1f | "
        "%.1f |\n",
        s.subscribers, (unsigned long long)s.sent_packets, (unsigned long long)s.received, s.pps,
        s.mbps, s.loss_pct, (unsigned long long)s.reordered, (unsigned long long)s.duplicates,
        s.p50_us, s.p99_us, s.p999_us, s.ternd_cpu_pct, s.loadgen_cpu_pct);
  md += "\nStopped: " + r.stop_reason + "\n";
  return md;
}

}  // namespace tern::loadgen
