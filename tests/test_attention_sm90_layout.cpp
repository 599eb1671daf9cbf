// The Hopper attention kernel's layout arithmetic and per-thread softmax
// (kernels/attention/sm90_attention_layout.hpp), checked on the CPU against the PTX ISA's
// definitions, so that a wrong fragment index, descriptor field or swizzle is caught here rather
// than as wrong numbers on a GPU:
//   - P's A fragment for O += P V (the PTX ISA's wgmma A register fragment) is exactly the S
//     accumulators the thread owns (sm90::accumulator_coord, the ISA's D fragment);
//   - every (row, column) of S and O is owned by one thread, and a row's owners are the 4 lanes the
//     shuffle masks reach;
//   - what wgmma reads through the kernel's K-major (Q, K) and MN-major (V) descriptors, decoded by
//     the ISA's canonical layouts and the 128-byte swizzle, is what TMA wrote there;
//   - the epilogue's staging puts every output in its place and reads each row's chunks whole;
//   - the key-tile ranges (which tiles are loaded, which need the mask) and the longest-first
//     block order;
//   - a whole block on an emulated pair of warpgroups (one host thread per CUDA thread, shuffles
//     through a barrier): TMA's tiles built by the layout functions, S and P V computed through
//     the descriptors and fragments as the ISA defines them, the kernel's own mask, online
//     softmax, rescaling, P packing and epilogue, against the CPU reference.
#include <barrier>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/attention/attention_cpu.hpp"
#include "kernels/attention/sm90_attention_layout.hpp"

