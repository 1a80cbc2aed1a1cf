// `eaq tensor MODEL.gguf [NAME] [--f32-out FILE] [--json]`: lists a GGUF file's tensors, or
// dequantizes one and prints its statistics (and writes its values as raw little-endian f32).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/dequantize_rows.h"
#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf_file.h"

namespace eaq::cli {

namespace {

struct TensorOptions {
  std::string model_path;
  std::string tensor_name;
  std::string f32_out_path;
  bool json = false;
};

void list_tensors(const gguf::GgufFile& file, bool json) {
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& t : file.tensors()) {
      rows.push_back({{"name", t.name},
                      {"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"bytes", t.n_bytes},
                      {"offset", t.offset}});
    }
    fmt::print("{}\n", nlohmann::json{{"file", file.path()}, {"tensors", rows}}.dump(2));
    return;
  }
  std::size_t name_width = 4;
  for (const auto& t : file.tensors()) name_width = std::max(name_width, t.name.size());
  fmt::print("{:<{}}  {:<6}  {:<22}  {:>12}\n", "name", name_width, "dtype", "shape", "bytes");
  for (const auto& t : file.tensors()) {
    fmt::print("{:<{}}  {:<6}  {:<22}  {:>12}\n", t.name, name_width, dtype_name(t.dtype),
               fmt::format("[{}]", fmt::join(t.shape, ", ")), t.n_bytes);
  }
  fmt::print("{} tensors\n", file.tensors().size());
}

void write_f32_file(const std::string& path, const std::vector<float>& values) {
  static_assert(std::numeric_limits<float>::is_iec559, "raw f32 output assumes IEEE floats");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!out) fail("cannot open '{}' for writing (--f32-out); check the folder and permissions", path);
  // eaq runs on little-endian hosts only (x86-64, aarch64), so floats are written as they are.
  if (std::fwrite(values.data(), sizeof(float), values.size(), out.get()) != values.size() ||
      std::fflush(out.get()) != 0) {
    fail("cannot write '{}' (--f32-out): disk full or not writable", path);
  }
}

void show_tensor(const gguf::GgufFile& file, const TensorOptions& options) {
  const gguf::TensorInfo* t = file.find_tensor(options.tensor_name);
  if (t == nullptr) {
    fail("'{}' has no tensor named '{}'; run `eaq tensor {}` to list them", file.path(),
         options.tensor_name, file.path());
  }
  const auto n = static_cast<std::size_t>(t->n_elements());
  std::vector<float> values(n);
  const auto row_length = static_cast<std::size_t>(t->shape.back());
  dequantize_rows(t->dtype, t->data, values.data(), n / row_length, row_length);  // per-row scales

  double sum = 0, sum_squares = 0;
  float min = std::numeric_limits<float>::infinity(), max = -min;
  std::size_t n_non_finite = 0;
  for (float v : values) {
    if (!std::isfinite(v)) {
      ++n_non_finite;
      continue;
    }
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    sum_squares += static_cast<double>(v) * v;
  }
  const std::size_t n_finite = n - n_non_finite;
  const double mean = n_finite ? sum / static_cast<double>(n_finite) : std::nan("");
  const double rms = n_finite ? std::sqrt(sum_squares / static_cast<double>(n_finite)) : std::nan("");
  if (!options.f32_out_path.empty()) write_f32_file(options.f32_out_path, values);

  if (options.json) {
    nlohmann::json j{{"name", t->name},
                     {"dtype", std::string(dtype_name(t->dtype))},
                     {"shape", t->shape},
                     {"n_elements", n},
                     {"bytes", t->n_bytes},
                     {"n_non_finite", n_non_finite}};
    // JSON has no NaN: statistics of a tensor with no finite value are null.
    if (n_finite) {
      j["min"] = min;
      j["max"] = max;
      j["mean"] = mean;
      j["rms"] = rms;
    } else {
      j["min"] = j["max"] = j["mean"] = j["rms"] = nullptr;
    }
    if (!options.f32_out_path.empty()) j["f32_out"] = options.f32_out_path;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("name:     {}\ndtype:    {}\nshape:    [{}]\nelements: {}\nbytes:    {}\n", t->name,
             dtype_name(t->dtype), fmt::join(t->shape, ", "), n, t->n_bytes);
  fmt::print("min:      {:.9g}\nmax:      {:.9g}\nmean:     {:.9g}\nrms:      {:.9g}\n", min, max,
             mean, rms);
  if (n_non_finite) fmt::print("non-finite values (excluded above): {}\n", n_non_finite);
  if (!options.f32_out_path.empty()) {
    fmt::print("wrote {} float32 values to {}\n", n, options.f32_out_path);
  }
}

}  // namespace

void register_tensor_command(CLI::App& app) {
  auto options = std::make_shared<TensorOptions>();
  auto* cmd = app.add_subcommand(
      "tensor", "List a GGUF model's tensors, or dequantize one and print its statistics");
  cmd->add_option("model", options->model_path, "GGUF model file")->required();
  cmd->add_option("name", options->tensor_name, "Tensor to dequantize (omit to list all tensors)");
  cmd->add_option("--f32-out", options->f32_out_path,
                  "Write the dequantized values as raw little-endian float32 to this file");
  cmd->add_flag("--json", options->json, "Print JSON instead of text");
  cmd->callback([options] {
    if (!options->f32_out_path.empty() && options->tensor_name.empty()) {
      fail("--f32-out needs a tensor NAME; run `eaq tensor {}` to list them", options->model_path);
    }
    auto file = gguf::GgufFile::open(options->model_path);
    if (options->tensor_name.empty()) {
      list_tensors(*file, options->json);
    } else {
      show_tensor(*file, *options);
    }
  });
}

}  // namespace eaq::cli
