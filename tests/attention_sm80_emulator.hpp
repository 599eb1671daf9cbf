#pragma once
// A CPU emulation of the warp-level operations the Ampere-class attention kernels are written in
// (the Ops of kernels/attention/sm80_attention_warp.hpp), so the kernels' own algorithm code runs
// on a machine without a GPU: one host thread per CUDA thread of a block, the block's shared
// memory a byte array, each warp-collective operation (ldmatrix, mma.sync, shfl) an exchange
// through the warp's slots between two barriers, exactly as the PTX ISA defines its fragments.
//
// What it checks beyond the arithmetic: every shared-memory access inside the block's dynamic
// shared memory and aligned; every global read a cp.async makes inside its tensor (only reads
// with src_size 16 touch memory) and every 16-byte global store inside the output; cp.async
// copies land only at the cp.async.wait_group that retires their group (so a missing wait reads
// stale shared memory and the result is wrong); no copy still in flight when a thread exits.
// What it cannot check: races that a missing __syncthreads would cause on a GPU but that host
// scheduling happens to order, and timing.
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <vector_types.h>

namespace aicbench::testing {

// A range of host memory the kernel may read (inputs) or write (outputs).
struct MemoryRange {
  const void* begin;
  size_t bytes;
  bool contains(const void* p, size_t n) const {
    const auto* b = static_cast<const unsigned char*>(begin);
    const auto* q = static_cast<const unsigned char*>(p);
    return q >= b && q + n <= b + bytes;
  }
};

class EmulatedBlock {
 public:
  EmulatedBlock(int threads, size_t smem_bytes, std::vector<MemoryRange> readable, std::vector<MemoryRange> writable)
      : threads_(threads), smem_(smem_bytes, 0xA5), block_barrier_(threads), readable_(std::move(readable)),
        writable_(std::move(writable)) {
    for (int w = 0; w < threads / 32; ++w) warps_.push_back(std::make_unique<Warp>());
  }

  // Runs body(tid) on `threads` host threads, one per CUDA thread, and returns the errors found.
  std::vector<std::string> run(const std::function<void(int)>& body) {
    std::vector<std::thread> pool;
    pool.reserve(threads_);
    for (int tid = 0; tid < threads_; ++tid) pool.emplace_back(body, tid);
    for (auto& t : pool) t.join();
    return errors_;
  }

  void error(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (errors_.size() < 20) errors_.push_back(what);
  }

  struct Warp {
    std::barrier<> barrier{32};
    uint32_t address[32];
    uint32_t a[32][4], b[32][2];
    float c[32][4];
    float x[32];
  };

  int threads_;
  std::vector<unsigned char> smem_;
  std::barrier<> block_barrier_;
  std::vector<std::unique_ptr<Warp>> warps_;
  std::vector<MemoryRange> readable_, writable_;
  std::mutex mutex_;
  std::vector<std::string> errors_;
};

// The Ops of one emulated thread. T: __nv_bfloat16 or __half, the kernel's 16-bit type.
template <class T>
class EmulatedOps {
 public:
  EmulatedOps(EmulatedBlock& block, int tid) : block_(block), tid_(tid), lane_(tid % 32), warp_(*block.warps_[tid / 32]) {}
  ~EmulatedOps() {
    if (!committed_.empty() || !open_.empty()) block_.error("thread " + std::to_string(tid_) + " exits with cp.async in flight");
  }

  void cp_async_16(uint32_t off, const void* src, bool valid) {
    Copy c{off, {}};
    if (!smem_ok(off, 16) || off % 16) return;
    if (valid) {
      if (reinterpret_cast<uintptr_t>(src) % 16) block_.error("cp.async from an address not 16-byte aligned");
      if (!readable(src, 16)) {
        block_.error(where() + "cp.async reads outside its inputs");
        return;
      }
      std::memcpy(c.bytes, src, 16);
    }
    open_.push_back(c);
  }
  void cp_async_commit() {
    committed_.push_back(std::move(open_));
    open_.clear();
  }
  template <int N>
  void cp_async_wait() {
    while (committed_.size() > static_cast<size_t>(N)) {
      for (const Copy& c : committed_.front()) std::memcpy(block_.smem_.data() + c.off, c.bytes, 16);
      committed_.erase(committed_.begin());
    }
  }
  void sync_block() { block_.block_barrier_.arrive_and_wait(); }
  void sync_warp() { warp_.barrier.arrive_and_wait(); }

  // ldmatrix.x4: lane 8q + j gives the address of row j of matrix q; register q of lane l gets
  // the 32-bit word l % 4 of row l / 4 of matrix q (.trans: the 16-bit elements at column l / 4
  // of rows 2(l % 4) and 2(l % 4) + 1, low half first).
  void ldmatrix_x4(uint32_t (&r)[4], uint32_t off) { ldmatrix(r, off, false); }
  void ldmatrix_x4_trans(uint32_t (&r)[4], uint32_t off) { ldmatrix(r, off, true); }

