#include "schema/reflection_service.h"

#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "grpc/reflection/v1/reflection.pb.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"
#include "grpc/status_code.h"

namespace switchyard::schema {
namespace {

namespace pb = google::protobuf;
namespace v1 = ::grpc::reflection::v1;

// The reflection protocol's own files, compiled into the daemon.
const pb::FileDescriptor* builtinFile(std::string_view name) {
  const pb::FileDescriptor* files[] = {
      v1::ServerReflectionRequest::descriptor()->file(),
      ::grpc::reflection::v1alpha::ServerReflectionRequest::descriptor()->file(),
  };
  for (const auto* f : files) {
    if (f->name() == name) return f;
  }
  return nullptr;
}

const pb::FileDescriptor* builtinFileForSymbol(const std::string& symbol) {
  if (symbol.rfind("grpc.reflection.", 0) != 0) return nullptr;
  const pb::FileDescriptor* f = pb::DescriptorPool::generated_pool()->FindFileContainingSymbol(symbol);
  return f != nullptr && builtinFile(f->name()) != nullptr ? f : nullptr;
}

// Fills a file_descriptor_response with the file and, after it, every file it
// imports, directly or not, each once.
class FileCollector {
 public:
  FileCollector(const DescriptorCatalog* catalog, v1::FileDescriptorResponse* out)
      : catalog_(catalog), out_(out) {}

  void add(const pb::FileDescriptor* file) {
    if (!seen_.insert(file->name()).second) return;
    // A file from the descriptor sets goes out as the set holds it (source
    // info and json names included); a built-in one is serialized here.
    const std::string* bytes = catalog_ != nullptr && file->pool() == &catalog_->pool()
                                   ? catalog_->fileBytes(file->name())
                                   : nullptr;
    if (bytes != nullptr) {
      out_->add_file_descriptor_proto(*bytes);
    } else {
      pb::FileDescriptorProto proto;
      file->CopyTo(&proto);
      out_->add_file_descriptor_proto(proto.SerializeAsString());
    }
    for (int i = 0; i < file->dependency_count(); ++i) add(file->dependency(i));
  }

 private:
  const DescriptorCatalog* catalog_;
  v1::FileDescriptorResponse* out_;
  std::set<std::string> seen_;
};

void setError(v1::ServerReflectionResponse& resp, ::switchyard::grpc::StatusCode code,
              std::string message) {
  auto* err = resp.mutable_error_response();
  err->set_error_code(static_cast<int>(code));
  err->set_error_message(std::move(message));
}

}  // namespace

bool isReflectionPath(std::string_view path) {
  return path == "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo" ||
         path == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
}

ReflectionService::ReflectionService(CatalogPtr catalog, std::vector<std::string> listed)
    : catalog_(std::move(catalog)), listed_(std::move(listed)) {}

std::optional<std::string> ReflectionService::answer(std::string_view request) const {
  using ::switchyard::grpc::StatusCode;
  // v1 and v1alpha messages are the same on the wire: v1's types serve both.
  v1::ServerReflectionRequest req;
  if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) return std::nullopt;
  v1::ServerReflectionResponse resp;
  resp.set_valid_host(req.host());
  *resp.mutable_original_request() = req;
  const pb::DescriptorPool* pool = catalog_ != nullptr ? &catalog_->pool() : nullptr;

  switch (req.message_request_case()) {
    case v1::ServerReflectionRequest::kListServices: {
      auto* list = resp.mutable_list_services_response();
      for (const auto& name : listed_) list->add_service()->set_name(name);
      break;
    }
    case v1::ServerReflectionRequest::kFileByFilename: {
      const std::string& name = req.file_by_filename();
      const pb::FileDescriptor* f = pool != nullptr ? pool->FindFileByName(name) : nullptr;
      if (f == nullptr) f = builtinFile(name);
      if (f == nullptr) {
        setError(resp, StatusCode::NotFound, "file not found: " + name);
        break;
      }
      FileCollector(catalog_.get(), resp.mutable_file_descriptor_response()).add(f);
      break;
    }
    case v1::ServerReflectionRequest::kFileContainingSymbol: {
      const std::string& symbol = req.file_containing_symbol();
      const pb::FileDescriptor* f =
          pool != nullptr ? pool->FindFileContainingSymbol(symbol) : nullptr;
      if (f == nullptr) f = builtinFileForSymbol(symbol);
      if (f == nullptr) {
        setError(resp, StatusCode::NotFound, "symbol not found: " + symbol);
        break;
      }
      FileCollector(catalog_.get(), resp.mutable_file_descriptor_response()).add(f);
      break;
    }
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = req.file_containing_extension();
      const pb::Descriptor* type =
          pool != nullptr ? pool->FindMessageTypeByName(ext.containing_type()) : nullptr;
      if (type == nullptr) {
        setError(resp, StatusCode::NotFound, "type not found: " + ext.containing_type());
        break;
      }
      const pb::FieldDescriptor* field = pool->FindExtensionByNumber(type, ext.extension_number());
      if (field == nullptr) {
        setError(resp, StatusCode::NotFound,
                 "extension not found: " + ext.containing_type() + " field " +
                     std::to_string(ext.extension_number()));
        break;
      }
      FileCollector(catalog_.get(), resp.mutable_file_descriptor_response()).add(field->file());
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const std::string& name = req.all_extension_numbers_of_type();
      const pb::Descriptor* type = pool != nullptr ? pool->FindMessageTypeByName(name) : nullptr;
      if (type == nullptr) {
        setError(resp, StatusCode::NotFound, "type not found: " + name);
        break;
      }
      std::vector<const pb::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* out = resp.mutable_all_extension_numbers_response();
      out->set_base_type_name(type->full_name());
      for (const auto* e : extensions) out->add_extension_number(e->number());
      break;
    }
    case v1::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      setError(resp, StatusCode::Unimplemented, "the request names no reflection query");
      break;
  }
  return resp.SerializeAsString();
}

}  // namespace switchyard::schema
