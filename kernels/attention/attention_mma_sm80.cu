// Ampere-class fused attention, prefill / training forward: O = softmax(Q K^T / sqrt(D)) V in one
// kernel, no Sq x Sk matrix in memory (FlashAttention-2's algorithm), bf16 or fp16 in, fp32
// accumulation, D 64, 128 and 256, causal or not, grouped-query heads, any sequence lengths.
// Layout and conventions: attention_shape.hpp; entry points: attention_api.hpp.
//
// Versions (each kept; later ones say what they add):
//   attention_mma_sm80_kernel1  one block per 128 query rows of one (batch, head), 8 warps of 16
//                               rows; K/V tiles of 64 keys (16 at D = 256) double-buffered with
//                               cp.async (16 bytes, zero-filled past the sequence); XOR-swizzled
//                               shared memory, conflict-free for cp.async writes and ldmatrix
//                               reads; S = Q K^T with ldmatrix.x4 + mma.sync m16n8k16 (Q held in
//                               registers for D <= 128); online softmax in registers (exp2 with
//                               the scale folded in, row maxima and sums over the 4 lanes of a row
//                               by shfl); P converted to 16 bits in registers as the A operand of
//                               O += P V, V read with ldmatrix.x4.trans; masks applied only on
//                               the tiles that cross the end of the keys or the causal diagonal,
//                               tiles past the diagonal never loaded; causal blocks launched
//                               longest first; the output staged through shared memory and
//                               written 16 bytes per lane.
//   The algorithm is sm80_attention_warp.hpp's prefill_block, shared with the CPU emulation that
//   tests it (tests/test_attention_sm80_emulated.cpp); this file supplies the PTX
//   (sm80_device_ops.cuh), the kernel and the launcher.
//
// Constraints (the launchers return cudaErrorInvalidValue otherwise): D in {64, 128, 256};
// B, H, KVH, Sq, Sk >= 1, KVH divides H; Sq, Sk and B * Sq * H * D below 2^31 per dimension
// product as the grid needs (H, B <= 65535); Q, K, V, O 16-byte aligned. cudaErrorNotSupported
// when the binary holds no sm_80+ code this GPU loads.
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Target: on A100-class GPUs at
// least 90 % of FlashAttention-2's forward (about 70 % of the bf16 peak at D = 128, 16k tokens)
// and at least cuDNN's fused SDPA; on Hopper it is reported beside cuDNN with no target
// (mma.sync cannot reach wgmma's rate; issue 13's H100 targets are the Hopper kernel's).
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

// ------------------------------------------------------------------------------------------------
// kernel1
// ------------------------------------------------------------------------------------------------
template <class Cfg, class T>
__global__ void __launch_bounds__(Cfg::kThreads, Cfg::kMinBlocksPerSm)
attention_mma_sm80_kernel1(const __grid_constant__ AttentionParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  extern __shared__ __align__(128) unsigned char smem[];
  DeviceOps<T> ops{smem_address(smem)};
  // Causal: the last query blocks see the most keys; launch them first so that the short ones
  // fill the tail of the grid.
  const int m_block = p.causal ? p.m_blocks - 1 - static_cast<int>(blockIdx.x) : static_cast<int>(blockIdx.x);
  prefill_block<Cfg>(p, ops, m_block, static_cast<int>(blockIdx.y), static_cast<int>(blockIdx.z),
                     static_cast<int>(threadIdx.x));
#endif  // below sm_80 the launcher refuses to run the kernel
}

// ------------------------------------------------------------------------------------------------
// launcher
// ------------------------------------------------------------------------------------------------
bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Whether `kernel` can run on the current device, found out once per device (as in
// gemm_mma_sm80.cu): the binary must hold sm_80+ code this device loads; raises the dynamic
// shared-memory limit to `smem_bytes`.
template <class Kernel>
cudaError_t kernel_ready(Kernel kernel, int smem_bytes) {
  static std::mutex mutex;
  static std::array<std::optional<cudaError_t>, 64> ready;  // per device, once known
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
  if (err != cudaSuccess && err != cudaErrorNotSupported) return err;  // not cached: ask again
  ready[device] = err;
  return err;
}

template <int D, class T>
cudaError_t launch_kernel1(const AttentionParams& p, cudaStream_t stream) {
  using Cfg = PrefillConfig<D>;
  auto kernel = attention_mma_sm80_kernel1<Cfg, T>;
  if (const cudaError_t err = kernel_ready(kernel, Cfg::kSmemBytes); err != cudaSuccess) return err;
  AttentionParams params = p;
  params.m_blocks = (p.seqlen_q + Cfg::kBlockM - 1) / Cfg::kBlockM;
  const dim3 grid(static_cast<unsigned>(params.m_blocks), static_cast<unsigned>(p.heads),
                  static_cast<unsigned>(p.batch));
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(params);
  return cudaGetLastError();
}

template <class T>
cudaError_t launch(const T* Q, const T* K, const T* V, T* O, const AttentionShape& s, cudaStream_t stream) {
  if (!s.valid() || s.D > 256) return cudaErrorInvalidValue;
  if (s.H > 65535 || s.B > 65535 || s.Sq > INT_MAX || s.Sk > INT_MAX) return cudaErrorInvalidValue;
  if (!aligned16(Q) || !aligned16(K) || !aligned16(V) || !aligned16(O)) return cudaErrorInvalidValue;
  const AttentionParams p = make_params(s, Q, K, V, O);
  switch (s.D) {
    case 64: return launch_kernel1<64, T>(p, stream);
    case 128: return launch_kernel1<128, T>(p, stream);
    case 256: return launch_kernel1<256, T>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t attention_mma_sm80_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                    __nv_bfloat16* O, const AttentionShape& shape, cudaStream_t stream) {
  return launch(Q, K, V, O, shape, stream);
}

cudaError_t attention_mma_sm80_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                    const AttentionShape& shape, cudaStream_t stream) {
  return launch(Q, K, V, O, shape, stream);
}

}  // namespace aicbench::kernels
