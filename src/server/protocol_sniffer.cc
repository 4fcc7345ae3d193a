#include "server/protocol_sniffer.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>

#include "metrics/worker_stats.h"

namespace switchyard::server {
namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// Bytes that match the start of the preface but are too few to tell: look
// again after this long, doubling up to kMaxRetry (the rest of a request line
// is normally in the same segment, so this almost never happens; a client
// that stalls there costs a few wake-ups, and request_headers_timeout ends it).
constexpr auto kFirstRetry = std::chrono::milliseconds(5);
constexpr auto kMaxRetry = std::chrono::milliseconds(1000);

}  // namespace

std::optional<SniffedProtocol> sniffProtocol(std::string_view bytes) {
  size_t n = std::min(bytes.size(), kPreface.size());
  if (bytes.substr(0, n) != kPreface.substr(0, n)) return SniffedProtocol::Http1;
  // "PRI " is no HTTP/1.x request a client sends; the HTTP/2 path checks the rest.
  if (n >= 4) return SniffedProtocol::Http2;
  return std::nullopt;
}

ProtocolSniffer::ProtocolSniffer(event_base* base, bufferevent* bev,
                                 const proxy::ListenerInfo& listener, Decided decided,
                                 Closed closed)
    : bev_(bev),
      listener_(listener),
      decided_(std::move(decided)),
      closed_(std::move(closed)),
      retry_timer_(base, [this] { check(); }),
      idle_timer_(base, [this] { giveUp(); }),
      close_(base, [this] { giveUp(); }) {
  read_event_.reset(event_new(base, bufferevent_getfd(bev), EV_READ, &ProtocolSniffer::onReadable, this));
}

ProtocolSniffer::~ProtocolSniffer() {
  read_event_.reset();
  if (handed_off_) return;
  // Counted like any connection, though it never got further.
  if (listener_.stats != nullptr) {
    listener_.stats->connectionOpened();
    listener_.stats->connectionClosed();
  }
  if (listener_.open_connections) listener_.open_connections->fetch_sub(1, std::memory_order_relaxed);
}

void ProtocolSniffer::begin() {
  event_add(read_event_.get(), nullptr);
  if (listener_.idle_timeout > Duration::zero()) idle_timer_.arm(listener_.idle_timeout);
}

bufferevent* ProtocolSniffer::releaseBufferevent() {
  handed_off_ = true;
  read_event_.reset();
  retry_timer_.cancel();
  idle_timer_.cancel();
  return bev_.release();
}

void ProtocolSniffer::onReadable(evutil_socket_t, short, void* arg) {
  static_cast<ProtocolSniffer*>(arg)->check();
}

void ProtocolSniffer::check() {
  std::array<char, kPreface.size()> buf;
  ssize_t got = ::recv(bufferevent_getfd(bev_.get()), buf.data(), buf.size(), MSG_PEEK);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    event_add(read_event_.get(), nullptr);
    return;
  }
  if (got <= 0) {
    giveUp();  // closed (or failed) before it said anything
    return;
  }
  auto protocol = sniffProtocol(std::string_view(buf.data(), static_cast<size_t>(got)));
  if (!protocol) {
    if (!partial_since_) {
      partial_since_ = std::chrono::steady_clock::now();
      retry_delay_ = kFirstRetry;
    }
    auto waited = std::chrono::steady_clock::now() - *partial_since_;
    if (listener_.request_headers_timeout > Duration::zero() &&
        waited >= listener_.request_headers_timeout) {
      if (listener_.stats != nullptr) {
        listener_.stats->limitHit(metrics::ListenerLimit::RequestHeadersTimeout);
      }
      giveUp();
      return;
    }
    retry_timer_.arm(retry_delay_);
    retry_delay_ = std::min<Duration>(retry_delay_ * 2, kMaxRetry);
    return;
  }
  decided_(*this, *protocol);  // may destroy this
}

void ProtocolSniffer::giveUp() { closed_(*this); }  // destroys this

}  // namespace switchyard::server
