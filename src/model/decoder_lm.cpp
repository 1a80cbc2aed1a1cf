// DecoderLm::forward: all chunks' tokens go through each layer together (one matmul per weight
// per forward), attention runs per chunk against its own KV slot.
#include "model/decoder_lm.h"

#include <cmath>

#include "core/error.h"

namespace eaq::model {

DecoderLm::DecoderLm(DecoderSpec spec, DecoderWeights weights, std::shared_ptr<const void> keep_alive,
                     int n_threads)
    : spec_(std::move(spec)),
      weights_(std::move(weights)),
      keep_alive_(std::move(keep_alive)),
      pool_(n_threads) {
  ctx_.pool = &pool_;
  EAQ_CHECK(static_cast<std::int64_t>(weights_.layers.size()) == spec_.n_layers, "layer count");
  EAQ_CHECK(spec_.n_heads % spec_.n_kv_heads == 0, "n_heads {} not a multiple of n_kv_heads {}",
            spec_.n_heads, spec_.n_kv_heads);
  if (spec_.attention_scale == 0.0f) spec_.attention_scale = 1.0f / std::sqrt(static_cast<float>(spec_.head_dim));
}

void DecoderLm::forward(std::span<const TokenChunk> chunks, KvStore& kv, LogitsRows rows, float* logits) {
  const std::int64_t H = spec_.hidden_size;
  std::int64_t n_tokens = 0;
  for (const auto& c : chunks) {
    if (c.tokens.empty()) fail("an empty token chunk was passed to the model");
    if (c.first_position < 0 || c.first_position + static_cast<std::int64_t>(c.tokens.size()) > kv.max_positions()) {
      fail("tokens at positions [{}, {}) do not fit the KV cache of {} positions", c.first_position,
           c.first_position + c.tokens.size(), kv.max_positions());
    }
    n_tokens += static_cast<std::int64_t>(c.tokens.size());
  }
  token_ids_.clear();
  positions_.clear();
  for (const auto& c : chunks) {
    for (std::size_t i = 0; i < c.tokens.size(); ++i) {
      std::int32_t id = c.tokens[i];
      if (id < 0 || id >= spec_.vocab_size) {
        fail("token id {} is outside the model's vocabulary of {} tokens", id, spec_.vocab_size);
      }
      token_ids_.push_back(id);
      positions_.push_back(static_cast<std::int32_t>(c.first_position + static_cast<std::int64_t>(i)));
    }
  }

  x_.resize(n_tokens * H);
  kernels::embedding_lookup(ctx_, weights_.token_embedding, token_ids_.data(), n_tokens, x_.data());
  if (spec_.embedding_scale != 1.0f) kernels::scale(ctx_, x_.data(), spec_.embedding_scale, n_tokens * H);

  for (std::int64_t l = 0; l < spec_.n_layers; ++l) run_layer(l, chunks, kv, n_tokens);

  // Final norm and output projection on the rows asked for.
  std::int64_t n_rows = rows == LogitsRows::kAll ? n_tokens : static_cast<std::int64_t>(chunks.size());
  out_rows_.resize(n_rows * H);
  if (rows == LogitsRows::kAll) {
    std::copy(x_.begin(), x_.begin() + n_tokens * H, out_rows_.begin());
  } else {
    std::int64_t end = 0;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      end += static_cast<std::int64_t>(chunks[c].tokens.size());
      std::copy(x_.begin() + (end - 1) * H, x_.begin() + end * H, out_rows_.begin() + c * H);
    }
  }
  kernels::rms_norm(ctx_, out_rows_.data(), weights_.final_norm, spec_.norm_weight_offset,
                    spec_.rms_norm_eps, n_rows, H, out_rows_.data());
  kernels::matmul(ctx_, out_rows_.data(), n_rows, weights_.output, nullptr, logits);
  if (spec_.final_logit_softcap > 0.0f) {
    const float cap = spec_.final_logit_softcap;
    for (std::int64_t i = 0; i < n_rows * spec_.vocab_size; ++i) logits[i] = cap * std::tanh(logits[i] / cap);
  }
}

