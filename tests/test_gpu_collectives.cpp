// GPU tests of the cuda collectives (labels `gpu;mpi`), run by ctest under mpirun with 1, 2 and 4
// processes. Several processes share one GPU where the machine has one: CUDA IPC works between
// processes on the same device, so a one-GPU machine checks the hand-written all-reduce kernels
// (their flags, epochs and double buffering included); NCCL refuses two ranks on one GPU, so there
// it is checked by the one-process run and skipped with that reason by the others.
//
//   Registered   every cuda implementation of every collective family, through the cases the
//                harness times (validate, more calls, validate again), at odd and even sizes, in
//                place and not, fp32 and bf16: no wrong element on any rank.
//   SlowRank     the hand-written kernels called many times back to back with no host
//                synchronisation, one rank held back before each call in turn and each call's
//                inputs different (salted): a fast rank that overtook a slow one, or reused a
//                staging buffer a peer still read, would leave wrong elements.
//
// Without a GPU every rank exits 77 at once, which ctest reports as skipped.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "collectives/cuda/agreement.hpp"
#include "collectives/cuda/collective_check.hpp"
#include "collectives/cuda/ipc_allreduce.hpp"
#include "collectives/cuda/ipc_workspace.hpp"
#include "collectives/cuda/multicast_workspace.hpp"
#include "collectives/cuda/multimem_allreduce.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/collectives_cuda.hpp"
#include "harness/provenance.hpp"

