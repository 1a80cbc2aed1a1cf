// Tests of GgufFile: writer → reader round trip for every metadata value type, and bad input
// (truncation at every offset, bit flips, counts and lengths past the end, tensor offsets out of
// range or misaligned, unknown types, duplicates) raising eaq::Error with a useful message.
#include "io/gguf_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "io/gguf_writer.h"

namespace eaq::gguf {
namespace {

using ::testing::HasSubstr;

// A small file whose last tensor ends exactly at the end of the file (its size is a multiple of
// the alignment), so that every truncation cuts into something the reader needs.
GgufWriter small_writer() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_uint32("llama.block_count", 2);
  w.set_float32("llama.rope.freq_base", 10000.0f);
  w.set_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "hi"});
  w.set_int32("test.aaaa", 1);
  w.set_int32("test.bbbb", 2);
  std::vector<std::uint8_t> q8(34 * 2, 0);  // two q8_0 blocks
  w.add_tensor("w.q8", DType::Q8_0, {64}, q8);
  std::vector<std::uint8_t> f32(4 * 8, 0);
  w.add_tensor("norm", DType::F32, {8}, f32);
  return w;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    GgufFile::from_bytes("memory.gguf", bytes);
  } catch (const InternalError& e) {
    return std::string("INTERNAL ") + e.what();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The byte offset of the first occurrence of `needle` in `bytes`.
std::size_t find_bytes(const std::vector<std::uint8_t>& bytes, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= bytes.size(); ++i) {
    if (std::memcmp(bytes.data() + i, needle.data(), needle.size()) == 0) return i;
  }
  ADD_FAILURE() << "'" << needle << "' not found";
  return 0;
}

