# Planted defect for `scripts/check-kernels.sh --self-test`, applied to a copy of
# kernels/memory/stream_kernels.cu: one 16-byte access per array and thread in flight instead of
# four (kUnroll = 1), too few bytes in flight to keep HBM busy; check-kernels.sh must fail on it.
s/^constexpr int kUnroll = 4;$/constexpr int kUnroll = 1;/
