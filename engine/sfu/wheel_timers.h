// TransportTimers over a worker's TimerWheel. Header-only on purpose:
// engine/sfu is configured before engine/worker (which builds the wheel), so
// only the code that owns a wheel (the worker, tests) instantiates this and
// links tern_timer.
#pragma once

#include "engine/sfu/transport_host.h"
#include "engine/worker/timer_wheel.h"

namespace tern::sfu {

class WheelTransportTimers final : public TransportTimers {
 public:
  explicit WheelTransportTimers(TimerWheel& wheel) : wheel_(wheel) {}
  uint64_t schedule(Nanos deadline, TransportHost* host, uint64_t id) override {
    return wheel_.schedule(deadline, &fire, host, id);
  }
  void cancel(uint64_t handle) override { wheel_.cancel(handle); }

 private:
  static void fire(void* ctx, uint64_t cookie, Nanos now) {
    static_cast<TransportHost*>(ctx)->on_timer(cookie, now);
  }
  TimerWheel& wheel_;
};

}  // namespace tern::sfu