void DecoderLm::run_layer(std::int64_t l, std::span<const TokenChunk> chunks, KvStore& kv, std::int64_t T) {
  const DecoderLayerWeights& w = weights_.layers[l];
  const std::int64_t H = spec_.hidden_size, hd = spec_.head_dim;
  const std::int64_t q_width = spec_.n_heads * hd, kv_width = spec_.n_kv_heads * hd;
  const std::int64_t I = spec_.intermediate_size;
  const float off = spec_.norm_weight_offset, eps = spec_.rms_norm_eps;

  xn_.resize(T * H);
  q_.resize(T * q_width);
  k_.resize(T * kv_width);
  v_.resize(T * kv_width);
  attn_.resize(T * q_width);
  tmp_.resize(T * H);

  kernels::rms_norm(ctx_, x_.data(), w.attn_norm, off, eps, T, H, xn_.data());
  kernels::matmul(ctx_, xn_.data(), T, w.wq, w.bq, q_.data());
  kernels::matmul(ctx_, xn_.data(), T, w.wk, w.bk, k_.data());
  kernels::matmul(ctx_, xn_.data(), T, w.wv, w.bv, v_.data());
  if (spec_.qk_norm) {
    kernels::rms_norm(ctx_, q_.data(), w.q_norm, off, eps, T * spec_.n_heads, hd, q_.data());
    kernels::rms_norm(ctx_, k_.data(), w.k_norm, off, eps, T * spec_.n_kv_heads, hd, k_.data());
  }
  const auto& inv_freq = w.is_sliding && !spec_.rope_inv_freq_sliding.empty()
                             ? spec_.rope_inv_freq_sliding
                             : spec_.rope_inv_freq_global;
  kernels::rope(ctx_, q_.data(), T, spec_.n_heads, hd, positions_.data(), inv_freq.data(),
                spec_.rope_layout, spec_.rope_attention_factor);
  kernels::rope(ctx_, k_.data(), T, spec_.n_kv_heads, hd, positions_.data(), inv_freq.data(),
                spec_.rope_layout, spec_.rope_attention_factor);

  kernels::AttentionParams params;
  params.n_heads = spec_.n_heads;
  params.n_kv_heads = spec_.n_kv_heads;
  params.head_dim = hd;
  params.scale = spec_.attention_scale;
  params.sliding_window = w.is_sliding ? spec_.sliding_window : 0;
  params.logit_softcap = spec_.attn_logit_softcap;
  std::int64_t row = 0;
  for (const auto& c : chunks) {
    const auto n = static_cast<std::int64_t>(c.tokens.size());
    kernels::KvRef cache = kv.layer(l, c.slot);
    kernels::kv_store(ctx_, cache, c.first_position, n, k_.data() + row * kv_width, v_.data() + row * kv_width);
    kernels::attention(ctx_, params, q_.data() + row * q_width, n, positions_.data() + row, cache,
                       attn_.data() + row * q_width);
    row += n;
  }
  kernels::matmul(ctx_, attn_.data(), T, w.wo, w.bo, tmp_.data());
  if (spec_.sandwich_norms) kernels::rms_norm(ctx_, tmp_.data(), w.post_attn_norm, off, eps, T, H, tmp_.data());
  kernels::add(ctx_, x_.data(), tmp_.data(), x_.data(), T * H);

  gate_.resize(T * I);
  up_.resize(T * I);
  kernels::rms_norm(ctx_, x_.data(), w.ffn_norm, off, eps, T, H, xn_.data());
  kernels::matmul(ctx_, xn_.data(), T, w.w_gate, nullptr, gate_.data());
  kernels::matmul(ctx_, xn_.data(), T, w.w_up, nullptr, up_.data());
  if (spec_.activation == Activation::kGeluTanh) {
    kernels::geglu_tanh(ctx_, gate_.data(), up_.data(), gate_.data(), T * I);
  } else {
    kernels::swiglu(ctx_, gate_.data(), up_.data(), gate_.data(), T * I);
  }
  kernels::matmul(ctx_, gate_.data(), T, w.w_down, nullptr, tmp_.data());
  if (spec_.sandwich_norms) kernels::rms_norm(ctx_, tmp_.data(), w.post_ffn_norm, off, eps, T, H, tmp_.data());
  kernels::add(ctx_, x_.data(), tmp_.data(), x_.data(), T * H);
}

}  // namespace eaq::model
