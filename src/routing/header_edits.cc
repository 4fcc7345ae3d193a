#include "routing/header_edits.h"

#include <algorithm>

namespace switchyard::routing {

HeaderEdits::HeaderEdits(const config::HeaderEditSpec& spec) {
  dropped_ = spec.remove;
  for (const auto& [name, value] : spec.set) {
    dropped_.push_back(name);
    appended_.emplace_back(name, value);
  }
  for (const auto& kv : spec.add) appended_.push_back(kv);
}

bool HeaderEdits::listed(std::string_view name) const {
  return std::find(dropped_.begin(), dropped_.end(), name) != dropped_.end();
}

}  // namespace switchyard::routing
