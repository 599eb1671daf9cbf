#pragma once
// The shared-memory and register layouts the Hopper GEMMs (gemm_wgmma_sm90.cu) rely on, as plain
// arithmetic: the kernels use these functions, and tests/test_sm90_layout.cpp checks them on the
// CPU against the PTX ISA's definitions (swizzle, matrix descriptor, accumulator fragment).
#include <cstdint>

#include "kernels/gemm/host_device.hpp"

namespace aicbench::kernels::sm90 {

// ---- 128-byte swizzle --------------------------------------------------------------------------
// Rows of 128 bytes, as TMA writes them with CU_TENSOR_MAP_SWIZZLE_128B and as the epilogue's
// staging buffers are laid out: row r's 16-byte chunk c sits at chunk c ^ (r % 8), i.e. address
// bits [4:6] ^= bits [7:9] when the tile's base is 1024-byte aligned. Eight consecutive rows then
// put any one logical chunk in eight different bank groups.
AICBENCH_HOST_DEVICE constexpr uint32_t sw128_offset(uint32_t row, uint32_t byte) {
  return row * 128u + ((((byte >> 4) ^ row) & 7u) << 4) + (byte & 15u);
}

// ---- wgmma shared-memory matrix descriptor -----------------------------------------------------
// 64-bit descriptor (PTX ISA, "Matrix Descriptor Format"):
//   bits  0-13  start address >> 4            bits 32-45  stride byte offset (SBO) >> 4
//   bits 16-29  leading byte offset (LBO) >> 4 bits 49-51  base offset (0: 1024-byte aligned)
//   bits 62-63  swizzle: 0 none, 1 128B, 2 64B, 3 32B
// Our operand tiles are K-major sw128 rows (above) of 64 bf16/fp16 or 128 e4m3 values of K.
// Core matrices are 8 rows x 16 bytes;
//   SBO = 1024: from one group of 8 rows to the next along M/N;
//   LBO: unused for K-major swizzled layouts whose K extent per instruction (32 bytes) lies
//        inside one swizzle row; set to 1 by convention.
// Stepping K by 32 bytes (one k16 of 16-bit types, one k32 of e4m3) adds 32 >> 4 = 2 to the start
// address: the hardware applies the swizzle to the final address bits, which is what TMA did,
// provided the tile base is 1024-byte aligned.
constexpr uint64_t kDescSbo1024 = uint64_t(1024 >> 4) << 32;
constexpr uint64_t kDescLbo1 = uint64_t(1) << 16;
constexpr uint64_t kDescSwizzle128B = uint64_t(1) << 62;

AICBENCH_HOST_DEVICE constexpr uint64_t make_sw128_kmajor_desc(uint32_t smem_addr) {
  return (uint64_t((smem_addr & 0x3FFFF) >> 4)) | kDescLbo1 | kDescSbo1024 | kDescSwizzle128B;
}

// ---- wgmma accumulators ------------------------------------------------------------------------
// m64nN fp32 accumulator fragment (PTX ISA, "Register Fragments", wgmma .m64nNk* D), the
// definition the tests hold the kernel's indexing (accumulator_index, staging_*) to: thread t of
// the warpgroup (warp w = t / 32, lane l) holds in d[i]
//   row = 16 w + l / 4 + 8 * ((i / 2) % 2),   col = 8 * (i / 4) + 2 * (l % 4) + (i % 2).
struct TileCoordinate {
  int row, col;
};
AICBENCH_HOST_DEVICE constexpr TileCoordinate accumulator_coord(int thread, int i) {
  return {16 * (thread / 32) + (thread % 32) / 4 + 8 * ((i / 2) % 2),
          8 * (i / 4) + 2 * (thread % 4) + (i % 2)};
}

// The epilogue walks the accumulators as pairs: pair (j, half) of a thread is d[4j + 2 half] and
// d[4j + 2 half + 1], columns 8j + 2(l % 4) and +1 of row l / 4 + 8 half of its warp's 16 rows.
AICBENCH_HOST_DEVICE constexpr int accumulator_index(int j, int half, int e) {
  return 4 * j + 2 * half + e;
}

// ---- epilogue staging --------------------------------------------------------------------------
// A consumer warp stages its 16 rows of C 64 columns at a time (2-byte outputs: 128-byte rows,
// sw128 layout). Writes: lane l puts its two outputs of 16-byte chunk `chunk` (columns
// 8 chunk + 2 (l % 4), +1) of row l / 4 + 8 half as one 32-bit word at this offset.
AICBENCH_HOST_DEVICE constexpr uint32_t staging_write_offset(int lane, int chunk, int half) {
  // Rows r and r + 8 share r % 8, hence the swizzled chunk: they are 1024 bytes apart.
  const uint32_t byte = static_cast<uint32_t>(chunk * 16 + (lane % 4) * 4);
  return sw128_offset(static_cast<uint32_t>(lane / 4), byte) + 1024u * static_cast<uint32_t>(half);
}
// Reads: in step `step` (0..3) lane l takes 16 bytes, chunk l % 8 (columns 8 (l % 8) .. + 7) of
// row 4 step + l / 8, and stores them to C with one 16-byte store; 8 lanes cover a 128-byte row.
struct StagedSegment {
  int row, chunk;
  uint32_t offset;
};
AICBENCH_HOST_DEVICE constexpr StagedSegment staging_read_segment(int lane, int step) {
  const int row = step * 4 + lane / 8, chunk = lane % 8;
  return {row, chunk, sw128_offset(static_cast<uint32_t>(row), static_cast<uint32_t>(chunk * 16))};
}

}  // namespace aicbench::kernels::sm90
