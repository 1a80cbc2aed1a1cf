// Llama2cCheckpoint: the real stories260K checkpoint, and headers that do not match their file.
#include "io/llama2c_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace eaq::llama2c {
namespace {

using ::testing::HasSubstr;

const std::string kStories = std::string(EAQ_SHARED_DIR) + "/models/stories260K/stories260K.bin";

std::vector<std::uint8_t> checkpoint_bytes(std::vector<std::int32_t> header, std::size_t n_floats) {
  std::vector<std::uint8_t> b(28 + 4 * n_floats);
  std::memcpy(b.data(), header.data(), 28);
  return b;
}

// Number of floats the legacy export writes for a header (shared classifier).
std::size_t n_floats(std::int64_t dim, std::int64_t hidden, std::int64_t layers, std::int64_t heads,
                     std::int64_t kv_heads, std::int64_t vocab, std::int64_t seq) {
  std::int64_t kv = dim / heads * kv_heads;
  return vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * dim * hidden) + dim + seq * (dim / heads);
}

TEST(Llama2cCheckpoint, ReadsStories260K) {
  if (!std::filesystem::exists(kStories)) GTEST_SKIP() << kStories << " not found";
  auto c = Llama2cCheckpoint::open(kStories);
  const auto& h = c->header();
  EXPECT_EQ(h.dim, 64);
  EXPECT_EQ(h.hidden_dim, 172);
  EXPECT_EQ(h.n_layers, 5);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);
  EXPECT_EQ(h.seq_len, 512);
  EXPECT_TRUE(h.shared_classifier);
  EXPECT_EQ(h.kv_dim(), 32);
  EXPECT_EQ(c->arrays().size(), 13u);  // no wcls
  const auto* wk = c->find_array("wk");
  ASSERT_NE(wk, nullptr);
  EXPECT_EQ(wk->shape, (std::vector<std::int64_t>{5, 32, 64}));
  const auto* last = &c->arrays().back();
  EXPECT_EQ(last->offset + last->n_bytes, c->file_bytes());
  EXPECT_EQ(c->find_array("wcls"), nullptr);
}

TEST(Llama2cCheckpoint, SeparateClassifierFromNegativeVocab) {
  auto b = checkpoint_bytes({8, 16, 1, 2, 2, -10, 4}, n_floats(8, 16, 1, 2, 2, 10, 4) + 10 * 8);
  auto h = parse_llama2c_header("x.bin", b);
  EXPECT_FALSE(h.shared_classifier);
  EXPECT_EQ(h.vocab_size, 10);
  EXPECT_TRUE(looks_like_llama2c_checkpoint(b));
}

TEST(Llama2cCheckpoint, RejectsBadHeaders) {
  const std::size_t ok = n_floats(8, 16, 1, 2, 2, 10, 4);
  auto expect_bad = [](const std::vector<std::uint8_t>& b, const std::string& part) {
    EXPECT_FALSE(looks_like_llama2c_checkpoint(b));
    try {
      parse_llama2c_header("x.bin", b);
      ADD_FAILURE() << "expected an error mentioning " << part;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("x.bin"));
      EXPECT_THAT(e.what(), HasSubstr(part));
    }
  };
  expect_bad(std::vector<std::uint8_t>(10), "too short");
  expect_bad(checkpoint_bytes({8, 16, 1, 2, 2, 10, 4}, ok - 1), "implies a file of");  // truncated
  expect_bad(checkpoint_bytes({8, 16, 1, 2, 2, 10, 4}, ok + 1), "implies a file of");  // trailing
  expect_bad(checkpoint_bytes({0, 16, 1, 2, 2, 10, 4}, ok), "dim = 0");
  expect_bad(checkpoint_bytes({8, 16, 1, 3, 3, 10, 4}, ok), "n_heads = 3");
  expect_bad(checkpoint_bytes({8, 16, 1, 2, 3, 10, 4}, ok), "n_kv_heads = 3");
  expect_bad(checkpoint_bytes({8, 16, -1, 2, 2, 10, 4}, ok), "n_layers");
  expect_bad(checkpoint_bytes({8, 16, 1, 2, 2, INT32_MIN, 4}, ok), "vocab_size");
  expect_bad(checkpoint_bytes({8, 16, 1, 2, 2, 10, 0x7fffffff}, ok), "seq_len");
}

TEST(Llama2cCheckpoint, OpenNamesMissingFile) {
  EXPECT_THROW(Llama2cCheckpoint::open("/nonexistent/model.bin"), Error);
}

}  // namespace
}  // namespace eaq::llama2c
