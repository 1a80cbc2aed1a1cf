// SafetensorsFile and SafetensorsShards: header parsing and validation as strict as the reference
// reader (huggingface/safetensors, lib.rs `validate`): data_offsets must agree with dtype × shape,
// and the tensors must tile the data section exactly (no overlap, no gap, nothing past the end).
#include "io/safetensors_file.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"

namespace eaq::safetensors {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The reference reader refuses headers over 100 MB; so do we (it also bounds our allocation).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A valid header nests at most 3 deep (object → entry → shape array); allow some slack.
constexpr int kMaxJsonDepth = 8;
// index.json files list tensor names, never weights; 64 MB is far above any real one.
constexpr std::uintmax_t kMaxIndexBytes = 64u << 20;

struct DTypeName {
  std::string_view name;
  DType dtype;
};
constexpr DTypeName kDTypeNames[] = {
    {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F8_E4M3", DType::F8_E4M3},
    {"I8", DType::I8},   {"U8", DType::U8},   {"I16", DType::I16},   {"I32", DType::I32},
    {"I64", DType::I64}, {"F64", DType::F64},
};

// nlohmann's messages quote the bytes they choked on; keep messages printable ASCII.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (ch >= 0x20 && ch < 0x7f) {
      out.push_back(static_cast<char>(ch));
    } else {
      out += fmt::format("\\x{:02x}", ch);
    }
  }
  return out;
}

std::string supported_dtype_list() {
  std::string s;
  for (const auto& e : kDTypeNames) {
    if (!s.empty()) s += ", ";
    s += e.name;
  }
  return s;
}

// Parses JSON text, rejecting duplicate keys in the top-level object (which nlohmann would
// silently collapse) and nesting deeper than kMaxJsonDepth.
Json parse_json_strict(std::string_view path, std::string_view what, std::string_view text) {
  std::set<std::string> top_level_keys;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    using Event = Json::parse_event_t;
    if (depth > kMaxJsonDepth) {
      fail("'{}': the {} nests deeper than {} levels; it is not a valid safetensors file", path,
           what, kMaxJsonDepth);
    }
    if (event == Event::key && depth == 1) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!top_level_keys.insert(key).second) {
        fail("'{}': the {} lists '{}' twice; the file is corrupt — re-export it", path, what, key);
      }
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::exception& e) {
    fail("'{}': the {} is not valid JSON ({}). The file is truncated or corrupt; re-download it.",
         path, what, printable(e.what()));
  }
}

std::uint64_t read_offset(std::string_view path, const std::string& name, const Json& v, int index) {
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)) {
    fail("'{}': tensor '{}': data_offsets[{}] = {} is not a non-negative integer", path, name, index,
         v.dump());
  }
  return v.get<std::uint64_t>();
}

TensorInfo parse_entry(std::string_view path, const std::string& name, const Json& entry) {
  if (!entry.is_object()) {
    fail("'{}': header entry '{}' is {}, expected an object with dtype, shape and data_offsets",
         path, name, entry.type_name());
  }
  auto field = [&](const char* key) -> const Json& {
    auto it = entry.find(key);
    if (it == entry.end()) fail("'{}': tensor '{}' lacks the field '{}'", path, name, key);
    return *it;
  };
  const Json& dtype_json = field("dtype");
  if (!dtype_json.is_string()) {
    fail("'{}': tensor '{}': field 'dtype' is {}, expected a string", path, name, dtype_json.type_name());
  }
  const auto& dtype_str = dtype_json.get_ref<const std::string&>();
  auto dtype = dtype_from_safetensors_name(dtype_str);
  if (!dtype) {
    fail("'{}': tensor '{}' has dtype '{}', which eaq does not read (supported: {}). Convert the "
         "model to one of those dtypes.",
         path, name, dtype_str, supported_dtype_list());
  }

  const Json& shape_json = field("shape");
  if (!shape_json.is_array()) {
    fail("'{}': tensor '{}': field 'shape' is {}, expected an array", path, name, shape_json.type_name());
  }
  TensorInfo t{name, *dtype, {}, 0, 0, nullptr};
  const std::uint64_t element_bytes = traits(*dtype).block_bytes;
  // Cap elements so that n_elements * element_bytes cannot overflow 64 bits.
  const std::uint64_t max_elements = (std::uint64_t{1} << 62) / element_bytes;
  std::uint64_t n_elements = 1;
  for (std::size_t i = 0; i < shape_json.size(); ++i) {
    const Json& d = shape_json[i];
    if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<std::int64_t>() < 0)) {
      fail("'{}': tensor '{}': shape[{}] = {} is not a non-negative integer", path, name, i, d.dump());
    }
    auto dim = d.get<std::uint64_t>();
    if (dim > max_elements || (dim != 0 && n_elements > max_elements / dim)) {
      fail("'{}': tensor '{}': shape {} has too many elements", path, name, shape_json.dump());
    }
    n_elements *= dim;
    t.shape.push_back(static_cast<std::int64_t>(dim));
  }

  const Json& offsets = field("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    fail("'{}': tensor '{}': field 'data_offsets' = {} is not a [begin, end] pair", path, name,
         offsets.dump());
  }
  const std::uint64_t begin = read_offset(path, name, offsets[0], 0);
  const std::uint64_t end = read_offset(path, name, offsets[1], 1);
  if (end < begin) {
    fail("'{}': tensor '{}': data_offsets [{}, {}] end before they begin", path, name, begin, end);
  }
  const std::uint64_t expected_bytes = n_elements * element_bytes;
  if (end - begin != expected_bytes) {
    fail("'{}': tensor '{}': data_offsets [{}, {}] span {} bytes, but dtype {} × shape {} needs {} "
         "bytes. The file is corrupt; re-export it.",
         path, name, begin, end, end - begin, dtype_str, shape_json.dump(), expected_bytes);
  }
  t.data_begin = begin;
  t.n_bytes = end - begin;
  return t;
}

