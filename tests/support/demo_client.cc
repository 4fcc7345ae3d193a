// sy_demo_client: sends helloworld.Greeter/SayHello RPCs to TARGET and prints
// which backend answered each one.
//
//   sy_demo_client --target 127.0.0.1:8080 [--count 6] [--name NAME]
//
// Exits 1 if any RPC fails.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iostream>
#include <string>

#include "helloworld.grpc.pb.h"

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:8080";
  std::string name = "switchyard";
  int count = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    if (arg == "--target") {
      target = argv[i + 1];
    } else if (arg == "--count") {
      count = std::stoi(argv[i + 1]);
    } else if (arg == "--name") {
      name = argv[i + 1];
    } else {
      std::cerr << "usage: sy_demo_client --target HOST:PORT [--count N] [--name NAME]\n";
      return 2;
    }
  }

  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = helloworld::Greeter::NewStub(channel);
  int failures = 0;
  for (int i = 1; i <= count; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    helloworld::HelloRequest req;
    req.set_name(name);
    helloworld::HelloReply reply;
    grpc::Status status = stub->SayHello(&ctx, req, &reply);
    if (!status.ok()) {
      std::cout << "rpc " << i << ": FAILED code=" << status.error_code() << " message=\"" << status.error_message()
                << "\"" << std::endl;
      failures++;
      continue;
    }
    std::string backend = "?";
    const auto& trailers = ctx.GetServerTrailingMetadata();
    if (auto it = trailers.find("x-backend"); it != trailers.end()) backend.assign(it->second.data(), it->second.size());
    std::cout << "rpc " << i << ": " << reply.message() << "  [x-backend: " << backend << "]" << std::endl;
  }
  return failures == 0 ? 0 : 1;
}
