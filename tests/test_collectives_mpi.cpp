// The CPU collectives for real, under mpirun (ctest label `mpi`: 2, 3, 4 and 8 ranks with
// --oversubscribe). Every rank runs every test, in the same order; a test's collective calls are
// made by all ranks, and what it checks is agreed over the ranks (wrong elements summed), so every
// rank passes or fails alike. Only rank 0 prints gtest's progress; a failure on another rank is
// printed by that rank, named.
//
//   - every cpu implementation of every operation, every dtype, in place and out of place, at sizes
//     whose counts do not divide by the ranks (and, for all-reduce, past a shared-memory slice):
//     0 wrong elements, several calls in a row;
//   - run_collectives end to end: rows on rank 0 only, with origin.spans; busbw = algbw * factor;
//     a case that cannot run on one rank is skipped on all, with that rank's reason.
#include <mpi.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/collective_measurement.hpp"
#include "harness/provenance.hpp"
#include "harness/result_writer.hpp"
#include "reports/result_file.hpp"

namespace aicbench {
namespace {

const JobLayout& layout() { return Job::current().layout(); }
MPI_Comm world() { return Job::current().world(); }

int64_t sum_over_ranks(int64_t mine) {
  int64_t total = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_INT64_T, MPI_SUM, world());
  return total;
}

BenchmarkSpec spec_of(const Implementation& impl, const std::string& dtype, int64_t bytes, int in_place) {
  return {impl.family, impl.impl, dtype, Backend::cpu, impl.vendor, {{"bytes", bytes}, {"in_place", in_place}},
          MeasureMode::hot};
}

TEST(CollectivesMpi, EveryImplementationDtypeAndPlacementIsExact) {
  const DeviceProbe probe;
  int checked = 0;
  for (const Implementation& impl : implementations()) {
    if (impl.backend != Backend::cpu || !parse_collective_op(impl.family)) continue;
    const bool shm = impl.impl.find("_shm") != std::string::npos;
    std::vector<int64_t> sizes = {8, 1000, 65540};
    // Past one shared-memory slice (1 MiB), with a remainder, for the all-reduces.
    if (impl.family == "all_reduce") sizes.push_back((5 << 19) + 12);
    for (const std::string& dtype : impl.dtypes) {
      for (int64_t bytes : sizes) {
        // fp32 everywhere; bf16 (its rounding) to several tiles, and past a slice for shared
        // memory; fp64 and int32 at the small sizes.
        if (bytes > 65540 && dtype != "fp32" && !(shm && dtype == "bf16")) continue;
        if (bytes == 65540 && dtype != "fp32" && dtype != "bf16") continue;
        for (int in_place : {0, 1}) {
          const BenchmarkSpec spec = spec_of(impl, dtype, bytes, in_place);
          if (impl.unsupported_reason(spec, probe)) continue;  // the same on every rank: nothing to agree
          std::unique_ptr<BenchmarkCase> made = impl.make(spec);
          auto* c = dynamic_cast<CollectiveCase*>(made.get());
          ASSERT_NE(c, nullptr) << spec.name();
          c->connect_once();
          // Calls in a row, each on fresh inputs and poisoned outputs: the shared-memory flags go
          // through both slots and wrap around.
          for (int call = 0; call < (shm ? 3 : 2); ++call) {
            const int64_t wrong = sum_over_ranks(c->count_wrong());
            EXPECT_EQ(wrong, 0) << spec.name() << " on " << layout().world_size << " ranks, call " << call;
          }
          ++checked;
        }
      }
    }
  }
  // 13 implementations, 4 dtypes, 2 placements, 3 sizes at least (some blocks empty at 8 B).
  EXPECT_GT(checked, 13 * 4 * 2 * 2);
}

TEST(CollectivesMpi, SizesGiveCountsThatDoNotDivideByTheRanks) {
  // What the test above runs: 1000 B of fp64 and 2.5 MiB + 12 B of fp32 leave a remainder on 2,
  // 3, 4 and 8 ranks (and 65540 B of fp32, 16385 elements, too).
  const int n = layout().world_size;
  if (n == 1) return;
  const Implementation& ring = *find_implementation("all_reduce", "ring");
  EXPECT_NE(collective_shape(spec_of(ring, "fp64", 1000, 0), n).count % n, 0);
  EXPECT_NE(collective_shape(spec_of(ring, "fp32", (5 << 19) + 12, 0), n).count % n, 0);
  EXPECT_NE(collective_shape(spec_of(ring, "fp32", 65540, 0), n).count % n, 0);
}

// A measured run through the harness's own path, into a result file on rank 0.
struct HarnessRun {
  nlohmann::json doc;
  CollectiveRunSummary summary;
  std::string console;
};

HarnessRun run_through_harness(const std::vector<BenchmarkSpec>& specs, ConsoleStyle console = ConsoleStyle::aicbench) {
  const DeviceProbe probe;
  CollectiveRunEnvironment env;
  env.probe = &probe;
  env.config.rule.min_samples = 3;
  env.config.rule.min_time_s = 0.001;
  env.config.rule.timeout_s = 2;
  env.telemetry_unavailable = "cpu backend: GPU telemetry does not apply";
  env.console = console;
  const bool rank0 = layout().world_rank == 0;
  std::filesystem::path path;
  std::unique_ptr<ResultWriter> writer;
  if (rank0) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("aicbench-mpi-test-" + std::to_string(::getpid()));
    path = reserve_result_file(dir, "collectives");
    writer = std::make_unique<ResultWriter>(path, nlohmann::json{{"backend", "cpu"}}, std::map<std::string, double>{});
  }
  std::ostringstream out, err;
  HarnessRun run;
  run.summary = run_collectives(specs, env, writer.get(), out, err);
  run.console = out.str();
  if (rank0) {
    writer->write(true);
    std::ifstream in(path);
    run.doc = nlohmann::json::parse(in);
    std::filesystem::remove_all(path.parent_path());
  }
  return run;
}

