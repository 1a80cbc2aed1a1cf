// load_model: format detection, the three source formats mapped onto the tensor tables, and
// the tokenizer / chat template found with the model.
#include "model/model_loader.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/mapped_file.h"
#include "io/gguf_file.h"
#include "io/hf_config.h"
#include "io/llama2c_checkpoint.h"
#include "io/safetensors_file.h"
#include "model/tensor_table.h"

namespace eaq::model {

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kMaxTokenizerConfigBytes = 64u << 20;

bool is_weight_dtype(DType d) {
  switch (d) {
    case DType::I8: case DType::U8: case DType::I16: case DType::I32: case DType::I64: case DType::F64:
      return false;
    default:
      return true;
  }
}

std::string shape_str(const std::vector<std::int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Checks one stored tensor against its table entry; `where` names the file.
void check_tensor(const std::string& where, const std::string& canonical, const std::string& source_name,
                  DType dtype, const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& expected) {
  if (shape != expected) {
    fail("'{}': tensor '{}' (eaq name '{}') has shape {}, but the config implies {}. The weights and "
         "the config do not belong together; re-download or re-convert the model.",
         where, source_name, canonical, shape_str(shape), shape_str(expected));
  }
  if (!is_weight_dtype(dtype)) {
    fail("'{}': tensor '{}' is stored as {}; eaq runs float (f32, f16, bf16, f8_e4m3) or GGUF block "
         "quantized weights. Convert the model to one of those.",
         where, source_name, dtype_name(dtype));
  }
}

std::string read_text_file(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) fail("cannot read '{}': {}", path.string(), ec.message());
  if (size > max_bytes) fail("'{}' is {} bytes, more than the {} eaq accepts", path.string(), size, max_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}'", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// HF directories keep the chat template in chat_template.jinja (newer) or in
// tokenizer_config.json's chat_template (a string, or a list of {name, template}).
std::optional<std::string> find_hf_chat_template(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "chat_template.jinja", ec)) {
    return read_text_file(dir / "chat_template.jinja", kMaxTokenizerConfigBytes);
  }
  const fs::path config_path = dir / "tokenizer_config.json";
  if (!fs::exists(config_path, ec)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(config_path, kMaxTokenizerConfigBytes));
  } catch (const nlohmann::json::exception& e) {
    fail("'{}' is not valid JSON ({}); re-download it", config_path.string(), e.what());
  }
  if (!j.is_object() || !j.contains("chat_template") || j["chat_template"].is_null()) return std::nullopt;
  const auto& t = j["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    std::optional<std::string> first;
    for (const auto& entry : t) {
      if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string()) continue;
      if (!first) first = entry["template"].get<std::string>();
      if (entry.value("name", "") == "default") return entry["template"].get<std::string>();
    }
    return first;
  }
  fail("'{}': chat_template is {}, expected a string or a list of {{name, template}}", config_path.string(),
       t.type_name());
}

fs::path safetensors_dir_of(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
}

}  // namespace

std::int64_t ModelTensor::n_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string_view tokenizer_source_kind_name(TokenizerSourceKind kind) {
  switch (kind) {
    case TokenizerSourceKind::kNone: return "none";
    case TokenizerSourceKind::kGguf: return "gguf";
    case TokenizerSourceKind::kTokenizerJson: return "tokenizer.json";
    case TokenizerSourceKind::kLlama2cBin: return "llama2c";
  }
  return "unknown";
}

LoadedModel::~LoadedModel() = default;

void LoadedModel::add_tensor(ModelTensor tensor) {
  tensor_index_.emplace(tensor.name, tensors_.size());
  tensors_.push_back(std::move(tensor));
}

const ModelTensor* LoadedModel::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const ModelTensor& LoadedModel::tensor(std::string_view name) const {
  const ModelTensor* t = find_tensor(name);
  if (t == nullptr) {
    fail("'{}' ({} {}) has no tensor '{}'", path_, architecture_name(config_.architecture),
         model_format_name(config_.format), name);
  }
  return *t;
}

const ModelTensor& LoadedModel::layer_tensor(std::string_view pattern, std::int64_t layer) const {
  return tensor(layer_tensor_name(pattern, layer));
}

std::int64_t LoadedModel::n_params() const {
  std::int64_t n = 0;
  for (const auto& t : tensors_) n += t.n_elements();
  return n;
}

std::uint64_t LoadedModel::weight_bytes() const {
  std::uint64_t n = 0;
  for (const auto& t : tensors_) n += t.n_bytes;
  return n;
}

std::uint64_t LoadedModel::file_bytes() const { return file_bytes_; }

std::uint64_t LoadedModel::copied_bytes() const {
  std::uint64_t n = 0;
  for (const auto& c : aligned_copies_) n += c.size() * sizeof(std::uint64_t);
  return n;
}

