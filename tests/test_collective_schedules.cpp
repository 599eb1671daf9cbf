// The CPU collectives' algorithms without MPI, in one process:
//   - every point-to-point schedule (collectives/cpu/schedule.hpp) run for all its ranks at once
//     under MPI's rendezvous rule (a send completes only when its receiver has posted the matching
//     receive), for 1 to 17 ranks and element counts that do not divide by them: the result is
//     exact and no schedule deadlocks; the ring sends 2(n-1)/n of the buffer, as its busbw factor says;
//   - the shared-memory one-shot and two-shot all-reduce with one thread per rank on ordinary
//     memory, new inputs every call and random delays, so a rank that overtook a slow one or reused
//     a slot still being read would produce a wrong sum;
//   - the reductions (bf16 rounded once), nccl-tests' sizes and console columns, the calls per
//     sample, and the suite's ranges, --max-bytes and min_ranks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "collectives/cpu/reduce.hpp"
#include "collectives/cpu/schedule.hpp"
#include "collectives/cpu/shm_all_reduce.hpp"
#include "harness/collective_measurement.hpp"
#include "harness/nccl_tests_console.hpp"
#include "harness/runner.hpp"
#include "harness/specs.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

using coll::Combine;
using coll::Range;
using coll::Schedule;
using coll::Step;

// ==== A rendezvous simulator: each rank at its current step; a send and the receive it matches
// (the receiver's current step receives from the sender) complete together.
struct Simulated {
  std::vector<std::vector<double>> send, recv;  // per rank
  bool deadlocked = false;
};

Simulated simulate(const std::vector<Schedule>& schedules, std::vector<std::vector<double>> send,
                   std::vector<std::vector<double>> recv, bool one_buffer) {
  const int n = static_cast<int>(schedules.size());
  std::vector<size_t> at(size_t(n), 0);
  std::vector<bool> sent(static_cast<size_t>(n)), received(static_cast<size_t>(n));
  // What a rank's current step sends, read when it begins the step (MPI_Sendrecv reads the whole
  // send buffer before the receive may land, which the executor's scratch ensures in place).
  std::vector<std::vector<double>> outbox(static_cast<size_t>(n));
  auto buf_send = [&](int r) -> std::vector<double>& { return one_buffer ? recv[size_t(r)] : send[size_t(r)]; };
  auto step_of = [&](int r) -> const Step* {
    return at[size_t(r)] < schedules[size_t(r)].size() ? &schedules[size_t(r)][at[size_t(r)]] : nullptr;
  };
  auto begin_step = [&](int r) {
    if (const Step* s = step_of(r); s && s->send_to >= 0) {
      outbox[size_t(r)].assign(buf_send(r).begin() + s->send.begin, buf_send(r).begin() + s->send.end());
    }
  };
  // A step's local copy, and steps with nothing left to do, complete at once.
  auto settle = [&](int r) {
    while (const Step* s = step_of(r)) {
      if (s->send_to == r && s->recv_from == r) {
        std::copy(outbox[size_t(r)].begin(), outbox[size_t(r)].end(), recv[size_t(r)].begin() + s->recv.begin);
        sent[size_t(r)] = received[size_t(r)] = true;
      }
      const bool send_done = s->send_to < 0 || sent[size_t(r)];
      const bool recv_done = s->recv_from < 0 || received[size_t(r)];
      if (!(send_done && recv_done)) return;
      ++at[size_t(r)];
      sent[size_t(r)] = received[size_t(r)] = false;
      begin_step(r);
    }
  };
  for (int r = 0; r < n; ++r) begin_step(r);
  for (int r = 0; r < n; ++r) settle(r);
  while (true) {
    bool progress = false, pending = false;
    for (int r = 0; r < n; ++r) {
      const Step* s = step_of(r);
      if (!s) continue;
      pending = true;
      if (s->send_to < 0 || sent[size_t(r)]) continue;
      const int d = s->send_to;
      const Step* t = step_of(d);
      if (!t || t->recv_from != r || received[size_t(d)]) continue;
      EXPECT_EQ(s->send.count, t->recv.count) << "rank " << r << " -> " << d;
      const std::vector<double>& message = outbox[size_t(r)];
      for (int64_t i = 0; i < t->recv.count; ++i) {
        double& target = recv[size_t(d)][size_t(t->recv.begin + i)];
        target = t->combine == Combine::reduce ? target + message[size_t(i)] : message[size_t(i)];
      }
      sent[size_t(r)] = received[size_t(d)] = true;
      settle(r);
      settle(d);
      progress = true;
    }
    if (!pending) break;
    if (!progress) return {std::move(send), std::move(recv), true};
  }
  return {std::move(send), std::move(recv), false};
}