TEST(CollectivesMpi, RowsOnRankZeroOnlyWithBusbwFromTheFactor) {
  std::vector<BenchmarkSpec> specs;
  for (const char* family : {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"}) {
    for (const Implementation& impl : implementations()) {
      if (impl.family == family && impl.backend == Backend::cpu) specs.push_back(spec_of(impl, "fp32", 4096, 0));
    }
  }
  const HarnessRun run = run_through_harness(specs);
  EXPECT_EQ(run.summary.ok, specs.size());
  EXPECT_EQ(run.summary.failed + run.summary.errors + run.summary.skipped, 0u);
  if (layout().world_rank != 0) {
    EXPECT_TRUE(run.console.empty()) << "only rank 0 speaks";
    return;
  }
  const nlohmann::json& rows = run.doc["benchmarks"];
  ASSERT_EQ(rows.size(), specs.size());
  const int n = layout().world_size;
  for (const nlohmann::json& row : rows) {
    const nlohmann::json& a = row["aicbench"];
    SCOPED_TRACE(row["name"].get<std::string>());
    EXPECT_EQ(a["status"], "ok");
    EXPECT_EQ(a["mode"], "hot");
    EXPECT_EQ(row["name"].get<std::string>().find("mode:"), std::string::npos);
    EXPECT_EQ(a["collective"]["ranks"], n);
    EXPECT_EQ(a["collective"]["wrong_elements"], 0);
    EXPECT_EQ(a["origin"]["rank"], 0);
    EXPECT_EQ(a["origin"]["spans"]["ranks"], n);
    EXPECT_EQ(a["origin"]["spans"]["hosts"].size(), 1u);
    const CollectiveOp op = *parse_collective_op(a["family"].get<std::string>());
    const double factor = busbw_factor(op, n);
    EXPECT_DOUBLE_EQ(a["collective"]["busbw_factor"].get<double>(), factor);
    const double seconds = row["real_time"].get<double>() * 1e-9;
    EXPECT_NEAR(row["algbw_gbps"].get<double>(), a["collective"]["size_bytes"].get<double>() / seconds / 1e9,
                1e-9 * row["algbw_gbps"].get<double>());
    EXPECT_DOUBLE_EQ(row["busbw_gbps"].get<double>(), row["algbw_gbps"].get<double>() * factor);
    EXPECT_DOUBLE_EQ(row["gbps"].get<double>(), row["busbw_gbps"].get<double>());
    EXPECT_EQ(a["validation"]["max_rel_err"], 0);
    // At least min_samples, unless the stopping rule's timeout ended it first (a loaded machine).
    EXPECT_TRUE(a["measurement"]["samples"].get<int>() >= 3 || a["measurement"]["stop_reason"] == "timeout")
        << a["measurement"].dump();
    EXPECT_GE(a["measurement"]["batch"].get<int>(), 1);
    // Beside the vendor's row of the same problem: busbw as a percentage of the vendor's.
    if (!a["vendor"].get<bool>()) {
      for (const nlohmann::json& other : rows) {
        if (other["aicbench"]["vendor"].get<bool>() && other["aicbench"]["family"] == a["family"]) {
          EXPECT_NEAR(row["pct_of_vendor"].get<double>(),
                      100 * row["busbw_gbps"].get<double>() / other["busbw_gbps"].get<double>(), 1e-9);
        }
      }
    } else {
      EXPECT_DOUBLE_EQ(row.value("pct_of_vendor", 100.0), 100.0) << "the baseline against itself";
    }
  }
  // The row file reads back under the result-file reader's rules.
  const std::filesystem::path check = std::filesystem::temp_directory_path() / ("aicbench-mpi-rows-" + std::to_string(::getpid()) + ".json");
  std::ofstream(check) << run.doc.dump();
  EXPECT_NO_THROW(load_result_file(check));
  std::filesystem::remove(check);
}

TEST(CollectivesMpi, NcclTestsConsolePairsOutOfPlaceAndInPlace) {
  const Implementation& impl = *find_implementation("all_reduce", "mpi");
  const HarnessRun run = run_through_harness({spec_of(impl, "fp32", 1024, 0), spec_of(impl, "fp32", 1024, 1)},
                                      ConsoleStyle::nccl_tests);
  if (layout().world_rank != 0) return;
  EXPECT_NE(run.console.find("#       size         count      type   redop    root"), std::string::npos) << run.console;
  EXPECT_NE(run.console.find("        1024           256     float     sum      -1"), std::string::npos) << run.console;
  EXPECT_NE(run.console.find("# Out of bounds values : 0 OK"), std::string::npos) << run.console;
}

TEST(CollectivesMpi, ACaseOneRankCannotRunIsSkippedOnEveryRankWithItsReason) {
  // An implementation that only the last rank refuses: the others must not wait for it.
  Implementation odd = *find_implementation("all_reduce", "ring");
  odd.impl = "refused_by_last_rank";
  odd.unsupported_reason = [](const BenchmarkSpec&, const DeviceProbe&) -> std::optional<std::string> {
    if (layout().world_rank == layout().world_size - 1) return std::string("not on this rank");
    return std::nullopt;
  };
  register_implementation(odd);
  const HarnessRun run = run_through_harness({spec_of(odd, "fp32", 64, 0), spec_of(*find_implementation("all_reduce", "mpi"), "fp32", 64, 0)});
  EXPECT_EQ(run.summary.skipped, 1u);
  EXPECT_EQ(run.summary.ok, 1u);
  if (layout().world_rank != 0) return;
  const nlohmann::json& row = run.doc["benchmarks"][0];
  EXPECT_EQ(row["aicbench"]["status"], "skipped");
  const std::string reason = row["aicbench"]["reason"];
  EXPECT_NE(reason.find("not on this rank"), std::string::npos) << reason;
  if (layout().world_size > 1) {
    EXPECT_NE(reason.find("rank " + std::to_string(layout().world_size - 1)), std::string::npos) << reason;
  }
}

// Prints a failure on any rank but 0 (whose default printer says everything), named by rank.
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.summary());
  }

 private:
  int rank_;
};

}  // namespace
}  // namespace aicbench

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const aicbench::Job job = aicbench::Job::start(&argc, &argv);
  if (!job.uses_mpi()) {
    std::fprintf(stderr, "test_collectives_mpi: run under mpirun (e.g. mpirun -np 4 --oversubscribe %s)\n", argv[0]);
    return 2;
  }
  const int rank = job.layout().world_rank;
  if (rank != 0) {
    testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new aicbench::RankFailurePrinter(rank));
  }
  const int mine = RUN_ALL_TESTS();
  int worst = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, job.world());
  return worst;
}