template <typename T>
void poke(std::vector<std::uint8_t>& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// Offset of the ggml type field of tensor `name` (its info: name, n_dims, dims, type, offset).
std::size_t tensor_type_offset(const std::vector<std::uint8_t>& bytes, std::string_view name, int n_dims) {
  return find_bytes(bytes, name) + name.size() + 4 + 8 * n_dims;
}

TEST(GgufFileTest, RoundTripEveryMetadataType) {
  GgufWriter w;
  w.set_uint8("t.u8", 255);
  w.set_int8("t.i8", -128);
  w.set_uint16("t.u16", 65535);
  w.set_int16("t.i16", -32768);
  w.set_uint32("t.u32", 4294967295u);
  w.set_int32("t.i32", -2147483647 - 1);
  w.set_uint64("t.u64", 18446744073709551615ull);
  w.set_int64("t.i64", -9223372036854775807ll - 1);
  w.set_float32("t.f32", 0.1f);
  w.set_float64("t.f64", 0.1);
  w.set_bool("t.bool", true);
  w.set_string("t.str", "héllo ✓");
  w.set_string("t.empty", "");
  w.set_string_array("t.strs", {"a", "", "🙂"});
  const float floats[] = {1.5f, -0.0f, 3e38f};
  w.set_float32_array("t.f32s", floats);
  const std::int32_t ints[] = {-1, 0, 7};
  w.set_int32_array("t.i32s", ints);
  const std::uint32_t uints[] = {4294967295u};
  w.set_uint32_array("t.u32s", uints);
  Array inner{ValueType::kInt16, {Value{ValueType::kInt16, std::int64_t{-5}}}};
  Array outer{ValueType::kArray, {Value{ValueType::kArray, inner}, Value{ValueType::kArray, Array{ValueType::kBool, {}}}}};
  w.set("t.nested", Value{ValueType::kArray, outer});
  w.set_uint32("general.alignment", 64);
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  std::vector<std::uint8_t> f32(24);
  std::memcpy(f32.data(), values.data(), 24);
  w.add_tensor("m", DType::F32, {2, 3}, f32);
  std::vector<std::uint8_t> f16(2 * 256);
  for (int i = 0; i < 256; ++i) {
    const std::uint16_t h = f32_to_f16(static_cast<float>(i));
    std::memcpy(&f16[2 * i], &h, 2);
  }
  w.add_tensor("h", DType::F16, {4, 4, 4, 4}, f16);

  auto f = GgufFile::from_bytes("rt.gguf", w.to_bytes());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  ASSERT_EQ(f->metadata().size(), w.metadata().size());
  for (std::size_t i = 0; i < w.metadata().size(); ++i) {
    EXPECT_EQ(f->metadata()[i].first, w.metadata()[i].first);
    EXPECT_EQ(f->metadata()[i].second.type, w.metadata()[i].second.type) << w.metadata()[i].first;
  }
  EXPECT_EQ(f->get("t.u8").as_uint("t.u8"), 255u);
  EXPECT_EQ(f->get("t.i8").as_int("t.i8"), -128);
  EXPECT_EQ(f->get("t.u16").as_uint("t.u16"), 65535u);
  EXPECT_EQ(f->get("t.i16").as_int("t.i16"), -32768);
  EXPECT_EQ(f->get("t.u32").as_uint("t.u32"), 4294967295u);
  EXPECT_EQ(f->get("t.i32").as_int("t.i32"), -2147483647 - 1);
  EXPECT_EQ(f->get("t.u64").as_uint("t.u64"), 18446744073709551615ull);
  EXPECT_THROW(f->get("t.u64").as_int("t.u64"), Error);  // does not fit int64
  EXPECT_EQ(f->get("t.i64").as_int("t.i64"), -9223372036854775807ll - 1);
  EXPECT_EQ(f->get("t.f32").as_double("t.f32"), static_cast<double>(0.1f));
  EXPECT_EQ(f->get("t.f64").as_double("t.f64"), 0.1);
  EXPECT_EQ(f->get_bool("t.bool"), true);
  EXPECT_EQ(f->get_string("t.str"), "héllo ✓");
  EXPECT_EQ(f->get_string("t.empty"), "");
  EXPECT_EQ(f->get_string("t.missing"), std::nullopt);
  EXPECT_THROW(f->get("t.missing"), Error);
  EXPECT_THROW(f->get("t.str").as_int("t.str"), Error);
  const Array& strs = f->get("t.strs").as_array("t.strs");
  ASSERT_EQ(strs.items.size(), 3u);
  EXPECT_EQ(strs.element_type, ValueType::kString);
  EXPECT_EQ(strs.items[2].as_string("t.strs"), "🙂");
  const Array& f32s = f->get("t.f32s").as_array("t.f32s");
  ASSERT_EQ(f32s.items.size(), 3u);
  EXPECT_EQ(f32s.items[2].as_double(""), static_cast<double>(3e38f));
  EXPECT_TRUE(std::signbit(f32s.items[1].as_double("")));
  EXPECT_EQ(f->get("t.i32s").as_array("").items[0].as_int(""), -1);
  EXPECT_EQ(f->get("t.u32s").as_array("").items[0].as_uint(""), 4294967295u);
  const Array& nested = f->get("t.nested").as_array("t.nested");
  ASSERT_EQ(nested.items.size(), 2u);
  EXPECT_EQ(nested.items[0].as_array("").items[0].as_int(""), -5);
  EXPECT_EQ(nested.items[1].as_array("").element_type, ValueType::kBool);

  ASSERT_EQ(f->tensors().size(), 2u);
  const TensorInfo* m = f->find_tensor("m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dtype, DType::F32);
  EXPECT_EQ(m->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(m->n_bytes, 24u);
  EXPECT_EQ(std::memcmp(m->data, values.data(), 24), 0);
  const TensorInfo* h = f->find_tensor("h");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->shape, (std::vector<std::int64_t>{4, 4, 4, 4}));
  EXPECT_EQ(h->offset % 64, 0u);
  std::vector<float> decoded(256);
  dequantize(h->dtype, h->data, decoded.data(), 256);
  EXPECT_EQ(decoded[255], 255.0f);
  EXPECT_EQ(f->find_tensor("nope"), nullptr);
}

TEST(GgufFileTest, ShapesAreStoredInnermostFirst) {
  GgufWriter w;
  w.add_tensor("m", DType::F32, {3, 5}, std::vector<std::uint8_t>(60));
  const auto bytes = w.to_bytes();
  const std::size_t dims_at = find_bytes(bytes, "m") + 1 + 4;
  std::uint64_t ne0, ne1;
  std::memcpy(&ne0, &bytes[dims_at], 8);
  std::memcpy(&ne1, &bytes[dims_at + 8], 8);
  EXPECT_EQ(ne0, 5u);  // the row length comes first in GGUF
  EXPECT_EQ(ne1, 3u);
}

TEST(GgufFileTest, MetadataOnlyFileWithoutPaddingParses) {
  GgufWriter w;
  w.set_string("general.architecture", "x");
  auto bytes = w.to_bytes();
  // Strip the trailing alignment padding: a vocabulary-only file may end right after metadata.
  std::size_t end = find_bytes(bytes, "architecture") + 12 + 4 + 8 + 1;
  bytes.resize(end);
  auto f = GgufFile::from_bytes("vocab.gguf", bytes);
  EXPECT_EQ(f->get_string("general.architecture"), "x");
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufFileTest, TruncationAtEveryOffsetIsAnError) {
  const auto bytes = small_writer().to_bytes();
  ASSERT_NO_THROW(GgufFile::from_bytes("memory.gguf", bytes));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const std::string message =
        error_of(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)));
    ASSERT_FALSE(message.empty()) << "a file truncated to " << n << " bytes parsed";
    ASSERT_THAT(message, HasSubstr("memory.gguf")) << n;
    ASSERT_THAT(message, ::testing::Not(HasSubstr("INTERNAL"))) << n;
  }
}

