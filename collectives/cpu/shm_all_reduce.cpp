#include "collectives/cpu/shm_all_reduce.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "collectives/cpu/schedule.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace aicbench::coll {

// Each flag on a line of its own (128 bytes: adjacent-line prefetch pairs 64-byte lines), so a
// peer polling one flag never steals the line another is written on.
struct ShmAllReduce::Flags {
  alignas(128) std::atomic<uint64_t> arrived;
  alignas(128) std::atomic<uint64_t> reduced;
  alignas(128) std::atomic<uint64_t> done;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "flags must be lock-free to work across processes");

namespace {

constexpr size_t kAlign = 4096;
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
constexpr size_t kFlagBytes = 4096;
static_assert(3 * 128 <= kFlagBytes);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

size_t ShmAllReduce::segment_bytes(Dtype d, int ranks, int64_t slice_elements) {
  const size_t elt = element_bytes(d);
  const size_t input = round_up(size_t(slice_elements) * elt);
  const size_t reduced = round_up(size_t(part(slice_elements, ranks, 0).count) * elt);
  return kFlagBytes + 2 * (input + reduced);
}

int64_t ShmAllReduce::slice_elements(Dtype d, int64_t count) {
  return std::max<int64_t>(1, std::min<int64_t>(count, kSliceBytes / int64_t(element_bytes(d))));
}

ShmAllReduce::ShmAllReduce(ShmAlgorithm algorithm, Dtype d, int rank, std::vector<std::byte*> segments,
                           int64_t slice_elements, double wait_timeout_s)
    : algorithm_(algorithm),
      dtype_(d),
      rank_(rank),
      ranks_(static_cast<int>(segments.size())),
      segments_(std::move(segments)),
      slice_elements_(slice_elements),
      input_bytes_(round_up(size_t(slice_elements) * element_bytes(d))),
      reduced_bytes_(round_up(size_t(part(slice_elements, ranks_, 0).count) * element_bytes(d))),
      wait_timeout_s_(wait_timeout_s),
      sources_(size_t(ranks_)) {
  if (rank_ < 0 || rank_ >= ranks_ || slice_elements_ < 1) throw std::invalid_argument("ShmAllReduce: bad rank or slice");
  new (segments_[size_t(rank_)]) Flags{};  // value-initialised: every counter 0
}

ShmAllReduce::Flags& ShmAllReduce::flags(int p) const {
  return *std::launder(reinterpret_cast<Flags*>(segments_[size_t(p)]));
}

std::byte* ShmAllReduce::input_slot(int p, uint64_t epoch) const {
  return segments_[size_t(p)] + kFlagBytes + (epoch % 2) * (input_bytes_ + reduced_bytes_);
}
std::byte* ShmAllReduce::reduced_slot(int p, uint64_t epoch) const { return input_slot(p, epoch) + input_bytes_; }

void ShmAllReduce::wait_all(std::atomic<uint64_t> Flags::*which, uint64_t value) const {
  for (int i = 1; i < ranks_; ++i) {
    const int p = (rank_ + i) % ranks_;  // each rank polls its peers in a different order
    const std::atomic<uint64_t>& flag = flags(p).*which;
    int spins = 0;
    auto started = std::chrono::steady_clock::time_point{};
    while (flag.load(std::memory_order_acquire) < value) {
      if (++spins < 256) {
        cpu_relax();
        continue;
      }
      // Longer waits give the core away (the peer may need it), and check the clock now and then.
      sched_yield();
      if (spins % 1024 != 0) continue;
      const auto now = std::chrono::steady_clock::now();
      if (started == decltype(started){}) started = now;
      if (std::chrono::duration<double>(now - started).count() > wait_timeout_s_) {
        throw std::runtime_error("shared-memory all-reduce: rank " + std::to_string(rank_) + " waited " +
                                 std::to_string(static_cast<int>(wait_timeout_s_)) + " s for rank " +
                                 std::to_string(p) + " (epoch " + std::to_string(value) + "), which never arrived");
      }
    }
  }
}

void ShmAllReduce::run(const void* in, void* out, int64_t count) {
  const size_t elt = element_bytes(dtype_);
  for (int64_t begin = 0; begin < count; begin += slice_elements_) {
    const int64_t len = std::min(slice_elements_, count - begin);
    slice(static_cast<const std::byte*>(in) + begin * int64_t(elt), static_cast<std::byte*>(out) + begin * int64_t(elt),
          len);
  }
}

void ShmAllReduce::slice(const std::byte* in, std::byte* out, int64_t count) {
  const uint64_t e = ++epoch_;
  const size_t elt = element_bytes(dtype_);
  Flags& mine = flags(rank_);
  if (e > 2) wait_all(&Flags::done, e - 2);                                      // 1
  std::memcpy(input_slot(rank_, e), in, size_t(count) * elt);                     // 2
  mine.arrived.store(e, std::memory_order_release);
  wait_all(&Flags::arrived, e);                                                   // 3
  if (algorithm_ == ShmAlgorithm::one_shot) {                                     // 4
    for (int p = 0; p < ranks_; ++p) sources_[size_t(p)] = input_slot(p, e);
    sum_buffers(dtype_, out, sources_.data(), ranks_, count);
  } else {
    const Range chunk = part(count, ranks_, rank_);
    for (int p = 0; p < ranks_; ++p) sources_[size_t(p)] = input_slot(p, e) + chunk.begin * int64_t(elt);
    sum_buffers(dtype_, reduced_slot(rank_, e), sources_.data(), ranks_, chunk.count);
    mine.reduced.store(e, std::memory_order_release);
    wait_all(&Flags::reduced, e);
    for (int i = 0; i < ranks_; ++i) {
      const int p = (rank_ + i) % ranks_;
      const Range c = part(count, ranks_, p);
      std::memcpy(out + c.begin * int64_t(elt), reduced_slot(p, e), size_t(c.count) * elt);
    }
  }
  mine.done.store(e, std::memory_order_release);                                  // 5
}

}  // namespace aicbench::coll
