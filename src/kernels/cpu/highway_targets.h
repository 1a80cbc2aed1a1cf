// Which Highway targets the CPU kernels are compiled for. Included first by every kernels/cpu
// file that uses foreach_target. Runtime dispatch picks the best one the CPU supports: AVX-512
// (AVX3), AVX2+FMA+F16C, or the portable EMU128 fallback; SSSE3/SSE4 builds are dropped to keep
// compile times down on our 2-core machines (a CPU without AVX2 still runs, on EMU128). A build
// with EAQ_CPU_AVX512=OFF (CMakeLists.txt; the sanitizer pass of scripts/test.sh) defines
// HWY_DISABLED_TARGETS for every file, AVX3 among them.
#pragma once

#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif
