#include "engine/sctp/sctp_stack.h"

#include <usrsctp.h>

#include "absl/status/status.h"
#include "engine/sctp/sctp_association.h"

namespace tern::sctp {

namespace {

// Guards the handle below and usrsctp's init/finish.
std::mutex g_acquire_mu;
std::weak_ptr<SctpStack> g_stack_weak;
// The live stack, for the C output callback (usrsctp gives it no user pointer
// but the sconn_addr). Set under g_acquire_mu; read by the callback, which
// usrsctp runs only inside calls made under the stack's mutex.
SctpStack* g_stack = nullptr;
bool g_usrsctp_up = false;

}  // namespace

absl::StatusOr<std::shared_ptr<SctpStack>> SctpStack::acquire(const SctpStackConfig& config) {
  std::lock_guard<std::mutex> g(g_acquire_mu);
  if (auto s = g_stack_weak.lock()) return s;
  if (!g_usrsctp_up) {
    // Port 0: no UDP encapsulation socket. No debug printer: debug output off.
    usrsctp_init_nothreads(0, &SctpStack::output_callback, nullptr);
    // Data channels never use these: ASCONF/AUTH (one address, DTLS
    // authenticates), ECN (DTLS over UDP hides the IP ECN bits: conninput gets 0),
    // NR-SACK and PKTDROP (non-standard).
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auth_enable(0);
    usrsctp_sysctl_set_sctp_nrsack_enable(0);
    usrsctp_sysctl_set_sctp_pktdrop_enable(0);
    // What they do use: PR-SCTP (RFC 3758) and stream reset (RFC 6525).
    usrsctp_sysctl_set_sctp_pr_enable(1);
    usrsctp_sysctl_set_sctp_reconfig_enable(1);
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(config.max_chunks_on_queue);
    g_usrsctp_up = true;
  }
  std::shared_ptr<SctpStack> s(new SctpStack());
  g_stack = s.get();
  g_stack_weak = s;
  return s;
}

SctpStack::~SctpStack() {
  std::lock_guard<std::mutex> g(g_acquire_mu);
  if (g_stack == this) g_stack = nullptr;
  if (!g_usrsctp_up) return;
  // Every association is gone (each held a handle). usrsctp frees closed
  // sockets from its timers: run a few seconds of its clock (virtual, nothing
  // else is alive to notice), then try to shut it down. If it still refuses it
  // stays initialised for the next acquire().
  for (int i = 0; i < 50; ++i) {
    usrsctp_handle_timers(100);
    if (usrsctp_finish() == 0) {
      g_usrsctp_up = false;
      return;
    }
  }
}

void SctpStack::advance(Nanos now) {
  std::lock_guard<std::mutex> g(mu_);
  advance_locked(now);
}

void SctpStack::advance_locked(Nanos now) {
  if (!clock_set_) {
    clock_ = now;
    clock_set_ = true;
    return;
  }
  if (now <= clock_) return;  // another worker's clock was ahead: nothing elapsed
  const Nanos elapsed_ms = (now - clock_) / kMillisecond;
  if (elapsed_ms <= 0) return;
  // Bounded per call so a long stall cannot overflow the 32-bit argument.
  const uint32_t ms = elapsed_ms > 60'000 ? 60'000u : static_cast<uint32_t>(elapsed_ms);
  clock_ += elapsed_ms * kMillisecond;
  usrsctp_handle_timers(ms);
}

uint64_t SctpStack::register_association(SctpAssociation* a) {
  const uint64_t id = next_id_++;
  assocs_[id] = a;
  usrsctp_register_address(reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  return id;
}

void SctpStack::unregister_association(uint64_t id) {
  assocs_.erase(id);
  usrsctp_deregister_address(reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
}

int SctpStack::output_callback(void* addr, void* buffer, size_t length, uint8_t /*tos*/,
                               uint8_t /*set_df*/) {
  SctpStack* s = g_stack;
  if (s == nullptr || buffer == nullptr) return 0;
  auto it = s->assocs_.find(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(addr)));
  if (it == s->assocs_.end()) return 0;  // association already destroyed: drop
  it->second->enqueue_output(static_cast<const uint8_t*>(buffer), length);
  return 0;
}

}  // namespace tern::sctp