double value(int rank, int64_t i) { return collective_input_value(rank, i); }

const std::vector<int64_t> kCounts = {0, 1, 2, 5, 7, 16, 100, 1001};

TEST(CollectiveSchedules, AllReduceRingAndRhdAreExactForAnyRankAndElementCount) {
  for (int n = 1; n <= 17; ++n) {
    for (int64_t count : kCounts) {
      for (const char* name : {"ring", "rhd"}) {
        std::vector<Schedule> schedules;
        std::vector<std::vector<double>> buffers;
        for (int r = 0; r < n; ++r) {
          schedules.push_back(std::string(name) == "ring" ? coll::ring_all_reduce(r, n, count)
                                                          : coll::rhd_all_reduce(r, n, count));
          std::vector<double> b(static_cast<size_t>(count));
          for (int64_t i = 0; i < count; ++i) b[size_t(i)] = value(r, i);
          buffers.push_back(b);
        }
        const Simulated out = simulate(schedules, {}, buffers, /*one_buffer=*/true);
        ASSERT_FALSE(out.deadlocked) << name << " n=" << n << " count=" << count;
        for (int r = 0; r < n; ++r) {
          for (int64_t i = 0; i < count; ++i) {
            double want = 0;
            for (int p = 0; p < n; ++p) want += value(p, i);
            ASSERT_EQ(out.recv[size_t(r)][size_t(i)], want) << name << " n=" << n << " count=" << count << " rank " << r;
          }
        }
      }
    }
  }
}

TEST(CollectiveSchedules, RingSendsTheBusbwFactorOfTheBuffer) {
  // 2(n-1)/n of the buffer per rank: what busbw_factor(all_reduce) assumes every rank moves.
  for (int n : {2, 3, 4, 8}) {
    const int64_t count = 840 * n;  // divisible, so the share is exact
    for (int r = 0; r < n; ++r) {
      EXPECT_EQ(coll::elements_sent(coll::ring_all_reduce(r, n, count), r), 2 * (n - 1) * count / n);
      EXPECT_DOUBLE_EQ(busbw_factor(CollectiveOp::all_reduce, n), 2.0 * (n - 1) / n);
    }
  }
  // Recursive halving and doubling moves as much as the ring (a power of two), in 2 log2(n) steps.
  EXPECT_EQ(coll::rhd_all_reduce(3, 8, 800).size(), 6u);
  EXPECT_EQ(coll::elements_sent(coll::rhd_all_reduce(3, 8, 800), 3), 2 * 7 * 800 / 8);
  EXPECT_EQ(coll::ring_all_reduce(3, 8, 800).size(), 14u);
}

