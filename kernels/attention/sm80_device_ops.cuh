#pragma once
// The Ops of sm80_attention_warp.hpp as PTX, for the Ampere-class attention kernels (sm_80 and
// newer): cp.async, ldmatrix (plain and .trans), mma.sync m16n8k16 (bf16 or fp16 in, fp32
// accumulate), shfl.sync, ex2.approx, and the shared-memory moves of the epilogue.
#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace aicbench::kernels::attn_sm80 {

__device__ __forceinline__ uint32_t smem_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

template <class T>
struct DeviceOps {
  uint32_t smem;  // shared-window address of the block's dynamic shared memory

  // cp.async.cg.shared.global [dst], [src], 16, src_size: src_size 0 reads nothing, writes zeros.
  __device__ __forceinline__ void cp_async_16(uint32_t off, const void* src, bool valid) const {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem + off), "l"(src), "r"(valid ? 16 : 0)
                 : "memory");
  }
  __device__ __forceinline__ void cp_async_commit() const { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
  template <int N>
  __device__ __forceinline__ void cp_async_wait() const {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
  }
  __device__ __forceinline__ void sync_block() const { __syncthreads(); }
  __device__ __forceinline__ void sync_warp() const { __syncwarp(); }

  // ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: lane 8q + j gives row j of matrix q;
  // register q of lane l gets row l / 4, columns 2(l % 4), 2(l % 4) + 1 of matrix q (.trans: the
  // transposed matrix's, i.e. rows 2(l % 4), 2(l % 4) + 1 of column l / 4).
  __device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t off) const {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem + off));
  }
  __device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t off) const {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem + off));
  }

  // mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.{bf16,f16}.f32: D(16x8) += A(16x16) B(16x8).
  __device__ __forceinline__ void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) const {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
          "{%0, %1, %2, %3};\n"
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
      asm volatile(
          "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
          "{%0, %1, %2, %3};\n"
          : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
          : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
  }

  __device__ __forceinline__ float shfl_xor(float x, int mask) const { return __shfl_xor_sync(0xffffffffu, x, mask); }
  // ex2.approx.ftz.f32: 2^x, relative error at most 2^-22 (PTX ISA); 2^-inf = +0.
  __device__ __forceinline__ float ex2(float x) const {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
  }
  __device__ __forceinline__ uint32_t pack(float lo, float hi) const {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (low half) = lo
      return *reinterpret_cast<const uint32_t*>(&v);
    } else {
      const __half2 v = __floats2half2_rn(lo, hi);
      return *reinterpret_cast<const uint32_t*>(&v);
    }
  }

  __device__ __forceinline__ void st_shared_u32(uint32_t off, uint32_t v) const {
    asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(smem + off), "r"(v) : "memory");
  }
  __device__ __forceinline__ uint4 ld_shared_128(uint32_t off) const {
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(smem + off));
    return v;
  }
  __device__ __forceinline__ void st_global_128(void* dst, uint4 v) const { *static_cast<uint4*>(dst) = v; }
  __device__ __forceinline__ void st_shared_f32(uint32_t off, float x) const {
    asm volatile("st.shared.f32 [%0], %1;\n" ::"r"(smem + off), "f"(x) : "memory");
  }
  __device__ __forceinline__ float ld_shared_f32(uint32_t off) const {
    float x;
    asm volatile("ld.shared.f32 %0, [%1];\n" : "=f"(x) : "r"(smem + off) : "memory");
    return x;
  }
  __device__ __forceinline__ float log2(float x) const { return __log2f(x); }
};

}  // namespace aicbench::kernels::attn_sm80