  // mma.sync.m16n8k16.row.col: g = lane / 4, t = lane % 4; A: a0 (g, 2t..2t+1), a1 (g+8, 2t..),
  // a2 (g, 2t+8..), a3 (g+8, 2t+8..); B: b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g); C/D: c0 (g,
  // 2t), c1 (g, 2t+1), c2 (g+8, 2t), c3 (g+8, 2t+1). Products summed in float, in k order.
  void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    for (int r = 0; r < 4; ++r) {
      warp_.a[lane_][r] = a[r];
      warp_.c[lane_][r] = d[r];
    }
    warp_.b[lane_][0] = b0;
    warp_.b[lane_][1] = b1;
    warp_.barrier.arrive_and_wait();
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
      const int g = l / 4, t = l % 4;
      for (int r = 0; r < 4; ++r) {
        const int row = g + 8 * (r % 2), col = 2 * t + 8 * (r / 2);
        A[row][col] = widen(warp_.a[l][r] & 0xFFFF);
        A[row][col + 1] = widen(warp_.a[l][r] >> 16);
      }
      for (int r = 0; r < 2; ++r) {
        B[2 * t + 8 * r][g] = widen(warp_.b[l][r] & 0xFFFF);
        B[2 * t + 8 * r + 1][g] = widen(warp_.b[l][r] >> 16);
      }
    }
    const int g = lane_ / 4, t = lane_ % 4;
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r / 2), col = 2 * t + r % 2;
      float acc = d[r];
      for (int k = 0; k < 16; ++k) acc += A[row][k] * B[k][col];
      d[r] = acc;
    }
    warp_.barrier.arrive_and_wait();
  }

  float shfl_xor(float x, int mask) {
    warp_.x[lane_] = x;
    warp_.barrier.arrive_and_wait();
    const float y = warp_.x[lane_ ^ mask];
    warp_.barrier.arrive_and_wait();
    return y;
  }
  float ex2(float x) const { return std::exp2(x); }
  uint32_t pack(float lo, float hi) const { return narrow(lo) | (uint32_t(narrow(hi)) << 16); }

  void st_shared_u32(uint32_t off, uint32_t v) {
    if (smem_ok(off, 4) && off % 4 == 0) std::memcpy(block_.smem_.data() + off, &v, 4);
    else block_.error(where() + "misaligned 4-byte shared store");
  }
  uint4 ld_shared_128(uint32_t off) {
    uint4 v{};
    if (smem_ok(off, 16) && off % 16 == 0) std::memcpy(&v, block_.smem_.data() + off, 16);
    else block_.error(where() + "misaligned 16-byte shared load");
    return v;
  }
  void st_shared_f32(uint32_t off, float x) {
    if (smem_ok(off, 4) && off % 4 == 0) std::memcpy(block_.smem_.data() + off, &x, 4);
    else block_.error(where() + "misaligned 4-byte shared store");
  }
  float ld_shared_f32(uint32_t off) {
    float x = 0;
    if (smem_ok(off, 4) && off % 4 == 0) std::memcpy(&x, block_.smem_.data() + off, 4);
    else block_.error(where() + "misaligned 4-byte shared load");
    return x;
  }
  float log2(float x) const { return std::log2(x); }
  void st_global_128(void* dst, uint4 v) {
    const bool ok = std::any_of(block_.writable_.begin(), block_.writable_.end(),
                                [&](const MemoryRange& r) { return r.contains(dst, 16); });
    if (!ok || reinterpret_cast<uintptr_t>(dst) % 16) {
      block_.error(where() + "16-byte global store outside the output or misaligned");
      return;
    }
    std::memcpy(dst, &v, 16);
  }

 private:
  struct Copy {
    uint32_t off;
    unsigned char bytes[16] = {};
  };

  static float widen(uint32_t bits) {
    const uint16_t h = static_cast<uint16_t>(bits);
    T v;
    std::memcpy(static_cast<void*>(&v), &h, 2);
    return static_cast<float>(v);
  }
  static uint16_t narrow(float x) {
    const T v = T(x);  // round to nearest even
    uint16_t h;
    std::memcpy(&h, &v, 2);
    return h;
  }

  std::string where() const { return "thread " + std::to_string(tid_) + ": "; }
  bool smem_ok(uint32_t off, size_t n) {
    if (off + n <= block_.smem_.size()) return true;
    block_.error(where() + "shared-memory access at byte " + std::to_string(off) + " past the " +
                 std::to_string(block_.smem_.size()) + " bytes of the block");
    return false;
  }
  bool readable(const void* p, size_t n) const {
    return std::any_of(block_.readable_.begin(), block_.readable_.end(), [&](const MemoryRange& r) { return r.contains(p, n); });
  }

  void ldmatrix(uint32_t (&r)[4], uint32_t off, bool trans) {
    if (off % 16) block_.error(where() + "ldmatrix row address not 16-byte aligned");
    warp_.address[lane_] = off;
    warp_.barrier.arrive_and_wait();
    const int g = lane_ / 4, t = lane_ % 4;
    for (int q = 0; q < 4; ++q) {
      if (!trans) {
        const uint32_t row = warp_.address[8 * q + g];
        r[q] = read_u16(row + 4 * t) | (uint32_t(read_u16(row + 4 * t + 2)) << 16);
      } else {
        const uint32_t row0 = warp_.address[8 * q + 2 * t], row1 = warp_.address[8 * q + 2 * t + 1];
        r[q] = read_u16(row0 + 2 * g) | (uint32_t(read_u16(row1 + 2 * g)) << 16);
      }
    }
    warp_.barrier.arrive_and_wait();
  }
  uint16_t read_u16(uint32_t off) {
    uint16_t v = 0;
    if (smem_ok(off, 2)) std::memcpy(&v, block_.smem_.data() + off, 2);
    return v;
  }

  EmulatedBlock& block_;
  int tid_, lane_;
  EmulatedBlock::Warp& warp_;
  std::vector<Copy> open_;
  std::vector<std::vector<Copy>> committed_;
};

}  // namespace aicbench::testing