TEST(GgufFileTest, RandomBitFlipsNeverCrash) {
  const auto bytes = small_writer().to_bytes();
  std::mt19937_64 rng(42);
  int n_errors = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    auto corrupt = bytes;
    const int n_flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_flips; ++k) corrupt[rng() % corrupt.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    try {
      auto f = GgufFile::from_bytes("flipped.gguf", corrupt);
      for (const auto& t : f->tensors()) {  // whatever parsed must lie inside the file
        ASSERT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_bytes());
      }
    } catch (const InternalError& e) {
      FAIL() << "internal error on bad input: " << e.what();
    } catch (const Error& e) {
      ++n_errors;
      ASSERT_THAT(std::string(e.what()), HasSubstr("flipped.gguf"));
    }
  }
  EXPECT_GT(n_errors, 0);
}

TEST(GgufFileTest, BadMagicAndVersion) {
  auto bytes = small_writer().to_bytes();
  auto bad = bytes;
  bad[0] = 'X';
  EXPECT_THAT(error_of(bad), HasSubstr("does not start with the magic 'GGUF'"));
  bad = bytes;
  poke<std::uint32_t>(bad, 4, 7);
  EXPECT_THAT(error_of(bad), HasSubstr("unsupported GGUF version 7"));
  bad = bytes;
  poke<std::uint32_t>(bad, 4, 0x03000000);  // version 3 written big-endian
  EXPECT_THAT(error_of(bad), HasSubstr("big-endian"));
  bad = bytes;
  poke<std::uint32_t>(bad, 4, 2);  // v2 has the same layout
  EXPECT_EQ(error_of(bad), "");
  EXPECT_THAT(error_of({}), HasSubstr("magic"));
}

TEST(GgufFileTest, CountsAndLengthsPastTheEnd) {
  const auto bytes = small_writer().to_bytes();
  auto bad = bytes;
  poke<std::uint64_t>(bad, 8, std::uint64_t{1} << 60);  // tensor count
  EXPECT_THAT(error_of(bad), HasSubstr("more than the file can hold"));
  bad = bytes;
  poke<std::uint64_t>(bad, 16, ~std::uint64_t{0});  // metadata count
  EXPECT_THAT(error_of(bad), HasSubstr("more than the file can hold"));
  bad = bytes;
  poke<std::uint64_t>(bad, 24, std::uint64_t{1} << 62);  // length of the first key
  const std::string message = error_of(bad);
  EXPECT_THAT(message, HasSubstr("truncated"));
  EXPECT_THAT(message, HasSubstr("byte offset"));
  bad = bytes;
  // The string array's element count (after key, type 9, element type 8).
  const std::size_t count_at = find_bytes(bad, "tokenizer.ggml.tokens") + 21 + 4 + 4;
  poke<std::uint64_t>(bad, count_at, std::uint64_t{1} << 40);
  EXPECT_THAT(error_of(bad), HasSubstr("more than the file can hold"));
  bad = bytes;
  // The first token string's length.
  poke<std::uint64_t>(bad, count_at + 8, std::uint64_t{1} << 50);
  EXPECT_THAT(error_of(bad), HasSubstr("truncated"));
}

