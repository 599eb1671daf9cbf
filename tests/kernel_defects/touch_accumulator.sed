# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/gemm/gemm_wgmma_sm90.cu: one accumulator touch between wgmma.commit_group and
# wgmma.wait_group in the consumer's K-tile loop. ptxas then serializes every wgmma of all six
# Hopper kernels and prints advisory C7518 (issue 9); check-kernels.sh must fail on it.
0,/^\( *\)wgmma_commit_group();$/s//&\n\1acc[0] += 1.0f;/
