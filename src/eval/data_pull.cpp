// `eaq data pull`: the table of canonical dataset files and the download loop (see data_pull.h).
#include "eval/data_pull.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

extern char** environ;

namespace eaq::eval {
namespace {

// The canonical public homes (../shared/datasets/SOURCES.md). A sha256 is pinned only where the
// shared copy was taken from that same home, so its sha256sum is the upstream file's; elsewhere the
// copies came from mirrors whose bytes may differ, and pull needs --no-verify.
std::vector<DatasetSource> build_dataset_sources() {
  constexpr const char* kGsm8kBase =
      "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/";
  constexpr const char* kGsm8kNote =
      "sha256 of ../shared/datasets/gsm8k (taken from openai/grade-school-math @3101c7d5)";
  return {
      {"gsm8k",
       "GSM8K (openai/grade-school-math): test 1319, train 7473 (gsm8k_cot uses fixed exemplars, not train)",
       {{"gsm8k/test.jsonl", std::string(kGsm8kBase) + "test.jsonl",
         "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14", kGsm8kNote},
        {"gsm8k/train.jsonl", std::string(kGsm8kBase) + "train.jsonl",
         "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465", kGsm8kNote}}},
      {"mbpp",
       "MBPP (google-research/google-research mbpp/): 974 tasks, ids 11-510 = test, 1-10 = prompts",
       {{"mbpp/mbpp.jsonl",
         "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl", "",
         "not pinned: the shared copy came from a mirror (muitiiifruckt/ASE) whose bytes differ in length "
         "from the upstream file"}}},
      {"math500",
       "MATH-500 (openai/prm800k math_splits/test.jsonl): problem, solution, answer, subject, level",
       {{"math500/test.jsonl",
         "https://raw.githubusercontent.com/openai/prm800k/main/prm800k/math_splits/test.jsonl", "",
         "not pinned: the shared copy (chenwxOggai/BiRM) has another layout (question/answer)"}}},
      {"hellaswag",
       "HellaSwag validation (rowanz/hellaswag data/hellaswag_val.jsonl): 10042",
       {{"hellaswag/hellaswag_val.jsonl",
         "https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl", "",
         "not pinned: the shared copy is llama.cpp's text layout, not this jsonl"}}},
      {"truthfulqa",
       "TruthfulQA (sylinrl/TruthfulQA TruthfulQA.csv): 817",
       {{"truthfulqa/TruthfulQA.csv", "https://raw.githubusercontent.com/sylinrl/TruthfulQA/main/TruthfulQA.csv",
         "", "not pinned: the shared copy came from a mirror (benedictflorance/truthfulqa_experiments)"}}},
      {"arc",
       "ARC (AI2 ARC-V1-Feb2018 zip: ARC-Easy and ARC-Challenge, train/dev/test jsonl)",
       {{"arc/ARC-V1-Feb2018.zip", "https://ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip", "",
         "not pinned; an archive: unpack with `unzip -j -d arc arc/ARC-V1-Feb2018.zip '*.jsonl'`", true}}},
      {"mmlu",
       "MMLU (hendrycks/test data.tar: headerless csv, letter answers, dev/ and test/)",
       {{"mmlu/data.tar", "https://people.eecs.berkeley.edu/~hendrycks/data.tar", "",
         "not pinned; an archive: unpack with `tar -xf mmlu/data.tar --strip-components=1 -C mmlu`", true}}},
      {"sst2",
       "SST-2 (GLUE SST-2.zip: train.tsv, dev.tsv with header sentence<TAB>label)",
       {{"sst2/SST-2.zip", "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", "",
         "not pinned; an archive: unpack with `unzip -j -d sst2 sst2/SST-2.zip`", true}}},
  };
}

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

struct CurlOutcome {
  int exit_code = 0;
  std::string message;  // curl's stderr
};

// Runs curl with an argv (no shell); its stderr is captured through a temp file.
CurlOutcome run_curl(const PullOptions& options, const std::string& url, const std::filesystem::path& part,
                     bool resume) {
  std::vector<std::string> args = {options.curl, "--silent", "--show-error", "--fail", "--location",
                                   "--max-redirs", "5", "--proto", "=http,https", "--proto-redir",
                                   "=http,https", "--connect-timeout",
                                   fmt::format("{}", options.connect_timeout_s), "--output", part.string()};
  if (resume) {
    args.push_back("--continue-at");
    args.push_back("-");  // from the size of the .part file (an HTTP Range request)
  }
  args.push_back(url);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::filesystem::path log = part;
  log += ".curl-log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, options.curl.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    fail("data pull: cannot run '{}' ({}); install curl (scripts/setup.sh does: apt-get install curl)",
         options.curl, std::strerror(rc));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CurlOutcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  outcome.message = text.str();
  while (!outcome.message.empty() && (outcome.message.back() == '\n' || outcome.message.back() == '\r')) {
    outcome.message.pop_back();
  }
  std::filesystem::remove(log);
  return outcome;
}

// curl's exit codes that mean "resuming is not possible here, start over".
bool resume_refused(const CurlOutcome& outcome) {
  return outcome.exit_code == 33 || (outcome.exit_code == 22 && outcome.message.find("416") != std::string::npos);
}

// curl's exit codes that mean "the transfer broke off; what arrived is kept in the .part".
bool transfer_interrupted(int exit_code) {
  return exit_code == 18 || exit_code == 28 || exit_code == 52 || exit_code == 55 || exit_code == 56 ||
         exit_code == 92;
}

void write_manifest(const std::filesystem::path& dir, const std::vector<PulledFile>& files) {
  std::filesystem::path manifest = dir / "SHA256SUMS";
  std::filesystem::path temp = manifest;
  temp += ".tmp";
  {
    std::ofstream out(temp);
    for (const PulledFile& file : files) {
      out << file.sha256 << "  " << file.path.filename().string()
          << (file.verified ? "" : "  # unverified (no pinned sha256; pulled with --no-verify)") << "\n";
    }
    if (!out.flush()) fail("data pull: cannot write {}", temp.string());
  }
  std::filesystem::rename(temp, manifest);
}

}  // namespace

