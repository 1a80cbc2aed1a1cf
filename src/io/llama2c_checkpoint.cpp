// Llama2cCheckpoint: header validation and the array layout of llama2.c's legacy export
// (export.py legacy_export / run.c memory_map_weights).
#include "io/llama2c_checkpoint.h"

#include <cstring>

#include "core/error.h"

namespace eaq::llama2c {

namespace {

constexpr std::int64_t kMaxDim = 1 << 16;          // hidden sizes of real models are far below
constexpr std::int64_t kMaxLayers = 1 << 10;
constexpr std::int64_t kMaxVocab = 1 << 22;
constexpr std::int64_t kMaxSeqLen = 1 << 22;
constexpr std::uint64_t kHeaderBytes = 7 * 4;

struct ArrayLayout {
  const char* name;
  std::vector<std::int64_t> shape;
};

std::vector<ArrayLayout> array_layout(const Llama2cHeader& h) {
  const std::int64_t L = h.n_layers, D = h.dim, F = h.hidden_dim, KV = h.kv_dim();
  std::vector<ArrayLayout> layout = {
      {"token_embedding_table", {h.vocab_size, D}},
      {"rms_att_weight", {L, D}},
      {"wq", {L, D, D}},
      {"wk", {L, KV, D}},
      {"wv", {L, KV, D}},
      {"wo", {L, D, D}},
      {"rms_ffn_weight", {L, D}},
      {"w1", {L, F, D}},
      {"w2", {L, D, F}},
      {"w3", {L, F, D}},
      {"rms_final_weight", {D}},
      {"freq_cis_real", {h.seq_len, h.head_size() / 2}},
      {"freq_cis_imag", {h.seq_len, h.head_size() / 2}},
  };
  if (!h.shared_classifier) layout.push_back({"wcls", {h.vocab_size, D}});
  return layout;
}

std::uint64_t elements(const std::vector<std::int64_t>& shape) {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

// Returns an error message, or empty when the header is sane (shared by parse and detection).
std::string check_header(const Llama2cHeader& h, std::uint64_t file_bytes) {
  auto field = [](std::string_view name, std::int64_t v, std::int64_t max) -> std::string {
    if (v <= 0 || v > max) return fmt::format("{} = {} is outside 1..{}", name, v, max);
    return {};
  };
  for (auto msg : {field("dim", h.dim, kMaxDim), field("hidden_dim", h.hidden_dim, 4 * kMaxDim),
                   field("n_layers", h.n_layers, kMaxLayers), field("n_heads", h.n_heads, kMaxDim),
                   field("n_kv_heads", h.n_kv_heads, kMaxDim),
                   field("vocab_size", h.vocab_size, kMaxVocab), field("seq_len", h.seq_len, kMaxSeqLen)}) {
    if (!msg.empty()) return msg;
  }
  if (h.dim % h.n_heads != 0) return fmt::format("n_heads = {} does not divide dim = {}", h.n_heads, h.dim);
  if (h.head_size() % 2 != 0) return fmt::format("head size {} is odd; RoPE needs pairs", h.head_size());
  if (h.n_kv_heads > h.n_heads || h.n_heads % h.n_kv_heads != 0) {
    return fmt::format("n_kv_heads = {} does not divide n_heads = {}", h.n_kv_heads, h.n_heads);
  }
  if (h.expected_file_bytes() != file_bytes) {
    return fmt::format("the header implies a file of {} bytes ({} classifier) but the file has {} bytes",
                       h.expected_file_bytes(), h.shared_classifier ? "shared" : "separate", file_bytes);
  }
  return {};
}

Llama2cHeader read_header(std::span<const std::uint8_t> bytes) {
  std::int32_t v[7];
  std::memcpy(v, bytes.data(), sizeof v);
  Llama2cHeader h;
  h.dim = v[0];
  h.hidden_dim = v[1];
  h.n_layers = v[2];
  h.n_heads = v[3];
  h.n_kv_heads = v[4];
  // INT32_MIN has no positive counterpart; it fails the range check below as 0.
  h.vocab_size = v[5] == INT32_MIN ? 0 : (v[5] < 0 ? -std::int64_t{v[5]} : v[5]);
  h.shared_classifier = v[5] > 0;
  h.seq_len = v[6];
  return h;
}

}  // namespace

std::uint64_t Llama2cHeader::expected_file_bytes() const {
  std::uint64_t n = 0;
  for (const auto& a : array_layout(*this)) n += elements(a.shape);
  return kHeaderBytes + 4 * n;
}

Llama2cHeader parse_llama2c_header(std::string_view path, std::span<const std::uint8_t> file_bytes) {
  if (file_bytes.size() < kHeaderBytes) {
    fail("'{}' is {} bytes, too short for a llama2.c checkpoint header (7 int32 = 28 bytes)", path,
         file_bytes.size());
  }
  Llama2cHeader h = read_header(file_bytes);
  std::string problem = check_header(h, file_bytes.size());
  if (!problem.empty()) {
    fail("'{}' is not a valid llama2.c legacy checkpoint: {}. eaq reads version-0 .bin files written "
         "by llama2.c's export.py --version 0 (header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, "
         "vocab_size, seq_len).",
         path, problem);
  }
  return h;
}

bool looks_like_llama2c_checkpoint(std::span<const std::uint8_t> file_bytes) {
  if (file_bytes.size() < kHeaderBytes) return false;
  return check_header(read_header(file_bytes), file_bytes.size()).empty();
}

Llama2cCheckpoint::Llama2cCheckpoint(std::string path, MappedFile file)
    : path_(std::move(path)), file_(std::move(file)) {}

std::unique_ptr<Llama2cCheckpoint> Llama2cCheckpoint::open(const std::string& path) {
  std::unique_ptr<Llama2cCheckpoint> c(new Llama2cCheckpoint(path, MappedFile(path)));
  c->header_ = parse_llama2c_header(path, c->file_.bytes());
  std::uint64_t offset = kHeaderBytes;
  for (auto& a : array_layout(c->header_)) {
    const std::uint64_t n_bytes = 4 * elements(a.shape);
    c->arrays_.push_back(Llama2cArray{a.name, std::move(a.shape), offset,
                                      reinterpret_cast<const float*>(c->file_.data() + offset), n_bytes});
    offset += n_bytes;
  }
  return c;
}

const Llama2cArray* Llama2cCheckpoint::find_array(std::string_view name) const {
  for (const auto& a : arrays_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace eaq::llama2c
