// data pull: SHA-256 against FIPS 180-4 / NIST vectors and sha256sum of the shared copies; the
// source table; refusals that happen before any download. Downloads themselves (resume, bad
// sha256) are tested against a local HTTP server in tests/e2e/test_data_pull.py.
#include "eval/data_pull.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"

namespace eaq::eval {
namespace {

TEST(Sha256Test, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55, 56, 64 bytes), values from Python's hashlib.
  EXPECT_EQ(sha256_hex(std::string(55, 'x')), "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  EXPECT_EQ(sha256_hex(std::string(56, 'x')), "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  EXPECT_EQ(sha256_hex(std::string(63, 'x')), "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
  EXPECT_EQ(sha256_hex(std::string(64, 'x')), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
  EXPECT_EQ(sha256_hex(std::string(65, 'x')), "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9");
}

TEST(Sha256Test, SharedCopiesMatchSha256sum) {
  // sha256sum ../shared/datasets/gsm8k/test.jsonl, the same value pinned in the source table.
  std::filesystem::path file = std::filesystem::path(EAQ_SHARED_DIR) / "datasets" / "gsm8k" / "test.jsonl";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " not present";
  EXPECT_EQ(sha256_file(file), "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14");
  EXPECT_EQ(sha256_file(file), find_dataset_source("gsm8k").files[0].sha256);
  EXPECT_THROW(sha256_file("/nonexistent/file"), Error);
}

TEST(DatasetSourcesTest, TableIsCompleteAndUnknownTasksAreErrors) {
  for (const char* task : {"gsm8k", "mbpp", "math500", "hellaswag", "truthfulqa", "arc", "mmlu", "sst2"}) {
    const DatasetSource& source = find_dataset_source(task);
    ASSERT_FALSE(source.files.empty()) << task;
    for (const DatasetFile& file : source.files) {
      EXPECT_EQ(file.path.rfind(std::string(task) + "/", 0), 0u) << file.path;
      EXPECT_EQ(file.url.rfind("https://", 0), 0u) << file.url;
      EXPECT_TRUE(file.sha256.empty() || file.sha256.size() == 64) << file.path;
      EXPECT_TRUE(!file.sha256.empty() || !file.note.empty()) << file.path << ": unpinned needs a note";
    }
  }
  try {
    find_dataset_source("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gsm8k"), std::string::npos) << e.what();
  }
}

TEST(DataPullTest, UnpinnedFilesNeedNoVerifyBeforeAnythingIsDownloaded) {
  PullOptions options;
  options.cache_dir = std::filesystem::temp_directory_path() / "eaq-data-pull-unit";
  options.url_base = "http://127.0.0.1:9";  // never contacted: the refusal comes first
  options.curl = "/nonexistent/curl";
  try {
    pull_dataset(find_dataset_source("mbpp"), options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--no-verify"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(options.cache_dir / "mbpp" / "mbpp.jsonl"));
  std::filesystem::remove_all(options.cache_dir);
}

}  // namespace
}  // namespace eaq::eval
