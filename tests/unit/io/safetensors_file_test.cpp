// SafetensorsFile / SafetensorsShards: reading valid files (every dtype, metadata, shards) and
// rejecting every kind of malformed input with an eaq::Error that names file, tensor and field.
#include "io/safetensors_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "safetensors_test_writer.h"

namespace eaq::safetensors {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using eaq::testing::f32_bytes;
using eaq::testing::patterned_entry;
using eaq::testing::safetensors_bytes;
using eaq::testing::SafetensorsEntry;

// Runs fn, expects an eaq::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an eaq::Error";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
  }
}

SafetensorsHeader parse(const std::vector<std::uint8_t>& bytes) { return parse_safetensors("test.safetensors", bytes); }

TEST(SafetensorsFile, ReadsTensorsInFileOrderWithDataAndMetadata) {
  std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, 5.0f, 6.0f};
  auto bytes = safetensors_bytes({{"b.weight", "F32", {2, 3}, f32_bytes(a)}, patterned_entry("a.bias", "BF16", {4})},
                                 {{"format", "pt"}});
  auto h = parse(bytes);
  ASSERT_EQ(h.tensors.size(), 2u);
  EXPECT_EQ(h.tensors[0].name, "b.weight");
  EXPECT_EQ(h.tensors[0].dtype, DType::F32);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(h.tensors[0].n_bytes, 24u);
  EXPECT_EQ(h.tensors[0].n_elements(), 6);
  std::vector<float> read(6);
  std::memcpy(read.data(), h.tensors[0].data, 24);
  EXPECT_EQ(read, a);
  EXPECT_EQ(h.tensors[1].dtype, DType::BF16);
  EXPECT_EQ(h.tensors[1].data_begin, 24u);
  EXPECT_EQ(h.metadata.at("format"), "pt");
  EXPECT_EQ(h.data_offset, 8 + h.header_bytes);
}

TEST(SafetensorsFile, MapsEveryDtypeName) {
  const std::pair<const char*, DType> cases[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F8_E4M3", DType::F8_E4M3},
      {"I8", DType::I8},   {"U8", DType::U8},   {"I16", DType::I16},   {"I32", DType::I32},
      {"I64", DType::I64}, {"F64", DType::F64}};
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, dtype] : cases) entries.push_back(patterned_entry(std::string("t_") + name, name, {3, 2}));
  auto h = parse(safetensors_bytes(entries));
  ASSERT_EQ(h.tensors.size(), std::size(cases));
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(h.tensors[i].dtype, cases[i].second) << cases[i].first;
    EXPECT_EQ(safetensors_dtype_name(cases[i].second), cases[i].first);
  }
  EXPECT_THROW(safetensors_dtype_name(DType::Q4_0), Error);
}

TEST(SafetensorsFile, AcceptsScalarsAndEmptyTensors) {
  auto h = parse(safetensors_bytes({patterned_entry("scalar", "F32", {}), patterned_entry("empty", "F16", {0, 4}),
                                    patterned_entry("after", "U8", {3})}));
  ASSERT_EQ(h.tensors.size(), 3u);
  EXPECT_EQ(h.tensors[0].shape.size(), 0u);
  EXPECT_EQ(h.tensors[0].n_bytes, 4u);
  EXPECT_EQ(h.tensors[1].n_bytes, 0u);
  EXPECT_EQ(h.tensors[2].data_begin, 4u);
}

TEST(SafetensorsFile, RejectsFilesTooShortForTheHeaderLength) {
  expect_error([] { parse({1, 2, 3}); }, {"test.safetensors", "too short", "8-byte header length"});
}

TEST(SafetensorsFile, RejectsHeaderLengthPastTheEnd) {
  auto bytes = safetensors_bytes({patterned_entry("x", "F32", {2})});
  std::uint64_t huge = bytes.size();  // more than what follows the 8 length bytes
  std::memcpy(bytes.data(), &huge, 8);
  expect_error([&] { parse(bytes); }, {"header length", "only", "truncated"});
}

TEST(SafetensorsFile, RejectsHeaderLengthOver100MB) {
  std::vector<std::uint8_t> bytes(16, ' ');
  std::uint64_t n = 200'000'000;
  std::memcpy(bytes.data(), &n, 8);
  expect_error([&] { parse(bytes); }, {"100 MB"});
}

TEST(SafetensorsFile, RejectsTruncatedData) {
  auto bytes = safetensors_bytes({patterned_entry("x", "F32", {4, 4})});
  bytes.resize(bytes.size() - 5);
  expect_error([&] { parse(bytes); }, {"'x'", "data_offsets", "past the end"});
}

TEST(SafetensorsFile, RejectsInvalidJson) {
  expect_error([] { parse(safetensors_bytes("{\"x\": {\"dtype\": ", {})); }, {"not valid JSON"});
  expect_error([] { parse(safetensors_bytes("[1, 2]", {})); }, {"expected an object"});
  expect_error([] { parse(safetensors_bytes("{\"x\": 5}", {})); }, {"'x'", "expected an object"});
}

TEST(SafetensorsFile, RejectsUnknownDtype) {
  auto entry = patterned_entry("w", "F32", {2});
  entry.dtype = "F8_E5M2";
  expect_error([&] { parse(safetensors_bytes({entry})); }, {"'w'", "F8_E5M2", "supported"});
}

TEST(SafetensorsFile, RejectsMissingAndMistypedFields) {
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [1]}})", {})); },
               {"'w'", "data_offsets"});
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": 3, "shape": [1], "data_offsets": [0, 4]}})",
                                            {0, 0, 0, 0})); },
               {"'dtype'", "expected a string"});
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})",
                                            {0, 0, 0, 0})); },
               {"shape[0]", "non-negative"});
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})",
                                            {0, 0, 0, 0})); },
               {"shape[0]"});
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})",
                                            {0, 0, 0, 0})); },
               {"[begin, end]"});
  expect_error([] { parse(safetensors_bytes(R"({"__metadata__": {"k": 1}})", {})); }, {"__metadata__", "'k'"});
}

TEST(SafetensorsFile, RejectsOffsetsThatDisagreeWithDtypeAndShape) {
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
                                            std::vector<std::uint8_t>(8))); },
               {"'w'", "span 8 bytes", "needs 12 bytes"});
  expect_error([] { parse(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})",
                                            std::vector<std::uint8_t>(8))); },
               {"'w'", "end before"});
}

TEST(SafetensorsFile, RejectsOverflowingShapes) {
  expect_error([] {
    parse(safetensors_bytes(
        R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 0]}})", {}));
  }, {"'w'", "too many elements"});
}

TEST(SafetensorsFile, RejectsOverlapGapsAndTrailingBytes) {
  expect_error([] {
    parse(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                            std::vector<std::uint8_t>(12)));
  }, {"'a'", "'b'", "overlap"});
  expect_error([] {
    parse(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            std::vector<std::uint8_t>(8)));
  }, {"'a'", "[0, 4)", "no tensor covers"});
  expect_error([] {
    parse(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                            std::vector<std::uint8_t>(8)));
  }, {"cover 4 bytes", "holds 8 bytes"});
  // Out of range.
  expect_error([] {
    parse(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [18446744073709551611, 18446744073709551615]}})",
                            std::vector<std::uint8_t>(8)));
  }, {"'a'", "past the end"});
}

TEST(SafetensorsFile, RejectsDuplicateTensorNamesAndDeepNesting) {
  expect_error([] {
    parse(safetensors_bytes(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                 "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                            std::vector<std::uint8_t>(2)));
  }, {"'a' twice"});
  expect_error([] { parse(safetensors_bytes(std::string(5000, '[') + std::string(5000, ']'), {})); }, {"nests deeper"});
}

TEST(SafetensorsFile, OpensFromDiskAndFindsTensors) {
  auto dir = eaq::testing::fresh_test_dir("st_open");
  eaq::testing::write_bytes(dir / "m.safetensors", safetensors_bytes({patterned_entry("x", "F16", {2, 2})}));
  auto f = SafetensorsFile::open((dir / "m.safetensors").string());
  ASSERT_NE(f->find_tensor("x"), nullptr);
  EXPECT_EQ(f->find_tensor("y"), nullptr);
  EXPECT_EQ(f->file_bytes(), std::filesystem::file_size(dir / "m.safetensors"));
  expect_error([&] { SafetensorsFile::open((dir / "missing.safetensors").string()); }, {"missing.safetensors"});
  std::filesystem::remove_all(dir);
}

class SafetensorsShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = eaq::testing::fresh_test_dir("st_shards");
    eaq::testing::write_bytes(dir_ / "model-00001-of-00002.safetensors",
                              safetensors_bytes({patterned_entry("a", "F32", {2}), patterned_entry("b", "F32", {3})}));
    eaq::testing::write_bytes(dir_ / "model-00002-of-00002.safetensors",
                              safetensors_bytes({patterned_entry("c", "BF16", {4})}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_index(const std::string& text) {
    std::ofstream(dir_ / "model.safetensors.index.json") << text;
  }
  std::filesystem::path dir_;
};

TEST_F(SafetensorsShardsTest, ReadsShardsThroughTheIndex) {
  write_index(R"({"metadata": {"total_size": 24}, "weight_map": {"a": "model-00001-of-00002.safetensors",
      "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})");
  auto s = SafetensorsShards::open(dir_.string());
  EXPECT_EQ(s->files().size(), 2u);
  EXPECT_EQ(s->tensors().size(), 3u);
  ASSERT_NE(s->find_tensor("c"), nullptr);
  EXPECT_EQ(s->find_tensor("c")->dtype, DType::BF16);
  EXPECT_THAT(s->file_of("c"), HasSubstr("model-00002-of-00002.safetensors"));
  EXPECT_EQ(s->file_bytes(), std::filesystem::file_size(dir_ / "model-00001-of-00002.safetensors") +
                                 std::filesystem::file_size(dir_ / "model-00002-of-00002.safetensors"));
  EXPECT_THAT(s->index_path(), HasSubstr("model.safetensors.index.json"));
}

TEST_F(SafetensorsShardsTest, RejectsBadIndexes) {
  write_index("{not json");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"index.json", "not valid JSON"});
  write_index(R"({"metadata": {}})");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"weight_map"});
  write_index(R"({"weight_map": {"a": "model-00003-of-00003.safetensors"}})");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"model-00003-of-00003.safetensors", "missing"});
  write_index(R"({"weight_map": {"z": "model-00001-of-00002.safetensors"}})");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"'z'", "does not hold it"});
  write_index(R"({"weight_map": {"a": "../etc/passwd"}})");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"not a file name beside the index"});
  write_index(R"({"weight_map": {"a": 7}})");
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"weight_map['a']"});
}

TEST_F(SafetensorsShardsTest, WithoutIndexNeedsASingleFile) {
  expect_error([&] { SafetensorsShards::open(dir_.string()); }, {"2 .safetensors files", "index"});
  std::filesystem::remove(dir_ / "model-00002-of-00002.safetensors");
  auto s = SafetensorsShards::open(dir_.string());
  EXPECT_EQ(s->tensors().size(), 2u);
  EXPECT_TRUE(s->index_path().empty());
}

}  // namespace
}  // namespace eaq::safetensors
