// tern-loadgen: emulates WebRTC endpoints against ternd (docs/loadgen.md).
//
//   tern-loadgen --control-socket PATH --scenario fanout --subscribers 1,2,4,8
//                --video-kbps 1000 [--audio] --step-seconds 5 --max-loss 1
//                [--json out.json] [--markdown out.md]
//   tern-loadgen --scenario turn --turn HOST:PORT --turn-user U --turn-password P
//                --subscribers 1,8,32 [--pps 500] [--payload 1200] [--server-pid PID]
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/loadgen/scenario.h"

namespace {

constexpr char kUsage[] =
    "usage: tern-loadgen --control-socket PATH [options]\n"
    "       tern-loadgen --target janus --janus-url http://HOST:PORT/janus --server-pid PID "
    "[options]\n"
    "       tern-loadgen --target whip --whip-url http://HOST:PORT [--http-token T] [options]\n"
    "       tern-loadgen --reflector HOST:PORT [--srtp-key HEX] [options]\n"
    "       tern-loadgen --scenario turn --turn HOST:PORT --turn-user U --turn-password P\n"
    "                    [--server-pid PID | --control-socket PATH] [options]\n"
    "  --target ternd|janus|whip  the server: ternd over its control socket (default),\n"
    "                             Janus's VideoRoom over its REST API (--janus-url), or\n"
    "                             WHIP/WHEP (POST /whip/{room}, /whep/{room}; --whip-url)\n"
    "  --reflector HOST:PORT      (--target reflector) no ICE/DTLS: each peer sends SRTP with\n"
    "                             a static key to a UDP echo and receives its own streams;\n"
    "                             --subscribers counts peers (a counting self-check)\n"
    "  --srtp-key HEX             the reflector's key|salt, 60 hex digits (random per run)\n"
    "  --scenario fanout          one publisher, subscribers added per step\n"
    "  --scenario conference      audio conference: N participants each publish audio\n"
    "                             and receive the N-1 others (fresh room per step)\n"
    "  --scenario rooms           N small rooms per step, each 1 publisher (as fanout)\n"
    "                             and --room-size subscribers (2)\n"
    "  --scenario turn            pure TURN relay load, no SFU: per step N relay pairs, each a\n"
    "                             TURN client (allocation, ChannelBind, ChannelData) and a UDP\n"
    "                             peer sending to its relayed address; both directions measured.\n"
    "                             The target is the --turn server itself (no --control-socket\n"
    "                             needed; if given, only for ternd's pid); runs end by 290 s\n"
    "  --pps N                    turn: packets/s per pair and direction (500)\n"
    "  --payload BYTES            turn: bytes per packet, 20..1468 (1200)\n"
    "  --subscribers 1,2,4,8      per step: subscribers (fanout), participants (conference),\n"
    "                             rooms (rooms) or relay pairs (turn)\n"
    "  --video-kbps N             publisher video bitrate (VP8-like, 0 = no video; 1000)\n"
    "  --audio                    also publish Opus-like audio (--audio-kbps N, 32)\n"
    "  --fps N --keyframe-interval N   video frame rate (30) and frames per keyframe (60)\n"
    "  --pacing F                 video leaves at most at F x its bitrate within a frame,\n"
    "                             as a browser's pacer does (2.5; 0 = each frame at once)\n"
    "  --step-seconds S           measurement window per step (5)\n"
    "  --warmup-seconds S         after every subscriber receives, before measuring (1)\n"
    "  --max-loss PCT             stop after the first step with more loss (1)\n"
    "  --max-duration S           bound on the whole run (600)\n"
    "  --decrypt-every N          subscribers unprotect 1 packet in N (1 = all)\n"
    "  --corrupt-subscriber-key N the first N subscribers use a wrong SRTP key (a check)\n"
    "  --drop-every N             publishers withhold every Nth video packet (a NACK check)\n"
    "  --no-retransmit            publishers ignore NACKs (withheld packets stay lost)\n"
    "  --no-nack                  subscribers send no NACKs (loss stays loss)\n"
    "  --turn HOST:PORT --turn-user U --turn-password P\n"
    "                             every endpoint reaches the server through this TURN\n"
    "                             relay (UDP allocation, ChannelData), like a browser\n"
    "                             with iceTransportPolicy 'relay'\n"
    "  --dpdk \"EAL ARGS\" --dpdk-ip A.B.C.D [--dpdk-port NAME]\n"
    "                             endpoints on a DPDK port instead of kernel sockets, e.g.\n"
    "                             --dpdk \"--no-pci --in-memory --vdev=net_memif0,role=client,\n"
    "                             socket=/run/tern-memif.sock\" --dpdk-ip 198.18.1.2 (the port\n"
    "                             defaults to the first --vdev's name)\n"
    "  --dpdk-hold-ms N           after the run keep the DPDK port up, not polled, until\n"
    "                             SIGUSR1 or N ms, then close it and write the results:\n"
    "                             lets a harness stop a net_memif peer first (DPDK 22.11's\n"
    "                             memif unmaps the rings on a disconnect while its peer\n"
    "                             may still poll them)\n"
    "  --room NAME                room to publish into (loadgen)\n"
    "  --server-pid PID           for CPU % (default: ternd's server.info pid; alias --ternd-pid)\n"
    "  --json FILE --markdown FILE   results\n"
    "  --quiet                    no progress lines\n";

int usage(const std::string& why) {
  std::fprintf(stderr, "tern-loadgen: %s\n%s", why.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  tern::loadgen::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (k == "--audio") {
      o.audio = true;
      continue;
    }
    if (k == "--no-retransmit") {
      o.retransmit = false;
      continue;
    }
    if (k == "--no-nack") {
      o.nack = false;
      continue;
    }
    if (k == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (i + 1 >= argc) return usage(k + ": missing value");
    const std::string v = argv[++i];
    auto num = [&](auto* out) {
      if (!absl::SimpleAtoi(v, out)) std::exit(usage(k + ": not a number: " + v));
    };
    auto real = [&](double* out) {
      if (!absl::SimpleAtod(v, out) || *out < 0) std::exit(usage(k + ": not a number: " + v));
    };
    if (k == "--control-socket") {
      o.control_socket = v;
    } else if (k == "--target") {
      o.target = v;
    } else if (k == "--janus-url") {
      o.janus_url = v;
    } else if (k == "--whip-url") {
      o.whip_url = v;
    } else if (k == "--turn") {
      o.turn_server = v;
    } else if (k == "--turn-user") {
      o.turn_user = v;
    } else if (k == "--turn-password") {
      o.turn_password = v;
    } else if (k == "--http-token") {
      o.http_token = v;
    } else if (k == "--reflector") {
      o.reflector = v;
      o.target = "reflector";
    } else if (k == "--srtp-key") {
      o.srtp_key = v;
    } else if (k == "--scenario") {
      o.scenario = v;
    } else if (k == "--room") {
      o.room = v;
    } else if (k == "--subscribers") {
      o.subscribers.clear();
      for (absl::string_view s : absl::StrSplit(v, ',')) {
        uint32_t n;
        if (!absl::SimpleAtoi(s, &n) || n == 0 || n > 4096)
          return usage("--subscribers: want counts 1..4096 separated by commas, got " + v);
        o.subscribers.push_back(n);
      }
    } else if (k == "--video-kbps") {
      num(&o.video_kbps);
    } else if (k == "--pps") {
      num(&o.pps);
    } else if (k == "--payload") {
      num(&o.payload);
    } else if (k == "--room-size") {
      num(&o.room_size);
    } else if (k == "--audio-kbps") {
      num(&o.audio_kbps);
    } else if (k == "--fps") {
      num(&o.fps);
    } else if (k == "--keyframe-interval") {
      num(&o.keyframe_interval);
    } else if (k == "--step-seconds") {
      real(&o.step_seconds);
    } else if (k == "--pacing") {
      real(&o.pacing);
    } else if (k == "--warmup-seconds") {
      real(&o.warmup_seconds);
    } else if (k == "--max-loss") {
      real(&o.max_loss_pct);
    } else if (k == "--max-duration") {
      real(&o.max_duration_s);
    } else if (k == "--decrypt-every") {
      num(&o.decrypt_every);
    } else if (k == "--corrupt-subscriber-key") {
      num(&o.corrupt_subscribers);
    } else if (k == "--drop-every") {
      num(&o.drop_every);
    } else if (k == "--ternd-pid" || k == "--server-pid") {
      num(&o.ternd_pid);
    } else if (k == "--dpdk") {
      o.dpdk_eal = absl::StrSplit(v, ' ', absl::SkipEmpty());
    } else if (k == "--dpdk-port") {
      o.dpdk_port = v;
    } else if (k == "--dpdk-ip") {
      o.dpdk_ip = v;
    } else if (k == "--dpdk-hold-ms") {
      num(&o.dpdk_hold_ms);
    } else if (k == "--json") {
      o.json_out = v;
    } else if (k == "--markdown") {
      o.markdown_out = v;
    } else {
      return usage("unknown option " + k);
    }
  }
  if (o.scenario == "turn") {
    // The server under test is the TURN server: no signalling target.
    if (o.target != "ternd" && o.target != "turn")
      return usage("--scenario turn: the target is the --turn server, not " + o.target);
    o.target = "turn";
    if (o.turn_server.empty()) return usage("--scenario turn needs --turn HOST:PORT");
    if (o.pps == 0 || o.pps > 100000) return usage("--pps: want 1..100000");
    if (o.payload < 20 || o.payload > 1468) return usage("--payload: want 20..1468 bytes");
  } else if (o.target == "turn") {
    return usage("--target turn goes with --scenario turn");
  }
  if (o.target != "ternd" && o.target != "janus" && o.target != "whip" && o.target != "reflector" &&
      o.target != "turn")
    return usage("--target: want ternd, janus, whip or reflector, got " + o.target);
  if (!o.turn_server.empty() && (o.turn_user.empty() || o.turn_password.empty()))
    return usage("--turn needs --turn-user and --turn-password");
  if (o.target == "whip" && o.whip_url.empty())
    return usage("--whip-url is required (--target whip)");
  if (o.target == "whip" && o.scenario == "conference")
    return usage(
        "--target whip: WHEP cannot leave out a participant's own stream; "
        "use --scenario fanout or rooms");
  if (o.target == "reflector" && o.reflector.empty())
    return usage("--reflector HOST:PORT is required (--target reflector)");
  if (o.target == "reflector" && o.scenario != "fanout")
    return usage("--reflector: only --scenario fanout (peers that receive their own streams)");
  if (o.target == "ternd" && o.control_socket.empty())
    return usage("--control-socket is required (--target ternd)");
  if (o.target == "janus" && o.janus_url.empty())
    return usage("--janus-url is required (--target janus)");
  if (o.scenario != "fanout" && o.scenario != "conference" && o.scenario != "rooms" &&
      o.scenario != "turn")
    return usage("--scenario: want fanout, conference, rooms or turn, got " + o.scenario);
  if (o.scenario == "rooms" && (o.room_size == 0 || o.room_size > 64))
    return usage("--room-size: want 1..64");
  if (o.scenario != "conference" && o.scenario != "turn" && o.video_kbps == 0 && !o.audio)
    return usage("nothing to send: --video-kbps 0 without --audio");
  if (o.scenario == "conference" && o.subscribers.front() < 2)
    return usage("--subscribers: a conference needs at least 2 participants per step");
  for (size_t i = 1; i < o.subscribers.size(); ++i)
    if ((o.scenario == "fanout" || o.scenario == "turn") && o.subscribers[i] < o.subscribers[i - 1])
      return usage("--subscribers: fanout and turn steps must not decrease (only added)");
  if (o.dpdk_hold_ms > 0 && o.dpdk_eal.empty()) return usage("--dpdk-hold-ms needs --dpdk");
  if (o.dpdk_hold_ms > 600000) return usage("--dpdk-hold-ms: want 0..600000");
  if (o.dpdk_hold_ms > 0) {
    // Every thread (EAL's too, created later) inherits the mask: SIGUSR1
    // only ever ends the hold (sigtimedwait), it never kills us.
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  }
  if (!o.dpdk_eal.empty() && o.dpdk_ip.empty())
    return usage("--dpdk needs --dpdk-ip (the loadgen's IPv4 address on that link)");
  if (o.dpdk_eal.empty() && (!o.dpdk_ip.empty() || !o.dpdk_port.empty()))
    return usage("--dpdk-ip / --dpdk-port need --dpdk \"EAL ARGS\"");
  if (!o.dpdk_eal.empty() && o.dpdk_port.empty()) {
    for (const std::string& a : o.dpdk_eal)
      if (a.rfind("--vdev=", 0) == 0) {
        o.dpdk_port =
            a.substr(7, a.find(',') == std::string::npos ? std::string::npos : a.find(',') - 7);
        break;
      }
    if (o.dpdk_port.empty()) return usage("--dpdk: no --vdev=NAME,... in it; give --dpdk-port");
  }
  if (o.fps == 0 || o.fps > 120) return usage("--fps: want 1..120");
  if (o.step_seconds <= 0) return usage("--step-seconds: want > 0");
  if (o.pacing != 0 && o.pacing < 1.5)
    return usage("--pacing: want 0 (off) or >= 1.5 (a keyframe is 3x a delta frame)");

  auto r = tern::loadgen::run_scenario(o);
  if (!r.ok()) {
    std::fprintf(stderr, "tern-loadgen: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  const std::string md = tern::loadgen::to_markdown(*r);
  std::printf("%s", md.c_str());
  if (!o.json_out.empty()) std::ofstream(o.json_out) << tern::loadgen::to_json(*r).dump(2) << "\n";
  if (!o.markdown_out.empty()) std::ofstream(o.markdown_out) << md;
  // Exit 0 when the run went through its steps (stopping on loss is a result);
  // 1 when setup failed before any step was measured.
  return r->steps.empty() ? 1 : 0;
}
