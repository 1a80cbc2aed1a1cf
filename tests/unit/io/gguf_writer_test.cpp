// Tests of GgufWriter: value checking, tensor checking, key replacement, alignment, the atomic
// write, and copy_metadata_from (write → read → copy → write gives the same bytes). That other
// GGUF readers accept its files is checked live by tests/reference/test_gguf_writer.py.
#include "io/gguf_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf_file.h"

namespace eaq::gguf {
namespace {

using ::testing::HasSubstr;

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "eaq_gguf_writer_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GgufWriterTest, SetReplacesInPlaceAndRemoves) {
  GgufWriter w;
  w.set_uint32("a", 1);
  w.set_string("b", "x");
  w.set_int64("a", -5);
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].first, "a");
  EXPECT_EQ(w.metadata()[0].second.type, ValueType::kInt64);
  EXPECT_TRUE(w.remove("a"));
  EXPECT_FALSE(w.remove("a"));
  EXPECT_EQ(w.metadata().size(), 1u);
}

TEST(GgufWriterTest, RejectsValuesThatDoNotFitTheirType) {
  GgufWriter w;
  EXPECT_THAT(message_of([&] { w.set("k", Value{ValueType::kUint8, std::uint64_t{256}}); }), HasSubstr("'k'"));
  EXPECT_THROW(w.set("k", Value{ValueType::kInt8, std::int64_t{-129}}), Error);
  EXPECT_THROW(w.set("k", Value{ValueType::kUint32, std::int64_t{-1}}), Error);
  EXPECT_THROW(w.set("k", Value{ValueType::kInt64, std::uint64_t{1} << 63}), Error);
  EXPECT_THROW(w.set("k", Value{ValueType::kString, std::uint64_t{1}}), Error);
  EXPECT_THROW(w.set("k", Value{ValueType::kFloat32, std::uint64_t{1}}), Error);
  EXPECT_THROW(w.set("k", Value{static_cast<ValueType>(77), std::uint64_t{1}}), Error);
  Array mixed{ValueType::kInt32, {Value{ValueType::kInt32, std::int64_t{1}}, Value{ValueType::kString, std::string("x")}}};
  EXPECT_THAT(message_of([&] { w.set("arr", Value{ValueType::kArray, mixed}); }), HasSubstr("holds an item of type string"));
  EXPECT_THROW(w.set("", Value{ValueType::kBool, true}), Error);
  EXPECT_THAT(message_of([&] { w.set_uint32("general.alignment", 48); }), HasSubstr("power of two"));
  EXPECT_TRUE(w.metadata().empty());
  w.set("k", Value{ValueType::kInt8, std::uint64_t{127}});  // an unsigned holder that fits is fine
  EXPECT_EQ(w.metadata().size(), 1u);
}

TEST(GgufWriterTest, RejectsBadTensors) {
  GgufWriter w;
  std::vector<std::uint8_t> bytes(64);
  EXPECT_THAT(message_of([&] { w.add_tensor("t", DType::F32, {4, 5}, bytes); }), HasSubstr("needs 80 bytes"));
  EXPECT_THAT(message_of([&] { w.add_tensor("t", DType::Q8_0, {2, 16}, bytes); }), HasSubstr("block size"));
  EXPECT_THROW(w.add_tensor("t", DType::F32, {}, bytes), Error);
  EXPECT_THROW(w.add_tensor("t", DType::F32, {1, 1, 1, 2, 8}, bytes), Error);
  EXPECT_THROW(w.add_tensor("t", DType::F32, {0, 16}, bytes), Error);
  EXPECT_THAT(message_of([&] { w.add_tensor("t", DType::F8_E4M3, {64}, bytes); }), HasSubstr("no GGUF tensor type"));
  EXPECT_THROW(w.add_tensor("t", DType::U8, {64}, bytes), Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), DType::F32, {16}, bytes), Error);
  EXPECT_THROW(w.add_tensor("", DType::F32, {16}, bytes), Error);
  w.add_tensor("t", DType::F32, {16}, bytes);
  EXPECT_THAT(message_of([&] { w.add_tensor("t", DType::F32, {16}, bytes); }), HasSubstr("twice"));
  EXPECT_EQ(w.n_tensors(), 1u);
}

