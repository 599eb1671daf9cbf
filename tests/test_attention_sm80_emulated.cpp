// The Ampere-class attention kernels, run on the CPU: their algorithm code
// (kernels/attention/sm80_attention_warp.hpp, the code the GPU runs) over an emulation of
// cp.async, ldmatrix, mma.sync and shfl (tests/attention_sm80_emulator.hpp), one host thread per
// CUDA thread, every output checked against the float64 reference with the harness's own check
// and tolerance. Shapes off every tile: odd lengths, causal with Sq < Sk and Sq > Sk (rows that
// see no key), grouped-query and multi-query heads, D 64, 128 and 256, bf16 and fp16.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include "harness/families/attention_check.hpp"
#include "harness/validation.hpp"
#include "kernels/attention/sm80_attention_warp.hpp"
#include "tests/attention_sm80_emulator.hpp"

namespace aicbench {
namespace {

using kernels::AttentionShape;
namespace attn = kernels::attn_sm80;

std::string describe(const AttentionShape& s) {
  return "B=" + std::to_string(s.B) + " H=" + std::to_string(s.H) + " KVH=" + std::to_string(s.KVH) +
         " Sq=" + std::to_string(s.Sq) + " Sk=" + std::to_string(s.Sk) + " D=" + std::to_string(s.D) +
         " causal=" + std::to_string(s.causal);
}

// Inputs drawn in fp32, rounded to T; `wide` holds the rounded values for the reference.
template <class T>
struct Tensor {
  std::vector<T> data;
  std::vector<float> wide;
};
template <class T>
Tensor<T> random_tensor(int64_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  fill_uniform(v, seed);
  Tensor<T> t{std::vector<T>(n), std::vector<float>(n)};
  for (int64_t i = 0; i < n; ++i) {
    t.data[i] = T(v[i] * scale);
    t.wide[i] = static_cast<float>(t.data[i]);
  }
  return t;
}

template <class T>
std::vector<float> widen(const std::vector<T>& x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i]);
  return out;
}

template <class T>
const char* dtype_name() {
  return std::is_same_v<T, __nv_bfloat16> ? "bf16" : "fp16";
}

// Runs the prefill kernel's blocks one after another, each on Cfg::kThreads host threads.
template <class T, int D>
void run_prefill(const AttentionShape& s, float q_scale) {
  using Cfg = attn::PrefillConfig<D>;
  ASSERT_EQ(s.D, D);
  const Tensor<T> Q = random_tensor<T>(s.q_elements(), 1, q_scale), K = random_tensor<T>(s.kv_elements(), 2),
                  V = random_tensor<T>(s.kv_elements(), 3);
  std::vector<T> O(s.q_elements());
  std::memset(static_cast<void*>(O.data()), 0xFF, O.size() * sizeof(T));  // NaN: a row the kernel misses fails
  attn::AttentionParams p = attn::make_params(s, Q.data.data(), K.data.data(), V.data.data(), O.data());
  p.m_blocks = static_cast<int>((s.Sq + Cfg::kBlockM - 1) / Cfg::kBlockM);
  const std::vector<testing::MemoryRange> in = {{Q.data.data(), Q.data.size() * sizeof(T)},
                                                {K.data.data(), K.data.size() * sizeof(T)},
                                                {V.data.data(), V.data.size() * sizeof(T)}};
  const std::vector<testing::MemoryRange> out = {{O.data(), O.size() * sizeof(T)}};
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.H; ++h)
      for (int x = 0; x < p.m_blocks; ++x) {
        const int m_block = p.causal ? p.m_blocks - 1 - x : x;  // as the kernel maps blockIdx.x
        testing::EmulatedBlock block(Cfg::kThreads, Cfg::kSmemBytes, in, out);
        const auto errors = block.run([&](int tid) {
          testing::EmulatedOps<T> ops(block, tid);
          attn::prefill_block<Cfg>(p, ops, m_block, h, b, tid);
        });
        ASSERT_TRUE(errors.empty()) << describe(s) << " block (" << m_block << ", " << h << ", " << b
                                    << "): " << errors.front();
      }
  const std::vector<float> got = widen(O);
  const double tol = attention_tolerance(attention_precision(dtype_name<T>()), s, score_bound(Q.wide, K.wide, s));
  const AttentionCheck check = check_attention(Q.wide, K.wide, V.wide, got, s, tol, 5, int(s.B * s.Sq * s.H));
  EXPECT_TRUE(check.passed) << dtype_name<T>() << " " << describe(s) << ": " << check.message;
  // Rows that see one or two keys keep the rounding of P and O whole (about u_P / 2 + u_out / 2
  // of their scale), so the largest error is about half the budget, not a small fraction.
  ::testing::Test::RecordProperty(std::string(dtype_name<T>()) + " " + describe(s),
                                  std::to_string(check.max_rel_err) + " of " + std::to_string(tol));
}

