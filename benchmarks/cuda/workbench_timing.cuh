// What the CUDA workbenches (bench_gemv, bench_dequantize, bench_half_matvec, bench_attention_decode,
// bench_attention_prefill, bench_decoder_ops) share: their --reps argument, timing a captured CUDA
// graph, failing on a CUDA error with the program's name, the median of timings, the format workbenches' arguments, and the GPU's
// name with the device-to-device copy bandwidth they print their kernels' bandwidth beside.
#pragma once

#include <cuda_runtime.h>

#include <errno.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace eaq::workbench {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s failed: %s\n", program_invocation_short_name, what, cudaGetErrorString(e));
    std::exit(1);
  }
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The arguments of the workbenches that take a list of weight formats (bench_gemv,
// bench_dequantize): [--formats a,b,...] [--quick] [--reps N > 0] and, where out_allowed,
// [--out FILE]; anything else prints `usage` and exits 2.
struct FormatArgs {
  std::vector<std::string> formats;
  bool quick = false;
  int reps = 15;
  std::string out_path;
};
inline FormatArgs parse_format_args(int argc, char** argv, std::vector<std::string> default_formats, bool out_allowed,
                                    const char* usage) {
  FormatArgs args;
  args.formats = std::move(default_formats);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      args.quick = true;
    } else if (a == "--formats" && i + 1 < argc) {
      const std::string list = argv[++i];
      args.formats.clear();
      for (std::size_t p = 0; p <= list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        args.formats.push_back(list.substr(p, q - p));
        p = q + 1;
      }
    } else if (a == "--reps" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      args.reps = std::atoi(argv[++i]);
    } else if (out_allowed && a == "--out" && i + 1 < argc) {
      args.out_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s %s\n", program_invocation_short_name, usage);
      std::exit(2);
    }
  }
  return args;
}

// `--reps N` (the only argument of most workbenches), default_reps without it; a usage line and
// exit 2 for anything else.
inline int parse_reps(int argc, char** argv, int default_reps) {
  int reps = default_reps;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--reps N]  (N > 0)\n", program_invocation_short_name);
      std::exit(2);
    }
  }
  return reps;
}

// Seconds a call: enqueue(stream) issues `calls` kernel calls on a non-blocking stream (the
// kernels' own programmatic dependent launch applies), captured once as a CUDA graph; the graph
// is replayed reps times after 3 untimed replays, and the median replay is divided by calls.
// graph_seconds_per_call_on: the same on a given stream (for calls bound to one, such as HalfGemm's).
template <class Enqueue>
double graph_seconds_per_call_on(cudaStream_t stream, Enqueue&& enqueue, int calls, int reps) {
  cudaGraph_t graph;
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), "begin capture");
  enqueue(stream);
  check(cudaStreamEndCapture(stream, &graph), "end capture");
  cudaGraphExec_t exec;
  check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<double> t;
  for (int r = 0; r < reps + 3; ++r) {
    cudaEventRecord(e0, stream);
    check(cudaGraphLaunch(exec, stream), "graph launch");
    cudaEventRecord(e1, stream);
    check(cudaEventSynchronize(e1), "graph run");
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    if (r >= 3) t.push_back(ms * 1e-3 / calls);
  }
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return median(t);
}
template <class Enqueue>
double graph_seconds_per_call(Enqueue&& enqueue, int calls, int reps) {
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  const double seconds = graph_seconds_per_call_on(stream, enqueue, calls, reps);
  cudaStreamDestroy(stream);
  return seconds;
}

// Device-to-device copy of 1 GiB: bytes read + bytes written over the median of 20 copies.
inline double measure_copy_bytes_per_s() {
  const std::size_t bytes = std::size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  check(cudaMalloc(&a, bytes), "cudaMalloc copy source");
  check(cudaMalloc(&b, bytes), "cudaMalloc copy destination");
  check(cudaMemset(a, 1, bytes), "cudaMemset");
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<double> s;
  for (int i = 0; i < 23; ++i) {
    cudaEventRecord(e0);
    check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync");
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    if (i >= 3) s.push_back(ms * 1e-3);
  }
  cudaFree(a);
  cudaFree(b);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return 2.0 * static_cast<double>(bytes) / median(s);
}

// The GPU a workbench runs on (device 0) and the copy bandwidth measured on it, printed as the
// workbench's first line.
struct WorkbenchGpu {
  cudaDeviceProp prop;
  double copy_bytes_per_s;
};
inline WorkbenchGpu describe_gpu() {
  WorkbenchGpu gpu{};
  check(cudaGetDeviceProperties(&gpu.prop, 0), "cudaGetDeviceProperties");
  gpu.copy_bytes_per_s = measure_copy_bytes_per_s();
  std::printf("device: %s (%d SMs, L2 %d MiB); D2D copy (measured, read+write) %.0f GB/s\n", gpu.prop.name,
              gpu.prop.multiProcessorCount, gpu.prop.l2CacheSize >> 20, gpu.copy_bytes_per_s / 1e9);
  return gpu;
}

}  // namespace eaq::workbench