TEST(GgufWriterTest, AlignmentHonouredForEveryTensor) {
  for (std::uint32_t alignment : {1u, 8u, 32u, 256u, 4096u}) {
    GgufWriter w;
    w.set_uint32("general.alignment", alignment);
    EXPECT_EQ(w.alignment(), alignment);
    w.add_tensor("a", DType::F16, {3}, std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
    w.add_tensor("b", DType::Q4_0, {32}, std::vector<std::uint8_t>(18, 7));
    w.add_tensor("c", DType::I8, {5}, std::vector<std::uint8_t>{9, 9, 9, 9, 9});
    const auto bytes = w.to_bytes();
    EXPECT_EQ(bytes.size() % alignment, 0u);
    auto f = GgufFile::from_bytes("aligned.gguf", bytes);
    EXPECT_EQ(f->data_offset() % alignment, 0u);
    for (const auto& t : f->tensors()) EXPECT_EQ(t.offset % alignment, 0u) << t.name;
    EXPECT_EQ(f->find_tensor("c")->data[4], 9);
    EXPECT_EQ(f->find_tensor("b")->data[17], 7);
  }
  EXPECT_EQ(GgufWriter().alignment(), 32u);
}

TEST(GgufWriterTest, WriteIsAtomicAndMatchesToBytes) {
  TempDir dir;
  const auto path = dir.path() / "model.gguf";
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  std::vector<std::uint8_t> data(4 * 10, 3);
  w.add_tensor("x", DType::F32, {2, 5}, std::span<const std::uint8_t>(data));
  w.write(path.string());
  EXPECT_EQ(read_all(path), w.to_bytes());
  // Overwriting replaces the file; no temporary files stay behind.
  w.set_string("general.architecture", "qwen2");
  w.write(path.string());
  EXPECT_EQ(GgufFile::open(path.string())->get_string("general.architecture"), "qwen2");
  int n_files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++n_files;
  EXPECT_EQ(n_files, 1);
  // A folder that does not exist: an error naming the path, and nothing written.
  const auto missing = dir.path() / "no_such_folder" / "m.gguf";
  EXPECT_THAT(message_of([&] { w.write(missing.string()); }), HasSubstr(missing.string()));
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(GgufWriterTest, CopyMetadataReproducesTheFile) {
  GgufWriter original;
  original.set_string("general.architecture", "gemma3");
  original.set_uint32("general.alignment", 64);
  original.set_float32("gemma3.rope.freq_base", 1e6f);
  original.set_int8("t.i8", -3);
  original.set_uint16("t.u16", 9);
  original.set_float64("t.f64", -1.25);
  original.set_bool("t.b", false);
  original.set_string_array("tokenizer.ggml.tokens", {"a", "b"});
  const float scores[] = {-1.0f, 0.5f};
  original.set_float32_array("tokenizer.ggml.scores", scores);
  Array nested{ValueType::kArray, {Value{ValueType::kArray, Array{ValueType::kUint64, {Value{ValueType::kUint64, std::uint64_t{5}}}}}}};
  original.set("t.nested", Value{ValueType::kArray, nested});
  std::vector<std::uint8_t> weights(20 * 2, 0x11);
  original.add_tensor("w", DType::Q4_1, {2, 32}, weights);
  const auto bytes = original.to_bytes();

  auto file = GgufFile::from_bytes("original.gguf", bytes);
  GgufWriter copy;
  copy.copy_metadata_from(*file);
  for (const auto& t : file->tensors()) {
    copy.add_tensor(t.name, t.dtype, t.shape, std::span<const std::uint8_t>(t.data, t.n_bytes));
  }
  EXPECT_EQ(copy.to_bytes(), bytes);
}

}  // namespace
}  // namespace eaq::gguf