// safetensors only aligns the data section (the header is padded to 8 bytes); a tensor after one
// with an odd byte count sits misaligned, and typed loads from it are undefined behaviour.
void align_tensor_data(LoadedModel& model, ModelTensor& tensor) {
  const std::size_t element_bytes = traits(tensor.dtype).block_bytes;
  const std::size_t alignment = std::min<std::size_t>(element_bytes, alignof(std::uint64_t));
  if (alignment <= 1 || reinterpret_cast<std::uintptr_t>(tensor.data) % alignment == 0) return;
  auto& copy = model.aligned_copies_.emplace_back((tensor.n_bytes + 7) / 8);
  std::memcpy(copy.data(), tensor.data, tensor.n_bytes);
  tensor.data = reinterpret_cast<const std::uint8_t*>(copy.data());
}

ModelFormat detect_model_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(fs::path(path) / "config.json", ec)) {
      fail("'{}' is a directory without config.json; eaq reads a Hugging Face model directory "
           "(config.json + *.safetensors), a .gguf file or a llama2.c .bin checkpoint",
           path);
    }
    return ModelFormat::kSafetensors;
  }
  if (!fs::exists(path, ec)) fail("model '{}' does not exist; check the path", path);
  MappedFile file(path);
  auto bytes = file.bytes();
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) return ModelFormat::kGguf;
  if (path.ends_with(".json")) return ModelFormat::kSafetensors;  // model.safetensors.index.json
  // safetensors: a u64 header length that fits the file, then a JSON object.
  if (bytes.size() >= 10) {
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (n >= 2 && n <= bytes.size() - 8 && bytes[8] == '{') return ModelFormat::kSafetensors;
  }
  if (llama2c::looks_like_llama2c_checkpoint(bytes)) return ModelFormat::kLlama2c;
  fail("cannot tell the format of '{}' ({} bytes): it is not GGUF (no 'GGUF' magic), not safetensors "
       "(no JSON header) and not a llama2.c checkpoint (its header does not match the file size). "
       "Pass a .gguf file, a Hugging Face model directory or a llama2.c .bin.",
       path, bytes.size());
}

namespace {

void load_gguf(const ModelConfig& c, const gguf::GgufFile& f,
               std::vector<ModelTensor>& out) {
  std::set<std::string, std::less<>> claimed;
  for (const TensorSpec& spec : tensor_table(c.architecture)) {
    const std::int64_t n = spec.per_layer() ? c.n_layers : 1;
    for (std::int64_t layer = 0; layer < n; ++layer) {
      const std::string name = layer_tensor_name(spec.name, layer);
      const gguf::TensorInfo* t = f.find_tensor(name);
      if (t == nullptr) {
        if (!is_expected(spec, c)) continue;
        fail("'{}' ({} model) lacks the tensor '{}'. The file is incomplete or not a {} model; "
             "re-download or re-convert it.",
             f.path(), architecture_name(c.architecture), name, c.source_architecture);
      }
      check_tensor(f.path(), name, t->name, t->dtype, t->shape, expected_shape(spec, c));
      claimed.insert(name);
      out.push_back(ModelTensor{name, t->name, t->dtype, t->shape, t->data, t->n_bytes});
    }
  }
  for (const auto& t : f.tensors()) {
    if (!claimed.count(t.name)) {
      fail("'{}' holds the tensor '{}', which is not part of the {} architecture as eaq runs it; "
           "eaq would ignore weights the model needs, so it refuses the file.",
           f.path(), t.name, architecture_name(c.architecture));
    }
  }
}

void load_safetensors(const ModelConfig& c, const safetensors::SafetensorsShards& s, const std::string& where,
                      std::vector<ModelTensor>& out) {
  std::set<std::string, std::less<>> claimed;
  for (const TensorSpec& spec : tensor_table(c.architecture)) {
    if (spec.hf_name.empty()) continue;
    const std::int64_t n = spec.per_layer() ? c.n_layers : 1;
    for (std::int64_t layer = 0; layer < n; ++layer) {
      const std::string hf_name = layer_tensor_name(spec.hf_name, layer);
      const safetensors::TensorInfo* t = s.find_tensor(hf_name);
      if (t == nullptr) {
        if (!is_expected(spec, c)) continue;
        fail("'{}' ({} model) lacks the tensor '{}'. The download is incomplete or config.json does "
             "not match the weights.",
             where, c.source_architecture, hf_name);
      }
      // A tied model may still ship lm_head.weight (a copy of the embeddings); the tie wins, as in
      // transformers.
      if (!is_expected(spec, c)) {
        claimed.insert(hf_name);
        continue;
      }
      const std::string name = layer_tensor_name(spec.name, layer);
      check_tensor(s.file_of(hf_name), name, hf_name, t->dtype, t->shape, expected_shape(spec, c));
      claimed.insert(hf_name);
      out.push_back(ModelTensor{name, hf_name, t->dtype, t->shape, t->data, t->n_bytes});
    }
  }
  for (const auto* t : s.tensors()) {
    if (!claimed.count(t->name) && !is_ignored_hf_buffer(t->name)) {
      fail("'{}' holds the tensor '{}', which is not part of the {} architecture as eaq runs it; "
           "eaq would ignore weights the model needs, so it refuses the model.",
           s.file_of(t->name), t->name, c.source_architecture);
    }
  }
}

void load_llama2c(const ModelConfig& c, const llama2c::Llama2cCheckpoint& ck, std::vector<ModelTensor>& out) {
  for (const TensorSpec& spec : tensor_table(c.architecture)) {
    if (spec.llama2c_name.empty() || !is_expected(spec, c)) continue;
    const llama2c::Llama2cArray* a = ck.find_array(spec.llama2c_name);
    EAQ_CHECK(a != nullptr, "llama2.c array '{}' missing", spec.llama2c_name);
    const std::vector<std::int64_t> expected = expected_shape(spec, c);
    if (!spec.per_layer()) {
      check_tensor(ck.path(), std::string(spec.name), a->name, DType::F32, a->shape, expected);
      out.push_back(ModelTensor{std::string(spec.name), a->name, DType::F32, a->shape,
                                reinterpret_cast<const std::uint8_t*>(a->data), a->n_bytes});
      continue;
    }
    // Stacked {n_layers, ...}: layer i is the i-th contiguous slice.
    std::vector<std::int64_t> slice(a->shape.begin() + 1, a->shape.end());
    const std::uint64_t slice_bytes = a->n_bytes / static_cast<std::uint64_t>(c.n_layers);
    for (std::int64_t layer = 0; layer < c.n_layers; ++layer) {
      const std::string name = layer_tensor_name(spec.name, layer);
      const std::string source = fmt::format("{}[{}]", a->name, layer);
      check_tensor(ck.path(), name, source, DType::F32, slice, expected);
      out.push_back(ModelTensor{name, source, DType::F32, slice,
                                reinterpret_cast<const std::uint8_t*>(a->data) + slice_bytes * layer,
                                slice_bytes});
    }
  }
}

}  // namespace

