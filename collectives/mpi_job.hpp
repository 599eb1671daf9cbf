#pragma once
// The job a process belongs to: which launcher started it, its rank among all processes, its
// rank on its node, and the node's place among the job's nodes. One process per GPU, started by
// mpirun or Slurm's srun; MPI bootstraps them and carries the harness's own gathering. Nothing
// here replaces a launcher or a transport (../shared/DESIGN.md).
//
// A process started by hand (no launcher) is a job of one, with or without MPI in the build.
#include <functional>
#include <optional>
#include <string>
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

// RAII: Job::start() initialises MPI when the process was started by a launcher (and MPI is in
// this build), works out the layout, and finalises MPI when the Job goes away. A process that a
// launcher started as one of several, in a build without MPI, gets an environment error (exit 3)
// saying so, instead of N processes each believing it is rank 0.
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
#if AICBENCH_WITH_MPI
  // Every process of the job, and those on this node (MPI_COMM_TYPE_SHARED). Only when uses_mpi().
  MPI_Comm world() const { return world_; }
  MPI_Comm node() const { return node_; }
#endif

 private:
  Job() = default;
  void make_current();
  JobLayout layout_;
  bool mpi_ = false;
  bool owns_mpi_ = false;  // this Job initialised MPI and finalises it
  int thread_level_ = 0;
#if AICBENCH_WITH_MPI
  MPI_Comm world_ = MPI_COMM_NULL, node_ = MPI_COMM_NULL;
#endif
};

}  // namespace aicbench
