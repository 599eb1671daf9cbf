# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/attention/sm80_attention_warp.hpp (and a copy of attention_mma_sm80.cu that includes it):
# the prefill's tiles that need no mask run the masked step too, as when the mask's compares and
# selects were if-converted into every tile (the results stay right; only the SASS matters here).
# check-kernels.sh must fail on the attention mainloop's instruction ceiling.
s|for (int t = 0; t < n_full; ++t) step(t, std::false_type{});|for (int t = 0; t < n_full; ++t) step(t, std::true_type{});|