std::string read_small_file(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) fail("cannot read '{}': {}", path, ec.message());
  if (size > max_bytes) fail("'{}' is {} bytes, larger than the {} bytes eaq accepts", path, size, max_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}'. Check the path and that the file is readable.", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (const auto& e : kDTypeNames) {
    if (e.name == name) return e.dtype;
  }
  return std::nullopt;
}

std::string_view safetensors_dtype_name(DType dtype) {
  for (const auto& e : kDTypeNames) {
    if (e.dtype == dtype) return e.name;
  }
  fail("dtype {} has no safetensors equivalent; choose another output precision", dtype_name(dtype));
}

std::int64_t TensorInfo::n_elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsHeader parse_safetensors(std::string_view path, std::span<const std::uint8_t> file_bytes) {
  SafetensorsHeader h;
  if (file_bytes.size() < 8) {
    fail("'{}' is {} bytes, too short to be a safetensors file (it must start with an 8-byte header "
         "length). Re-download it.",
         path, file_bytes.size());
  }
  std::uint64_t n = 0;
  std::memcpy(&n, file_bytes.data(), 8);  // little-endian, as the format and x86/arm64 are
  if (n > kMaxHeaderBytes) {
    fail("'{}': the header length at byte offset 0 is {} bytes, over the 100 MB the format allows. "
         "The file is not a safetensors file or is corrupt.",
         path, n);
  }
  if (n > file_bytes.size() - 8) {
    fail("'{}': the header length at byte offset 0 says {} bytes of JSON, but only {} bytes follow. "
         "The file is truncated; re-download it.",
         path, n, file_bytes.size() - 8);
  }
  h.header_bytes = n;
  h.data_offset = 8 + n;
  const std::uint64_t data_bytes = file_bytes.size() - h.data_offset;
  std::string_view text(reinterpret_cast<const char*>(file_bytes.data() + 8), n);
  // (The writer pads the JSON with trailing spaces to an 8-byte boundary; JSON allows them.)
  Json header = parse_json_strict(path, "JSON header", text);
  if (!header.is_object()) {
    fail("'{}': the JSON header is {}, expected an object of tensor entries", path, header.type_name());
  }

  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) {
        fail("'{}': '__metadata__' is {}, expected an object of strings", path, value.type_name());
      }
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          fail("'{}': '__metadata__' entry '{}' is {}, expected a string", path, mkey, mvalue.type_name());
        }
        h.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    TensorInfo t = parse_entry(path, key, value);
    if (t.data_begin > data_bytes || t.n_bytes > data_bytes - t.data_begin) {
      fail("'{}': tensor '{}': data_offsets [{}, {}] run past the end of the data section ({} bytes "
           "after the {}-byte header). The file is truncated; re-download it.",
           path, key, t.data_begin, t.data_begin + t.n_bytes, data_bytes, h.data_offset);
    }
    t.data = file_bytes.data() + h.data_offset + t.data_begin;
    h.tensors.push_back(std::move(t));
  }

  // The tensors must tile [0, data_bytes) exactly, as the reference reader requires.
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(h.tensors.size());
  for (const auto& t : h.tensors) by_offset.push_back(&t);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->data_begin != b->data_begin ? a->data_begin < b->data_begin : a->n_bytes < b->n_bytes;
  });
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* t : by_offset) {
    if (t->data_begin < covered) {
      fail("'{}': tensors '{}' and '{}' overlap (data_offsets [{}, {}] and [{}, {}]). The file is "
           "corrupt; re-export it.",
           path, previous->name, t->name, previous->data_begin, previous->data_begin + previous->n_bytes,
           t->data_begin, t->data_begin + t->n_bytes);
    }
    if (t->data_begin > covered) {
      fail("'{}': tensor '{}' starts at data offset {}, leaving bytes [{}, {}) that no tensor covers. "
           "The file is corrupt; re-export it.",
           path, t->name, t->data_begin, covered, t->data_begin);
    }
    covered = t->data_begin + t->n_bytes;
    if (t->n_bytes > 0) previous = t;
  }
  if (covered != data_bytes) {
    fail("'{}': the tensors cover {} bytes of data but the file holds {} bytes after the header. The "
         "file is corrupt or has trailing bytes; re-export it.",
         path, covered, data_bytes);
  }
  return h;
}