namespace aicbench {
namespace {

constexpr int kSkipped = 77;  // ctest's SKIP_RETURN_CODE for these tests

const DeviceProbe& probe() {
  static const DeviceProbe p = probe_devices();
  return p;
}

const Implementation& cuda_impl(const std::string& family, const std::string& name) {
  static const std::vector<Implementation> all = cuda_collective_implementations();
  for (const Implementation& i : all) {
    if (i.family == family && i.impl == name) return i;
  }
  throw std::logic_error("no cuda collective " + family + "/" + name);
}

// ---- Registered: the harness's cases -----------------------------------------------------------------

struct CaseParam {
  std::string family, impl;
};
void PrintTo(const CaseParam& p, std::ostream* os) { *os << p.family << "/" << p.impl; }

std::vector<CaseParam> registered() {
  std::vector<CaseParam> out;
  for (const Implementation& i : cuda_collective_implementations()) out.push_back({i.family, i.impl});
  return out;
}

class Registered : public ::testing::TestWithParam<CaseParam> {};

// Per-rank element counts: one element, odd counts that leave partial 16-byte packs and parts of
// unequal length, and even ones that fill several blocks.
const int64_t kCounts[] = {1, 7, 1031, 4096, 65537, 1 << 18};

TEST_P(Registered, NoWrongElement) {
  const Implementation& impl = cuda_impl(GetParam().family, GetParam().impl);
  const int ranks = Job::current().layout().world_size;
  const bool per_rank = GetParam().family == "all_reduce" || GetParam().family == "broadcast";
  int ran = 0;
  std::string skipped;
  for (const std::string& dtype : impl.dtypes) {
    const int64_t elem = dtype == "fp32" ? 4 : 2;
    for (const int64_t count : kCounts) {
      for (const int in_place : {0, 1}) {
        const int64_t bytes = count * elem * (per_rank ? 1 : ranks);
        BenchmarkSpec spec{impl.family, impl.impl, dtype, Backend::cuda, impl.vendor,
                           {{"bytes", bytes}, {"in_place", in_place}}};
        // Both the reason and the construction are the same on every rank (agreed), so every rank
        // takes the same path through this loop and the collectives stay matched.
        if (auto why = impl.unsupported_reason(spec, probe())) {
          skipped += "\n  " + spec.name() + ": " + *why;
          continue;
        }
        std::unique_ptr<BenchmarkCase> c;
        try {
          c = impl.make(spec);
        } catch (const UnsupportedHere& e) {
          skipped += "\n  " + spec.name() + ": " + e.what();
          continue;
        }
        ASSERT_TRUE(c->collective());
        const Validation first = c->validate();
        for (int i = 0; i < 5; ++i) c->run();
        const Validation second = c->validate();
        EXPECT_TRUE(first.passed) << spec.name() << ": " << first.message;
        EXPECT_TRUE(second.passed) << spec.name() << " (after 5 more calls): " << second.message;
        EXPECT_EQ(first.details.value("wrong_elements", -1), 0) << spec.name();
        EXPECT_EQ(second.details.value("wrong_elements", -1), 0) << spec.name();
        ++ran;
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "nothing ran here:" << skipped;
  if (!skipped.empty()) std::printf("[ skipped here ]%s\n", skipped.c_str());
}

INSTANTIATE_TEST_SUITE_P(Cuda, Registered, ::testing::ValuesIn(registered()),
                         [](const ::testing::TestParamInfo<CaseParam>& p) {
                           return p.param.family + "_" + p.param.impl;
                         });

// ---- SlowRank: back-to-back calls, one rank late -----------------------------------------------------

enum class Kernel { one_shot, two_shot, multimem };
struct SlowParam {
  Kernel kernel;
  collectives::ElemType type;
  bool in_place;
};
void PrintTo(const SlowParam& p, std::ostream* os) {
  *os << (p.kernel == Kernel::one_shot ? "one_shot" : p.kernel == Kernel::two_shot ? "two_shot" : "multimem")
      << (p.type == collectives::ElemType::fp32 ? "/fp32" : "/bf16") << (p.in_place ? "/in_place" : "");
}

class SlowRank : public ::testing::TestWithParam<SlowParam> {};

TEST_P(SlowRank, NeverOvertaken) {
  using namespace collectives;
  const SlowParam param = GetParam();
  const JobLayout& job = Job::current().layout();
  const int64_t count = 12345;  // odd: partial packs, unequal parts
  constexpr int kCalls = 24;

  std::unique_ptr<IpcWorkspace> ipc;
  std::unique_ptr<MulticastWorkspace> mc;
  const IpcAlgo algo = param.kernel == Kernel::one_shot ? IpcAlgo::one_shot : IpcAlgo::two_shot;
  try {
    if (param.kernel == Kernel::multimem) {
      mc = std::make_unique<MulticastWorkspace>(multimem_layout(param.type, job.world_size, count).bytes);
    } else {
      ipc = std::make_unique<IpcWorkspace>(ipc_layout(algo, param.type, job.world_size, count).total_bytes);
    }
  } catch (const Unsupported& e) {
    GTEST_SKIP() << e.what();
  }
  const size_t bytes = static_cast<size_t>(count * elem_bytes(param.type));
  CudaStream stream;
  DeviceBuffer<unsigned char> in(bytes), separate_out(bytes);
  DeviceBuffer<CheckCounters> counters(1);
  void* out = param.in_place ? static_cast<void*>(in.get()) : static_cast<void*>(separate_out.get());
  const cudaStream_t s = stream.get();
  CUDA_CHECK(reset_counters(counters.get(), s));
  for (int call = 1; call <= kCalls; ++call) {
    // Each rank in turn starts late (the others run ahead into the next call), and every call has
    // its own inputs.
    if (call % job.world_size == job.world_rank) CUDA_CHECK(device_delay(200 * 1000, s));
    const int salt = call % 7;
    CUDA_CHECK(fill_send(in.get(), param.type, count, job.world_rank, job.world_size, salt, s));
    if (mc) {
      MultimemAllReduceArgs args;
      args.unicast = mc->unicast();
      args.multicast = mc->multicast();
      args.in = in.get();
      args.out = out;
      args.count = count;
      args.rank = mc->rank();
      args.ranks = mc->ranks();
      args.epoch = static_cast<uint32_t>(call);
      args.max_blocks = mc->max_blocks();
      CUDA_CHECK(multimem_all_reduce(param.type, args, s));
    } else {
      IpcAllReduceArgs args;
      for (int r = 0; r < ipc->ranks(); ++r) args.workspace[r] = ipc->base(r);
      args.in = in.get();
      args.out = out;
      args.count = count;
      args.rank = ipc->rank();
      args.ranks = ipc->ranks();
      args.epoch = static_cast<uint32_t>(call);
      args.max_blocks = ipc->max_blocks();
      CUDA_CHECK(ipc_all_reduce(algo, param.type, args, s));
    }
    // Counted on the device, added up over every call: no host synchronisation in the loop.
    CUDA_CHECK(check_output(out, param.type, CollectiveOp::all_reduce, job.world_rank, job.world_size, count, salt,
                            counters.get(), s));
  }
  CheckCounters found{};
  CUDA_CHECK(cudaMemcpyAsync(&found, counters.get(), sizeof found, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  EXPECT_EQ(found.wrong, 0u) << "rank " << job.world_rank << ": " << found.wrong << " wrong elements over "
                             << kCalls << " calls, first at index " << found.first_wrong;
}

std::vector<SlowParam> slow_params() {
  std::vector<SlowParam> out;
  for (Kernel k : {Kernel::one_shot, Kernel::two_shot, Kernel::multimem}) {
    for (auto t : {collectives::ElemType::fp32, collectives::ElemType::bf16}) {
      for (bool in_place : {false, true}) out.push_back({k, t, in_place});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cuda, SlowRank, ::testing::ValuesIn(slow_params()),
                         [](const ::testing::TestParamInfo<SlowParam>& p) {
                           std::string name = p.param.kernel == Kernel::one_shot   ? "one_shot"
                                              : p.param.kernel == Kernel::two_shot ? "two_shot"
                                                                                   : "multimem";
                           name += p.param.type == collectives::ElemType::fp32 ? "_fp32" : "_bf16";
                           return name + (p.param.in_place ? "_in_place" : "");
                         });

}  // namespace
}  // namespace aicbench

int main(int argc, char** argv) {
  aicbench::Job job = aicbench::Job::start(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const aicbench::JobLayout& layout = job.layout();
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    if (layout.world_rank == 0) {
      std::printf("no CUDA device (%s): every GPU collective test skipped\n",
                  err != cudaSuccess ? cudaGetErrorString(err) : "none found");
    }
    return aicbench::kSkipped;
  }
  // One GPU per rank where there are enough, else several ranks per GPU.
  if (cudaSetDevice(layout.local_rank % devices) != cudaSuccess) return 1;
  int status = RUN_ALL_TESTS();
#if AICBENCH_WITH_MPI
  // One exit status for the job: a failure on any rank fails it (mpirun reports the first nonzero).
  if (job.uses_mpi()) {
    int worst = status;
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, job.world());
    status = worst;
  }
#endif
  return status;
}