TEST(GgufFileTest, TensorOffsetsOutOfRangeOrMisaligned) {
  const auto bytes = small_writer().to_bytes();
  const std::size_t offset_at = tensor_type_offset(bytes, "norm", 1) + 4;
  auto bad = bytes;
  poke<std::uint64_t>(bad, offset_at, 1u << 20);
  EXPECT_THAT(error_of(bad), HasSubstr("spans bytes"));
  bad = bytes;
  poke<std::uint64_t>(bad, offset_at, ~std::uint64_t{0} - 31);  // near 2^64: no wrap-around
  EXPECT_THAT(error_of(bad), HasSubstr("spans bytes"));
  bad = bytes;
  poke<std::uint64_t>(bad, offset_at, 4);
  EXPECT_THAT(error_of(bad), HasSubstr("not aligned"));
  bad = bytes;
  const std::size_t dim_at = find_bytes(bad, "norm") + 4 + 4;
  poke<std::uint64_t>(bad, dim_at, std::uint64_t{1} << 39);  // a huge dimension
  EXPECT_THAT(error_of(bad), HasSubstr("norm"));
  bad = bytes;
  poke<std::uint64_t>(bad, dim_at, 0);
  EXPECT_THAT(error_of(bad), HasSubstr("dimension 0"));
  bad = bytes;
  poke<std::uint32_t>(bad, find_bytes(bad, "norm") + 4, 9);  // n_dims
  EXPECT_THAT(error_of(bad), HasSubstr("9 dimensions"));
}

TEST(GgufFileTest, UnknownTypes) {
  const auto bytes = small_writer().to_bytes();
  auto bad = bytes;
  poke<std::uint32_t>(bad, tensor_type_offset(bad, "norm", 1), 99);
  EXPECT_THAT(error_of(bad), HasSubstr("GGML type 99"));
  bad = bytes;
  poke<std::uint32_t>(bad, find_bytes(bad, "llama.block_count") + 17, 13);  // value type
  EXPECT_THAT(error_of(bad), HasSubstr("unknown value type 13"));
  bad = bytes;
  poke<std::uint32_t>(bad, find_bytes(bad, "tokenizer.ggml.tokens") + 21 + 4, 42);  // element type
  EXPECT_THAT(error_of(bad), HasSubstr("unknown element type 42"));
  bad = bytes;
  // A q8_0 tensor whose row length is not a multiple of 32.
  poke<std::uint64_t>(bad, find_bytes(bad, "w.q8") + 4 + 4, 48);
  EXPECT_THAT(error_of(bad), HasSubstr("block size"));
}

TEST(GgufFileTest, DuplicatesAndBadValues) {
  const auto bytes = small_writer().to_bytes();
  auto bad = bytes;
  std::memcpy(&bad[find_bytes(bad, "test.bbbb")], "test.aaaa", 9);
  EXPECT_THAT(error_of(bad), HasSubstr("'test.aaaa' appears twice"));
  bad = bytes;
  std::memcpy(&bad[find_bytes(bad, "norm")], "w.q8", 4);
  EXPECT_THAT(error_of(bad), HasSubstr("appears twice"));

  GgufWriter w;
  w.set_bool("flag", true);
  bad = w.to_bytes();
  bad[find_bytes(bad, "flag") + 4 + 4] = 2;
  EXPECT_THAT(error_of(bad), HasSubstr("bool"));

  GgufWriter a;  // general.alignment of the wrong type (the writer refuses it, so patch the key)
  a.set_string("general.alignmenX", "32");
  bad = a.to_bytes();
  bad[find_bytes(bad, "general.alignmenX") + 16] = 't';
  EXPECT_THAT(error_of(bad), HasSubstr("general.alignment is a string"));
  GgufWriter a2;
  a2.set_uint32("general.alignment", 64);
  bad = a2.to_bytes();
  poke<std::uint32_t>(bad, find_bytes(bad, "general.alignment") + 17 + 4, 48);
  EXPECT_THAT(error_of(bad), HasSubstr("power of two"));

  // Arrays nested beyond the reader's limit.
  std::vector<std::uint8_t> deep = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  auto put64 = [&](std::uint64_t v) { for (int i = 0; i < 8; ++i) deep.push_back(static_cast<std::uint8_t>(v >> (8 * i))); };
  auto put32 = [&](std::uint32_t v) { for (int i = 0; i < 4; ++i) deep.push_back(static_cast<std::uint8_t>(v >> (8 * i))); };
  put64(0);
  put64(1);
  put64(1);
  deep.push_back('k');
  put32(9);
  for (int level = 0; level < 20; ++level) {
    put32(9);
    put64(1);
  }
  deep.resize(deep.size() + 64, 0);
  EXPECT_THAT(error_of(deep), HasSubstr("nests arrays too deeply"));
}

TEST(GgufFileTest, OpenNamesMissingFile) {
  try {
    GgufFile::open("/nonexistent/model.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("/nonexistent/model.gguf"));
  }
}

}  // namespace
}  // namespace eaq::gguf
