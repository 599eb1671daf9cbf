#include "collectives/mpi_job.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "reports/result_file.hpp"  // InputError

namespace aicbench {

std::string to_string(Launcher launcher) {
  switch (launcher) {
    case Launcher::none: return "none";
    case Launcher::mpirun: return "mpirun";
    case Launcher::srun: return "srun";
  }
  return "unknown";
}

namespace {

std::optional<int> env_int(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* text = getenv(name);
  if (!text || !*text) return std::nullopt;
  int value = 0;
  const std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) {
    throw InputError(std::string("environment variable ") + name + " is '" + text +
                     "', expected a non-negative integer (set by the launcher)");
  }
  return value;
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

const Job* g_current = nullptr;

}  // namespace

const Job& Job::current() {
  static const Job alone = single();
  return g_current ? *g_current : alone;
}

void Job::make_current() { g_current = this; }

LaunchEnvironment detect_launch(const std::function<const char*(const char*)>& getenv) {
  LaunchEnvironment env;
  // mpirun: OpenMPI sets OMPI_COMM_WORLD_SIZE; MPICH's Hydra sets PMI_SIZE; PMIx launchers
  // (OpenMPI 5's prte, srun --mpi=pmix) set PMIX_RANK and, through OpenMPI, the OMPI variables.
  const auto ompi = env_int(getenv, "OMPI_COMM_WORLD_SIZE");
  const auto pmi = env_int(getenv, "PMI_SIZE");
  const bool pmix = getenv("PMIX_RANK") != nullptr;
  const auto slurm_tasks = env_int(getenv, "SLURM_NTASKS");
  const bool under_srun = getenv("SLURM_STEP_ID") != nullptr && getenv("SLURM_PROCID") != nullptr;

  if (under_srun) {
    env.launcher = Launcher::srun;
    env.world_size = slurm_tasks.value_or(1);
    env.needs_mpi = env.world_size > 1 || ompi || pmi || pmix;
    if (env.world_size > 1 && !ompi && !pmi && !pmix) {
      throw InputError("srun started " + std::to_string(env.world_size) +
                       " tasks but set no PMI variables, so MPI cannot connect them; run srun "
                       "with --mpi=pmix (or the PMI plugin your MPI was built with)");
    }
  } else if (ompi || pmi || pmix) {
    env.launcher = Launcher::mpirun;
    env.world_size = ompi ? *ompi : pmi ? *pmi : 1;
    env.needs_mpi = true;
  }
  return env;
}

Job Job::single() {
  Job job;
  job.layout_.node_name = host_name();
  job.layout_.ranks_per_node = {1};
  return job;
}

Job::Job(Job&& other) noexcept
    : layout_(std::move(other.layout_)),
      mpi_(other.mpi_),
      owns_mpi_(std::exchange(other.owns_mpi_, false)),
      thread_level_(other.thread_level_)
#if AICBENCH_WITH_MPI
      ,
      world_(std::exchange(other.world_, MPI_COMM_NULL)),
      node_(std::exchange(other.node_, MPI_COMM_NULL))
#endif
{
  if (g_current == &other) g_current = this;
}

#if AICBENCH_WITH_MPI

Job Job::start(int* argc, char*** argv) {
  const LaunchEnvironment launch = detect_launch([](const char* name) { return std::getenv(name); });
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!launch.needs_mpi && !initialized) {
    Job job = single();
    job.layout_.launcher = launch.launcher;
    job.make_current();
    return job;
  }
  Job job;
  job.mpi_ = true;
  if (!initialized) {
    // The harness's watchdog and gathering may call MPI from a second thread; ask for that, and
    // record what the library gave.
    MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &job.thread_level_);
    job.owns_mpi_ = true;
  } else {
    MPI_Query_thread(&job.thread_level_);
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &job.world_);
  MPI_Comm_split_type(job.world_, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &job.node_);

  JobLayout& l = job.layout_;
  l.launcher = launch.launcher == Launcher::none ? Launcher::mpirun : launch.launcher;
  MPI_Comm_rank(job.world_, &l.world_rank);
  MPI_Comm_size(job.world_, &l.world_size);
  MPI_Comm_rank(job.node_, &l.local_rank);
  MPI_Comm_size(job.node_, &l.local_size);
  l.node_name = host_name();

  // Node index: the node leaders (local rank 0) numbered in world-rank order, told to their node.
  MPI_Comm leaders;
  MPI_Comm_split(job.world_, l.local_rank == 0 ? 0 : MPI_UNDEFINED, l.world_rank, &leaders);
  if (l.local_rank == 0) {
    MPI_Comm_rank(leaders, &l.node_index);
    MPI_Comm_size(leaders, &l.nodes);
    l.ranks_per_node.resize(static_cast<size_t>(l.nodes));
    MPI_Allgather(&l.local_size, 1, MPI_INT, l.ranks_per_node.data(), 1, MPI_INT, leaders);
    MPI_Comm_free(&leaders);
  }
  MPI_Bcast(&l.node_index, 1, MPI_INT, 0, job.node_);
  MPI_Bcast(&l.nodes, 1, MPI_INT, 0, job.node_);
  l.ranks_per_node.resize(static_cast<size_t>(l.nodes));
  MPI_Bcast(l.ranks_per_node.data(), l.nodes, MPI_INT, 0, job.node_);
  job.make_current();
  return job;
}

Job::~Job() {
  if (g_current == this) g_current = nullptr;
  if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
  if (world_ != MPI_COMM_NULL) MPI_Comm_free(&world_);
  if (owns_mpi_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

#else  // a build without MPI: a job of one, unless a launcher started several

Job Job::start(int*, char***) {
  const LaunchEnvironment launch = detect_launch([](const char* name) { return std::getenv(name); });
  if (launch.world_size > 1) {
    throw InputError(to_string(launch.launcher) + " started " + std::to_string(launch.world_size) +
                         " processes, but this aicbench was built without MPI "
                         "(-DAICBENCH_WITH_MPI=OFF), so they cannot work as one job; rebuild with MPI",
                     3);
  }
  Job job = single();
  job.layout_.launcher = launch.launcher;
  job.make_current();
  return job;
}

Job::~Job() {
  if (g_current == this) g_current = nullptr;
}

#endif

}  // namespace aicbench
