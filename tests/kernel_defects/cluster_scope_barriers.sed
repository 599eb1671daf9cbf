# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/gemm/gemm_wgmma_sm90.cu: kernel2's stage hand-back at cluster scope, as it was before
# issue 9's fix. The consumers release with `mbarrier.arrive.release.cluster` (ptxas puts
# MEMBAR.ALL.CTA and MEMBAR.ALL.GPU before every release) and the producer waits with
# `mbarrier.try_wait.acquire.cluster` (CCTL.IVALL after every wait); check-kernels.sh must fail on
# the fences in kernel2's loops.
s|mbar_arrive_cluster(&s\.empty\[stage\], lane);|{ asm volatile("{ .reg .b32 r; mapa.shared::cluster.u32 r, %0, %1; mbarrier.arrive.release.cluster.shared::cluster.b64 _, [r]; }" :: "r"(smem_u32(\&s.empty[stage])), "r"(lane) : "memory"); }|
s|mbar_wait(&s\.empty\[stage\], ((it / kStages) & 1) ^ 1);  // as kernel1|for (uint32_t done = 0; !done;) asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }" : "=r"(done) : "r"(smem_u32(\&s.empty[stage])), "r"(((it / kStages) \& 1) ^ 1) : "memory");|
