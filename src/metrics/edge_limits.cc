#include "metrics/edge_limits.h"

#include <array>

namespace switchyard::metrics {
namespace {

constexpr std::array<const char*, kGlitchCount> kGlitchLabels = {
    "empty_data", "ping", "settings", "client_reset", "stream_error", "header_limit"};

constexpr std::array<const char*, kListenerLimitCount> kListenerLimitLabels = {
    "max_glitches",        "header_list_size", "header_fields",  "request_headers_timeout",
    "stream_idle_timeout", "max_connections",  "accept_paused", "stream_id_regression",
    "max_concurrent_streams", "request_body_size"};

constexpr std::array<const char*, kUpstreamLimitCount> kUpstreamLimitLabels = {
    "response_headers", "request_headers", "pending_full", "pending_timeout"};

constexpr std::array<const char*, kOverflowCount> kOverflowLabels = {"max_active_rpcs",
                                                                    "max_pending"};

template <size_t N>
const char* labelOf(const std::array<const char*, N>& labels, size_t i) {
  return i < N ? labels[i] : "unknown";
}

}  // namespace

const char* glitchLabel(Glitch g) { return labelOf(kGlitchLabels, static_cast<size_t>(g)); }
const char* listenerLimitLabel(ListenerLimit l) {
  return labelOf(kListenerLimitLabels, static_cast<size_t>(l));
}
const char* upstreamLimitLabel(UpstreamLimit l) {
  return labelOf(kUpstreamLimitLabels, static_cast<size_t>(l));
}

const char* overflowLabel(Overflow o) { return labelOf(kOverflowLabels, static_cast<size_t>(o)); }

}  // namespace switchyard::metrics
