// The Ampere-class attention kernels' shared-memory layout (kernels/attention/sm80_attention_layout.hpp),
// checked on the CPU for what the emulated runs (test_attention_sm80_emulated.cpp) cannot see:
// bank conflicts. Every cp.async write, ldmatrix read and epilogue access of every configuration
// is free of them; the swizzle is a permutation of each row; the cp.async roles cover each tile
// once. (That the fragments are right is what the emulated runs show: the emulator implements
// ldmatrix and mma.sync as the PTX ISA defines them, and a wrong address gives a wrong result.)
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/attention/sm80_attention_layout.hpp"

namespace aicbench::kernels::attn_sm80 {
namespace {

// 16-byte accesses of one phase (8 threads) are conflict-free when they fall in 8 different
// 16-byte groups of the 32 banks.
bool conflict_free_16(const std::vector<uint32_t>& offsets) {
  std::set<uint32_t> groups;
  for (uint32_t off : offsets) groups.insert((off / 16) % 8);
  return groups.size() == offsets.size();
}
// 4-byte accesses of a warp are conflict-free when the 32 fall in 32 different banks.
bool conflict_free_4(const std::vector<uint32_t>& offsets) {
  std::set<uint32_t> banks;
  for (uint32_t off : offsets) banks.insert((off / 4) % 32);
  return banks.size() == offsets.size();
}

template <class Cfg>
void check_config() {
  SCOPED_TRACE("D = " + std::to_string(Cfg::D));
  // The swizzle keeps each chunk in its row and permutes the row's chunks.
  for (int row = 0; row < 16; ++row) {
    std::set<uint32_t> seen;
    for (int c = 0; c < Cfg::kChunks; ++c) {
      const uint32_t off = tile_offset(row, c, Cfg::kRowBytes);
      ASSERT_EQ(off / Cfg::kRowBytes, uint32_t(row));
      seen.insert(off);
    }
    ASSERT_EQ(seen.size(), size_t(Cfg::kChunks));
  }
  // cp.async roles: Q and K/V tiles covered once; each phase of 8 threads conflict-free.
  for (auto [rows, loads] : {std::pair{Cfg::kBlockM, Cfg::kQLoads}, std::pair{Cfg::kBlockN, Cfg::kTileLoads}}) {
    std::vector<int> hits(rows * Cfg::kChunks, 0);
    for (int i = 0; i < loads; ++i) {
      for (int phase = 0; phase < Cfg::kThreads / 8; ++phase) {
        std::vector<uint32_t> offs;
        for (int tid = 8 * phase; tid < 8 * phase + 8; ++tid) {
          const int row = load_row(tid, i, Cfg::kThreads, Cfg::kChunks), c = load_chunk(tid, i, Cfg::kThreads, Cfg::kChunks);
          ASSERT_LT(row, rows);
          ++hits[row * Cfg::kChunks + c];
          offs.push_back(tile_offset(row, c, Cfg::kRowBytes));
        }
        EXPECT_TRUE(conflict_free_16(offs)) << "cp.async load " << i << " threads " << 8 * phase << "..";
      }
    }
    for (int h : hits) ASSERT_EQ(h, 1);
  }
  // ldmatrix: four phases per .x4, lanes 8q .. 8q + 7 address matrix q.
  for (int q = 0; q < 4; ++q) {
    for (int ks = 0; ks < Cfg::kKSteps; ++ks) {
      for (int warp = 0; warp < Cfg::kWarps; ++warp) {
        std::vector<uint32_t> offs;
        for (int lane = 8 * q; lane < 8 * q + 8; ++lane)
          offs.push_back(tile_offset(q_ldsm_row(16 * warp, lane), q_ldsm_chunk(lane, ks), Cfg::kRowBytes));
        EXPECT_TRUE(conflict_free_16(offs)) << "Q ldmatrix warp " << warp << " k-step " << ks << " matrix " << q;
      }
      for (int pair = 0; pair < Cfg::kNTiles / 2; ++pair) {
        std::vector<uint32_t> offs;
        for (int lane = 8 * q; lane < 8 * q + 8; ++lane)
          offs.push_back(tile_offset(k_ldsm_row(pair, lane), k_ldsm_chunk(lane, ks), Cfg::kRowBytes));
        EXPECT_TRUE(conflict_free_16(offs)) << "K ldmatrix keys " << 16 * pair << " k-step " << ks << " matrix " << q;
      }
    }
    for (int kk = 0; kk < Cfg::kNTiles / 2; ++kk)
      for (int dp = 0; dp < Cfg::kDTiles / 2; ++dp) {
        std::vector<uint32_t> offs;
        for (int lane = 8 * q; lane < 8 * q + 8; ++lane)
          offs.push_back(tile_offset(v_ldsm_row(kk, lane), v_ldsm_chunk(lane, dp), Cfg::kRowBytes));
        EXPECT_TRUE(conflict_free_16(offs)) << "V ldmatrix.trans keys " << 16 * kk << " d " << 16 * dp << " matrix " << q;
      }
  }
  // The epilogue: 4-byte staging writes of a warp, then 16-byte reads of its 16 rows.
  for (int warp = 0; warp < Cfg::kWarps; ++warp) {
    for (int t = 0; t < Cfg::kDTiles; ++t)
      for (int h = 0; h < 2; ++h) {
        std::vector<uint32_t> offs;
        for (int lane = 0; lane < 32; ++lane)
          offs.push_back(tile_offset(16 * warp + acc_row(lane, 2 * h), t, Cfg::kRowBytes) + 4 * (lane % 4));
        EXPECT_TRUE(conflict_free_4(offs)) << "epilogue staging warp " << warp << " d tile " << t;
      }
    for (int i = 0; i < 16 * Cfg::kChunks / 32; ++i)
      for (int phase = 0; phase < 4; ++phase) {
        std::vector<uint32_t> offs;
        for (int lane = 8 * phase; lane < 8 * phase + 8; ++lane) {
          const int idx = lane + 32 * i;
          offs.push_back(tile_offset(16 * warp + idx / Cfg::kChunks, idx % Cfg::kChunks, Cfg::kRowBytes));
        }
        EXPECT_TRUE(conflict_free_16(offs)) << "epilogue read warp " << warp << " step " << i;
      }
  }
  EXPECT_LE(Cfg::kSmemBytes, 163 * 1024) << "fits an A100's shared memory per block";
}

TEST(AttentionSm80Layout, PrefillD64) { check_config<PrefillConfig<64>>(); }
TEST(AttentionSm80Layout, PrefillD128) { check_config<PrefillConfig<128>>(); }
TEST(AttentionSm80Layout, PrefillD256) { check_config<PrefillConfig<256>>(); }

TEST(AttentionSm80Layout, PToAOperandPairsAdjacentKeys) {
  // Register a of P's A fragment for k-step kk is (row g or g + 8, keys 16kk + 2t (+8)): the
  // accumulators p_acc(a), p_acc(a) + 1 of S tile p_tile(kk, a).
  for (int kk = 0; kk < 4; ++kk)
    for (int a = 0; a < 4; ++a)
      for (int lane = 0; lane < 32; ++lane) {
        const int tile = p_tile(kk, a), acc = p_acc(a);
        const int row = acc_row(lane, acc), key = 8 * tile + acc_col(lane, acc);
        EXPECT_EQ(row, lane / 4 + 8 * (a % 2));
        EXPECT_EQ(key, 16 * kk + 2 * (lane % 4) + 8 * (a / 2));
        EXPECT_EQ(8 * tile + acc_col(lane, acc + 1), key + 1);
      }
}

}  // namespace
}  // namespace aicbench::kernels::attn_sm80
