// CUTLASS's Hopper mixed-input GEMM (its example 55: f16 activations x int4/int8 weights, the
// narrow operand converted in registers and fed to wgmma) for the prefill of packed weights.
// Compiled for sm_90a only (CMakeLists.txt), from the headers scripts/fetch_cutlass.sh fetches.
//
// The problem in CUTLASS's terms: D (M x N, column-major) = A (M x K, row-major) x B (K x N,
// column-major) with M = the weight's rows, N = tokens, K = cols. So A is the weight as stored
// (K-major, as the narrow operand must be), B is x[t][k] as the engine holds it, and D is
// y[t][r] with rows y_stride apart: no operand is swapped or transposed.
//
// One configuration: 128 x 128 x 64 tiles (M x N x K), one CTA a cluster, the cooperative
// warp-specialized schedule (two consumer warpgroups), stages as shared memory allows; int4 in
// the "scale only" mode (value = f16(code * scale), scale per group of K), int8 converted alone
// (its per-row scale goes on the output, as the dequantizing prefill does).
#include "kernels/cuda/mixed_input_gemm_sm90.h"

#include <cuda_runtime.h>

#include <string>

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/dispatch_policy.hpp"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/util/mixed_dtype_utils.hpp"  // compute_memory_reordering_atom, reorder_tensor_kernel
#include "cutlass/util/packed_stride.hpp"

