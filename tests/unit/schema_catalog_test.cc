// DescriptorCatalog (descriptor sets → one DescriptorPool) and the merged
// reflection service answered from it, checked with libprotobuf's own types:
// the sets are made from the test protos' generated descriptors, and every
// response is parsed back as a grpc.reflection.v1 message.
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "echo.pb.h"
#include "grpc/reflection/v1/reflection.pb.h"
#include "grpc/status_code.h"
#include "helloworld.pb.h"
#include "schema/descriptor_catalog.h"
#include "schema/reflection_service.h"

namespace switchyard::schema {
namespace {

namespace pb = google::protobuf;
namespace v1 = ::grpc::reflection::v1;

// A FileDescriptorSet holding `files` (each with its imports, imports first).
std::string setOf(std::vector<const pb::FileDescriptor*> files) {
  pb::FileDescriptorSet set;
  std::vector<std::string> added;
  std::function<void(const pb::FileDescriptor*)> add = [&](const pb::FileDescriptor* f) {
    if (std::find(added.begin(), added.end(), f->name()) != added.end()) return;
    for (int i = 0; i < f->dependency_count(); ++i) add(f->dependency(i));
    f->CopyTo(set.add_file());
    added.push_back(f->name());
  };
  for (const auto* f : files) add(f);
  return set.SerializeAsString();
}

const pb::FileDescriptor* echoFile() { return switchyard::test::EchoRequest::descriptor()->file(); }
const pb::FileDescriptor* greeterFile() { return helloworld::HelloRequest::descriptor()->file(); }

// A proto2 file with an extension range and one extension, written as text.
std::string extensionSet() {
  pb::FileDescriptorSet set;
  bool ok = pb::TextFormat::ParseFromString(R"pb(
    file {
      name: "ext/base.proto"
      package: "ext"
      syntax: "proto2"
      message_type {
        name: "Base"
        extension_range { start: 100 end: 200 }
      }
      extension {
        name: "tag"
        number: 100
        label: LABEL_OPTIONAL
        type: TYPE_INT32
        extendee: ".ext.Base"
      }
    }
  )pb", &set);
  EXPECT_TRUE(ok);
  return set.SerializeAsString();
}

CatalogPtr buildOk(std::vector<DescriptorSetInput> inputs) {
  auto built = DescriptorCatalog::build(inputs);
  EXPECT_TRUE(built.ok()) << built.error();
  return built.ok() ? *built : nullptr;
}

std::vector<std::string> serviceNames(const DescriptorCatalog& c) {
  std::vector<std::string> out;
  for (const auto* s : c.services()) out.push_back(s->full_name());
  return out;
}

TEST(DescriptorCatalog, MergesSetsAndListsTheirServices) {
  auto cat = buildOk({{"a.pb", "", setOf({echoFile()})}, {"b.pb", "", setOf({greeterFile()})}});
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(serviceNames(*cat), (std::vector<std::string>{"helloworld.Greeter",
                                                          "switchyard.test.Control",
                                                          "switchyard.test.Echo"}));
  EXPECT_NE(cat->pool().FindMessageTypeByName("switchyard.test.EchoRequest"), nullptr);
  EXPECT_NE(cat->fileBytes(echoFile()->name()), nullptr);
  EXPECT_EQ(cat->fileBytes("nope.proto"), nullptr);
}

TEST(DescriptorCatalog, TheSameFileInTwoSetsIsLoadedOnce) {
  auto cat = buildOk({{"a.pb", "", setOf({echoFile()})}, {"b.pb", "", setOf({echoFile(), greeterFile()})}});
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(cat->services().size(), 3u);
}

TEST(DescriptorCatalog, GarbageIsRejectedNamingTheFileAndWhereItIsConfigured) {
  auto built = DescriptorCatalog::build({{"/etc/api.pb", "sy.yaml:3:5", "this is not protobuf \xff\xff"}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().find("sy.yaml:3:5: descriptor set \"/etc/api.pb\""), std::string::npos)
      << built.error();
  EXPECT_NE(built.error().find("FileDescriptorSet"), std::string::npos) << built.error();

  auto empty = DescriptorCatalog::build({{"/etc/empty.pb", "", ""}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("/etc/empty.pb"), std::string::npos) << empty.error();
}

TEST(DescriptorCatalog, AMissingImportIsRejected) {
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* f = set.add_file();
  f->set_name("a.proto");
  f->set_package("a");
  f->add_dependency("google/protobuf/empty.proto");
  auto built = DescriptorCatalog::build({{"a.pb", "", set.SerializeAsString()}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().find("\"a.proto\" imports \"google/protobuf/empty.proto\""),
            std::string::npos)
      << built.error();
  EXPECT_NE(built.error().find("--include_imports"), std::string::npos) << built.error();
}

TEST(DescriptorCatalog, ConflictingFilesOfOneNameAreRejected) {
  pb::FileDescriptorSet other;
  pb::FileDescriptorProto* f = other.add_file();
  f->set_name(echoFile()->name());
  f->set_package("something.else");
  auto built = DescriptorCatalog::build(
      {{"a.pb", "", setOf({echoFile()})}, {"b.pb", "", other.SerializeAsString()}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().find("differs from the file of that name in descriptor set \"a.pb\""),
            std::string::npos)
      << built.error();
}

TEST(DescriptorCatalog, AnInvalidFileIsRejectedWithTheLinkerError) {
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* f = set.add_file();
  f->set_name("bad.proto");
  f->set_package("bad");
  auto* m = f->add_message_type();
  m->set_name("M");
  auto* field = m->add_field();
  field->set_name("x");
  field->set_number(1);
  field->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  field->set_type_name(".bad.Missing");
  auto built = DescriptorCatalog::build({{"bad.pb", "", set.SerializeAsString()}});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().find("invalid file \"bad.proto\""), std::string::npos) << built.error();
  EXPECT_NE(built.error().find("bad.Missing"), std::string::npos) << built.error();
}

// ---------------------------------------------------------------- reflection

class Reflection : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = buildOk({{"a.pb", "", setOf({echoFile(), greeterFile()})}, {"ext.pb", "", extensionSet()}});
    ASSERT_NE(catalog_, nullptr);
  }

  v1::ServerReflectionResponse ask(const v1::ServerReflectionRequest& req,
                                   std::vector<std::string> listed = {}) {
    ReflectionService svc(catalog_, std::move(listed));
    auto out = svc.answer(req.SerializeAsString());
    v1::ServerReflectionResponse resp;
    EXPECT_TRUE(out.has_value());
    if (out) {
      EXPECT_TRUE(resp.ParseFromString(*out));
    }
    return resp;
  }

  static std::vector<std::string> fileNames(const v1::ServerReflectionResponse& resp) {
    std::vector<std::string> names;
    for (const auto& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      pb::FileDescriptorProto f;
      EXPECT_TRUE(f.ParseFromString(bytes));
      names.push_back(f.name());
    }
    return names;
  }

  CatalogPtr catalog_;
};

TEST_F(Reflection, ListServicesReturnsTheGivenNamesAndEchoesTheRequest) {
  v1::ServerReflectionRequest req;
  req.set_host("h");
  req.set_list_services("*");
  auto resp = ask(req, {"a.B", "grpc.reflection.v1.ServerReflection"});
  ASSERT_TRUE(resp.has_list_services_response());
  ASSERT_EQ(resp.list_services_response().service_size(), 2);
  EXPECT_EQ(resp.list_services_response().service(0).name(), "a.B");
  EXPECT_EQ(resp.valid_host(), "h");
  EXPECT_EQ(resp.original_request().list_services(), "*");
}

TEST_F(Reflection, FileContainingSymbolFindsServicesMessagesMethodsAndFields) {
  for (const char* symbol : {"switchyard.test.Echo", "switchyard.test.EchoRequest",
                             "switchyard.test.Echo.Unary", "helloworld.Greeter"}) {
    v1::ServerReflectionRequest req;
    req.set_file_containing_symbol(symbol);
    auto resp = ask(req);
    ASSERT_TRUE(resp.has_file_descriptor_response()) << symbol << ": " << resp.DebugString();
    auto names = fileNames(resp);
    ASSERT_FALSE(names.empty());
    pb::FileDescriptorProto first;
    ASSERT_TRUE(first.ParseFromString(resp.file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_NE(catalog_->pool().FindFileByName(first.name()), nullptr);
    // The file goes out exactly as the descriptor set holds it.
    EXPECT_EQ(resp.file_descriptor_response().file_descriptor_proto(0),
              *catalog_->fileBytes(first.name()));
  }
}

TEST_F(Reflection, AFileComesWithItsImports) {
  // A file importing the greeter file, built on the fly.
  pb::FileDescriptorSet set;
  greeterFile()->CopyTo(set.add_file());
  pb::FileDescriptorProto* f = set.add_file();
  f->set_name("outer.proto");
  f->set_package("outer");
  f->add_dependency(greeterFile()->name());
  auto* m = f->add_message_type();
  m->set_name("Wrap");
  auto* field = m->add_field();
  field->set_name("hello");
  field->set_number(1);
  field->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  field->set_type(pb::FieldDescriptorProto::TYPE_MESSAGE);
  field->set_type_name(".helloworld.HelloRequest");
  catalog_ = buildOk({{"o.pb", "", set.SerializeAsString()}});
  ASSERT_NE(catalog_, nullptr);
  v1::ServerReflectionRequest req;
  req.set_file_by_filename("outer.proto");
  auto resp = ask(req);
  EXPECT_EQ(fileNames(resp), (std::vector<std::string>{"outer.proto", greeterFile()->name()}));
}

TEST_F(Reflection, UnknownNamesAreNotFoundErrors) {
  v1::ServerReflectionRequest req;
  req.set_file_containing_symbol("no.such.Thing");
  auto resp = ask(req);
  ASSERT_TRUE(resp.has_error_response());
  EXPECT_EQ(resp.error_response().error_code(), static_cast<int>(grpc::StatusCode::NotFound));
  EXPECT_NE(resp.error_response().error_message().find("no.such.Thing"), std::string::npos);

  req.set_file_by_filename("missing.proto");
  resp = ask(req);
  ASSERT_TRUE(resp.has_error_response());
  EXPECT_EQ(resp.error_response().error_code(), static_cast<int>(grpc::StatusCode::NotFound));

  req.set_all_extension_numbers_of_type("no.Type");
  resp = ask(req);
  ASSERT_TRUE(resp.has_error_response());
}

TEST_F(Reflection, TheReflectionServiceDescribesItself) {
  for (const char* symbol : {"grpc.reflection.v1.ServerReflection",
                             "grpc.reflection.v1alpha.ServerReflectionRequest"}) {
    v1::ServerReflectionRequest req;
    req.set_file_containing_symbol(symbol);
    auto resp = ask(req);
    ASSERT_TRUE(resp.has_file_descriptor_response()) << symbol << ": " << resp.DebugString();
    pb::FileDescriptorProto f;
    ASSERT_TRUE(f.ParseFromString(resp.file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_EQ(f.service_size(), 1);
    EXPECT_EQ(f.service(0).name(), "ServerReflection");
  }
  // Only the reflection files are served from the daemon's own schemas.
  v1::ServerReflectionRequest req;
  req.set_file_containing_symbol("google.protobuf.FileDescriptorProto");
  EXPECT_TRUE(ask(req).has_error_response());
}

TEST_F(Reflection, ExtensionsByNumberAndAllNumbersOfAType) {
  v1::ServerReflectionRequest req;
  req.mutable_file_containing_extension()->set_containing_type("ext.Base");
  req.mutable_file_containing_extension()->set_extension_number(100);
  auto resp = ask(req);
  EXPECT_EQ(fileNames(resp), (std::vector<std::string>{"ext/base.proto"}));

  req.mutable_file_containing_extension()->set_extension_number(101);
  resp = ask(req);
  ASSERT_TRUE(resp.has_error_response());
  EXPECT_EQ(resp.error_response().error_code(), static_cast<int>(grpc::StatusCode::NotFound));

  req.set_all_extension_numbers_of_type("ext.Base");
  resp = ask(req);
  ASSERT_TRUE(resp.has_all_extension_numbers_response()) << resp.DebugString();
  EXPECT_EQ(resp.all_extension_numbers_response().base_type_name(), "ext.Base");
  ASSERT_EQ(resp.all_extension_numbers_response().extension_number_size(), 1);
  EXPECT_EQ(resp.all_extension_numbers_response().extension_number(0), 100);
}

TEST_F(Reflection, AMalformedRequestIsRefusedAndAnEmptyOneIsAnError) {
  ReflectionService svc(catalog_, {});
  EXPECT_FALSE(svc.answer(std::string("\xff\xff\xff", 3)).has_value());
  auto out = svc.answer("");
  ASSERT_TRUE(out.has_value());
  v1::ServerReflectionResponse resp;
  ASSERT_TRUE(resp.ParseFromString(*out));
  EXPECT_TRUE(resp.has_error_response());
}

TEST_F(Reflection, WithoutACatalogOnlyTheReflectionServiceIsKnown) {
  ReflectionService svc(nullptr, {"grpc.reflection.v1.ServerReflection"});
  v1::ServerReflectionRequest req;
  req.set_file_containing_symbol("switchyard.test.Echo");
  v1::ServerReflectionResponse resp;
  ASSERT_TRUE(resp.ParseFromString(*svc.answer(req.SerializeAsString())));
  EXPECT_TRUE(resp.has_error_response());
  req.set_file_containing_symbol("grpc.reflection.v1.ServerReflection");
  ASSERT_TRUE(resp.ParseFromString(*svc.answer(req.SerializeAsString())));
  EXPECT_TRUE(resp.has_file_descriptor_response());
}

TEST(ReflectionPath, OnlyTheTwoReflectionMethods) {
  EXPECT_TRUE(isReflectionPath("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
  EXPECT_TRUE(isReflectionPath("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
  EXPECT_FALSE(isReflectionPath("/grpc.reflection.v1.ServerReflection/Other"));
  EXPECT_FALSE(isReflectionPath("/switchyard.test.Echo/Unary"));
}

}  // namespace
}  // namespace switchyard::schema
