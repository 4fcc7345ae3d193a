#include "common/log.h"

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>

namespace switchyard::log {
namespace {

constexpr const char* kMainPattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";
// Access lines are preformatted by the proxy; only the timestamp is added.
constexpr const char* kAccessPattern = "[%Y-%m-%d %H:%M:%S.%e] %v";

// The access log's one sink. Its target (stdout, stderr or a file) can be
// switched while other threads log through it, so the access logger itself is
// created once and the pointer handed out by access() never dangles. A file
// target is reopened on every init() so that rotation (rename + SIGHUP) works.
class AccessSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Points the sink at stdout/stderr or opens `path` for appending. Throws
  // spdlog::spdlog_ex if the file cannot be opened; the old target stays then.
  void retarget(const std::string& target) {
    std::unique_ptr<spdlog::details::file_helper> file;
    std::FILE* stream = nullptr;
    if (target == "stdout") {
      stream = stdout;
    } else if (target == "stderr") {
      stream = stderr;
    } else {
      file = std::make_unique<spdlog::details::file_helper>();
      file->open(target, /*truncate=*/false);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      file_.swap(file);
      stream_ = stream;
    }
    // The previous file (now in `file`) is closed here, outside the lock.
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    if (file_) {
      file_->write(buf);
      file_->flush();  // one line per RPC; keep the file current for tail -f
    } else if (stream_ != nullptr) {
      std::fwrite(buf.data(), 1, buf.size(), stream_);
      std::fflush(stream_);
    }
  }

  void flush_() override {
    if (file_) {
      file_->flush();
    } else if (stream_ != nullptr) {
      std::fflush(stream_);
    }
  }

 private:
  std::unique_ptr<spdlog::details::file_helper> file_;
  std::FILE* stream_ = nullptr;
};

// Never destroyed: other threads may hold main()'s reference or access()'s
// pointer at any time, including during static destruction.
struct State {
  std::mutex mu;  // serialises init()
  std::shared_ptr<spdlog::logger> main;
  std::shared_ptr<AccessSink> access_sink;
  std::shared_ptr<spdlog::logger> access;
  std::string access_target = "off";
  std::atomic<spdlog::logger*> access_ptr{nullptr};
};

State& state() {
  static State* s = new State();
  return *s;
}

spdlog::logger& ensureMain() {
  static spdlog::logger* main_ptr = [] {
    State& s = state();
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    s.main = std::make_shared<spdlog::logger>("main", std::move(sink));
    s.main->set_pattern(kMainPattern);
    s.main->set_level(spdlog::level::info);
    s.main->flush_on(spdlog::level::warn);
    // spdlog::info(...) and spdlog::get("main") reach the same logger.
    spdlog::drop("main");
    spdlog::set_default_logger(s.main);
    return s.main.get();
  }();
  return *main_ptr;
}

std::optional<spdlog::level::level_enum> levelFromName(const std::string& name) {
  using spdlog::level::level_enum;
  if (name == "trace") return level_enum::trace;
  if (name == "debug") return level_enum::debug;
  if (name == "info") return level_enum::info;
  if (name == "warn") return level_enum::warn;
  if (name == "error") return level_enum::err;
  if (name == "critical") return level_enum::critical;
  if (name == "off") return level_enum::off;
  return std::nullopt;
}

}  // namespace

void init(const std::string& level, const std::string& access_log_target) {
  spdlog::logger& m = ensureMain();
  if (!setLevel(level)) {
    m.warn("unknown log level \"{}\", keeping \"{}\"", level,
           spdlog::level::to_string_view(m.level()));
  }

  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  const std::string target = access_log_target.empty() ? "off" : access_log_target;
  if (target == "off") {
    s.access_ptr.store(nullptr, std::memory_order_release);
    s.access_target = target;
    return;
  }
  if (!s.access) {
    s.access_sink = std::make_shared<AccessSink>();
    s.access = std::make_shared<spdlog::logger>("access", s.access_sink);
    s.access->set_pattern(kAccessPattern);
    s.access->set_level(spdlog::level::info);
    spdlog::drop("access");
    try {
      spdlog::register_logger(s.access);
    } catch (const spdlog::spdlog_ex&) {
      // Registration is a convenience for spdlog::get(); access() works regardless.
    }
  }
  // stdout/stderr need nothing when unchanged; a file is reopened every time.
  bool is_stream = target == "stdout" || target == "stderr";
  if (!(is_stream && target == s.access_target)) {
    try {
      s.access_sink->retarget(target);
    } catch (const std::exception& e) {
      m.error("cannot open access log \"{}\": {}; keeping the previous access log", target,
              e.what());
      return;
    }
  }
  s.access_target = target;
  s.access_ptr.store(s.access.get(), std::memory_order_release);
}

bool setLevel(const std::string& level) {
  auto lvl = levelFromName(level);
  if (!lvl) return false;
  ensureMain().set_level(*lvl);
  return true;
}

spdlog::logger& main() { return ensureMain(); }

spdlog::logger* access() { return state().access_ptr.load(std::memory_order_acquire); }

}  // namespace switchyard::log