namespace eaq::kernels::cuda::sm90 {
namespace {

using namespace cute;

using MmaType = cutlass::half_t;
using ElementAccumulator = float;
using ElementY = float;
using LayoutY = cutlass::layout::ColumnMajor;  // D[r][t] at r + t * y_stride: y[t][r]
using LayoutW = cutlass::layout::RowMajor;     // the narrow operand, K-major
using LayoutX = cutlass::layout::ColumnMajor;  // B[k][t] at k + t * cols: x[t][k]
constexpr int kAlignX = 128 / cutlass::sizeof_bits<MmaType>::value;
constexpr int kAlignY = 128 / cutlass::sizeof_bits<ElementY>::value;
using StrideW = cutlass::detail::TagToStrideA_t<LayoutW>;

// Where each thread's values lie: contiguous (one 64-bit shared-memory load for int4), int4's in
// the order its f16 converter wants.
template <class Code>
struct Reordering {
  using ValueShuffle = cute::conditional_t<cutlass::sizeof_bits<Code>::value == 4, Layout<Shape<_2, _4>, Stride<_4, _1>>,
                                           Layout<_1>>;
  using Atom = decltype(cutlass::compute_memory_reordering_atom<MmaType, Layout<Shape<_1, _1>>, ValueShuffle>());
  using Layout = decltype(cute::tile_to_shape(Atom{}, cute::Layout<Shape<int, int, int>, StrideW>{}));
  static Layout of(std::int64_t rows, std::int64_t cols) {
    return cute::tile_to_shape(Atom{}, cute::make_shape(int(rows), int(cols), 1));
  }
};

// The builder's narrow operand: int4 codes with their f16 group scales, or int8 codes alone.
template <class Code>
using WeightOperandOf = cute::conditional_t<cutlass::sizeof_bits<Code>::value == 4, cute::tuple<Code, MmaType>, Code>;

// A kernel configuration: its tile (rows x tokens x K) and warp-specialized schedule.
template <class TileShape, class KernelSchedule, class EpilogueSchedule>
struct Config {
  using ClusterShape = Shape<_1, _1, _1>;
  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, ElementAccumulator, ElementAccumulator, ElementY, LayoutY, kAlignY,
      ElementY, LayoutY, kAlignY, EpilogueSchedule>::CollectiveOp;
  template <class Code>
  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, WeightOperandOf<Code>, typename Reordering<Code>::Layout,
      128 / cutlass::sizeof_bits<Code>::value, MmaType, LayoutX, kAlignX, ElementAccumulator, TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(sizeof(typename Epilogue::SharedStorage))>,
      KernelSchedule>::CollectiveOp;
  template <class Code>
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<
      cutlass::gemm::kernel::GemmUniversal<Shape<int, int, int, int>, Mainloop<Code>, Epilogue>>;
};
// 128 x 128 tiles, two consumer warpgroups on one tile (CUTLASS example 55's configuration). A
// 64 x 128 ping-pong configuration for the small shapes' matrices, whose 128-row tiles leave SMs
// idle, was written (commit 7f408c3) but never ran on a GPU and was taken out.
using Cooperative128 = Config<Shape<_128, _128, _64>, cutlass::gemm::KernelTmaWarpSpecializedCooperative,
                              cutlass::epilogue::TmaWarpSpecializedCooperative>;

std::string status_message(const char* what, cutlass::Status s) {
  return std::string("CUTLASS mixed-input GEMM: ") + what + " failed: " + cutlassGetStatusString(s);
}

template <class G>
typename G::Arguments arguments(const typename G::GemmKernel::CollectiveMainloop::Arguments& mainloop,
                                std::int64_t rows, std::int64_t cols, std::int64_t n_tokens, float* y,
                                std::int64_t y_stride, bool accumulate) {
  using StrideY = typename G::GemmKernel::StrideD;
  StrideY dy{};
  cute::get<1>(dy) = y_stride;
  typename G::Arguments a{cutlass::gemm::GemmUniversalMode::kGemm,
                          {int(rows), int(n_tokens), int(cols), 1},
                          mainloop,
                          {{1.0f, accumulate ? 1.0f : 0.0f}, y, dy, y, dy}};
  return a;
}

template <class G>
std::string run(const typename G::Arguments& a, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  G gemm;
  if (const cutlass::Status s = gemm.can_implement(a); s != cutlass::Status::kSuccess) return status_message("can_implement", s);
  if (G::get_workspace_size(a) > workspace_bytes) return "CUTLASS mixed-input GEMM: the workspace is too small";
  if (const cutlass::Status s = gemm.initialize(a, workspace, stream); s != cutlass::Status::kSuccess) {
    return status_message("initialize", s);
  }
  if (const cutlass::Status s = gemm.run(stream); s != cutlass::Status::kSuccess) return status_message("run", s);
  return {};
}

// The GEMM of configuration C on codes of type Code, its arguments filled in.
template <class C, class Code>
struct Launch {
  using G = typename C::template Gemm<Code>;
  typename G::Arguments args;
  Launch(const void* reordered, const void* scales, int group, std::int64_t rows, std::int64_t cols, const void* x,
         std::int64_t n_tokens, float* y, std::int64_t y_stride, bool accumulate) {
    using StrideX = cutlass::detail::TagToStrideB_t<LayoutX>;
    StrideX dx{};
    cute::get<0>(dx) = cols;  // B's (t, k) -> t * cols + k
    [[maybe_unused]] const auto* w = static_cast<const Code*>(reordered);  // (nvcc 13 misses the uses in if constexpr)
    [[maybe_unused]] const auto* xs = static_cast<const MmaType*>(x);
    typename G::GemmKernel::CollectiveMainloop::Arguments mainloop{};
    if constexpr (cutlass::sizeof_bits<Code>::value == 4) {
      using StrideScale = cute::Stride<cute::Int<1>, int64_t, int64_t>;
      StrideScale ds{};
      cute::get<1>(ds) = rows;  // scales[g][r]
      mainloop = {w, Reordering<Code>::of(rows, cols), xs, dx, static_cast<const MmaType*>(scales), ds, group};
    } else {
      (void)scales;
      (void)group;
      mainloop = {w, Reordering<Code>::of(rows, cols), xs, dx};
    }
    args = arguments<G>(mainloop, rows, cols, n_tokens, y, y_stride, accumulate);
  }
};

template <class Code>
std::string reorder(const void* row_major, void* reordered, std::int64_t rows, std::int64_t cols) {
  // The launch of CUTLASS's reorder_tensor (cutlass/util/mixed_dtype_utils.hpp), which exits the
  // process on a CUDA error; here the error is returned.
  auto shape = cute::make_shape(int(rows), int(cols), 1);
  auto src_layout = cute::make_layout(shape, cutlass::make_cute_packed_stride(StrideW{}, shape));
  auto dst_layout = Reordering<Code>::of(rows, cols);
  auto S = cute::make_tensor(cute::make_gmem_ptr<Code>(static_cast<const Code*>(row_major)), src_layout);
  auto D = cute::make_tensor(cute::make_gmem_ptr<Code>(static_cast<Code*>(reordered)), dst_layout);
  constexpr int kPerByte = cutlass::sizeof_bits<Code>::value == 4 ? 2 : 1;
  // Every thread writes a whole byte of the destination (no two threads share one): its
  // stride-1 mode is K (mode 1) for this atom.
  auto val_layout = cute::make_layout(cute::make_shape(cute::Int<1>{}, cute::Int<kPerByte>{}), cute::GenRowMajor{});
  // One copy step covers kThreads x kPerByte codes of a row, and cute's copy has no bounds check:
  // a K that is not a multiple would make the last step read past the row's end (past the buffer
  // on the last rows) and write past the reordered buffer's end. CUTLASS's reorder_tensor takes 128
  // threads, 256 int4 codes a step, which is what wrote int4 codes over the scales at K = 384 (the
  // sixteenth session's infinite outputs: mixed_input_gemm.h); here int4 takes 64 threads, so K
  // goes in steps of 128 codes for both widths.
  constexpr int kThreads = 128 / kPerByte;
  constexpr int kStepCodes = kThreads * kPerByte;
  if (cols % kStepCodes != 0) {
    return "reordering the mixed-input GEMM's codes: " + std::to_string(cols) + " columns is not a multiple of " +
           std::to_string(kStepCodes) + ", the codes one step of the reordering copy covers";
  }
  auto thr_layout = cute::make_layout(cute::make_shape(cute::Int<1>{}, cute::Int<kThreads>{}));
  auto tiled_copy = cute::make_tiled_copy(cute::Copy_Atom<cute::DefaultCopy, Code>{}, thr_layout, val_layout);
  using Tile = cute::Shape<cute::_16>;
  auto tiled_D = cute::group_modes<3, cute::rank_v<decltype(dst_layout)>>(cute::tiled_divide(D, Tile{}));
  const dim3 blocks{unsigned(cute::size<1>(tiled_D)), 1u, unsigned(cute::size<3>(tiled_D))};
  cutlass::reorder_tensor_kernel<Tile><<<blocks, kThreads>>>(S, D, tiled_copy);
  if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
    return std::string("reordering the mixed-input GEMM's codes: ") + cudaGetErrorString(e);
  }
  if (const cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
    return std::string("reordering the mixed-input GEMM's codes: ") + cudaGetErrorString(e);
  }
  return {};
}

}  // namespace