TEST(CollectiveSchedules, BlockedOperationsEndWithTheRightBlocks) {
  for (int n = 1; n <= 9; ++n) {
    for (int64_t block : {0, 1, 3, 64}) {
      const int64_t total = n * block;
      // reduce-scatter: block r of rank r is the sum of every rank's block r
      {
        std::vector<Schedule> s;
        std::vector<std::vector<double>> b;
        for (int r = 0; r < n; ++r) {
          s.push_back(coll::ring_reduce_scatter(r, n, block));
          std::vector<double> v(static_cast<size_t>(total));
          for (int64_t i = 0; i < total; ++i) v[size_t(i)] = value(r, i);
          b.push_back(v);
        }
        const Simulated out = simulate(s, {}, b, true);
        ASSERT_FALSE(out.deadlocked);
        for (int r = 0; r < n; ++r) {
          for (int64_t j = 0; j < block; ++j) {
            double want = 0;
            for (int p = 0; p < n; ++p) want += value(p, r * block + j);
            ASSERT_EQ(out.recv[size_t(r)][size_t(r * block + j)], want) << "reduce_scatter n=" << n;
          }
        }
      }
      // all-gather: every rank ends with every rank's block
      {
        std::vector<Schedule> s;
        std::vector<std::vector<double>> b;
        for (int r = 0; r < n; ++r) {
          s.push_back(coll::ring_all_gather(r, n, block));
          std::vector<double> v(size_t(total), NAN);
          for (int64_t j = 0; j < block; ++j) v[size_t(r * block + j)] = collective_tag_value(r, j);
          b.push_back(v);
        }
        const Simulated out = simulate(s, {}, b, true);
        ASSERT_FALSE(out.deadlocked);
        for (int r = 0; r < n; ++r) {
          for (int64_t i = 0; i < total; ++i) {
            ASSERT_EQ(out.recv[size_t(r)][size_t(i)], collective_tag_value(int(i / block), i % block)) << "all_gather n=" << n;
          }
        }
      }
      // all-to-all, out of place and in place (the symmetric pairing swaps a block for a block)
      for (bool in_place : {false, true}) {
        std::vector<Schedule> s;
        std::vector<std::vector<double>> send, recv;
        for (int r = 0; r < n; ++r) {
          s.push_back(coll::pairwise_all_to_all(r, n, block));
          std::vector<double> v(static_cast<size_t>(total));
          for (int64_t i = 0; i < total; ++i) v[size_t(i)] = collective_tag_value(r, i);
          send.push_back(v);
          recv.push_back(in_place ? v : std::vector<double>(size_t(total), NAN));
        }
        // In place, a step sends block p and receives block p of the same buffer: the simulator
        // takes the message before it lands, as the executor's scratch does.
        const Simulated out = simulate(s, send, recv, in_place);
        ASSERT_FALSE(out.deadlocked);
        for (int r = 0; r < n; ++r) {
          for (int64_t i = 0; i < total; ++i) {
            ASSERT_EQ(out.recv[size_t(r)][size_t(i)], collective_tag_value(int(i / block), r * block + i % block))
                << "all_to_all n=" << n << " in_place=" << in_place;
          }
        }
      }
    }
  }
}

TEST(CollectiveSchedules, ChainBroadcastPipelinesSegmentsFromAnyRoot) {
  for (int n = 1; n <= 9; ++n) {
    for (int root : {0, n - 1, n / 2}) {
      for (int64_t count : {0, 1, 10, 97}) {
        std::vector<Schedule> s;
        std::vector<std::vector<double>> b;
        for (int r = 0; r < n; ++r) {
          s.push_back(coll::chain_broadcast(r, n, root, count, /*segment=*/8));
          std::vector<double> v(size_t(count), NAN);
          if (r == root) for (int64_t i = 0; i < count; ++i) v[size_t(i)] = collective_tag_value(root, i);
          b.push_back(v);
        }
        const Simulated out = simulate(s, {}, b, true);
        ASSERT_FALSE(out.deadlocked);
        for (int r = 0; r < n; ++r) {
          for (int64_t i = 0; i < count; ++i) ASSERT_EQ(out.recv[size_t(r)][size_t(i)], collective_tag_value(root, i));
        }
        // Pipelined: S + n - 2 steps in all, not S * (n - 1).
        if (n > 1) {
          const int64_t segments = std::max<int64_t>(1, (count + 7) / 8);
          EXPECT_LE(s[size_t((root + n - 1) % n)].size(), size_t(segments)) << "the last rank only receives";
        }
      }
    }
  }
}

TEST(CollectiveSchedules, SimulatorCatchesADeadlock) {
  // Two ranks that both only send first: under rendezvous neither completes.
  std::vector<Schedule> s = {{{1, {0, 1}, -1, {}, Combine::copy}, {-1, {}, 1, {0, 1}, Combine::copy}},
                             {{0, {0, 1}, -1, {}, Combine::copy}, {-1, {}, 0, {0, 1}, Combine::copy}}};
  EXPECT_TRUE(simulate(s, {}, {{1}, {2}}, true).deadlocked);
}

// ==== Reductions

TEST(CollectiveReduce, Bf16AddsInFp32AndRoundsOnce) {
  // 256 + 1 + 1: each step rounded to bf16 would stay at 256 (its neighbours are 254 and 258);
  // added in fp32 and rounded once it is 258.
  const uint16_t a = coll::float_to_bf16(256), b = coll::float_to_bf16(1);
  const uint16_t in[3][1] = {{a}, {b}, {b}};
  const void* ptrs[3] = {in[0], in[1], in[2]};
  uint16_t out = 0;
  coll::sum_buffers(coll::Dtype::bf16, &out, ptrs, 3, 1);
  EXPECT_EQ(coll::bf16_to_float(out), 258.0f);
  uint16_t acc = a;
  coll::sum_into(coll::Dtype::bf16, &acc, &b, 1);
  coll::sum_into(coll::Dtype::bf16, &acc, &b, 1);
  EXPECT_EQ(coll::bf16_to_float(acc), 256.0f) << "a ring rounds after every hop";
  EXPECT_EQ(coll::float_to_bf16(1.00390625f), coll::float_to_bf16(1.0f)) << "ties to even";
  EXPECT_TRUE(std::isnan(coll::bf16_to_float(coll::float_to_bf16(NAN))));
}