namespace aicbench::kernels::attn_sm90 {
namespace {

// ---- the PTX ISA's definitions, written out independently of the kernel's header -----------------

// wgmma .m64nNk16 A operand from registers, 16-bit types: thread t (warp w = t / 32, lane l) holds
// in register r (0..3), half e: row 16 w + l / 4 + 8 (r % 2), column 2 (l % 4) + e + 8 (r / 2) of
// the 64 x 16 A tile ("Register fragment layout for matrix A", as mma.m16n8k16's A per warp).
sm90::TileCoordinate isa_a_coord(int t, int r, int e) {
  const int w = t / 32, l = t % 32;
  return {16 * w + l / 4 + 8 * (r % 2), 2 * (l % 4) + e + 8 * (r / 2)};
}

// wgmma .m64nN D fragment: register i of thread t at row 16 w + l / 4 + 8 ((i / 2) % 2), column
// 8 (i / 4) + 2 (l % 4) + (i % 2).
sm90::TileCoordinate isa_d_coord(int t, int i) {
  const int w = t / 32, l = t % 32;
  return {16 * w + l / 4 + 8 * ((i / 2) % 2), 8 * (i / 4) + 2 * (l % 4) + (i % 2)};
}

struct Descriptor {
  uint32_t start, lbo, sbo, swizzle;
  explicit Descriptor(uint64_t d)
      : start(static_cast<uint32_t>(d & 0x3FFF) << 4),
        lbo(static_cast<uint32_t>((d >> 16) & 0x3FFF) << 4),
        sbo(static_cast<uint32_t>((d >> 32) & 0x3FFF) << 4),
        swizzle(static_cast<uint32_t>(d >> 62)) {}
};
uint32_t swizzle128(uint32_t linear) { return linear ^ (((linear >> 7) & 7u) << 4); }

// K-major, 128-byte swizzle (canonical ((8, m), (T, 2k)) : ((8T, SBO), (1, T))): element k (of
// the instruction's 16) of row `row`.
uint32_t kmajor_read(const Descriptor& d, int row, int k) {
  return swizzle128(d.start + uint32_t(row / 8) * d.sbo + uint32_t(row % 8) * 128u + uint32_t(k) * 2u);
}
// MN-major, 128-byte swizzle (canonical ((T, 8, m), (8, k)) : ((1, T, LBO), (8T, SBO)), T = 8
// 16-bit values): element (k, n), k of the instruction's 16 reduction rows, n of its N columns.
uint32_t mnmajor_read(const Descriptor& d, int k, int n) {
  return swizzle128(d.start + uint32_t(n / 64) * d.lbo + uint32_t(k / 8) * d.sbo + uint32_t(k % 8) * 128u +
                    uint32_t(n % 64) * 2u);
}

// ---- fragments ------------------------------------------------------------------------------------

template <class Cfg>
void check_fragments() {
  SCOPED_TRACE("D = " + std::to_string(Cfg::D));
  for (int t = 0; t < 128; ++t) {
    for (int i = 0; i < Cfg::kSRegs; ++i) {
      ASSERT_EQ(sm90::accumulator_coord(t, i).row, isa_d_coord(t, i).row);
      ASSERT_EQ(sm90::accumulator_coord(t, i).col, isa_d_coord(t, i).col);
      ASSERT_EQ(sm90::accumulator_coord(t, i).row, thread_row(t, (i / 2) % 2));
    }
    // P's A fragment of k-step ks is the thread's own S accumulators.
    for (int ks = 0; ks < Cfg::kPVSteps; ++ks)
      for (int r = 0; r < 4; ++r)
        for (int e = 0; e < 2; ++e) {
          const sm90::TileCoordinate s = isa_d_coord(t, p_source_index(ks, r, e));
          const sm90::TileCoordinate a = isa_a_coord(t, r, e);
          ASSERT_EQ(s.row, a.row) << "t " << t << " ks " << ks << " r " << r << " e " << e;
          ASSERT_EQ(s.col, 16 * ks + a.col) << "t " << t << " ks " << ks << " r " << r << " e " << e;
        }
  }
  // Every (row, column) of S (64 x kBlockN) and O (64 x D) owned once; a row's owners are the 4
  // lanes that the shuffle masks connect.
  for (int n : {Cfg::kBlockN, Cfg::D}) {
    std::vector<int> owner(64 * n, -1);
    for (int t = 0; t < 128; ++t)
      for (int i = 0; i < n / 2; ++i) {
        const sm90::TileCoordinate c = sm90::accumulator_coord(t, i);
        ASSERT_EQ(owner[c.row * n + c.col], -1);
        owner[c.row * n + c.col] = t;
      }
    for (int row = 0; row < 64; ++row) {
      std::set<int> owners;
      for (int col = 0; col < n; ++col) owners.insert(owner[row * n + col]);
      ASSERT_EQ(owners.size(), 4u);
      const int first = *owners.begin();
      std::set<int> reached{first};
      for (int k = 0; k < kRowShflSteps; ++k) {
        std::set<int> next = reached;
        for (int x : reached) next.insert(x ^ row_shfl_mask(k));
        reached = next;
      }
      ASSERT_EQ(reached, owners) << "row " << row;
    }
  }
}

TEST(AttentionSm90Layout, FragmentsMatchIsa) {
  check_fragments<Config<64>>();
  check_fragments<Config<128>>();
  check_fragments<Config<256>>();
}

// ---- what wgmma reads through the kernel's descriptors is what TMA wrote ----------------------------

template <class Cfg>
void check_descriptors() {
  SCOPED_TRACE("D = " + std::to_string(Cfg::D));
  // TMA: panel p of a tile (box of 64 values x rows) at panel base + sw128_offset(row, 2 col);
  // tile_offset is that. Its 16-byte chunks are whole (8 consecutive values).
  for (int row = 0; row < Cfg::kBlockM; ++row)
    for (int col = 0; col < Cfg::D; ++col) {
      const uint32_t off = tile_offset(row, col, Cfg::kBlockM);
      ASSERT_EQ(off, uint32_t((col / 64) * Cfg::kQPanelBytes) + sm90::sw128_offset(row, (col % 64) * 2));
      if (col % 8 != 0) {
        ASSERT_EQ(off, tile_offset(row, col - col % 8, Cfg::kBlockM) + 2 * (col % 8));
      }
    }
  const uint32_t base = 1u << 16;  // any 1024-byte aligned address
  // S = Q K^T: Q rows of warpgroup wg (64 from row 64 wg), K rows 0 .. kBlockN - 1.
  for (int ks = 0; ks < Cfg::kQKSteps; ++ks) {
    for (int wg = 0; wg < 2; ++wg) {
      const Descriptor dq(sm90::make_sw128_kmajor_desc(base + wg * 64 * 128 + kmajor_step_offset(ks, Cfg::kQPanelBytes)));
      ASSERT_EQ(dq.swizzle, 1u);
      for (int m = 0; m < 64; ++m)
        for (int k = 0; k < 16; ++k)
          ASSERT_EQ(kmajor_read(dq, m, k), base + tile_offset(64 * wg + m, 16 * ks + k, Cfg::kBlockM))
              << "Q ks " << ks << " m " << m << " k " << k;
    }
    const Descriptor dk(sm90::make_sw128_kmajor_desc(base + kmajor_step_offset(ks, Cfg::kKVPanelBytes)));
    for (int n = 0; n < Cfg::kBlockN; ++n)
      for (int k = 0; k < 16; ++k)
        ASSERT_EQ(kmajor_read(dk, n, k), base + tile_offset(n, 16 * ks + k, Cfg::kBlockN)) << "K ks " << ks;
  }
  // O += P V: V is [keys, D]; k-step ks reads keys 16 ks .. + 15 and all D columns.
  for (int ks = 0; ks < Cfg::kPVSteps; ++ks) {
    const Descriptor dv(make_sw128_mnmajor_desc(base + mnmajor_step_offset(ks), Cfg::kKVPanelBytes));
    ASSERT_EQ(dv.swizzle, 1u);
    ASSERT_EQ(dv.sbo, 1024u);
    for (int k = 0; k < 16; ++k)
      for (int n = 0; n < Cfg::D; ++n)
        ASSERT_EQ(mnmajor_read(dv, k, n), base + tile_offset(16 * ks + k, n, Cfg::kBlockN))
            << "V ks " << ks << " k " << k << " n " << n;
  }
}

TEST(AttentionSm90Layout, DescriptorsReadWhatTmaWrote) {
  check_descriptors<Config<64>>();
  check_descriptors<Config<128>>();
  check_descriptors<Config<256>>();
}

// ---- epilogue staging ------------------------------------------------------------------------------

template <class Cfg>
void check_epilogue() {
  SCOPED_TRACE("D = " + std::to_string(Cfg::D));
  for (int wg = 0; wg < 2; ++wg) {
    // Writes: every output (row, col) of the warpgroup staged once, where the reads expect it, and
    // by the warp that reads it back; each warp-wide 4-byte store conflict-free.
    std::set<uint32_t> written;
    for (int j = 0; j < Cfg::kORegs / 4; ++j)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 4; ++w) {
          std::set<uint32_t> banks;
          for (int l = 0; l < 32; ++l) {
            const int t = 32 * w + l;
            const sm90::TileCoordinate c = sm90::accumulator_coord(t, 4 * j + 2 * h);
            const uint32_t off = o_stage_offset(wg, t, j, h);
            ASSERT_EQ(off, tile_offset(64 * wg + c.row, c.col, Cfg::kBlockM));
            ASSERT_EQ(c.row / 16, w);
            ASSERT_TRUE(written.insert(off).second);
            banks.insert((off / 4) % 32);
          }
          ASSERT_EQ(banks.size(), 32u) << "bank conflict: j " << j << " h " << h;
        }
    ASSERT_EQ(written.size(), size_t(64 * Cfg::D / 2));
  }
  // Reads: each warp's 16 rows x D, every 8-value chunk once; 8 consecutive lanes one row.
  for (int w = 0; w < 4; ++w) {
    std::set<std::pair<int, int>> seen;
    for (int step = 0; step < Cfg::D / 16; ++step)
      for (int l = 0; l < 32; ++l) {
        const StagedChunk c = o_read_chunk(w, l, step, Cfg::D);
        ASSERT_EQ(c.row / 16, w);
        ASSERT_EQ(c.col % 8, 0);
        ASSERT_TRUE(seen.insert({c.row, c.col}).second);
      }
    ASSERT_EQ(seen.size(), size_t(16 * Cfg::D / 8));
  }
}

TEST(AttentionSm90Layout, EpilogueStagingCoversOutput) {
  check_epilogue<Config<64>>();
  check_epilogue<Config<128>>();
  check_epilogue<Config<256>>();
}

// ---- key tiles and block order ---------------------------------------------------------------------

TEST(AttentionSm90Layout, KeyTilesAndBlockOrder) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> len(1, 700);
  for (int trial = 0; trial < 300; ++trial) {
    AttentionShape s;
    s.Sq = len(rng);
    s.Sk = len(rng);
    s.causal = trial % 2;
    const AttentionParams p = attn_sm80::make_params(s, nullptr, nullptr, nullptr, nullptr);
    for (int bn : {64, 128}) {
      const int m_blocks = static_cast<int>((s.Sq + 127) / 128);
      for (int mb = 0; mb < m_blocks; ++mb) {
        const KeyTiles kt = key_tiles(p, mb, 128, bn);
        ASSERT_LE(kt.n_full, kt.n_tiles);
        for (int tile = 0; tile * bn < s.Sk; ++tile) {
          bool any_visible = false, any_masked = false;
          for (int q = mb * 128; q < std::min<int>(mb * 128 + 128, static_cast<int>(s.Sq)); ++q)
            for (int key = tile * bn; key < tile * bn + bn; ++key) {
              if (attn_sm80::masked(q, key, p)) any_masked = true; else any_visible = true;
            }
          if (any_visible) {
            ASSERT_LT(tile, kt.n_tiles) << "a visible key in a tile never loaded";
          }
          if (tile < kt.n_full) {
            ASSERT_FALSE(any_masked) << "tile " << tile << " skips the mask but needs it";
          }
        }
      }
    }
  }
  // Every block once; causal: query blocks in non-increasing order.
  for (bool causal : {false, true}) {
    const int m_blocks = 5, heads = 3, batch = 2;
    std::set<std::tuple<int, int, int>> seen;
    int last_m = causal ? m_blocks : -1;
    for (int x = 0; x < m_blocks * heads * batch; ++x) {
      const BlockCoord c = block_coord(x, m_blocks, heads, batch, causal);
      ASSERT_TRUE(seen.insert({c.m_block, c.head, c.batch}).second);
      if (causal) {
        ASSERT_LE(c.m_block, last_m);
      } else {
        ASSERT_GE(c.m_block, last_m);
      }
      last_m = c.m_block;
    }
    ASSERT_EQ(seen.size(), size_t(m_blocks * heads * batch));
  }
}