const std::vector<DatasetSource>& dataset_sources() {
  static const std::vector<DatasetSource> sources = build_dataset_sources();
  return sources;
}

const DatasetSource& find_dataset_source(std::string_view task) {
  std::string known;
  for (const DatasetSource& source : dataset_sources()) {
    if (source.task == task) return source;
    known += (known.empty() ? "" : ", ") + source.task;
  }
  fail("data pull: no dataset source for '{}'. Known: {} (see `eaq data list`)", task, known);
}

std::vector<PulledFile> pull_dataset(const DatasetSource& source, const PullOptions& options,
                                     const std::function<void(const PulledFile&)>& on_file) {
  if (options.cache_dir.empty()) fail("data pull: no cache dir given (--cache-dir)");
  if (options.max_attempts < 1) fail("data pull: --attempts must be at least 1");
  // Refuse unpinned files before downloading anything.
  for (const DatasetFile& file : source.files) {
    if (file.sha256.empty() && !options.no_verify) {
      fail("data pull: {} has no pinned sha256 ({}). Rerun with --no-verify to accept it unverified; its "
           "sha256 is printed and written to SHA256SUMS",
           file.path, file.note);
    }
  }
  std::vector<PulledFile> pulled;
  std::filesystem::path task_dir;
  for (const DatasetFile& file : source.files) {
    PulledFile result;
    result.path = options.cache_dir / file.path;
    task_dir = result.path.parent_path();
    std::filesystem::create_directories(task_dir);
    std::string url = file.url;
    if (!options.url_base.empty()) {
      std::string base = options.url_base;
      while (!base.empty() && base.back() == '/') base.pop_back();
      url = base + "/" + file.path;
    }
    std::filesystem::path part = result.path;
    part += ".part";

    if (std::filesystem::exists(result.path) && !options.force) {
      result.sha256 = sha256_file(result.path);
      result.bytes = file_size_or_zero(result.path);
      result.already_present = true;
      if (!file.sha256.empty() && result.sha256 != file.sha256) {
        fail("data pull: {} exists but its sha256 is {}, not the pinned {}. Delete it (or pass --force) to "
             "download it again",
             result.path.string(), result.sha256, file.sha256);
      }
      result.verified = !file.sha256.empty();
    } else {
      if (options.force) std::filesystem::remove(part);
      for (int attempt = 1;; ++attempt) {
        const std::uint64_t have = file_size_or_zero(part);
        if (have > 0 && result.resumed_from_bytes == 0) result.resumed_from_bytes = have;
        CurlOutcome outcome = run_curl(options, url, part, have > 0);
        if (outcome.exit_code == 0) break;
        if (have > 0 && resume_refused(outcome)) {
          // The server cannot continue this .part (no Range support, or it is already past the end).
          std::filesystem::remove(part);
          result.resumed_from_bytes = 0;
          if (attempt < options.max_attempts) continue;
        }
        if (transfer_interrupted(outcome.exit_code) && attempt < options.max_attempts) continue;
        if (transfer_interrupted(outcome.exit_code)) {
          fail("data pull: download of {} broke off after {} bytes (curl exit {}: {}). Run the same command "
               "again to resume from {}",
               url, file_size_or_zero(part), outcome.exit_code, outcome.message, part.string());
        }
        fail("data pull: downloading {} failed (curl exit {}: {}). Check the URL and the network (or "
             "--url-base for a mirror)",
             url, outcome.exit_code, outcome.message.empty() ? "no message" : outcome.message);
      }
      result.sha256 = sha256_file(part);
      result.bytes = file_size_or_zero(part);
      if (!file.sha256.empty() && result.sha256 != file.sha256) {
        std::filesystem::remove(part);
        fail("data pull: sha256 mismatch for {} (from {}): got {}, expected {}. The download was deleted; "
             "nothing was installed. The upstream file or the mirror may have changed",
             file.path, url, result.sha256, file.sha256);
      }
      result.verified = !file.sha256.empty();
      std::filesystem::rename(part, result.path);
    }
    if (on_file) on_file(result);
    pulled.push_back(std::move(result));
  }
  if (!pulled.empty()) write_manifest(task_dir, pulled);
  return pulled;
}

}  // namespace eaq::eval
