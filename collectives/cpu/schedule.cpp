#include "collectives/cpu/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace aicbench::coll {

namespace {

int mod(int a, int n) { return ((a % n) + n) % n; }

void check(int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) throw std::invalid_argument("schedule: rank out of range");
}

// Chunks [lo, hi) of `parts` chunks of `count` elements, as one contiguous range.
Range chunks(int64_t count, int parts, int lo, int hi) {
  const Range first = part(count, parts, lo), last = part(count, parts, hi - 1);
  return {first.begin, last.end() - first.begin};
}

Range block_range(int64_t block, int b) { return {b * block, block}; }

}  // namespace

Schedule ring_all_reduce(int rank, int ranks, int64_t count) {
  check(rank, ranks);
  Schedule s;
  const int n = ranks, right = mod(rank + 1, n), left = mod(rank - 1, n);
  // Reduce-scatter: at step k rank r passes on chunk r-k (its own contribution, then the partial
  // sum it received at step k-1) and adds chunk r-k-1 from its left. After n-1 steps rank r holds
  // chunk r+1 complete.
  for (int k = 0; k + 1 < n; ++k) {
    s.push_back({right, part(count, n, mod(rank - k, n)), left, part(count, n, mod(rank - k - 1, n)), Combine::reduce});
  }
  // All-gather: the complete chunks go once around the ring.
  for (int k = 0; k + 1 < n; ++k) {
    s.push_back({right, part(count, n, mod(rank + 1 - k, n)), left, part(count, n, mod(rank - k, n)), Combine::copy});
  }
  return s;
}

Schedule rhd_all_reduce(int rank, int ranks, int64_t count) {
  check(rank, ranks);
  Schedule s;
  int p2 = 1;
  while (p2 * 2 <= ranks) p2 *= 2;
  const int rem = ranks - p2;
  const Range all{0, count};
  // Fold: of the first 2*rem ranks, each even one hands its data to the odd one above it and
  // waits for the result; the p2 ranks left are renumbered 0..p2-1.
  int me = -1;  // rank among the p2
  if (rank < 2 * rem) {
    if (rank % 2 == 0) {
      s.push_back({rank + 1, all, -1, {}, Combine::copy});
      s.push_back({-1, {}, rank + 1, all, Combine::copy});  // the result, at the very end
      return s;
    }
    s.push_back({-1, {}, rank - 1, all, Combine::reduce});
    me = rank / 2;
  } else {
    me = rank - rem;
  }
  auto real = [rem](int r) { return r < rem ? 2 * r + 1 : r + rem; };
  // Recursive halving: the partner at distance d keeps the other half of our interval of chunks;
  // bit d of `me` says which half is ours. After log2(p2) steps rank `me` holds chunk `me`.
  int lo = 0, hi = p2;
  for (int d = p2 / 2; d >= 1; d /= 2) {
    const int mid = (lo + hi) / 2;
    const bool upper = (me & d) != 0;
    const Range keep = upper ? chunks(count, p2, mid, hi) : chunks(count, p2, lo, mid);
    const Range give = upper ? chunks(count, p2, lo, mid) : chunks(count, p2, mid, hi);
    s.push_back({real(me ^ d), give, real(me ^ d), keep, Combine::reduce});
    if (upper) lo = mid; else hi = mid;
  }
  // Recursive doubling: swap complete intervals with partners at distance 1, 2, 4, ...
  for (int d = 1; d < p2; d *= 2) {
    const int width = hi - lo;
    const bool upper = (me & d) != 0;
    const int plo = upper ? lo - width : hi, phi = upper ? lo : hi + width;
    s.push_back({real(me ^ d), chunks(count, p2, lo, hi), real(me ^ d), chunks(count, p2, plo, phi), Combine::copy});
    lo = std::min(lo, plo);
    hi = std::max(hi, phi);
  }
  if (rank < 2 * rem) s.push_back({rank - 1, all, -1, {}, Combine::copy});  // unfold
  return s;
}

Schedule ring_reduce_scatter(int rank, int ranks, int64_t block) {
  check(rank, ranks);
  Schedule s;
  const int n = ranks, right = mod(rank + 1, n), left = mod(rank - 1, n);
  // As the ring all-reduce's first half, shifted by one block so that rank r ends with block r.
  for (int k = 0; k + 1 < n; ++k) {
    s.push_back({right, block_range(block, mod(rank - k - 1, n)), left, block_range(block, mod(rank - k - 2, n)),
                 Combine::reduce});
  }
  return s;
}

Schedule ring_all_gather(int rank, int ranks, int64_t block) {
  check(rank, ranks);
  Schedule s;
  const int n = ranks, right = mod(rank + 1, n), left = mod(rank - 1, n);
  for (int k = 0; k + 1 < n; ++k) {
    s.push_back({right, block_range(block, mod(rank - k, n)), left, block_range(block, mod(rank - k - 1, n)),
                 Combine::copy});
  }
  return s;
}

Schedule chain_broadcast(int rank, int ranks, int root, int64_t count, int64_t segment) {
  check(rank, ranks);
  if (root < 0 || root >= ranks) throw std::invalid_argument("chain_broadcast: root out of range");
  if (segment < 1) throw std::invalid_argument("chain_broadcast: segment must be at least one element");
  Schedule s;
  const int n = ranks, pos = mod(rank - root, n);
  const int64_t segments = std::max<int64_t>(1, (count + segment - 1) / segment);
  auto seg = [&](int64_t i) { return Range{i * segment, std::min(segment, count - i * segment)}; };
  const int next = mod(rank + 1, n), prev = mod(rank - 1, n);
  // At step t the rank at position pos forwards segment t - pos and receives segment t - pos + 1:
  // its successor receives, at the same step, exactly what it sends.
  for (int64_t t = 0; t + 2 < segments + n; ++t) {
    Step step;
    if (pos + 1 < n && t - pos >= 0 && t - pos < segments) {
      step.send_to = next;
      step.send = seg(t - pos);
    }
    if (pos >= 1 && t - pos + 1 >= 0 && t - pos + 1 < segments) {
      step.recv_from = prev;
      step.recv = seg(t - pos + 1);
    }
    if (step.send_to >= 0 || step.recv_from >= 0) s.push_back(step);
  }
  return s;
}

Schedule pairwise_all_to_all(int rank, int ranks, int64_t block) {
  check(rank, ranks);
  Schedule s;
  for (int k = 0; k < ranks; ++k) {
    const int partner = mod(k - rank, ranks);
    s.push_back({partner, block_range(block, partner), partner, block_range(block, partner), Combine::copy});
  }
  return s;
}

int64_t elements_sent(const Schedule& schedule, int rank) {
  int64_t total = 0;
  for (const Step& step : schedule) {
    if (step.send_to >= 0 && step.send_to != rank) total += step.send.count;
  }
  return total;
}

int64_t largest_receive(const Schedule& schedule) {
  int64_t largest = 0;
  for (const Step& step : schedule) {
    if (step.recv_from >= 0) largest = std::max(largest, step.recv.count);
  }
  return largest;
}

}  // namespace aicbench::coll