SafetensorsFile::SafetensorsFile(std::string path, MappedFile file)
    : path_(std::move(path)), file_(std::move(file)) {}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile(path, MappedFile(path)));
  f->header_ = parse_safetensors(path, f->file_.bytes());
  for (std::size_t i = 0; i < f->header_.tensors.size(); ++i) {
    f->index_.emplace(f->header_.tensors[i].name, i);
  }
  return f;
}

const TensorInfo* SafetensorsFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

std::unique_ptr<SafetensorsShards> SafetensorsShards::open(const std::string& path) {
  auto shards = std::make_unique<SafetensorsShards>();
  std::error_code ec;
  fs::path p(path);
  fs::path index_file;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "model.safetensors.index.json", ec)) {
      index_file = p / "model.safetensors.index.json";
    } else if (fs::exists(p / "model.safetensors", ec)) {
      shards->add_file(SafetensorsFile::open((p / "model.safetensors").string()), nullptr);
      return shards;
    } else {
      std::vector<fs::path> candidates;
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        if (entry.path().extension() == ".safetensors") candidates.push_back(entry.path());
      }
      if (candidates.size() != 1) {
        fail("'{}' has {} .safetensors files and no model.safetensors.index.json; eaq needs "
             "model.safetensors, or the index that says which shard holds which tensor.",
             path, candidates.size());
      }
      shards->add_file(SafetensorsFile::open(candidates[0].string()), nullptr);
      return shards;
    }
  } else if (p.string().ends_with(".json")) {
    index_file = p;
  } else {
    shards->add_file(SafetensorsFile::open(path), nullptr);
    return shards;
  }

  shards->index_path_ = index_file.string();
  const std::string& ipath = shards->index_path_;
  Json index = parse_json_strict(ipath, "index", read_small_file(ipath, kMaxIndexBytes));
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    fail("'{}' has no 'weight_map' object; a sharded model's index maps each tensor name to its "
         "shard file. Re-download the model's model.safetensors.index.json.",
         ipath);
  }
  std::map<std::string, std::string> weight_map;
  std::set<std::string> shard_names;
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) {
      fail("'{}': weight_map['{}'] is {}, expected a shard file name", ipath, name, file.type_name());
    }
    const auto& shard = file.get_ref<const std::string&>();
    // Shards live beside the index; a path here could point anywhere on the machine.
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      fail("'{}': weight_map['{}'] = '{}' is not a file name beside the index", ipath, name, shard);
    }
    weight_map[name] = shard;
    shard_names.insert(shard);
  }
  if (weight_map.empty()) fail("'{}': weight_map is empty; the model has no tensors", ipath);
  const fs::path dir = index_file.parent_path();
  for (const auto& shard : shard_names) {
    fs::path shard_path = dir / shard;
    if (!fs::exists(shard_path, ec)) {
      fail("'{}' lists shard '{}', which is missing from '{}'. Download every shard of the model.",
           ipath, shard, dir.string());
    }
    shards->add_file(SafetensorsFile::open(shard_path.string()), &weight_map);
  }
  for (const auto& [name, shard] : weight_map) {
    if (!shards->index_.count(name)) {
      fail("'{}' says tensor '{}' is in '{}', but that shard does not hold it. The download is "
           "incomplete or mixes versions; re-download the model.",
           ipath, name, shard);
    }
  }
  return shards;
}

void SafetensorsShards::add_file(std::unique_ptr<SafetensorsFile> file,
                                 const std::map<std::string, std::string>* weight_map) {
  const std::size_t file_index = files_.size();
  const std::string shard_name = fs::path(file->path()).filename().string();
  for (const auto& t : file->tensors()) {
    if (weight_map != nullptr) {
      auto it = weight_map->find(t.name);
      if (it == weight_map->end() || it->second != shard_name) {
        // The index is the authority on which copy of a tensor counts.
        spdlog::debug("'{}': tensor '{}' is not assigned to this shard by the index; ignored",
                      file->path(), t.name);
        continue;
      }
    }
    if (!index_.emplace(t.name, std::make_pair(&t, file_index)).second) {
      fail("tensor '{}' appears in both '{}' and '{}'", t.name, files_[index_[t.name].second]->path(),
           file->path());
    }
    tensors_.push_back(&t);
  }
  files_.push_back(std::move(file));
}

const TensorInfo* SafetensorsShards::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.first;
}

std::string SafetensorsShards::file_of(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? std::string() : files_[it->second.second]->path();
}

std::uint64_t SafetensorsShards::file_bytes() const {
  std::uint64_t total = 0;
  for (const auto& f : files_) total += f->file_bytes();
  return total;
}

}  // namespace eaq::safetensors
