// libFuzzer target: GgufFile parsing of arbitrary bytes, then every accessor a loader uses
// (typed metadata lookups, tensor table, one block of dequantization per tensor). Anything but a
// clean parse or an eaq::Error (an InternalError, a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf_file.h"

namespace {

void touch_value(const eaq::gguf::Value& v) {
  (void)v.type;
  if (const auto* a = std::get_if<eaq::gguf::Array>(&v.data)) {
    for (const auto& item : a->items) touch_value(item);
  }
  try {
    (void)v.as_int("fuzz");
  } catch (const eaq::InternalError&) {
    std::abort();
  } catch (const eaq::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto file = eaq::gguf::GgufFile::from_bytes("fuzz.gguf", std::vector<std::uint8_t>(data, data + size));
    for (const auto& [key, value] : file->metadata()) touch_value(value);
    (void)file->get_string("general.architecture");
    std::vector<float> block;
    for (const auto& t : file->tensors()) {
      if (file->data_offset() + t.offset + t.n_bytes > file->file_bytes()) std::abort();
      const auto& traits = eaq::traits(t.dtype);
      block.resize(traits.block_size);
      // Copy one block to an aligned buffer: the decoders read block structs.
      std::vector<std::uint64_t> aligned((traits.block_bytes + 7) / 8);
      std::memcpy(aligned.data(), t.data, traits.block_bytes);
      eaq::dequantize(t.dtype, aligned.data(), block.data(), traits.block_size);
    }
  } catch (const eaq::InternalError&) {
    std::abort();  // a broken invariant on bad input is a bug
  } catch (const eaq::Error&) {
    // Bad input reported properly.
  }
  return 0;
}
