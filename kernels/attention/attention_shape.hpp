#pragma once
// The shape of one attention problem and the conventions every attention implementation of
// aicbench shares (CPU, hand-written CUDA kernels, cuBLAS and cuDNN baselines). No CUDA here: the
// CPU code and the tests include it too.
//
//   O[b, i, h, :] = sum_j softmax_j(scale * Q[b, i, h, :] . K[b, j, g, :]) V[b, j, g, :]
//
// Layout "BSHD", FlashAttention's: Q and O are B x Sq x H x D, K and V are B x Sk x KVH x D, all
// row-major and contiguous (one token's heads side by side, each head's D values contiguous).
// Grouped-query attention: query head h reads key/value head g = h / (H / KVH); KVH divides H
// (KVH = H is multi-head attention, KVH = 1 multi-query). scale = 1 / sqrt(D).
//
// Causal masking is aligned to the bottom right, as in FlashAttention 2.1 and later and in a KV
// cache: query i sees keys j <= i + (Sk - Sq), so the last query sees every key. A query that
// sees no key (causal with Sq > Sk, i < Sq - Sk) has an output of zeros.
//
// FLOP convention (FlashAttention's benchmarks): forward = 4 * B * H * Sq * Sk * D (two matrix
// products of 2 * Sq * Sk * D each per head), halved for causal; the softmax is not counted.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace aicbench::kernels {

struct AttentionShape {
  int64_t B = 1, H = 1, KVH = 1, Sq = 1, Sk = 1, D = 64;
  bool causal = false;

  int64_t group() const { return H / KVH; }  // query heads per key/value head
  int64_t kv_head(int64_t h) const { return h / group(); }
  // One past the last key query i sees.
  int64_t key_end(int64_t i) const {
    return causal ? std::clamp<int64_t>(i + Sk - Sq + 1, 0, Sk) : Sk;
  }
  double scale() const { return 1.0 / std::sqrt(static_cast<double>(D)); }

  // Element offsets in the BSHD layout.
  int64_t q_offset(int64_t b, int64_t i, int64_t h) const { return ((b * Sq + i) * H + h) * D; }
  int64_t kv_offset(int64_t b, int64_t j, int64_t g) const { return ((b * Sk + j) * KVH + g) * D; }
  int64_t q_elements() const { return B * Sq * H * D; }   // also O's
  int64_t kv_elements() const { return B * Sk * KVH * D; }  // each of K and V

  double flops() const {
    const double full = 4.0 * double(B) * double(H) * double(Sq) * double(Sk) * double(D);
    return causal ? full / 2 : full;
  }
  // Whether the dimensions make sense: all positive, KVH divides H.
  bool valid() const {
    return B > 0 && H > 0 && KVH > 0 && Sq > 0 && Sk > 0 && D > 0 && H % KVH == 0;
  }
};

}  // namespace aicbench::kernels
