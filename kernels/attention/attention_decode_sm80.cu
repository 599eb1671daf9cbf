// Split-KV decode attention (Ampere-class tensor cores, sm_80 and newer): one new query per
// sequence (Sq = 1) against a KV cache of Sk tokens, bf16 or fp16 in, fp32 accumulation, D 64, 128
// and 256, grouped-query heads sharing each K/V read. Memory-bound: the work is reading K and V
// once, so the kernel's job is to have every SM streaming them.
//
// Versions (each kept; later ones say what they add):
//   attention_decode_sm80_kernel1  the keys of each (batch, key/value head) are cut into splits so
//                                  that B * KVH * splits blocks fill the GPU twice over; a block
//                                  takes the group's query heads (up to 16) as the 16 rows of
//                                  mma.sync m16n8k16, so each K/V tile serves them all; 4 warps
//                                  each stream their own 16-key tiles through a 3-stage (D <= 128)
//                                  or 2-stage cp.async pipeline, with only __syncwarp in the loop;
//                                  online softmax in registers; the warps' partial softmaxes are
//                                  merged in shared memory and the split's normalised output and
//                                  log-sum-exp written to a small fp32 workspace;
//   attention_decode_combine       one block per (batch, query head) merges the splits
//                                  (FlashDecoding's combine) and writes O in the input type.
// The algorithm is sm80_attention_warp.hpp's decode_block and combine_splits, run on the CPU by
// tests/test_attention_sm80_emulated.cpp.
//
// Bytes: K and V read once, 2 * B * Sk * KVH * D elements (Q, O and the workspace are under 1 %
// of that for the suite's shapes). With more than 16 query heads per key/value head the heads are
// taken 16 at a time and K and V read once per 16.
//
// Measured: not yet on a GPU. Target (issue 13): at least 85 % of the measured device-to-device
// copy bandwidth on H100 at batch >= 8 and >= 8k cached tokens (FlashMLA reaches about 90 %).
#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>

#include "kernels/attention/attention_api.hpp"
#include "kernels/attention/sm80_attention_warp.hpp"
#include "kernels/attention/sm80_device_ops.cuh"