TEST(CollectiveReduce, EveryDtypeSumsInputsExactlyAcrossTiles) {
  for (coll::Dtype d : coll::kDtypes) {
    const int n = 7;
    const int64_t count = 3000;  // several tiles and a partial one
    std::vector<std::vector<std::byte>> in(n, std::vector<std::byte>(size_t(count) * coll::element_bytes(d)));
    std::vector<const void*> ptrs;
    for (int r = 0; r < n; ++r) {
      for (int64_t i = 0; i < count; ++i) coll::set_element(d, in[size_t(r)].data(), i, value(r, i));
      ptrs.push_back(in[size_t(r)].data());
    }
    std::vector<std::byte> out(size_t(count) * coll::element_bytes(d));
    coll::sum_buffers(d, out.data(), ptrs.data(), n, count);
    for (int64_t i = 0; i < count; ++i) {
      double want = 0;
      for (int r = 0; r < n; ++r) want += value(r, i);
      ASSERT_EQ(coll::element_value(d, out.data(), i), want) << to_string(d) << " element " << i;
    }
    const int32_t big = INT32_MAX;
    if (d == coll::Dtype::int32) {
      int32_t acc = big;
      coll::sum_into(d, &acc, &big, 1);
      EXPECT_EQ(acc, -2) << "int32 wraps, as two's complement";
    }
  }
}

// ==== Shared-memory all-reduce with threads as ranks

