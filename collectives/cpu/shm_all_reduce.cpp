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

constexpr size_t kPage = 4096;
size_t round_up(size_t n) { return (n + kPage - 1) / kPage * kPage; }
constexpr size_t kFlagBytes = kPage;
static_assert(3 * 128 <= kFlagBytes);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Staged: a slot holds a slice of the input and (two-shot) the largest reduced chunk of it.
size_t slot_input_bytes(const ShmConfig& c) { return round_up(size_t(c.elements) * element_bytes(c.dtype)); }
size_t slot_reduced_bytes(const ShmConfig& c, int ranks) {
  return round_up(size_t(part(c.elements, ranks, 0).count) * element_bytes(c.dtype));
}

}  // namespace

int64_t ShmAllReduce::slice_elements(Dtype d, int64_t count) {
  return std::max<int64_t>(1, std::min<int64_t>(count, kSliceBytes / int64_t(element_bytes(d))));
}

size_t ShmAllReduce::segment_bytes(const ShmConfig& c, int ranks) {
  const size_t buffer = round_up(size_t(c.elements) * element_bytes(c.dtype));
  if (c.buffers == ShmBuffers::registered) return kFlagBytes + (c.in_place ? 1 : 2) * buffer;
  return kFlagBytes + 2 * (slot_input_bytes(c) + slot_reduced_bytes(c, ranks));
}

ShmAllReduce::ShmAllReduce(const ShmConfig& config, int rank, std::vector<std::byte*> segments)
    : config_(config),
      rank_(rank),
      ranks_(static_cast<int>(segments.size())),
      segments_(std::move(segments)),
      elt_(element_bytes(config.dtype)),
      input_bytes_(slot_input_bytes(config)),
      reduced_bytes_(slot_reduced_bytes(config, ranks_)),
      sources_(size_t(ranks_)) {
  if (rank_ < 0 || rank_ >= ranks_ || config_.elements < 1) throw std::invalid_argument("ShmAllReduce: bad rank or size");
  if (config_.buffers == ShmBuffers::registered && config_.algorithm != ShmAlgorithm::two_shot) {
    throw std::invalid_argument("ShmAllReduce: registered buffers are for the two-shot");
  }
  new (segments_[size_t(rank_)]) Flags{};  // value-initialised: every counter 0
}

ShmAllReduce::Flags& ShmAllReduce::flags(int p) const {
  return *std::launder(reinterpret_cast<Flags*>(segments_[size_t(p)]));
}

std::byte* ShmAllReduce::slot(int p, uint64_t epoch) const {
  return segments_[size_t(p)] + kFlagBytes + (epoch % 2) * (input_bytes_ + reduced_bytes_);
}

std::byte* ShmAllReduce::registered_input(int p) const { return segments_[size_t(p)] + kFlagBytes; }
std::byte* ShmAllReduce::registered_output(int p) const {
  return config_.in_place ? registered_input(p) : registered_input(p) + round_up(size_t(config_.elements) * elt_);
}

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
      if (std::chrono::duration<double>(now - started).count() > config_.wait_timeout_s) {
        throw std::runtime_error("shared-memory all-reduce: rank " + std::to_string(rank_) + " waited " +
                                 std::to_string(static_cast<int>(config_.wait_timeout_s)) + " s for rank " +
                                 std::to_string(p) + " (call " + std::to_string(value) + "), which never arrived");
      }
    }
  }
}

void ShmAllReduce::run(const void* in, void* out, int64_t count) {
  if (config_.buffers == ShmBuffers::registered) {
    if (in != registered_input(rank_) || out != registered_output(rank_) || count > config_.elements) {
      throw std::invalid_argument("ShmAllReduce: registered buffers are registered_input/output, up to its size");
    }
    registered_two_shot(count);
    return;
  }
  for (int64_t begin = 0; begin < count; begin += config_.elements) {
    const int64_t len = std::min(config_.elements, count - begin);
    staged_slice(static_cast<const std::byte*>(in) + begin * int64_t(elt_), static_cast<std::byte*>(out) + begin * int64_t(elt_),
                 len);
  }
}

void ShmAllReduce::staged_slice(const std::byte* in, std::byte* out, int64_t count) {
  const uint64_t e = ++epoch_;
  Flags& mine = flags(rank_);
  std::byte* const reduced = slot(rank_, e) + input_bytes_;
  if (e > 2) wait_all(&Flags::done, e - 2);                                       // 1
  std::memcpy(slot(rank_, e), in, size_t(count) * elt_);                           // 2
  mine.arrived.store(e, std::memory_order_release);
  wait_all(&Flags::arrived, e);                                                    // 3
  if (config_.algorithm == ShmAlgorithm::one_shot) {                               // 4
    for (int p = 0; p < ranks_; ++p) sources_[size_t(p)] = slot(p, e);
    sum_buffers(config_.dtype, out, sources_.data(), ranks_, count);
  } else {
    const Range chunk = part(count, ranks_, rank_);
    for (int p = 0; p < ranks_; ++p) sources_[size_t(p)] = slot(p, e) + chunk.begin * int64_t(elt_);
    sum_buffers(config_.dtype, reduced, sources_.data(), ranks_, chunk.count);
    mine.reduced.store(e, std::memory_order_release);
    wait_all(&Flags::reduced, e);
    for (int i = 0; i < ranks_; ++i) {
      const int p = (rank_ + i) % ranks_;
      const Range c = part(count, ranks_, p);
      std::memcpy(out + c.begin * int64_t(elt_), slot(p, e) + input_bytes_, size_t(c.count) * elt_);
    }
  }
  mine.done.store(e, std::memory_order_release);                                   // 5
}

void ShmAllReduce::registered_two_shot(int64_t count) {
  const uint64_t e = ++epoch_;
  Flags& mine = flags(rank_);
  mine.arrived.store(e, std::memory_order_release);                               // 1
  wait_all(&Flags::arrived, e);
  const Range chunk = part(count, ranks_, rank_);                                  // 2
  for (int p = 0; p < ranks_; ++p) sources_[size_t(p)] = registered_input(p) + chunk.begin * int64_t(elt_);
  sum_buffers(config_.dtype, registered_output(rank_) + chunk.begin * int64_t(elt_), sources_.data(), ranks_,
              chunk.count);
  mine.reduced.store(e, std::memory_order_release);
  wait_all(&Flags::reduced, e);
  for (int i = 1; i < ranks_; ++i) {                                               // 3
    const int p = (rank_ + i) % ranks_;
    const Range c = part(count, ranks_, p);
    std::memcpy(registered_output(rank_) + c.begin * int64_t(elt_), registered_output(p) + c.begin * int64_t(elt_),
                size_t(c.count) * elt_);
  }
  mine.done.store(e, std::memory_order_release);                                   // 4
  wait_all(&Flags::done, e);
}

}  // namespace aicbench::coll