// Runs the decode kernel's blocks (split, head block, batch) one after another, then the combine on
// the host with the kernel's own combine_splits. `split_keys` as the launcher would choose it (a
// multiple of 16); `extra_splits` adds splits with no key, which the combine must ignore.
template <class T, int D>
void run_decode(const AttentionShape& s, int split_keys, int extra_splits = 0) {
  using Cfg = attn::DecodeConfig<D>;
  ASSERT_EQ(s.Sq, 1);
  const Tensor<T> Q = random_tensor<T>(s.q_elements(), 4), K = random_tensor<T>(s.kv_elements(), 5),
                  V = random_tensor<T>(s.kv_elements(), 6);
  attn::AttentionParams p = attn::make_params(s, Q.data.data(), K.data.data(), V.data.data(), nullptr);
  p.split_keys = split_keys;
  p.splits = static_cast<int>((s.Sk + split_keys - 1) / split_keys) + extra_splits;
  p.head_blocks = static_cast<int>((s.group() + 15) / 16);
  std::vector<float> partial_o(s.B * s.H * p.splits * D, NAN), partial_lse(s.B * s.H * p.splits, NAN);
  p.partial_o = partial_o.data();
  p.partial_lse = partial_lse.data();
  const std::vector<testing::MemoryRange> in = {{Q.data.data(), Q.data.size() * sizeof(T)},
                                                {K.data.data(), K.data.size() * sizeof(T)},
                                                {V.data.data(), V.data.size() * sizeof(T)}};
  for (int b = 0; b < s.B; ++b)
    for (int hb = 0; hb < s.KVH * p.head_blocks; ++hb)
      for (int split = 0; split < p.splits; ++split) {
        testing::EmulatedBlock block(Cfg::kThreads, Cfg::kSmemBytes, in, {});
        const auto errors = block.run([&](int tid) {
          testing::EmulatedOps<T> ops(block, tid);
          attn::decode_block<Cfg>(p, ops, split, hb, b, tid);
        });
        ASSERT_TRUE(errors.empty()) << describe(s) << " block (" << split << ", " << hb << ", " << b << "): " << errors.front();
      }
  for (size_t i = 0; i < partial_lse.size(); ++i) ASSERT_FALSE(std::isnan(partial_lse[i])) << "split result " << i << " not written";
  std::vector<float> got(s.q_elements());
  for (int64_t row = 0; row < s.B * s.H; ++row)
    for (int d = 0; d < D; ++d) {
      const float o = attn::combine_splits(partial_o.data() + row * p.splits * D, partial_lse.data() + row * p.splits,
                                           p.splits, D, d, [](float x) { return std::exp2(x); });
      got[row * D + d] = static_cast<float>(T(o));  // the combine kernel rounds to the input type
    }
  const double tol = attention_tolerance(attention_precision(dtype_name<T>()), s, score_bound(Q.wide, K.wide, s));
  const AttentionCheck check = check_attention(Q.wide, K.wide, V.wide, got, s, tol, 5, int(s.B * s.H));
  EXPECT_TRUE(check.passed) << dtype_name<T>() << " decode " << describe(s) << ": " << check.message;
}

TEST(AttentionSm80Emulated, DecodeSplitsAndGroupedHeads) {
  run_decode<__nv_bfloat16, 64>({2, 8, 2, 1, 1000, 64, false}, 256);       // 4 splits, ragged last
  run_decode<__half, 128>({1, 40, 2, 1, 300, 128, false}, 112, 1);         // 20 heads per KV head, an empty split
  run_decode<__nv_bfloat16, 256>({1, 4, 4, 1, 37, 256, false}, 48);        // MHA, warps without tiles
}

TEST(AttentionSm80Emulated, PrefillD64) {
  run_prefill<__nv_bfloat16, 64>({1, 2, 1, 130, 77, 64, true}, 1.0f);
  run_prefill<__half, 64>({1, 2, 2, 64, 64, 64, false}, 1.0f);
}

TEST(AttentionSm80Emulated, PrefillD128CausalBothAlignments) {
  run_prefill<__half, 128>({2, 2, 1, 70, 200, 128, true}, 1.0f);   // Sq < Sk: rows see a prefix and more
  run_prefill<__nv_bfloat16, 128>({1, 1, 1, 200, 70, 128, true}, 1.0f);  // Sq > Sk: first rows see no key
}

TEST(AttentionSm80Emulated, PrefillPeakedScores) {
  // Large scores: the running maximum changes within and between tiles, so the rescaling of the
  // accumulators and sums is exercised, not just the average of V.
  run_prefill<__nv_bfloat16, 64>({1, 1, 1, 40, 150, 64, false}, 8.0f);
}

TEST(AttentionSm80Emulated, PrefillD256) {
  run_prefill<__nv_bfloat16, 256>({1, 1, 1, 33, 40, 256, false}, 1.0f);
}

}  // namespace
}  // namespace aicbench
