// embedding_lookup returns exactly the decoded table rows for every dequantizable dtype (the
// decoders are checked against gguf by the core tests), and rejects ids outside the table.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/ops.h"
#include "kernel_test_inputs.h"

namespace eaq::kernels {
namespace {

TEST(Embedding, ReturnsDecodedRows) {
  ThreadPool pool(2);
  KernelContext ctx{&pool};
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                      DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K,
                      DType::Q6_K}) {
    const std::int64_t rows = 11, cols = traits(dtype).block_size == 256 ? 512 : 96;
    const test::TestWeight table = test::make_test_weight(dtype, rows, cols, 3, 4);
    const std::vector<std::int32_t> ids = {10, 0, 3, 3, 7};
    std::vector<float> out(ids.size() * cols);
    embedding_lookup(ctx, table.ref(), ids.data(), static_cast<std::int64_t>(ids.size()), out.data());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(0, std::memcmp(out.data() + i * cols, table.values.data() + ids[i] * cols, cols * sizeof(float)))
          << dtype_name(dtype) << " id " << ids[i];
    }
  }
}

TEST(Embedding, RejectsOutOfRangeIds) {
  ThreadPool pool(1);
  KernelContext ctx{&pool};
  const test::TestWeight table = test::make_test_weight(DType::F16, 4, 8, 1);
  std::vector<float> out(8);
  const std::int32_t too_big = 4, negative = -1;
  EXPECT_THROW(embedding_lookup(ctx, table.ref(), &too_big, 1, out.data()), Error);
  EXPECT_THROW(embedding_lookup(ctx, table.ref(), &negative, 1, out.data()), Error);
}

}  // namespace
}  // namespace eaq::kernels
