#pragma once
// The STREAM kernels on the CPU (stream_cpu.cpp), multi-threaded with a team of std::threads
// that lives as long as the benchmark, so that a run pays no thread start-up.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/memory/stream_values.hpp"

namespace aicbench::kernels {

// `threads` threads (the caller's included) that run one piece of work each on every run().
class CpuTeam {
 public:
  explicit CpuTeam(int threads);
  ~CpuTeam();
  CpuTeam(const CpuTeam&) = delete;
  CpuTeam& operator=(const CpuTeam&) = delete;

  int size() const { return threads_; }
  // Calls work(t) for every t in [0, size()) at once, t = 0 on the calling thread, and returns
  // when all have returned; an exception thrown by any of them is rethrown here (the first).
  void run(const std::function<void(int)>& work);

 private:
  void worker(int t);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* work_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

// Thread t's elements of n: [begin, end), the same every run (as OpenMP's static schedule), with
// boundaries on 64-byte lines so that no two threads write one line.
struct Slice {
  size_t begin, end;
};
Slice stream_slice(size_t n, size_t element_bytes, int t, int threads);

// One STREAM operation over n elements (stream_values.hpp); read's sum is returned through `sum`.
template <typename T>
void stream_cpu(CpuTeam& team, StreamOp op, T* a, T* b, T* c, size_t n, double* sum);

// a, b, c set to their initial values by the threads that will use them (first touch: on a NUMA
// machine each thread's pages are on its own node, as in STREAM). Null arrays are left alone.
template <typename T>
void stream_init_cpu(CpuTeam& team, T* a, T* b, T* c, size_t n);

// The check of one run of `op` (not read): how many of out[0..n) differ from
// stream_expected(op, i), the first that does, and the largest relative error among them (a NaN
// or infinity counts as 1).
struct StreamCheck {
  uint64_t wrong = 0;
  uint64_t first_wrong = 0;
  double max_rel_err = 0;
};
template <typename T>
StreamCheck stream_check_cpu(StreamOp op, const T* out, size_t n);

}  // namespace aicbench::kernels
