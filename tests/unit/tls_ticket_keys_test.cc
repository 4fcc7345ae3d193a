// Session ticket key files: exactly 80 bytes each, split as nginx's
// name | HMAC secret | AES key, names unique, order kept (the first encrypts).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tls/ticket_keys.h"

namespace switchyard::tls {
namespace {

namespace fs = std::filesystem;

class TicketKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sy-ticket-keys-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  static std::string KeyBytes(char name, char hmac, char aes) {
    return std::string(16, name) + std::string(32, hmac) + std::string(32, aes);
  }
  fs::path dir_;
};

TEST_F(TicketKeysTest, SplitsEachFileAndKeepsTheOrder) {
  auto loaded = loadTicketKeys({Write("a", KeyBytes('n', 'h', 'a')), Write("b", KeyBytes('m', 'i', 'b'))});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const auto& keys = (*loaded)->keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name[0], 'n');
  EXPECT_EQ(keys[0].name[15], 'n');
  EXPECT_EQ(keys[0].hmac[0], 'h');
  EXPECT_EQ(keys[0].hmac[31], 'h');
  EXPECT_EQ(keys[0].aes[0], 'a');
  EXPECT_EQ(keys[0].aes[31], 'a');
  EXPECT_EQ(keys[1].name[0], 'm');
  size_t index = 9;
  unsigned char name[16];
  std::fill(std::begin(name), std::end(name), 'm');
  ASSERT_NE((*loaded)->find(name, &index), nullptr);
  EXPECT_EQ(index, 1u);
  std::fill(std::begin(name), std::end(name), 'x');
  EXPECT_EQ((*loaded)->find(name, &index), nullptr);
}

TEST_F(TicketKeysTest, WrongSizesAreRefusedWithTheFileName) {
  for (size_t size : {0u, 48u, 79u, 81u, 4096u}) {
    std::string path = Write("k" + std::to_string(size), std::string(size, 'k'));
    auto loaded = loadTicketKeys({path});
    ASSERT_FALSE(loaded.ok()) << size;
    EXPECT_NE(loaded.error().find(path + ": a session ticket key file must hold exactly 80 bytes"),
              std::string::npos)
        << loaded.error();
  }
  auto missing = loadTicketKeys({(dir_ / "missing").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot open session ticket key"), std::string::npos) << missing.error();
}

TEST_F(TicketKeysTest, RepeatedKeyNamesAreRefused) {
  auto loaded = loadTicketKeys({Write("a", KeyBytes('n', 'h', 'a')), Write("b", KeyBytes('n', 'i', 'b'))});
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("repeats an earlier key's"), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace switchyard::tls
