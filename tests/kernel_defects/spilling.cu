// Planted defect for `scripts/check-kernels.sh --self-test` (never built into aicbench): a kernel
// whose live values exceed the register budget that __launch_bounds__ leaves it, so ptxas spills
// to local memory (spill stores/loads, LDL/STL in SASS). check-kernels.sh must fail on it.
__global__ void __launch_bounds__(1024, 2) spilling(const float* in, float* out, int n) {
  float v[96];
#pragma unroll
  for (int i = 0; i < 96; ++i) v[i] = in[threadIdx.x + i * n];
  float s = 0.f;
#pragma unroll
  for (int r = 0; r < 4; ++r) {
#pragma unroll
    for (int i = 0; i < 96; ++i) s = s * v[(i * 7 + r) % 96] + v[i];
  }
#pragma unroll
  for (int i = 0; i < 96; ++i) out[threadIdx.x + i * n] = v[i] * s;
}
