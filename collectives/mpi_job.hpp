#pragma once
// The job a process belongs to: which launcher started it, its rank among all processes, its
// rank on its node, and the node's place among the job's nodes. One process per GPU, started by
// mpirun or Slurm's srun; MPI bootstraps them and carries the harness's own gathering. Nothing
// here replaces a launcher or a transport (../shared/DESIGN.md).
//
// A process started by hand (no launcher) is a job of one, with or without MPI in the build.
//
// The harness's own synchronisation (a barrier before every benchmark, the node leader gathering
// its node's rows) never waits forever: every step has a deadline, and a step that misses it fails
// the job with a message naming the step and the ranks (and their hosts) that did not arrive.
// Work that every rank does together inside MPI or NCCL (a collective) runs under a watchdog
// (Job::watch) that does the same when the work does not finish in time. A failed job is ended
// with MPI_Abort, after the failure handler (the runner: keep the result file valid, say why)
// has run; never with MPI_Finalize, which waits for every rank, a stopped one included.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if AICBENCH_WITH_MPI
#include <mpi.h>
#endif

namespace aicbench {

enum class Launcher { none, mpirun, srun };
std::string to_string(Launcher launcher);

struct JobLayout {
  Launcher launcher = Launcher::none;
  int world_rank = 0, world_size = 1;
  int local_rank = 0, local_size = 1;  // among the processes on this node
  int node_index = 0, nodes = 1;       // nodes numbered in the order of their lowest world rank
  std::string node_name;               // this node's host name
  std::vector<int> ranks_per_node;     // processes on each node, by node index
  std::vector<int> node_ranks;         // world ranks on this node, by local rank
  std::vector<std::string> node_names; // every node's host name, by node index
  std::vector<int> node_of_rank;       // node index of every world rank
  std::vector<int> local_rank_of;      // local rank of every world rank

  // "rank 3 (host gpu-a17, local rank 1)": how every message names a rank.
  std::string describe_rank(int world_rank) const;
};

// What the environment says about the launcher, from the variables mpirun (OpenMPI, MPICH,
// Hydra) and srun set. `getenv` is injectable for tests. Throws InputError (exit 2) where the
// environment is contradictory, e.g. srun started several tasks without a PMI plugin, so MPI
// could not connect them.
struct LaunchEnvironment {
  Launcher launcher = Launcher::none;
  int world_size = 1;   // as the launcher announced it
  bool needs_mpi = false;
};
LaunchEnvironment detect_launch(const std::function<const char*(const char*)>& getenv);

// A synchronisation step or a watched piece of work that did not complete: the message names the
// step, the ranks that did not arrive (or answer) and their hosts. Exit code 3 (environment): a
// rank that died, stopped or hangs is a broken machine or job, not bad input.
class JobFailure : public std::runtime_error {
 public:
  JobFailure(const std::string& message, std::vector<int> missing_ranks, bool told_by_root = false,
             int exit_code = 3)
      : std::runtime_error(message),
        missing_(std::move(missing_ranks)),
        told_by_root_(told_by_root),
        exit_code_(exit_code) {}
  const std::vector<int>& missing_ranks() const { return missing_; }
  // This rank learnt of the failure from the step's root, which has said it already: record it,
  // do not print it again.
  bool told_by_root() const { return told_by_root_; }
  int exit_code() const { return exit_code_; }

 private:
  std::vector<int> missing_;
  bool told_by_root_ = false;
  int exit_code_ = 3;
};

// Which ranks take part in a synchronisation step: every rank of the job, or those of this node
// (rooted at world rank 0 and at the node's local rank 0, the node leader).
enum class SyncScope { world, node };

// How long the harness waits at its own steps, and how often it looks.
inline constexpr double kSyncPollSeconds = 0.0005;

// RAII: Job::start() initialises MPI when the process was started by a launcher (and MPI is in
// this build), works out the layout, and finalises MPI when the Job goes away. A process that a
// launcher started as one of several, in a build without MPI, gets an environment error (exit 3)
// saying so, instead of N processes each believing it is rank 0.
//
// Testing aid: AICBENCH_TEST_RANKS_PER_NODE=K (the same on every rank) splits the job into
// "nodes" of K consecutive world ranks, named <host>-fake<index>, so that a one-host CI machine
// exercises the multi-node layout (one result file per node, a collective row in node 0's file).
class Job {
 public:
  static Job start(int* argc, char*** argv);
  // A job of one without MPI: tests, and commands that do not run benchmarks.
  static Job single();
  // The job started in this process (the newest Job::start() still alive), or a job of one:
  // how a benchmark family's cases reach the job's communicators.
  static const Job& current();
  Job(Job&& other) noexcept;
  Job& operator=(Job&&) = delete;
  Job(const Job&) = delete;
  ~Job();