namespace aicbench::kernels {

namespace {

using namespace attn_sm80;

constexpr int kCombineThreads = 128;
constexpr int kMaxSplits = 256;

template <class Cfg, class T>
__global__ void __launch_bounds__(Cfg::kThreads)
attention_decode_sm80_kernel1(const __grid_constant__ AttentionParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  extern __shared__ __align__(128) unsigned char smem[];
  DeviceOps<T> ops{smem_address(smem)};
  decode_block<Cfg>(p, ops, static_cast<int>(blockIdx.x), static_cast<int>(blockIdx.y), static_cast<int>(blockIdx.z),
                    static_cast<int>(threadIdx.x));
#endif  // below sm_80 the launcher refuses to run the kernel
}

template <class T>
__global__ void __launch_bounds__(kCombineThreads)
attention_decode_combine(const float* __restrict__ partial_o, const float* __restrict__ partial_lse, T* __restrict__ O,
                         int splits, int D) {
  const int64_t row = blockIdx.x;  // (batch, query head)
  for (int d = static_cast<int>(threadIdx.x); d < D; d += kCombineThreads) {
    const float o = combine_splits(partial_o + row * splits * D, partial_lse + row * splits, splits, D, d,
                                   [](float x) { return exp2f(x); });
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      O[row * D + d] = __float2bfloat16_rn(o);
    } else {
      O[row * D + d] = __float2half_rn(o);
    }
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// As attention_mma_sm80.cu's: whether `kernel` runs here (sm_80+ code this device loads), and its
// shared-memory limit raised, once per device.
template <class Kernel>
cudaError_t kernel_ready(Kernel kernel, int smem_bytes) {
  static std::mutex mutex;
  static std::array<std::optional<cudaError_t>, 64> ready;
  int device = 0;
  if (const cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  if (device < 0 || device >= static_cast<int>(ready.size())) return cudaErrorNotSupported;
  std::lock_guard<std::mutex> lock(mutex);
  if (ready[device]) return *ready[device];
  cudaFuncAttributes attr{};
  cudaError_t err = cudaFuncGetAttributes(&attr, kernel);
  if (err == cudaErrorInvalidDeviceFunction || err == cudaErrorNoKernelImageForDevice) {
    (void)cudaGetLastError();
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess && attr.ptxVersion < 80) {
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes);
  }
  if (err != cudaSuccess && err != cudaErrorNotSupported) return err;
  ready[device] = err;
  return err;
}

// How the keys are split: enough blocks for two waves on `sms` SMs, at least one 16-key tile per
// warp in every split, at most kMaxSplits splits.
struct Split {
  int splits, split_keys, head_blocks;
};
Split plan_split(const AttentionShape& s, int sms) {
  Split out{};
  out.head_blocks = static_cast<int>((s.group() + 15) / 16);
  const int64_t units = s.B * s.KVH * out.head_blocks;
  const int64_t min_keys = 4 * 16;
  int64_t splits = std::max<int64_t>(1, (2 * int64_t(sms) + units - 1) / units);
  splits = std::min<int64_t>({splits, (s.Sk + min_keys - 1) / min_keys, kMaxSplits});
  int64_t keys = (s.Sk + splits - 1) / splits;
  keys = (keys + 15) / 16 * 16;  // whole tiles per split
  out.split_keys = static_cast<int>(keys);
  out.splits = static_cast<int>((s.Sk + keys - 1) / keys);
  return out;
}

int sm_count() {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 132;
  }
  return sms;
}

template <int D, class T>
cudaError_t launch_d(AttentionParams p, const Split& split, cudaStream_t stream) {
  using Cfg = DecodeConfig<D>;
  auto kernel = attention_decode_sm80_kernel1<Cfg, T>;
  if (const cudaError_t err = kernel_ready(kernel, Cfg::kSmemBytes); err != cudaSuccess) return err;
  const dim3 grid(static_cast<unsigned>(split.splits), static_cast<unsigned>(p.kv_heads * split.head_blocks),
                  static_cast<unsigned>(p.batch));
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(p);
  if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
  attention_decode_combine<T><<<static_cast<unsigned>(p.batch * p.heads), kCombineThreads, 0, stream>>>(
      p.partial_o, p.partial_lse, static_cast<T*>(p.o), split.splits, D);
  return cudaGetLastError();
}

template <class T>
cudaError_t launch(const T* Q, const T* K, const T* V, T* O, const AttentionShape& s, void* workspace,
                   size_t workspace_bytes, cudaStream_t stream) {
  if (!s.valid() || s.Sq != 1 || s.causal) return cudaErrorInvalidValue;
  if (s.D != 64 && s.D != 128 && s.D != 256) return cudaErrorInvalidValue;
  if (s.B > 65535 || s.KVH * ((s.group() + 15) / 16) > 65535 || s.Sk > INT_MAX || s.B * s.H > INT_MAX) {
    return cudaErrorInvalidValue;
  }
  if (!aligned16(Q) || !aligned16(K) || !aligned16(V) || !aligned16(O) || !aligned16(workspace)) {
    return cudaErrorInvalidValue;
  }
  if (workspace_bytes < attention_decode_sm80_workspace_bytes(s)) return cudaErrorInvalidValue;
  const Split split = plan_split(s, sm_count());
  AttentionParams p = make_params(s, Q, K, V, O);
  p.splits = split.splits;
  p.split_keys = split.split_keys;
  p.head_blocks = split.head_blocks;
  p.partial_o = static_cast<float*>(workspace);
  p.partial_lse = p.partial_o + s.B * s.H * split.splits * s.D;
  switch (s.D) {
    case 64: return launch_d<64, T>(p, split, stream);
    case 128: return launch_d<128, T>(p, split, stream);
    default: return launch_d<256, T>(p, split, stream);
  }
}

}  // namespace

size_t attention_decode_sm80_workspace_bytes(const AttentionShape& s) {
  const Split split = plan_split(s, sm_count());
  return static_cast<size_t>(s.B * s.H) * split.splits * (s.D + 1) * sizeof(float);
}

cudaError_t attention_decode_sm80_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                       __nv_bfloat16* O, const AttentionShape& shape, void* workspace,
                                       size_t workspace_bytes, cudaStream_t stream) {
  return launch(Q, K, V, O, shape, workspace, workspace_bytes, stream);
}

cudaError_t attention_decode_sm80_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                       const AttentionShape& shape, void* workspace, size_t workspace_bytes,
                                       cudaStream_t stream) {
  return launch(Q, K, V, O, shape, workspace, workspace_bytes, stream);
}

}  // namespace aicbench::kernels
