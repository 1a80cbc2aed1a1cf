// Memory figures: tensor bytes from the engine's weights, heap and RSS from glibc and /proc.
#include "experiment/memory_footprint.h"

#include <malloc.h>

#include <fstream>
#include <set>
#include <string>

namespace eaq::experiment {

namespace {

std::uint64_t matrix_bytes(const kernels::WeightRef& w) {
  return static_cast<std::uint64_t>(w.row_stride_bytes) * static_cast<std::uint64_t>(w.rows);
}

// f32 vectors per layer: norms (hidden or head_dim) and biases (q: heads x head_dim, k/v: kv heads).
std::uint64_t layer_vector_bytes(const model::DecoderSpec& s, const model::DecoderLayerWeights& l) {
  std::uint64_t floats = 0;
  for (const float* norm : {l.attn_norm, l.ffn_norm, l.post_attn_norm, l.post_ffn_norm}) {
    if (norm) floats += static_cast<std::uint64_t>(s.hidden_size);
  }
  for (const float* norm : {l.q_norm, l.k_norm}) {
    if (norm) floats += static_cast<std::uint64_t>(s.head_dim);
  }
  if (l.bq) floats += static_cast<std::uint64_t>(s.n_heads * s.head_dim);
  if (l.bk) floats += static_cast<std::uint64_t>(s.n_kv_heads * s.head_dim);
  if (l.bv) floats += static_cast<std::uint64_t>(s.n_kv_heads * s.head_dim);
  if (l.bo) floats += static_cast<std::uint64_t>(s.hidden_size);
  return floats * sizeof(float);
}

}  // namespace

std::uint64_t weights_bytes(const model::DecoderLm& lm) {
  const auto& w = lm.weights();
  std::set<const void*> counted;
  std::uint64_t bytes = 0;
  auto add = [&](const kernels::WeightRef& m) {
    if (m.data != nullptr && counted.insert(m.data).second) bytes += matrix_bytes(m);
  };
  add(w.token_embedding);
  add(w.output);
  for (const auto& l : w.layers) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
    bytes += layer_vector_bytes(lm.spec(), l);
  }
  if (w.final_norm) bytes += static_cast<std::uint64_t>(lm.spec().hidden_size) * sizeof(float);
  return bytes;
}

double decode_bytes_per_token(const model::DecoderLm& lm, std::int64_t n_past, std::size_t kv_bytes_per_element) {
  const auto& w = lm.weights();
  double bytes = static_cast<double>(matrix_bytes(w.output)) + static_cast<double>(w.token_embedding.row_stride_bytes);
  for (const auto& l : w.layers) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      bytes += static_cast<double>(matrix_bytes(*m));
    }
    bytes += static_cast<double>(layer_vector_bytes(lm.spec(), l));
  }
  bytes += 2.0 * static_cast<double>(lm.n_layers()) * static_cast<double>(n_past) *
           static_cast<double>(lm.n_kv_heads()) * static_cast<double>(lm.head_dim()) *
           static_cast<double>(kv_bytes_per_element);
  return bytes;
}

std::uint64_t heap_bytes_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<std::uint64_t>(info.uordblks) + static_cast<std::uint64_t>(info.hblkhd);
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::optional<std::uint64_t> peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      try {
        return std::stoull(line.substr(6)) * 1024;  // reported in kB
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace eaq::experiment
