// Planted defect for `scripts/check-kernels.sh --self-test` (never built into aicbench): an
// accumulator is touched between wgmma.commit_group and wgmma.wait_group, so ptxas injects a
// wait (advisory C7517) and serializes the wgmma (C7511, "Potential Performance Loss:
// wgmma.mma_async instructions are serialized"). check-kernels.sh must fail on it. (The same touch
// in the real kernel gives C7518: tests/kernel_defects/touch_accumulator.sed.)
#include <cstdint>

__global__ void serialized_wgmma(const uint64_t* descs, float* out, int k_tiles) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  float d[4] = {0.f, 0.f, 0.f, 0.f};
  for (int k = 0; k < k_tiles; ++k) {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %6, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%0, %1, %2, %3}, %4, %5, p, 1, 1, 0, 0;\n}"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "l"(descs[2 * k]), "l"(descs[2 * k + 1]), "r"(k));
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    d[0] += 1.0f;  // the defect: an accumulator read and written while the wgmma may be in flight
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  }
  for (int i = 0; i < 4; ++i) out[threadIdx.x * 4 + i] = d[i];
#endif
}