std::size_t mixed_code_bytes(MixedCodes codes, std::int64_t rows, std::int64_t cols) {
  // The reordered layout is one to one onto rows x cols elements (checked on the host for the test's
  // shapes), so its cosize is the element count.
  return codes == MixedCodes::int4 ? cute::cosize(Reordering<cutlass::int4b_t>::of(rows, cols)) / 2
                                   : cute::cosize(Reordering<int8_t>::of(rows, cols));
}

std::string mixed_reorder_codes(MixedCodes codes, const void* row_major, void* reordered, std::int64_t rows,
                                std::int64_t cols) {
  return codes == MixedCodes::int4 ? reorder<cutlass::int4b_t>(row_major, reordered, rows, cols)
                                   : reorder<int8_t>(row_major, reordered, rows, cols);
}

std::size_t mixed_gemm_workspace_bytes(MixedCodes codes, std::int64_t rows, std::int64_t cols, std::int64_t n_tokens) {
  using C = Cooperative128;
  if (codes == MixedCodes::int4) {
    const Launch<C, cutlass::int4b_t> l(nullptr, nullptr, 128, rows, cols, nullptr, n_tokens, nullptr, rows, false);
    return decltype(l)::G::get_workspace_size(l.args);
  }
  const Launch<C, int8_t> l(nullptr, nullptr, 0, rows, cols, nullptr, n_tokens, nullptr, rows, false);
  return decltype(l)::G::get_workspace_size(l.args);
}

std::string mixed_gemm(MixedCodes codes, const void* reordered, const void* scales, int group, std::int64_t rows,
                       std::int64_t cols, const void* x, std::int64_t n_tokens, float* y, std::int64_t y_stride,
                       bool accumulate, void* workspace, std::size_t workspace_bytes, cudaStream_t stream) {
  using C = Cooperative128;
  if (codes == MixedCodes::int4) {
    const Launch<C, cutlass::int4b_t> l(reordered, scales, group, rows, cols, x, n_tokens, y, y_stride, accumulate);
    return run<typename decltype(l)::G>(l.args, workspace, workspace_bytes, stream);
  }
  const Launch<C, int8_t> l(reordered, scales, group, rows, cols, x, n_tokens, y, y_stride, accumulate);
  return run<typename decltype(l)::G>(l.args, workspace, workspace_bytes, stream);
}

}  // namespace eaq::kernels::cuda::sm90