// ---- the pipeline's hand-offs, simulated -----------------------------------------------------------
// The kernel's barrier protocol as three actors (the producer thread, consumer warpgroups 0 and 1),
// each a list of the steps attention_wgmma_sm90.cu takes, in its order, with the ring arithmetic
// of the header (ring_stage, full_parity, empty_parity). mbarriers as the PTX ISA defines them (a
// phase completes when its pending arrivals reach zero; try_wait.parity(P) succeeds once the phase
// of parity P has completed, so a fresh barrier passes P = 1); named barriers complete when 256
// threads have arrived. Run under many random interleavings: every run must finish (no deadlock),
// every wgmma must find its tile in its stage from issue to release (no overwrite), and every
// tile must be read.
struct Mbar {
  int expected = 0, pending = 0, phase = 0;
  void init(int n) { expected = pending = n; }
  bool passed(uint32_t parity) const { return uint32_t(phase & 1) != parity; }
  void arrive(int n = 1) {
    pending -= n;
    if (pending == 0) { ++phase; pending = expected; }
  }
};
struct NamedBar {
  int arrived = 0, generation = 0;
};
struct Step {
  enum Kind { wait_mbar, arrive_mbar, sync_named, arrive_named, land, check } kind;
  Mbar* bar = nullptr;
  uint32_t parity = 0;
  int arrivals = 0;
  NamedBar* named = nullptr;
  int* slot = nullptr;  // land: the stage's tag becomes `value`; check: must equal `value`
  int value = 0;
};

