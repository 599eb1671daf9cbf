# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/attention/attention_wgmma_sm90.cu: the consumer waits for both wgmma groups (Q K^T and
# P V) before the softmax instead of leaving P V in flight, so the softmax no longer hides under
# the tensor cores; check-kernels.sh must fail on it (no WARPGROUP.DEPBAR.LE gsb0, 0x1).
s|wgmma_wait_group<1>();  // S is done; P V may still run|wgmma_wait_group<0>();  // S is done; P V may still run|
