# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/gemm/gemm_mma_sm80.cu: B's ldmatrix registers handed to mma.sync in the order the kernel
# used before issue 9 (register q as b(q / 2) of n8 tile q % 2), so each HMMA's register pair
# (b0, b1) must be assembled with moves again. (The product is then wrong; only the SASS matters
# here.) check-kernels.sh must fail on the sm80 mainloop's move ceiling.
s|b\[2 \* p + ldsm_b_tile(q)\]\[ldsm_b_reg(q)\]|b[2 * p + q % 2][q / 2]|