void run_shm(coll::ShmConfig config, int n, int64_t count, int calls, bool delays) {
  const size_t bytes = coll::ShmAllReduce::segment_bytes(config, n);
  std::vector<std::vector<std::byte>> memory(static_cast<size_t>(n));
  std::vector<std::byte*> segments;
  for (auto& m : memory) {
    // 4096-aligned, as a window's segment is
    m.resize(bytes + 4096);
    segments.push_back(reinterpret_cast<std::byte*>((reinterpret_cast<uintptr_t>(m.data()) + 4095) / 4096 * 4096));
  }
  config.wait_timeout_s = 20;
  std::vector<std::unique_ptr<coll::ShmAllReduce>> ranks;
  for (int r = 0; r < n; ++r) ranks.push_back(std::make_unique<coll::ShmAllReduce>(config, r, segments));
  const bool registered = config.buffers == coll::ShmBuffers::registered;
  std::vector<int64_t> wrong(size_t(n), 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(static_cast<unsigned>(r * 7919 + count));
      const size_t elt = coll::element_bytes(config.dtype);
      std::vector<std::byte> own_in(size_t(count) * elt), own_out(size_t(count) * elt);
      coll::ShmAllReduce& shm = *ranks[size_t(r)];
      for (int call = 0; call < calls; ++call) {
        // Staged: the caller's buffers, in place every other call. Registered: the window's.
        const bool in_place = registered ? config.in_place : call % 2 == 1;
        std::byte* out = registered ? shm.registered_output(r) : own_out.data();
        std::byte* in = registered ? shm.registered_input(r) : in_place ? out : own_in.data();
        // New inputs every call: a rank reading a buffer of an earlier call gets a wrong sum.
        for (int64_t i = 0; i < count; ++i) coll::set_element(config.dtype, in, i, value(r + call, i));
        if (delays && rng() % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
        shm.run(in, out, count);
        for (int64_t i = 0; i < count; ++i) {
          double want = 0;
          for (int p = 0; p < n; ++p) want += value(p + call, i);
          wrong[size_t(r)] += coll::element_value(config.dtype, out, i) != want;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < n; ++r) EXPECT_EQ(wrong[size_t(r)], 0) << "rank " << r << " n=" << n << " count=" << count;
}

coll::ShmConfig staged(coll::ShmAlgorithm algorithm, coll::Dtype d, int64_t slice) {
  coll::ShmConfig c;
  c.algorithm = algorithm;
  c.buffers = coll::ShmBuffers::staged;
  c.dtype = d;
  c.elements = slice;
  return c;
}

TEST(CollectiveShm, StagedOneShotAndTwoShotAreExactWithSlowRanksAndSlotReuse) {
  for (auto algorithm : {coll::ShmAlgorithm::one_shot, coll::ShmAlgorithm::two_shot}) {
    for (int n : {1, 2, 3, 5}) {
      // Slices smaller than the message: many epochs per call, both slots reused many times.
      run_shm(staged(algorithm, coll::Dtype::fp32, 64), n, 1001, 12, /*delays=*/true);
      run_shm(staged(algorithm, coll::Dtype::bf16, 37), n, 37, 12, true);
      run_shm(staged(algorithm, coll::Dtype::int32, 1), n, 3, 5, false);
    }
  }
}

TEST(CollectiveShm, RegisteredTwoShotIsExactInAndOutOfPlaceWithSlowRanks) {
  for (bool in_place : {false, true}) {
    for (int n : {1, 2, 3, 5}) {
      for (int64_t count : {1, 7, 1001}) {
        coll::ShmConfig c;
        c.algorithm = coll::ShmAlgorithm::two_shot;
        c.buffers = coll::ShmBuffers::registered;
        c.dtype = count == 7 ? coll::Dtype::bf16 : coll::Dtype::fp32;
        c.elements = count;
        c.in_place = in_place;
        run_shm(c, n, count, 12, /*delays=*/true);
      }
    }
  }
}

TEST(CollectiveShm, SegmentsHoldFlagsAndBuffers) {
  // Staged: flags, then two slots of a slice's input and its largest reduced chunk, page-aligned.
  EXPECT_EQ(coll::ShmAllReduce::segment_bytes(staged(coll::ShmAlgorithm::two_shot, coll::Dtype::fp32, 1024), 4),
            4096u + 2 * (4096 + 4096));
  EXPECT_EQ(coll::ShmAllReduce::slice_elements(coll::Dtype::fp32, 10), 10);
  EXPECT_EQ(coll::ShmAllReduce::slice_elements(coll::Dtype::fp32, int64_t(1) << 30), coll::ShmAllReduce::kSliceBytes / 4);
  // Registered: flags, then the input and the output (one buffer in place).
  coll::ShmConfig c;
  c.buffers = coll::ShmBuffers::registered;
  c.elements = 5000;
  EXPECT_EQ(coll::ShmAllReduce::segment_bytes(c, 4), 4096u + 2 * 20480);
  c.in_place = true;
  EXPECT_EQ(coll::ShmAllReduce::segment_bytes(c, 4), 4096u + 20480);
}

// ==== nccl-tests' sizes, columns and the timing plan

BenchmarkSpec spec(const char* family, const char* dtype, int64_t bytes, int in_place) {
  return {family, "mpi", dtype, Backend::cpu, true, {{"bytes", bytes}, {"in_place", in_place}}, MeasureMode::hot};
}

TEST(CollectiveShape, CountsAsNcclTestsCountsThem) {
  // all_reduce: the buffer's elements, whatever the ranks
  CollectiveShape s = collective_shape(spec("all_reduce", "fp32", 1000, 0), 3);
  EXPECT_EQ(s.count, 250);
  EXPECT_EQ(s.bytes(), 1000);
  EXPECT_DOUBLE_EQ(s.busbw_factor(), 4.0 / 3);
  // all_gather 1 MiB over 3 ranks of fp32: 262144 / 3 = 87381, rounded down to 4 elements (16 B)
  s = collective_shape(spec("all_gather", "fp32", 1 << 20, 1), 3);
  EXPECT_EQ(s.count, 87380);
  EXPECT_EQ(s.send_count, 87380);
  EXPECT_EQ(s.recv_count, 3 * 87380);
  EXPECT_EQ(s.bytes(), 3 * 87380 * 4);
  EXPECT_TRUE(s.in_place);
  s = collective_shape(spec("reduce_scatter", "bf16", 1 << 20, 0), 3);
  EXPECT_EQ(s.count, 174760);  // 524288 / 3 = 174762, rounded down to 8 elements
  EXPECT_EQ(s.send_count, 3 * 174760);
  s = collective_shape(spec("all_to_all", "fp64", 64, 0), 8);
  EXPECT_EQ(s.count, 0) << "8 B per rank is less than 16 B";
  s = collective_shape(spec("broadcast", "fp32", 8, 0), 8);
  EXPECT_EQ(s.count, 2);
  EXPECT_DOUBLE_EQ(s.busbw_factor(), 1.0);
  EXPECT_DOUBLE_EQ(collective_shape(spec("all_to_all", "fp32", 4096, 0), 4).busbw_factor(), 0.75);
}

TEST(CollectiveShape, BandwidthIsSizeOverTimeTimesTheFactor) {
  const CollectiveShape s = collective_shape(spec("all_reduce", "fp32", 1 << 20, 0), 4);
  const CollectiveBandwidth bw = collective_bandwidth(s, 1e-3);
  EXPECT_DOUBLE_EQ(bw.algbw_gbps, 1048576 / 1e-3 / 1e9);
  EXPECT_DOUBLE_EQ(bw.busbw_gbps, bw.algbw_gbps * 1.5);
}

TEST(CollectiveShape, InputsAreSmallIntegersThatAreNeverAllZero) {
  int zeros = 0;
  for (int r = 0; r < 8; ++r) {
    for (int64_t i = 0; i < 1000; ++i) {
      const double v = collective_input_value(r, i);
      ASSERT_EQ(v, std::round(v));
      ASSERT_LE(std::abs(v), 2);
      zeros += v == 0;
      ASSERT_LE(std::abs(collective_tag_value(r, i)), 125);
    }
  }
  EXPECT_LT(zeros, 8000 / 3);
  // Two ranks' blocks are told apart
  EXPECT_NE(collective_tag_value(1, 5), collective_tag_value(2, 5));
}

TEST(CollectiveTiming, CallsPerSampleLastAboutTheTarget) {
  EXPECT_EQ(collective_calls_per_sample(1e-6, 2e-3), 1000);
  EXPECT_EQ(collective_calls_per_sample(1e-7, 2e-3), kMaxCallsPerSample);
  EXPECT_EQ(collective_calls_per_sample(3e-4, 2e-3), 7);
  EXPECT_EQ(collective_calls_per_sample(0.5, 2e-3), 1);
  EXPECT_EQ(collective_calls_per_sample(0, 2e-3), kMaxCallsPerSample);
}

TEST(NcclTestsConsole, ColumnsAreNcclTestsColumns) {
  EXPECT_EQ(nccl_tests_float(12.345, 7), "  12.35");
  EXPECT_EQ(nccl_tests_float(123456.7, 7), " 123457");  // no decimal fits in 7 characters
  EXPECT_EQ(nccl_tests_float(0.001, 6), "  0.00");
  EXPECT_EQ(nccl_tests_type_name("fp32"), "float");
  EXPECT_EQ(nccl_tests_type_name("bf16"), "bfloat16");
  NcclTestsResult oop{1.5e-6, 0.0053, 0.0080, 0}, ip{1.25e-6, 0.0064, 0.0096, 0};
  const std::string line = nccl_tests_line(8, 2, "float", "sum", -1, oop, ip);
  // nccl-tests: "%12li  %12li  %8s  %6s  %6s" then per placement "  %7s  %6s  %6s  %6g"
  EXPECT_EQ(line,
            "           8             2     float     sum      -1     1.50    0.01    0.01       0     1.25    0.01    0.01       0\n");
  const std::string header = nccl_tests_header();
  EXPECT_NE(header.find("#       size         count      type   redop    root     time   algbw   busbw  #wrong"),
            std::string::npos)
      << header;
}

TEST(CollectiveOptions, MaxBytesAndConsoleAreChecked) {
  RunOptions options;
  for (int64_t bad : {int64_t{0}, int64_t{-8}, kMaxCollectiveBytes + 1}) {
    options.max_bytes = bad;
    EXPECT_THROW(check_run_options(options), InputError) << bad;
  }
  options.max_bytes = 8;
  EXPECT_NO_THROW(check_run_options(options));
  EXPECT_EQ(parse_console_style("nccl-tests"), ConsoleStyle::nccl_tests);
  EXPECT_EQ(parse_console_style("aicbench"), ConsoleStyle::aicbench);
  EXPECT_FALSE(parse_console_style("nccl_tests"));
}

// ==== Suites: ranges, --max-bytes, min_ranks

TEST(CollectiveSuites, RangesListsAndMaxBytesExpandInOrder) {
  const testing::TestDir dir;
  const auto path = dir / "t.json";
  std::ofstream(path) << R"({"name": "t", "version": 1, "groups": [{"family": "all_reduce", "dtypes": ["fp32"],
      "impls": ["ring", "mpi"], "min_ranks": 2,
      "shapes": {"cpu": [{"bytes": {"from": 8, "to": 64, "factor": 4}, "in_place": [0, 1]}, {"bytes": 1000, "in_place": 0}]}}]})";
  Suite suite = load_suite_file(path);
  std::vector<std::string> names;
  for (const auto& s : suite.benchmarks(Backend::cpu)) {
    names.push_back(s.name());
    EXPECT_EQ(s.min_ranks, 2);
    EXPECT_EQ(s.mode, MeasureMode::hot);
  }
  // nccl-tests' order: each implementation's sweep, the vendor's first.
  const std::vector<std::string> want = {
      "all_reduce/mpi/fp32/bytes:8/in_place:0",     "all_reduce/mpi/fp32/bytes:8/in_place:1",
      "all_reduce/mpi/fp32/bytes:32/in_place:0",    "all_reduce/mpi/fp32/bytes:32/in_place:1",
      "all_reduce/mpi/fp32/bytes:1000/in_place:0",  "all_reduce/ring/fp32/bytes:8/in_place:0",
      "all_reduce/ring/fp32/bytes:8/in_place:1",    "all_reduce/ring/fp32/bytes:32/in_place:0",
      "all_reduce/ring/fp32/bytes:32/in_place:1",   "all_reduce/ring/fp32/bytes:1000/in_place:0"};
  EXPECT_EQ(names, want);
  suite.max_bytes = 512;  // the range now runs to 512; the listed 1000 is left out
  std::map<int64_t, int> sizes;
  for (const auto& s : suite.benchmarks(Backend::cpu)) ++sizes[s.param("bytes")];
  EXPECT_EQ(sizes, (std::map<int64_t, int>{{8, 4}, {32, 4}, {128, 4}, {512, 4}}));
}

