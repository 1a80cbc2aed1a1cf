// Tokenizer file detection and loading.
#include "tokenizer/tokenizer_factory.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/llama2c_tokenizer_file.h"

namespace eaq::tokenizer {
namespace {

namespace fs = std::filesystem;

bool starts_with_bytes(const std::string& path, std::string_view magic) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in && head == magic;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
  fs::path p(path);
  if (fs::is_directory(p)) {
    if (fs::exists(p / "tokenizer.json")) return load_hf_tokenizer_json((p / "tokenizer.json").string());
    if (fs::exists(p / "encoder.json") && fs::exists(p / "vocab.bpe")) {
      return load_gpt2_encoder_files((p / "encoder.json").string(), (p / "vocab.bpe").string());
    }
    if (fs::exists(p / "tokenizer.bin")) return load_llama2c_tokenizer((p / "tokenizer.bin").string());
    fail("{}: no tokenizer.json, encoder.json + vocab.bpe or tokenizer.bin in this folder", path);
  }
  if (!fs::exists(p)) fail("tokenizer file '{}' does not exist", path);
  if (starts_with_bytes(path, "GGUF")) return load_tokenizer_from_gguf(*gguf::GgufFile::open(path));
  if (p.filename() == "encoder.json" || p.filename() == "vocab.bpe") {
    auto dir = p.parent_path();
    return load_gpt2_encoder_files((dir / "encoder.json").string(), (dir / "vocab.bpe").string());
  }
  if (p.extension() == ".json") return load_hf_tokenizer_json(path);
  if (p.extension() == ".bin") return load_llama2c_tokenizer(path);
  fail("{}: not a tokenizer eaq knows (tokenizer.json, GPT-2 encoder.json + vocab.bpe, llama2.c "
       "tokenizer.bin, or a .gguf)", path);
}

std::unique_ptr<Tokenizer> load_tokenizer_for_model(const std::string& model_path) {
  fs::path p(model_path);
  if (fs::is_directory(p)) return load_tokenizer_file(model_path);
  if (!fs::exists(p)) fail("model '{}' does not exist", model_path);
  if (starts_with_bytes(model_path, "GGUF")) return load_tokenizer_from_gguf(*gguf::GgufFile::open(model_path));
  if (p.extension() == ".bin") {
    // llama2.c checkpoints keep the vocabulary in a separate tokenizer.bin (or tok<N>.bin).
    auto dir = p.parent_path();
    if (fs::exists(dir / "tokenizer.bin")) return load_llama2c_tokenizer((dir / "tokenizer.bin").string());
    for (const auto& entry : fs::directory_iterator(dir.empty() ? fs::path(".") : dir)) {
      auto name = entry.path().filename().string();
      if (name.starts_with("tok") && name.ends_with(".bin") && entry.path() != p) {
        return load_llama2c_tokenizer(entry.path().string());
      }
    }
    fail("{}: a llama2.c checkpoint, but no tokenizer.bin beside it; pass --tokenizer FILE", model_path);
  }
  fail("{}: cannot find a tokenizer for this model (expected a .gguf, a llama2.c .bin or an HF folder); "
       "pass --tokenizer FILE", model_path);
}

}  // namespace eaq::tokenizer
