#include "proxy/worker_context.h"

namespace switchyard::proxy {

uint64_t WorkerContext::random() {
  // xorshift64: one sequence per worker thread, no locks.
  thread_local uint64_t state = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace switchyard::proxy