  const JobLayout& layout() const { return layout_; }
  bool uses_mpi() const { return mpi_; }
  int mpi_thread_level() const { return thread_level_; }
  bool multi_rank() const { return layout_.world_size > 1; }
  bool node_leader() const { return layout_.local_rank == 0; }
#if AICBENCH_WITH_MPI
  // Every process of the job, and those on this node (MPI_COMM_TYPE_SHARED). Only when uses_mpi().
  // For the benchmarks' own traffic; the harness's steps use private duplicates of both.
  MPI_Comm world() const { return world_; }
  MPI_Comm node() const { return node_; }
#endif

  // ---- Deadline-bounded steps. Every rank of `scope` calls the same steps in the same order;
  // `step` names the step in messages ("the barrier before gemm/cublas/bf16/M:8192/..."). A rank
  // that does not arrive within `timeout_s` of the root's arrival fails the step on the root,
  // which tells the ranks that did arrive; a root that does not answer within 2 * timeout_s + 5 s
  // fails it on the others. Failure: JobFailure (end the job with fail()).

  // The root of `scope` gets every rank's payload, in scope rank order; the others an empty list.
  std::vector<std::string> gather(SyncScope scope, std::string_view step, const std::string& payload,
                                  double timeout_s) const;
  // gather(), then the root's decision over the payloads, returned on every rank of the scope.
  std::string agree(SyncScope scope, std::string_view step, const std::string& payload, double timeout_s,
                    const std::function<std::string(const std::vector<std::string>&)>& decide) const;
  void barrier(SyncScope scope, std::string_view step, double timeout_s) const;

  // ---- Work in flight: while a Watch is alive, a watchdog thread waits for it to end; if
  // `timeout_s` passes first, the job fails through fail() naming `step`. Work that every rank
  // does `together` (a collective in MPI or NCCL, which blocks where a peer is missing): every rank
  // still inside reports to rank 0, and rank 0 names the ranks that did not report (stopped, hung
  // or dead); this needs MPI_THREAD_MULTIPLE, without which the job still fails, naming the step
  // only. This rank's own work (a GPU benchmark): the failure names this rank. A job of one
  // watches nothing.
  class Watch {
   public:
    Watch() = default;
    Watch(Watch&& other) noexcept : job_(std::exchange(other.job_, nullptr)) {}
    Watch& operator=(Watch&&) = delete;
    ~Watch();

   private:
    friend class Job;
    explicit Watch(const Job* job) : job_(job) {}
    const Job* job_ = nullptr;
  };
  Watch watch(std::string step, double timeout_s, bool together) const;

  // Called once, by the thread that ends a failed job, before the job is aborted: the runner keeps
  // its result file valid (complete: false) and says why. Must not call MPI.
  void on_failure(std::function<void(const JobFailure&)> handler) const;
  // Ends a failed job: the failure handler (or a message on stderr), a grace second so that the
  // other node leaders that learnt of the failure write their files too, then MPI_Abort with the
  // failure's exit code (mpirun and srun end every process, stopped ones included). A second
  // failure on another thread waits for the first to end the job.
  [[noreturn]] void fail(const JobFailure& failure) const;

 private:
  struct Watchdog;
  Job();
  void make_current();
  std::string sync(SyncScope scope, std::string_view step, const std::string& payload, double timeout_s,
                   const std::function<std::string(const std::vector<std::string>&)>* decide,
                   std::vector<std::string>* gathered) const;
  void disarm() const;
  void watchdog_expired(const std::string& step, double timeout_s, bool together) const;

  JobLayout layout_;
  bool mpi_ = false;
  bool owns_mpi_ = false;  // this Job initialised MPI and finalises it
  int thread_level_ = 0;
  mutable std::vector<uint64_t> sync_sequence_ = {0, 0};  // per scope: steps taken
  std::unique_ptr<Watchdog> watchdog_;
#if AICBENCH_WITH_MPI
  MPI_Comm world_ = MPI_COMM_NULL, node_ = MPI_COMM_NULL;
  // Private duplicates: the harness's steps and the watchdog's reports never match a benchmark's
  // messages, nor each other's.
  MPI_Comm sync_world_ = MPI_COMM_NULL, sync_node_ = MPI_COMM_NULL, watch_world_ = MPI_COMM_NULL;
#endif
};

}  // namespace aicbench
