// Test-only driver that lets the Python reference tests call eaq's GGUF code paths that have no
// CLI of their own:
//   gguf_reference_driver quantize TYPE IN.f32 OUT.bin   (TYPE: q8_0 q4_0 q4_1 q5_0 q5_1)
//   gguf_reference_driver write-gguf SPEC.json OUT.gguf
// SPEC.json: {"metadata": [{"key": K, "type": T, "value": V}, ...],
//             "tensors": [{"name": N, "dtype": "q4_k", "shape": [rows, cols], "data_file": F}]}
// where T is a GGUF value type name (uint8 ... float64, bool, string) or "array" with
// "element_type" and a list value (nested arrays: items are {"element_type", "value"} objects).
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/quantize_legacy_blocks.h"
#include "io/gguf_writer.h"

namespace {

using eaq::gguf::Array;
using eaq::gguf::Value;
using eaq::gguf::ValueType;

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) eaq::fail("cannot read '{}'", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) eaq::fail("cannot write '{}'", path);
}

int quantize(const std::string& type, const std::string& in_path, const std::string& out_path) {
  std::vector<std::uint8_t> raw = read_file(in_path);
  if (raw.size() % 4 != 0) eaq::fail("'{}' is not a whole number of float32 values", in_path);
  std::vector<float> values(raw.size() / 4);
  std::memcpy(values.data(), raw.data(), raw.size());
  const std::size_t n_blocks = values.size() / 32;
  std::vector<std::uint8_t> out;
  if (type == "q8_0") {
    out.resize(n_blocks * 34);
    eaq::quantize_row_q8_0(values.data(), out.data(), values.size());
  } else if (type == "q4_0") {
    out.resize(n_blocks * 18);
    eaq::quantize_row_q4_0(values.data(), out.data(), values.size());
  } else if (type == "q4_1") {
    out.resize(n_blocks * 20);
    eaq::quantize_row_q4_1(values.data(), out.data(), values.size());
  } else if (type == "q5_0") {
    out.resize(n_blocks * 22);
    eaq::quantize_row_q5_0(values.data(), out.data(), values.size());
  } else if (type == "q5_1") {
    out.resize(n_blocks * 24);
    eaq::quantize_row_q5_1(values.data(), out.data(), values.size());
  } else {
    eaq::fail("unknown quantization type '{}'", type);
  }
  write_file(out_path, out);
  return 0;
}

ValueType value_type_from_name(const std::string& name) {
  for (std::uint32_t t = 0; t <= static_cast<std::uint32_t>(ValueType::kFloat64); ++t) {
    if (eaq::gguf::value_type_name(static_cast<ValueType>(t)) == name) return static_cast<ValueType>(t);
  }
  eaq::fail("unknown GGUF value type '{}'", name);
}

Value value_from_json(ValueType type, const nlohmann::json& j) {
  switch (type) {
    case ValueType::kUint8: case ValueType::kUint16: case ValueType::kUint32: case ValueType::kUint64:
      return Value{type, j.get<std::uint64_t>()};
    case ValueType::kInt8: case ValueType::kInt16: case ValueType::kInt32: case ValueType::kInt64:
      return Value{type, j.get<std::int64_t>()};
    case ValueType::kFloat32: case ValueType::kFloat64: return Value{type, j.get<double>()};
    case ValueType::kBool: return Value{type, j.get<bool>()};
    case ValueType::kString: return Value{type, j.get<std::string>()};
    case ValueType::kArray: {
      Array a{value_type_from_name(j.at("element_type").get<std::string>()), {}};
      for (const auto& item : j.at("value")) a.items.push_back(value_from_json(a.element_type, item));
      return Value{type, std::move(a)};
    }
  }
  eaq::fail("bad value type");
}

int write_gguf(const std::string& spec_path, const std::string& out_path) {
  std::ifstream in(spec_path);
  const nlohmann::json spec = nlohmann::json::parse(in);
  eaq::gguf::GgufWriter writer;
  for (const auto& entry : spec.at("metadata")) {
    const ValueType type = value_type_from_name(entry.at("type").get<std::string>());
    writer.set(entry.at("key").get<std::string>(),
               type == ValueType::kArray ? value_from_json(type, entry) : value_from_json(type, entry.at("value")));
  }
  for (const auto& t : spec.at("tensors")) {
    const auto dtype = eaq::dtype_from_name(t.at("dtype").get<std::string>());
    if (!dtype) eaq::fail("unknown dtype {}", t.at("dtype").dump());
    writer.add_tensor(t.at("name").get<std::string>(), *dtype, t.at("shape").get<std::vector<std::int64_t>>(),
                      read_file(t.at("data_file").get<std::string>()));
  }
  writer.write(out_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 4 && args[0] == "quantize") return quantize(args[1], args[2], args[3]);
    if (args.size() == 3 && args[0] == "write-gguf") return write_gguf(args[1], args[2]);
    fmt::print(stderr, "usage: {} quantize TYPE IN.f32 OUT.bin | write-gguf SPEC.json OUT.gguf\n", argv[0]);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gguf_reference_driver: error: {}\n", e.what());
    return 1;
  }
}
