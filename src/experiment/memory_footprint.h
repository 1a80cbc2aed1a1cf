// Memory of one loaded precision, each figure labelled by how it was obtained:
//   weights_bytes       computed: the bytes of every tensor the engine computes with (matrices in
//                       their packed formats, a tied output counted once, f32 norms and biases)
//   kv_cache_bytes      allocated: the session's KV cache buffer
//   workspace_bytes     measured: heap bytes in use (glibc mallinfo2: arena + mmapped) after a
//                       warm-up prefill of n_prompt tokens minus before it — the activations and
//                       logits buffers the forward pass grew; 0 where the allocator does not tell
//                       (sanitizer builds)
//   peak_rss_bytes      measured: the process's peak resident set (VmHWM) since the precision's
//                       engine started loading (reset through /proc/self/clear_refs); includes
//                       the mapped model file pages touched and anything else the process holds
#pragma once

#include <cstdint>
#include <optional>

#include "model/decoder_lm.h"

namespace eaq::experiment {

std::uint64_t weights_bytes(const model::DecoderLm& lm);
// Bytes one decode step reads: every matrix once (the embedding only one row), the norms, and
// the KV cache of n_past positions.
double decode_bytes_per_token(const model::DecoderLm& lm, std::int64_t n_past, std::size_t kv_bytes_per_element);

// Heap bytes in use now (mallinfo2 uordblks + hblkhd); 0 when unavailable.
std::uint64_t heap_bytes_in_use();
// Resets the peak RSS to the current RSS; false when the kernel refuses.
bool reset_peak_rss();
// VmHWM of /proc/self/status; nullopt when unreadable.
std::optional<std::uint64_t> peak_rss_bytes();

}  // namespace eaq::experiment
