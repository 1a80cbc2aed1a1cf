// libFuzzer target: safetensors parsing of arbitrary bytes (parse_safetensors), then a read of
// every byte range the parser hands out and a float conversion of each tensor's first element.
// Anything but a clean parse or an eaq::Error (an InternalError, a crash, a sanitizer report,
// an allocation beyond the input's size) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "core/dtype.h"
#include "core/error.h"
#include "io/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto header = eaq::safetensors::parse_safetensors("fuzz.safetensors", std::span<const std::uint8_t>(data, size));
    std::uint64_t checksum = 0;
    for (const auto& t : header.tensors) {
      // The parser promised these bytes lie inside the input; touching them lets ASan check.
      if (t.n_bytes > 0) {
        checksum += t.data[0] + t.data[t.n_bytes - 1];
        const auto& tr = eaq::traits(t.dtype);
        if (t.n_bytes >= tr.block_bytes && tr.dequantize_row != nullptr) {
          // Tensor data in safetensors need not be aligned to its element size; the decoders
          // expect aligned input (model_loader copies misaligned tensors), so decode a copy.
          std::uint64_t aligned[1] = {0};
          std::memcpy(aligned, t.data, tr.block_bytes);
          float first[1];
          tr.dequantize_row(aligned, first, 1);
        }
      }
      if (t.n_elements() < 0) std::abort();
    }
    for (const auto& [k, v] : header.metadata) checksum += k.size() + v.size();
    if (checksum == 0xdeadbeef) return 0;  // keeps the reads from being optimised away
  } catch (const eaq::InternalError&) {
    std::abort();
  } catch (const eaq::Error&) {
  }
  return 0;
}