std::unique_ptr<LoadedModel> load_model(const std::string& path) {
  std::unique_ptr<LoadedModel> m(new LoadedModel());
  m->path_ = path;
  std::vector<ModelTensor> tensors;
  switch (detect_model_format(path)) {
    case ModelFormat::kGguf: {
      m->gguf_ = gguf::GgufFile::open(path);
      m->config_ = config_from_gguf(*m->gguf_);
      load_gguf(m->config_, *m->gguf_, tensors);
      m->files_ = {path};
      m->file_bytes_ = m->gguf_->file_bytes();
      if (m->gguf_->find("tokenizer.ggml.model") != nullptr) m->tokenizer_ = {TokenizerSourceKind::kGguf, path};
      m->chat_template_ = m->gguf_->get_string("tokenizer.chat_template");
      break;
    }
    case ModelFormat::kSafetensors: {
      const fs::path dir = safetensors_dir_of(path);
      const std::string config_path = (dir / "config.json").string();
      std::error_code ec;
      if (!fs::exists(config_path, ec)) {
        fail("'{}' has no config.json beside it; a safetensors model needs its Hugging Face config.json",
             path);
      }
      m->config_ = config_from_hf(io::HfConfig::open(config_path));
      m->safetensors_ = safetensors::SafetensorsShards::open(path);
      load_safetensors(m->config_, *m->safetensors_, path, tensors);
      for (const auto& f : m->safetensors_->files()) m->files_.push_back(f->path());
      m->files_.push_back(config_path);
      m->file_bytes_ = m->safetensors_->file_bytes();
      if (fs::exists(dir / "tokenizer.json", ec)) {
        m->tokenizer_ = {TokenizerSourceKind::kTokenizerJson, (dir / "tokenizer.json").string()};
      }
      m->chat_template_ = find_hf_chat_template(dir);
      break;
    }
    case ModelFormat::kLlama2c: {
      m->llama2c_ = llama2c::Llama2cCheckpoint::open(path);
      m->config_ = config_from_llama2c(m->llama2c_->header(), path);
      load_llama2c(m->config_, *m->llama2c_, tensors);
      m->files_ = {path};
      m->file_bytes_ = m->llama2c_->file_bytes();
      // llama2.c names vocabulary-specific tokenizers tok<vocab>.bin (stories260K: tok512.bin);
      // run.c's default is tokenizer.bin.
      const fs::path dir = fs::path(path).parent_path();
      std::error_code ec;
      for (const auto& name : {fmt::format("tok{}.bin", m->config_.vocab_size), std::string("tokenizer.bin")}) {
        if (fs::exists(dir / name, ec)) {
          m->tokenizer_ = {TokenizerSourceKind::kLlama2cBin, (dir / name).string()};
          break;
        }
      }
      break;
    }
  }
  for (auto& t : tensors) {
    align_tensor_data(*m, t);
    m->add_tensor(std::move(t));
  }
  return m;
}

}  // namespace eaq::model
