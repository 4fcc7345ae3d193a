#include "schema/descriptor_catalog.h"

#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace switchyard::schema {
namespace {

namespace pb = google::protobuf;

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string setName(const DescriptorSetInput& in) {
  return (in.origin.empty() ? "" : in.origin + ": ") + "descriptor set " + quote(in.path);
}

// Collects the pool's complaints about one file into a single message.
class CollectErrors : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (!text.empty()) text += "; ";
    text += filename + (element_name.empty() ? "" : " (" + element_name + ")") + ": " + message;
  }
  std::string text;
};

struct FileEntry {
  pb::FileDescriptorProto proto;
  std::string bytes;
  size_t set = 0;  // index of the first set that holds it
};

}  // namespace

const std::string* DescriptorCatalog::fileBytes(std::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

Result<std::shared_ptr<const DescriptorCatalog>> DescriptorCatalog::build(
    const std::vector<DescriptorSetInput>& sets) {
  std::map<std::string, FileEntry> files;
  std::vector<std::string> order;  // file names in the order the sets list them
  for (size_t i = 0; i < sets.size(); ++i) {
    const auto& in = sets[i];
    pb::FileDescriptorSet set;
    if (in.bytes.empty() || !set.ParseFromString(in.bytes)) {
      return Error{setName(in) +
                   ": not a serialized google.protobuf.FileDescriptorSet (make one with protoc "
                   "--include_imports --descriptor_set_out=FILE)"};
    }
    if (set.file_size() == 0) return Error{setName(in) + ": holds no files"};
    for (auto& file : *set.mutable_file()) {
      if (file.name().empty()) return Error{setName(in) + ": a file has no name"};
      std::string bytes = file.SerializeAsString();
      auto [it, fresh] = files.try_emplace(file.name());
      if (!fresh) {
        if (it->second.bytes != bytes) {
          return Error{setName(in) + ": file " + quote(file.name()) +
                       " differs from the file of that name in " + setName(sets[it->second.set])};
        }
        continue;
      }
      it->second.proto = std::move(file);
      it->second.bytes = std::move(bytes);
      it->second.set = i;
      order.push_back(it->first);
    }
  }

  std::shared_ptr<DescriptorCatalog> cat(new DescriptorCatalog());
  cat->pool_ = std::make_unique<pb::DescriptorPool>();
  // Build each file after its imports (depth first; a cycle is reported).
  std::set<std::string> built;
  std::set<std::string> visiting;
  std::function<Status(const std::string&, const std::string&)> visit =
      [&](const std::string& name, const std::string& importer) -> Status {
    if (built.count(name)) return {};
    auto it = files.find(name);
    if (it == files.end()) {
      const FileEntry& from = files.at(importer);
      return Error{setName(sets[from.set]) + ": " + quote(importer) + " imports " + quote(name) +
                   ", which no descriptor set holds (build the set with protoc --include_imports)"};
    }
    const FileEntry& entry = it->second;
    if (!visiting.insert(name).second) {
      return Error{setName(sets[entry.set]) + ": import cycle through " + quote(name)};
    }
    for (const auto& dep : entry.proto.dependency()) {
      if (Status st = visit(dep, name); !st.ok()) return st;
    }
    visiting.erase(name);
    CollectErrors errors;
    if (cat->pool_->BuildFileCollectingErrors(entry.proto, &errors) == nullptr) {
      return Error{setName(sets[entry.set]) + ": invalid file " + quote(name) + ": " + errors.text};
    }
    built.insert(name);
    return {};
  };
  for (const auto& name : order) {
    if (Status st = visit(name, name); !st.ok()) return Error{st.error()};
  }
  for (auto& [name, entry] : files) {
    const pb::FileDescriptor* fd = cat->pool_->FindFileByName(name);
    for (int s = 0; s < fd->service_count(); ++s) cat->services_.push_back(fd->service(s));
    cat->files_.emplace(name, std::move(entry.bytes));
  }
  std::sort(cat->services_.begin(), cat->services_.end(),
            [](const auto* a, const auto* b) { return a->full_name() < b->full_name(); });
  return std::shared_ptr<const DescriptorCatalog>(std::move(cat));
}

Result<CatalogPtr> loadCatalog(const config::Config& cfg) {
  std::vector<const config::DescriptorSetSpec*> specs;
  for (const auto& d : cfg.descriptor_sets) specs.push_back(&d);
  for (const auto& c : cfg.clusters) {
    for (const auto& d : c.descriptor_sets) specs.push_back(&d);
  }
  if (specs.empty()) return CatalogPtr{};
  std::vector<DescriptorSetInput> inputs;
  std::set<std::string> seen;
  for (const auto* d : specs) {
    if (!seen.insert(d->path).second) continue;  // named twice: read once
    DescriptorSetInput in;
    in.path = d->path;
    in.origin = cfg.path + ":" + std::to_string(d->mark.line) + ":" + std::to_string(d->mark.col);
    std::ifstream f(d->path, std::ios::binary);
    if (!f) return Error{setName(in) + ": cannot read: " + std::strerror(errno)};
    std::ostringstream ss;
    ss << f.rdbuf();
    in.bytes = ss.str();
    inputs.push_back(std::move(in));
  }
  auto built = DescriptorCatalog::build(inputs);
  if (!built.ok()) return Error{built.error()};
  return CatalogPtr(*built);
}

}  // namespace switchyard::schema
