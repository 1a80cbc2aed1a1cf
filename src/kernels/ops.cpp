// The dispatching definitions of kernels/ops.h: validate arguments (a bad shape, dtype or id is an
// eaq::Error naming the op and the value), then run the CPU implementation (kernels/cpu/).
#include "kernels/ops.h"

#include "core/error.h"
#include "kernels/cpu/cpu_ops.h"

namespace eaq::kernels {

namespace {

ThreadPool& pool_of(const KernelContext& ctx, const char* op) {
  EAQ_CHECK(ctx.pool != nullptr, "{}: KernelContext has no thread pool", op);
  return *ctx.pool;
}

void check_weight(const WeightRef& w, const char* op) {
  if (w.rows <= 0 || w.cols <= 0) fail("{}: weight has shape [{}][{}]; both must be positive", op, w.rows, w.cols);
  EAQ_CHECK(w.data != nullptr, "{}: weight data is null", op);
  const auto& t = traits(w.dtype);
  if (t.dequantize_row == nullptr) {
    fail("{}: weights of dtype {} cannot be converted to float; convert the model to f32, f16, "
         "bf16 or a GGUF block format", op, t.name);
  }
  // row_bytes throws an eaq::Error if cols is not a multiple of the block size.
  const std::size_t needed = row_bytes(w.dtype, static_cast<std::size_t>(w.cols));
  if (w.row_stride_bytes < needed) {
    fail("{}: weight row stride {} bytes is shorter than a row of {} {} values ({} bytes)", op,
         w.row_stride_bytes, w.cols, t.name, needed);
  }
}

void check_kv(const KvRef& cache, const char* op) {
  if (cache.dtype != DType::F32 && cache.dtype != DType::F16) {
    fail("{}: KV cache dtype {} is not supported; use f32 or f16", op, dtype_name(cache.dtype));
  }
  EAQ_CHECK(cache.k != nullptr && cache.v != nullptr, "{}: KV cache storage is null", op);
  if (cache.n_kv_heads <= 0 || cache.head_dim <= 0) {
    fail("{}: KV cache has {} kv heads of dim {}; both must be positive", op, cache.n_kv_heads,
         cache.head_dim);
  }
}

void check_position(const KvRef& cache, std::int64_t position, const char* op) {
  if (position < 0 || (cache.max_positions > 0 && position >= cache.max_positions)) {
    fail("{}: position {} is outside the KV cache of {} positions; use a longer context (--ctx) "
         "or a shorter prompt", op, position, cache.max_positions);
  }
}

}  // namespace

WeightRef make_weight_ref(DType dtype, std::int64_t rows, std::int64_t cols, const void* data) {
  if (rows <= 0 || cols <= 0) fail("weight of shape [{}][{}]: both dimensions must be positive", rows, cols);
  return WeightRef{dtype, rows, cols, data, row_bytes(dtype, static_cast<std::size_t>(cols))};
}

bool cpu_has_fast_path(Op op, DType dtype) { return cpu::has_fast_path(op, dtype); }

const char* cpu_simd_target() { return cpu::simd_target_name(); }

void matmul(const KernelContext& ctx, const float* x, std::int64_t m, const WeightRef& w,
            const float* bias, float* y) {
  ThreadPool& pool = pool_of(ctx, "matmul");
  check_weight(w, "matmul");
  if (m < 0) fail("matmul: {} activation rows", m);
  if (m == 0) return;
  EAQ_CHECK(x != nullptr && y != nullptr, "matmul: null activation or output");
  if (ctx.quantize_block_activations && cpu::has_block_activation_kernel(w.dtype)) {
    cpu::matmul_block_activations(pool, x, m, w, bias, y);
    return;
  }
  cpu::matmul(pool, x, m, w, bias, y);
}

void embedding_lookup(const KernelContext& ctx, const WeightRef& table, const std::int32_t* ids,
                      std::int64_t n_ids, float* out) {
  ThreadPool& pool = pool_of(ctx, "embedding_lookup");
  check_weight(table, "embedding_lookup");
  if (n_ids <= 0) return;
  EAQ_CHECK(ids != nullptr && out != nullptr, "embedding_lookup: null ids or output");
  for (std::int64_t i = 0; i < n_ids; ++i) {
    if (ids[i] < 0 || ids[i] >= table.rows) {
      fail("embedding_lookup: token id {} (at index {}) is outside the vocabulary of {} rows", ids[i],
           i, table.rows);
    }
  }
  cpu::embedding_lookup(pool, table, ids, n_ids, out);
}

void rms_norm(const KernelContext& ctx, const float* x, const float* weight, float weight_offset,
              float eps, std::int64_t rows, std::int64_t dim, float* y) {
  ThreadPool& pool = pool_of(ctx, "rms_norm");
  if (dim <= 0 || rows < 0) fail("rms_norm: {} rows of dim {}", rows, dim);
  EAQ_CHECK(weight != nullptr, "rms_norm: null weight");
  cpu::rms_norm(pool, x, weight, weight_offset, eps, rows, dim, y);
}

void rope(const KernelContext& ctx, float* x, std::int64_t n_tokens, std::int64_t n_heads,
          std::int64_t head_dim, const std::int32_t* positions, const float* inv_freq,
          RopeLayout layout, float attention_factor) {
  ThreadPool& pool = pool_of(ctx, "rope");
  if (head_dim <= 0 || head_dim % 2 != 0) fail("rope: head_dim {} must be positive and even", head_dim);
  if (n_tokens < 0 || n_heads <= 0) fail("rope: {} tokens of {} heads", n_tokens, n_heads);
  cpu::rope(pool, x, n_tokens, n_heads, head_dim, positions, inv_freq, layout, attention_factor);
}

void swiglu(const KernelContext& ctx, const float* gate, const float* up, float* out, std::int64_t n) {
  ThreadPool& pool = pool_of(ctx, "swiglu");
  if (n > 0) cpu::swiglu(pool, gate, up, out, n);
}

void geglu_tanh(const KernelContext& ctx, const float* gate, const float* up, float* out, std::int64_t n) {
  ThreadPool& pool = pool_of(ctx, "geglu_tanh");
  if (n > 0) cpu::geglu_tanh(pool, gate, up, out, n);
}

void add(const KernelContext& ctx, const float* a, const float* b, float* y, std::int64_t n) {
  ThreadPool& pool = pool_of(ctx, "add");
  if (n > 0) cpu::add(pool, a, b, y, n);
}

void scale(const KernelContext& ctx, float* x, float s, std::int64_t n) {
  ThreadPool& pool = pool_of(ctx, "scale");
  if (n > 0) cpu::scale(pool, x, s, n);
}

void kv_store(const KernelContext& ctx, const KvRef& cache, std::int64_t first_position,
              std::int64_t n_tokens, const float* k, const float* v) {
  ThreadPool& pool = pool_of(ctx, "kv_store");
  check_kv(cache, "kv_store");
  if (n_tokens <= 0) return;
  check_position(cache, first_position, "kv_store");
  check_position(cache, first_position + n_tokens - 1, "kv_store");
  cpu::kv_store(pool, cache, first_position, n_tokens, k, v);
}

void attention(const KernelContext& ctx, const AttentionParams& params, const float* q,
               std::int64_t n_tokens, const std::int32_t* q_positions, const KvRef& cache,
               float* out) {
  ThreadPool& pool = pool_of(ctx, "attention");
  check_kv(cache, "attention");
  if (params.n_heads <= 0 || params.n_kv_heads <= 0 || params.n_heads % params.n_kv_heads != 0) {
    fail("attention: {} query heads cannot share {} kv heads (needs a positive multiple)",
         params.n_heads, params.n_kv_heads);
  }
  if (params.n_kv_heads != cache.n_kv_heads || params.head_dim != cache.head_dim) {
    fail("attention: parameters say {} kv heads of dim {} but the cache holds {} of dim {}",
         params.n_kv_heads, params.head_dim, cache.n_kv_heads, cache.head_dim);
  }
  if (params.sliding_window < 0) fail("attention: sliding window {} is negative", params.sliding_window);
  if (n_tokens <= 0) return;
  for (std::int64_t t = 0; t < n_tokens; ++t) check_position(cache, q_positions[t], "attention");
  cpu::attention(pool, params, q, n_tokens, q_positions, cache, out);
}

void softmax(const KernelContext& ctx, float* x, std::int64_t rows, std::int64_t n) {
  ThreadPool& pool = pool_of(ctx, "softmax");
  if (rows < 0 || n <= 0) fail("softmax: {} rows of length {}", rows, n);
  cpu::softmax(pool, x, rows, n);
}

double log_sum_exp(const float* x, std::int64_t n) {
  if (n <= 0) fail("log_sum_exp: a row of length {}", n);
  return cpu::log_sum_exp(x, n);
}

std::int32_t sample_token(const float* logits, std::int64_t vocab, const TokenSampling& sampling,
                          const std::int32_t* penalized, std::int64_t n_penalized, double uniform,
                          std::vector<std::pair<float, std::int32_t>>& candidates) {
  if (vocab <= 0 || vocab > INT32_MAX) fail("sample_token: a logits row of length {}", vocab);
  EAQ_CHECK(logits != nullptr, "sample_token: logits are null");
  if (!(uniform >= 0.0 && uniform < 1.0)) fail("sample_token: the draw's uniform number {} is outside [0, 1)", uniform);
  if (!(sampling.repetition_penalty > 0.0f)) fail("sample_token: repetition penalty {} is not positive", sampling.repetition_penalty);
  if (n_penalized < 0 || (n_penalized > 0 && penalized == nullptr)) fail("sample_token: {} penalized ids", n_penalized);
  for (std::int64_t i = 0; i < n_penalized; ++i) {
    if (penalized[i] < 0 || penalized[i] >= vocab) {
      fail("sample_token: penalized id {} is outside the vocabulary of {}", penalized[i], vocab);
    }
  }
  return cpu::sample_token(logits, vocab, sampling, penalized, n_penalized, uniform, candidates);
}

}  // namespace eaq::kernels
