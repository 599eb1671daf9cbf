// STREAM on the CPU: copy, scale, add, triad, read and write (stream_values.hpp) over the
// threads of a CpuTeam, each thread on its own contiguous slice (as OpenMP's static schedule in
// McCalpin's stream.c). Plain loops over __restrict__ pointers, which the compiler turns into
// 16-byte SSE2 loads and stores (-O3) without any architecture flag. The reference it is compared
// with, compiled as STREAM recommends, is stream_reference.cpp.
#include "kernels/memory/stream_cpu.hpp"

#include <algorithm>
#include <cmath>

namespace aicbench::kernels {

CpuTeam::CpuTeam(int threads) : threads_(std::max(1, threads)) {
  for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { worker(t); });
}

CpuTeam::~CpuTeam() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
}

void CpuTeam::run(const std::function<void(int)>& work) {
  {
    std::lock_guard lock(mutex_);
    work_ = &work;
    pending_ = threads_ - 1;
    ++generation_;
  }
  start_.notify_all();
  std::exception_ptr mine;
  try {
    work(0);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  work_ = nullptr;
  std::exception_ptr error = mine ? mine : error_;
  error_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void CpuTeam::worker(int t) {
  uint64_t seen = 0;
  while (true) {
    const std::function<void(int)>* work = nullptr;
    {
      std::unique_lock lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      work = work_;
    }
    std::exception_ptr error;
    try {
      (*work)(t);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    if (error && !error_) error_ = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

Slice stream_slice(size_t n, size_t element_bytes, int t, int threads) {
  const size_t line = std::max<size_t>(1, 64 / element_bytes);  // elements per 64-byte line
  auto boundary = [&](int k) {
    if (k >= threads) return n;
    const size_t at = n / threads * k + std::min<size_t>(k, n % threads);
    return std::min(n, at / line * line);
  };
  return {boundary(t), boundary(t + 1)};
}

namespace {

template <typename T>
double stream_slice_op(StreamOp op, T* __restrict__ a, T* __restrict__ b, T* __restrict__ c, size_t begin, size_t end) {
  const T q = T(kStreamScalar);
  switch (op) {
    case StreamOp::copy:
      for (size_t i = begin; i < end; ++i) c[i] = a[i];
      break;
    case StreamOp::scale:
      for (size_t i = begin; i < end; ++i) b[i] = q * c[i];
      break;
    case StreamOp::add:
      for (size_t i = begin; i < end; ++i) c[i] = a[i] + b[i];
      break;
    case StreamOp::triad:
      for (size_t i = begin; i < end; ++i) a[i] = b[i] + q * c[i];
      break;
    case StreamOp::read: {
      // Two accumulators so that the adds do not wait on each other; exact for the small
      // integers validation uses (stream_values.hpp).
      double s0 = 0, s1 = 0;
      size_t i = begin;
      for (; i + 1 < end; i += 2) {
        s0 += double(a[i]);
        s1 += double(a[i + 1]);
      }
      if (i < end) s0 += double(a[i]);
      return s0 + s1;
    }
    case StreamOp::write:
      for (size_t i = begin; i < end; ++i) a[i] = q;
      break;
  }
  return 0;
}

}  // namespace

template <typename T>
void stream_cpu(CpuTeam& team, StreamOp op, T* a, T* b, T* c, size_t n, double* sum) {
  std::vector<double> sums(team.size(), 0.0);
  team.run([&](int t) {
    const Slice s = stream_slice(n, sizeof(T), t, team.size());
    sums[t] = stream_slice_op(op, a, b, c, s.begin, s.end);
  });
  if (op == StreamOp::read && sum) {
    double total = 0;
    for (double s : sums) total += s;
    *sum = total;
  }
}

template <typename T>
void stream_init_cpu(CpuTeam& team, T* a, T* b, T* c, size_t n) {
  team.run([&](int t) {
    const Slice s = stream_slice(n, sizeof(T), t, team.size());
    for (size_t i = s.begin; i < s.end; ++i) {
      if (a) a[i] = T(stream_a0(i));
      if (b) b[i] = T(stream_b0(i));
      if (c) c[i] = T(stream_c0(i));
    }
  });
}

template <typename T>
StreamCheck stream_check_cpu(StreamOp op, const T* out, size_t n) {
  StreamCheck check;
  for (size_t i = 0; i < n; ++i) {
    const double expected = stream_expected(op, i), got = double(out[i]);
    if (got == expected) continue;
    if (!check.wrong) check.first_wrong = i;
    ++check.wrong;
    const double err = std::abs(got - expected) / std::abs(expected);  // expected values are >= 1
    check.max_rel_err = std::max(check.max_rel_err, std::isfinite(err) ? std::min(err, 1.0) : 1.0);
  }
  return check;
}

template void stream_cpu<float>(CpuTeam&, StreamOp, float*, float*, float*, size_t, double*);
template void stream_cpu<double>(CpuTeam&, StreamOp, double*, double*, double*, size_t, double*);
template void stream_init_cpu<float>(CpuTeam&, float*, float*, float*, size_t);
template void stream_init_cpu<double>(CpuTeam&, double*, double*, double*, size_t);
template StreamCheck stream_check_cpu<float>(StreamOp, const float*, size_t);
template StreamCheck stream_check_cpu<double>(StreamOp, const double*, size_t);

}  // namespace aicbench::kernels
