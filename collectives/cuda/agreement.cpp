#include "collectives/cuda/agreement.hpp"

#include <unistd.h>

#include <array>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include <cuda_runtime.h>

#include "collectives/mpi_job.hpp"

namespace aicbench::collectives {

namespace {

enum Outcome : int { kOk = 0, kUnsupported = 1, kError = 2 };

bool several_ranks(const Job& job) { return job.uses_mpi() && job.layout().world_size > 1; }

}  // namespace

void on_every_rank(const std::function<void()>& step) {
  int outcome = kOk;
  std::string message;
  try {
    step();
  } catch (const Unsupported& e) {
    outcome = kUnsupported;
    message = e.what();
  } catch (const std::exception& e) {
    outcome = kError;
    message = e.what();
  }
  const Job& job = Job::current();
#if AICBENCH_WITH_MPI
  if (several_ranks(job)) {
    const int rank = job.layout().world_rank;
    int mine = outcome == kOk ? INT_MAX : rank, first = INT_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, job.world());
    if (first == INT_MAX) return;
    // The lowest failing rank tells the others what happened and why.
    std::array<int, 2> header{outcome, static_cast<int>(message.size())};
    MPI_Bcast(header.data(), 2, MPI_INT, first, job.world());
    message.resize(static_cast<size_t>(header[1]));
    MPI_Bcast(message.data(), header[1], MPI_CHAR, first, job.world());
    outcome = header[0];
    message = "rank " + std::to_string(first) + ": " + message;
  }
#else
  (void)job;
#endif
  if (outcome == kUnsupported) throw Unsupported(message);
  if (outcome == kError) throw std::runtime_error(message);
}

std::optional<std::string> ranks_sharing_a_gpu() {
  const Job& job = Job::current();
  if (!several_ranks(job)) return std::nullopt;
#if AICBENCH_WITH_MPI
  // "<host>|<bus id>", fixed width for the gather.
  constexpr int kWidth = 160;
  std::array<char, kWidth> mine{};
  char bus[32] = "unknown";
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetPCIBusId(bus, sizeof bus, device) != cudaSuccess) {
    (void)cudaGetLastError();
    std::snprintf(bus, sizeof bus, "unknown (rank %d)", job.layout().world_rank);  // never equal to another's
  }
  std::snprintf(mine.data(), kWidth, "%s|%s", job.layout().node_name.c_str(), bus);
  const int ranks = job.layout().world_size;
  std::vector<char> all(static_cast<size_t>(ranks) * kWidth);
  MPI_Allgather(mine.data(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, job.world());
  for (int i = 0; i < ranks; ++i) {
    for (int j = i + 1; j < ranks; ++j) {
      const char* a = all.data() + i * kWidth;
      if (std::strncmp(a, all.data() + j * kWidth, kWidth) != 0) continue;
      const char* bar = std::strchr(a, '|');
      const std::string host(a, bar ? bar - a : 0), gpu(bar ? bar + 1 : a);
      return "ranks " + std::to_string(i) + " and " + std::to_string(j) + " both use GPU " + gpu + " on " + host;
    }
  }
#endif
  return std::nullopt;
}

int smallest_sm_count() {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    (void)cudaGetLastError();
    sms = 1;
  }
#if AICBENCH_WITH_MPI
  const Job& job = Job::current();
  if (several_ranks(job)) {
    int smallest = sms;
    MPI_Allreduce(&sms, &smallest, 1, MPI_INT, MPI_MIN, job.world());
    return smallest;
  }
#endif
  return sms;
}

}  // namespace aicbench::collectives