TEST(CollectiveSuites, BadValuesNameTheField) {
  const testing::TestDir dir;
  auto error = [&](const std::string& shape) {
    const auto path = dir / "t.json";
    std::ofstream(path) << R"({"name": "t", "version": 1, "groups": [{"family": "all_reduce", "dtypes": ["fp32"],
        "impls": ["mpi"], "shapes": {"cpu": [)" + shape + "]}}]}";
    try {
      load_suite_file(path);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error(R"({"bytes": 8, "in_place": 2})").find("in_place' is 2, expected a number <= 1"), std::string::npos);
  EXPECT_NE(error(R"({"bytes": 0, "in_place": 0})").find("bytes' is 0, expected at least 1"), std::string::npos);
  EXPECT_NE(error(R"({"bytes": {"from": 64, "to": 8}, "in_place": 0})").find("bytes.to' is 8"), std::string::npos);
  EXPECT_NE(error(R"({"bytes": {"from": 8, "to": 64, "factor": 1}, "in_place": 0})").find("factor"), std::string::npos);
  EXPECT_NE(error(R"({"bytes": {"from": 8}, "in_place": 0})").find("missing field"), std::string::npos);
  EXPECT_NE(error(R"({"bytes": 8})").find("has no 'in_place'"), std::string::npos);
}

TEST(CollectiveSuites, ShippedSuitesHaveEveryCpuAlgorithm) {
  const Suite suite = load_suite("collectives");
  std::map<std::string, int> impls;
  for (const auto& s : suite.benchmarks(Backend::cpu)) ++impls[s.family + "/" + s.impl];
  for (const char* name : {"all_reduce/mpi", "all_reduce/ring", "all_reduce/rhd", "all_reduce/oneshot_shm",
                           "all_reduce/twoshot_shm", "all_gather/mpi", "all_gather/ring", "reduce_scatter/mpi",
                           "reduce_scatter/ring", "all_to_all/mpi", "all_to_all/pairwise", "broadcast/mpi",
                           "broadcast/ring"}) {
    EXPECT_GT(impls[name], 0) << name;
  }
  int quick_collectives = 0;
  for (const auto& s : load_suite("quick").benchmarks(Backend::cpu)) {
    if (s.family == "all_reduce") {
      ++quick_collectives;
      EXPECT_EQ(s.min_ranks, 2) << "the quick suite's all-reduce runs only when there are ranks to reduce";
    }
  }
  EXPECT_GT(quick_collectives, 0);
}

}  // namespace
}  // namespace aicbench