void simulate_ring(int n_tiles, int stages, unsigned seed) {
  SCOPED_TRACE("n_tiles " + std::to_string(n_tiles) + " stages " + std::to_string(stages) + " seed " + std::to_string(seed));
  constexpr int kWarps = 8;
  Mbar q_full;
  std::vector<Mbar> k_full(stages), v_full(stages), k_empty(stages), v_empty(stages);
  q_full.init(1);
  for (int st = 0; st < stages; ++st) {
    k_full[st].init(1), v_full[st].init(1), k_empty[st].init(kWarps), v_empty[st].init(kWarps);
  }
  std::vector<int> k_tag(stages, -1), v_tag(stages, -1);
  NamedBar turn[2];
  auto tile_of = [&](int i) { return n_tiles - 1 - i; };
  std::vector<Step> producer;
  producer.push_back({Step::arrive_mbar, &q_full, 0, 1});
  for (int i = 0; i < n_tiles; ++i) {
    const int st = ring_stage(i, stages);
    producer.push_back({Step::wait_mbar, &k_empty[st], empty_parity(i, stages)});
    producer.push_back({Step::land, nullptr, 0, 0, nullptr, &k_tag[st], tile_of(i)});
    producer.push_back({Step::arrive_mbar, &k_full[st], 0, 1});
    producer.push_back({Step::wait_mbar, &v_empty[st], empty_parity(i, stages)});
    producer.push_back({Step::land, nullptr, 0, 0, nullptr, &v_tag[st], tile_of(i)});
    producer.push_back({Step::arrive_mbar, &v_full[st], 0, 1});
  }
  auto consumer = [&](int wg) {
    std::vector<Step> c;
    NamedBar* mine = &turn[wg];
    NamedBar* other = &turn[1 - wg];
    auto wait = [&](Mbar* b, uint32_t parity) { c.push_back({Step::wait_mbar, b, parity}); };
    auto check_k = [&](int i) { c.push_back({Step::check, nullptr, 0, 0, nullptr, &k_tag[ring_stage(i, stages)], tile_of(i)}); };
    auto check_v = [&](int i) { c.push_back({Step::check, nullptr, 0, 0, nullptr, &v_tag[ring_stage(i, stages)], tile_of(i)}); };
    auto release = [&](Mbar* b) { c.push_back({Step::arrive_mbar, b, 0, 4}); };  // lane 0 of 4 warps
    if (wg == 1) c.push_back({Step::arrive_named, nullptr, 0, 0, &turn[0]});
    wait(&q_full, 0);
    if (n_tiles > 0) {
      wait(&k_full[0], 0);
      c.push_back({Step::sync_named, nullptr, 0, 0, mine});
      check_k(0);
      c.push_back({Step::arrive_named, nullptr, 0, 0, other});
      check_k(0);  // still there when the wgmma completes
      release(&k_empty[0]);
      for (int i = 1; i < n_tiles; ++i) {
        wait(&k_full[ring_stage(i, stages)], full_parity(i, stages));
        wait(&v_full[ring_stage(i - 1, stages)], full_parity(i - 1, stages));
        c.push_back({Step::sync_named, nullptr, 0, 0, mine});
        check_k(i), check_v(i - 1);
        c.push_back({Step::arrive_named, nullptr, 0, 0, other});
        check_k(i);
        release(&k_empty[ring_stage(i, stages)]);
        check_v(i - 1);
        release(&v_empty[ring_stage(i - 1, stages)]);
      }
      const int last = n_tiles - 1;
      wait(&v_full[ring_stage(last, stages)], full_parity(last, stages));
      c.push_back({Step::sync_named, nullptr, 0, 0, mine});
      check_v(last);
      c.push_back({Step::arrive_named, nullptr, 0, 0, other});
      check_v(last);
      release(&v_empty[ring_stage(last, stages)]);
    }
    if (wg == 0) c.push_back({Step::sync_named, nullptr, 0, 0, mine});
    return c;
  };
  std::vector<std::vector<Step>> actors = {producer, consumer(0), consumer(1)};
  std::vector<size_t> pc(3, 0);
  std::vector<int> waiting_generation(3, -1);  // a sync_named in progress: the generation it waits for
  std::mt19937 rng(seed);
  for (;;) {
    std::vector<int> runnable;
    for (int a = 0; a < 3; ++a) {
      if (pc[a] == actors[a].size()) continue;
      const Step& st = actors[a][pc[a]];
      if (st.kind == Step::wait_mbar && !st.bar->passed(st.parity)) continue;
      if (st.kind == Step::sync_named && waiting_generation[a] >= 0 && st.named->generation <= waiting_generation[a]) continue;
      runnable.push_back(a);
    }
    if (runnable.empty()) break;
    const int a = runnable[rng() % runnable.size()];
    const Step& st = actors[a][pc[a]];
    switch (st.kind) {
      case Step::wait_mbar: ++pc[a]; break;
      case Step::arrive_mbar: st.bar->arrive(st.arrivals); ++pc[a]; break;
      case Step::land: *st.slot = st.value; ++pc[a]; break;
      case Step::check:
        ASSERT_EQ(*st.slot, st.value) << "a stage was overwritten while a wgmma read it, or read before it landed";
        ++pc[a];
        break;
      case Step::arrive_named:
      case Step::sync_named:
        if (st.kind == Step::sync_named && waiting_generation[a] >= 0) {  // released: go on
          waiting_generation[a] = -1;
          ++pc[a];
          break;
        }
        st.named->arrived += 128;
        if (st.named->arrived == 256) {
          st.named->arrived = 0;
          ++st.named->generation;
          if (st.kind == Step::sync_named) { ++pc[a]; break; }
        }
        if (st.kind == Step::arrive_named) ++pc[a];
        else waiting_generation[a] = st.named->generation;
        break;
    }
  }
  for (int a = 0; a < 3; ++a) ASSERT_EQ(pc[a], actors[a].size()) << "actor " << a << " (0: producer) is stuck: deadlock";
  ASSERT_EQ(turn[0].arrived + turn[1].arrived, 0) << "a named barrier is left with arrivals: the turns are unbalanced";
}

