// A CUPTI kernel tracer loaded into any CUDA program through the driver's injection hook, for GPU
// machines without Nsight Systems:
//   CUDA_INJECTION64_PATH=.device/lib/libeaq_kernel_trace.so EAQ_KERNEL_TRACE=trace.csv PROGRAM ...
// writes one line per kernel run — start_ns,end_ns,graph_id,grid,block,name (demangled) — with the GPU's own
// timestamps, kernels inside CUDA graphs included one by one (graph_id > 0 for those).
// tools/kernel_trace_summary.py turns it into time per kernel of a decode step.
#include <cupti.h>
#include <cxxabi.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace {

constexpr std::size_t kBufferBytes = 8u << 20;
std::FILE* g_out = nullptr;
std::mutex g_out_mutex;
std::atomic<std::uint64_t> g_dropped{0};

void report(CUptiResult r, const char* what) {
  if (r == CUPTI_SUCCESS) return;
  const char* text = nullptr;
  cuptiGetResultString(r, &text);
  std::fprintf(stderr, "eaq_kernel_trace: %s failed: %s\n", what, text ? text : "unknown CUPTI error");
}

void CUPTIAPI buffer_requested(std::uint8_t** buffer, std::size_t* size, std::size_t* max_records) {
  *buffer = static_cast<std::uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, std::uint32_t, std::uint8_t* buffer, std::size_t, std::size_t valid_bytes) {
  CUpti_Activity* record = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_out_mutex);
    while (cuptiActivityGetNextRecord(buffer, valid_bytes, &record) == CUPTI_SUCCESS) {
      if (record->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL && record->kind != CUPTI_ACTIVITY_KIND_KERNEL) continue;
      const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
      // C++ kernels come mangled; library kernels (cuBLAS's nvjet_*) are plain names.
      int status = -1;
      char* demangled = k->name ? abi::__cxa_demangle(k->name, nullptr, nullptr, &status) : nullptr;
      const char* name = status == 0 && demangled ? demangled : (k->name ? k->name : "?");
      if (g_out)
        std::fprintf(g_out, "%llu,%llu,%u,%dx%dx%d,%dx%dx%d,\"%s\"\n", static_cast<unsigned long long>(k->start),
                     static_cast<unsigned long long>(k->end), k->graphId, k->gridX, k->gridY, k->gridZ, k->blockX,
                     k->blockY, k->blockZ, name);
      std::free(demangled);
    }
  }
  std::size_t dropped = 0;
  cuptiActivityGetNumDroppedRecords(nullptr, 0, &dropped);
  g_dropped += dropped;
  std::free(buffer);
}

void finish() {
  report(cuptiActivityFlushAll(1), "cuptiActivityFlushAll");
  std::lock_guard<std::mutex> lock(g_out_mutex);
  if (g_out) {
    std::fclose(g_out);
    g_out = nullptr;
  }
  if (g_dropped > 0)
    std::fprintf(stderr, "eaq_kernel_trace: %llu records dropped\n", static_cast<unsigned long long>(g_dropped.load()));
}

}  // namespace

extern "C" int InitializeInjection() {
  const char* path = std::getenv("EAQ_KERNEL_TRACE");
  if (!path) path = "kernel_trace.csv";
  g_out = std::fopen(path, "w");
  if (!g_out) {
    std::fprintf(stderr, "eaq_kernel_trace: cannot write %s\n", path);
    return 0;
  }
  std::fprintf(g_out, "start_ns,end_ns,graph_id,grid,block,name\n");
  report(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed), "cuptiActivityRegisterCallbacks");
  report(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "cuptiActivityEnable(CONCURRENT_KERNEL)");
  std::atexit(finish);
  return 1;
}
