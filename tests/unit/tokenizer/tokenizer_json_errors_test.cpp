// Malformed tokenizer.json: every case must raise eaq::Error naming the file and the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer_factory.h"

namespace eaq::tokenizer {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& json) {
  try {
    parse_hf_tokenizer_json(json, "bad/tokenizer.json");
  } catch (const InternalError& e) {
    return std::string("INTERNAL: ") + e.what();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

const char* kGood = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
  "added_tokens": [{"id": 3, "content": "<s>", "special": true}],
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "decoder": {"type": "ByteLevel"}})";

TEST(TokenizerJsonErrors, GoodFileLoadsAndEncodes) {
  auto tokenizer = parse_hf_tokenizer_json(kGood, "good.json");
  EXPECT_EQ(tokenizer->encode("ab<s>a", true), (std::vector<std::int32_t>{2, 3, 0}));
  EXPECT_EQ(tokenizer->vocab_size(), 4);
  EXPECT_TRUE(tokenizer->is_special(3));
}

TEST(TokenizerJsonErrors, BadJson) {
  EXPECT_THAT(error_of("{\"model\": "), HasSubstr("bad/tokenizer.json: not valid JSON"));
}

TEST(TokenizerJsonErrors, TruncatedFile) {
  std::string good = kGood;
  for (std::size_t n : {std::size_t{1}, good.size() / 3, good.size() / 2, good.size() - 2}) {
    EXPECT_THAT(error_of(good.substr(0, n)), HasSubstr("bad/tokenizer.json")) << n;
  }
}

TEST(TokenizerJsonErrors, MissingModel) {
  EXPECT_THAT(error_of(R"({"normalizer": null})"), HasSubstr("field '(root).model': missing"));
}

TEST(TokenizerJsonErrors, UnknownModelType) {
  EXPECT_THAT(error_of(R"({"model": {"type": "Unigram", "vocab": []}})"),
              HasSubstr("field 'model.type': unsupported model type 'Unigram'"));
}

TEST(TokenizerJsonErrors, UnknownPreTokenizerType) {
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                          "pre_tokenizer": {"type": "Fancy"}})"),
              HasSubstr("field 'pre_tokenizer.type': unsupported pre-tokenizer 'Fancy'"));
}

TEST(TokenizerJsonErrors, MergeWithUnknownToken) {
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})"),
              HasSubstr("field 'model.merges[0]': merge \"a c\""));
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}})"),
              HasSubstr("produces 'ab', which is not in the vocabulary"));
}

TEST(TokenizerJsonErrors, MalformedMerge) {
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["abc"]}})"),
              HasSubstr("field 'model.merges[0]'"));
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [42]}})"),
              HasSubstr("field 'model.merges[0]'"));
}

TEST(TokenizerJsonErrors, HugeIdsAreRefusedNotAllocated) {
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 4000000000}, "merges": []}})"),
              HasSubstr("field 'model.vocab'"));
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                          "added_tokens": [{"id": -5, "content": "x"}]})"),
              HasSubstr("field 'added_tokens[0].id'"));
}

TEST(TokenizerJsonErrors, BadRegex) {
  EXPECT_THAT(error_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                          "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"},
                                            "behavior": "Isolated"}})"),
              HasSubstr("field 'pre_tokenizer.pattern'"));
}

TEST(TokenizerJsonErrors, MissingFile) {
  EXPECT_THROW(load_tokenizer_file("/nonexistent/tokenizer.json"), Error);
}

TEST(StreamingDecoder, HoldsBackPartialUtf8) {
  // Byte-level vocabulary where "é" (C3 A9) is two separate tokens.
  auto tokenizer = parse_hf_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"Ã": 0, "©": 1, "x": 2}, "merges": []},
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
          "decoder": {"type": "ByteLevel"}})",
      "stream.json");
  auto ids = tokenizer->encode("é", false);
  ASSERT_EQ(ids, (std::vector<std::int32_t>{0, 1}));
  StreamingDecoder stream(*tokenizer);
  EXPECT_EQ(stream.feed(0), "");
  EXPECT_EQ(stream.feed(1), "é");
  EXPECT_EQ(stream.feed(2), "x");
  EXPECT_EQ(stream.feed(0), "");
  EXPECT_EQ(stream.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer->decode(ids), "é");
}

}  // namespace
}  // namespace eaq::tokenizer