TEST(AttentionSm90Pipeline, RingAndPingPongNeverDeadlockOrOverwrite) {
  for (int stages : {2, 3})
    for (int n_tiles : {0, 1, 2, 3, 4, 7, 12})
      for (unsigned seed = 0; seed < 40; ++seed) simulate_ring(n_tiles, stages, seed);
}

// ---- a whole block on an emulated pair of consumer warpgroups -------------------------------------

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
float from_bf16(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// The Ops of the per-thread softmax for 256 host threads: shfl_xor through one slot per thread
// between two barrier phases.
struct EmulatedOps {
  std::barrier<>* bar;
  std::vector<float>* slots;
  int t;
  float shfl_xor(float x, int mask) const {
    (*slots)[t] = x;
    bar->arrive_and_wait();
    const float y = (*slots)[(t & ~31) | ((t % 32) ^ mask)];
    bar->arrive_and_wait();
    return y;
  }
  float ex2(float x) const { return std::exp2(x); }
  uint32_t pack(float lo, float hi) const { return uint32_t(to_bf16(lo)) | (uint32_t(to_bf16(hi)) << 16); }
};

// Runs one block (m_block, head 0, batch 0 of a B = H = KVH = 1 problem) the way the kernel does and
// writes its rows of O.
template <class Cfg>
void emulate_block(const AttentionShape& s, const std::vector<uint16_t>& q, const std::vector<uint16_t>& k,
                   const std::vector<uint16_t>& v, int m_block, std::vector<float>& out) {
  AttentionParams p = attn_sm80::make_params(s, nullptr, nullptr, nullptr, nullptr);
  const KeyTiles kt = key_tiles(p, m_block, Cfg::kBlockM, Cfg::kBlockN);
  // TMA: Q's tile and each K/V tile into panel-swizzled bytes, zeros past the sequences.
  auto load = [&](const std::vector<uint16_t>& src, int rows_total, int row0, int rows) {
    std::vector<uint8_t> tile(size_t(rows) * Cfg::D * 2, 0);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < Cfg::D; ++c) {
        const uint16_t x = row0 + r < rows_total ? src[size_t(row0 + r) * Cfg::D + c] : 0;
        std::memcpy(&tile[tile_offset(r, c, rows)], &x, 2);
      }
    return tile;
  };
  const int Sq = static_cast<int>(s.Sq), Sk = static_cast<int>(s.Sk);
  std::vector<uint8_t> qs = load(q, Sq, m_block * Cfg::kBlockM, Cfg::kBlockM);
  auto at = [](const std::vector<uint8_t>& tile, uint32_t off) {
    uint16_t x;
    std::memcpy(&x, &tile[off], 2);
    return from_bf16(x);
  };

  constexpr int kThreads = 256;
  std::barrier<> bar(kThreads);
  std::vector<float> slots(kThreads);
  std::vector<uint32_t> shared_p(size_t(kThreads) * Cfg::kPRegs);
  auto body = [&](int tid) {
    const int wg = tid / 128, t = tid % 128;
    EmulatedOps ops{&bar, &slots, tid};
    const int query0 = m_block * Cfg::kBlockM + wg * Cfg::kWgRows;
    float sacc[Cfg::kSRegs], o[Cfg::kORegs] = {};
    uint32_t pf[Cfg::kPRegs] = {};
    RowStats st{{-INFINITY, -INFINITY}, {0.0f, 0.0f}};
    float alpha[2];
    std::vector<uint8_t> prev_v;
    auto qk = [&](const std::vector<uint8_t>& ks_tile) {  // through the kernel's descriptors
      for (int i = 0; i < Cfg::kSRegs; ++i) {
        const sm90::TileCoordinate c = isa_d_coord(t, i);
        float acc = 0;
        for (int ks = 0; ks < Cfg::kQKSteps; ++ks) {
          const Descriptor dq(sm90::make_sw128_kmajor_desc(wg * 64 * 128 + kmajor_step_offset(ks, Cfg::kQPanelBytes)));
          const Descriptor dk(sm90::make_sw128_kmajor_desc(kmajor_step_offset(ks, Cfg::kKVPanelBytes)));
          for (int kk = 0; kk < 16; ++kk) acc += at(qs, kmajor_read(dq, c.row, kk)) * at(ks_tile, kmajor_read(dk, c.col, kk));
        }
        sacc[i] = acc;
      }
    };
    auto pv = [&](const std::vector<uint8_t>& vs_tile) {  // P from the threads' A fragments (ISA)
      std::memcpy(&shared_p[size_t(tid) * Cfg::kPRegs], pf, sizeof(pf));
      bar.arrive_and_wait();
      for (int i = 0; i < Cfg::kORegs; ++i) {
        const sm90::TileCoordinate c = isa_d_coord(t, i);
        float acc = 0;
        for (int ks = 0; ks < Cfg::kPVSteps; ++ks) {
          const Descriptor dv(make_sw128_mnmajor_desc(mnmajor_step_offset(ks), Cfg::kKVPanelBytes));
          for (int kk = 0; kk < 16; ++kk) {
            // The thread and register holding (row c.row, column kk) of A, checked against the ISA.
            const int owner = 32 * (c.row / 16) + 4 * (c.row % 8) + (kk % 8) / 2;
            const int reg = (c.row % 16) / 8 + 2 * (kk / 8), half = kk % 2;
            if (isa_a_coord(owner, reg, half).row != c.row || isa_a_coord(owner, reg, half).col != kk) std::abort();
            const uint32_t word = shared_p[size_t(128 * wg + owner) * Cfg::kPRegs + 4 * ks + reg];
            const float pval = from_bf16(static_cast<uint16_t>(half ? word >> 16 : word & 0xFFFF));
            acc += pval * at(vs_tile, mnmajor_read(dv, kk, c.col));
          }
        }
        o[i] += acc;
      }
      bar.arrive_and_wait();
    };
    for (int i = 0; i < kt.n_tiles; ++i) {
      const int tile = kt.n_tiles - 1 - i;
      const std::vector<uint8_t> ks_tile = load(k, Sk, tile * Cfg::kBlockN, Cfg::kBlockN);
      qk(ks_tile);
      if (tile >= kt.n_full) mask_scores(sacc, query0, tile * Cfg::kBlockN, p, t);
      softmax_step(ops, sacc, st, p.scale_log2, alpha);
      if (i > 0) {
        pv(prev_v);
        rescale_rows(o, alpha);
      }
      pack_p(ops, sacc, pf);
      prev_v = load(v, Sk, tile * Cfg::kBlockN, Cfg::kBlockN);
    }
    if (kt.n_tiles > 0) pv(prev_v);
    float inv[2];
    row_inverse_sums(ops, st, inv);
    // Epilogue: stage as the kernel does, read back by chunks, rows past Sq skipped.
    for (int j = 0; j < Cfg::kORegs / 4; ++j)
      for (int h = 0; h < 2; ++h) {
        const uint32_t word = ops.pack(o[4 * j + 2 * h] * inv[h], o[4 * j + 2 * h + 1] * inv[h]);
        std::memcpy(&qs[o_stage_offset(wg, t, j, h)], &word, 4);
      }
    bar.arrive_and_wait();
    for (int step = 0; step < Cfg::D / 16; ++step) {
      const StagedChunk c = o_read_chunk(t / 32, t % 32, step, Cfg::D);
      const int row = query0 + c.row;
      if (row >= Sq) continue;
      for (int e = 0; e < 8; ++e) out[size_t(row) * Cfg::D + c.col + e] = at(qs, tile_offset(64 * wg + c.row, c.col + e, 128));
    }
  };
  std::vector<std::thread> pool;
  for (int tid = 0; tid < kThreads; ++tid) pool.emplace_back(body, tid);
  for (auto& th : pool) th.join();
}

