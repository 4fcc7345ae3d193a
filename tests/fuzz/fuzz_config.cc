// Fuzz target: the YAML configuration loader (src/config/loader.*), fed the
// input as the file's text. It never throws or crashes; it either yields a
// config or errors, and every error reads "name:line:col: what".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/log.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = switchyard::log::setLevel("off");
  (void)quiet;
  std::string yaml(reinterpret_cast<const char*>(data), size);
  auto r = switchyard::config::loadString(yaml, "fuzz.yaml");
  if (r.config.has_value() == !r.errors.empty()) std::abort();
  for (const auto& e : r.errors) {
    if (e.rfind("fuzz.yaml", 0) != 0) std::abort();
  }
  return 0;
}
