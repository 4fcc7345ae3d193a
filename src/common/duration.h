// Durations and byte sizes as they are written in the YAML file
// ("250ms", "5s", "1m30s", "64KiB"). Pure functions, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard {

using Duration = std::chrono::nanoseconds;

// Parses "<number><unit>[<number><unit>...]" with units h, m, s, ms, us, ns,
// e.g. "1m30s", "250ms", "0s". Returns nullopt for anything else
// (including a bare number, a negative value or an overflow).
std::optional<Duration> parseDuration(std::string_view text);

// Formats a duration compactly for logs and /config ("250ms", "5s", "1m30s").
std::string formatDuration(Duration d);

// Parses a byte size: a plain integer, or an integer followed by
// B, KiB, MiB, GiB (also KB/MB/GB as powers of 1000). nullopt on error.
std::optional<uint64_t> parseByteSize(std::string_view text);

}  // namespace switchyard