template <class Cfg>
void emulate_and_compare(int Sq, int Sk, bool causal) {
  SCOPED_TRACE("D " + std::to_string(Cfg::D) + " Sq " + std::to_string(Sq) + " Sk " + std::to_string(Sk) +
               (causal ? " causal" : ""));
  AttentionShape s;
  s.Sq = Sq;
  s.Sk = Sk;
  s.D = Cfg::D;
  s.causal = causal;
  std::mt19937 rng(Sq * 131 + Sk);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint16_t> q(size_t(Sq) * Cfg::D), k(size_t(Sk) * Cfg::D), v(size_t(Sk) * Cfg::D);
  for (auto* buf : {&q, &k, &v})
    for (auto& x : *buf) x = to_bf16(u(rng) * 2.0f);  // scores of a few units: the softmax is not flat
  std::vector<float> qf(q.size()), kf(k.size()), vf(v.size()), ref(q.size()), out(q.size(), NAN);
  for (size_t i = 0; i < q.size(); ++i) qf[i] = from_bf16(q[i]);
  for (size_t i = 0; i < k.size(); ++i) kf[i] = from_bf16(k[i]), vf[i] = from_bf16(v[i]);
  attention_cpu_fp32(qf.data(), kf.data(), vf.data(), ref.data(), s, 1);
  for (int mb = 0; mb * 128 < Sq; ++mb) emulate_block<Cfg>(s, q, k, v, mb, out);
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_FALSE(std::isnan(out[i])) << "output " << i << " never written";
    worst = std::max(worst, double(std::fabs(out[i] - ref[i])));
  }
  // P and O rounded to bf16 (8 bits of mantissa): a few 2^-8 of the outputs' magnitude (< 2).
  EXPECT_LT(worst, 2e-2);
}

TEST(AttentionSm90Emulated, WholeBlocksMatchCpuReference) {
  emulate_and_compare<Config<64>>(150, 333, false);
  emulate_and_compare<Config<64>>(200, 150, true);   // Sq > Sk: the first rows see no key
  emulate_and_compare<Config<128>>(130, 200, true);
  emulate_and_compare<Config<128>>(70, 64, false);   // one tile, not full
  emulate_and_compare<Config<128>>(128, 256, false);  // tiles exactly full
  emulate_and_compare<Config<256>>(100, 150, true);
}

}  // namespace
}  // namespace aicbench::kernels::attn_sm90
