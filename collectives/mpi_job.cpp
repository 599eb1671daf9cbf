#include "collectives/mpi_job.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string_view>
#include <thread>
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

std::string JobLayout::describe_rank(int rank) const {
  std::string text = "rank " + std::to_string(rank);
  if (rank < 0 || rank >= static_cast<int>(node_of_rank.size())) return text;
  const int node = node_of_rank[static_cast<size_t>(rank)];
  text += " (host ";
  text += node >= 0 && node < static_cast<int>(node_names.size()) ? node_names[static_cast<size_t>(node)] : "?";
  if (rank < static_cast<int>(local_rank_of.size())) {
    text += ", local rank " + std::to_string(local_rank_of[static_cast<size_t>(rank)]);
  }
  return text + ")";
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

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", seconds);
  return buf;
}

// "rank 3 (host a, local rank 1), rank 5 (host b, local rank 0) and 40 more ranks"
std::string describe_ranks(const JobLayout& layout, const std::vector<int>& ranks) {
  constexpr size_t kShown = 16;
  std::string text;
  for (size_t i = 0; i < ranks.size() && i < kShown; ++i) {
    if (i) text += i + 1 == ranks.size() ? " and " : ", ";
    text += layout.describe_rank(ranks[i]);
  }
  if (ranks.size() > kShown) text += " and " + std::to_string(ranks.size() - kShown) + " more ranks";
  return text;
}

}  // namespace

constexpr double kLateWakeSeconds = 2;

// The failure handler, the once-only flag of fail(), and the watchdog thread with what it guards.
struct Job::Watchdog {
  std::mutex mutex;
  std::condition_variable changed;
  std::thread thread;
  bool stop = false;
  bool armed = false;
  uint64_t generation = 0;  // bumped by every arm and disarm, so a stale wake-up is told apart
  std::string step;
  double timeout_s = 0;
  bool together = false;
  std::chrono::steady_clock::time_point deadline;
  const Job* owner = nullptr;
  std::function<void(const JobFailure&)> handler;
  std::atomic<bool> failing{false};

  void loop() {
    std::unique_lock lock(mutex);
    while (!stop) {
      if (!armed) {
        changed.wait(lock);
        continue;
      }
      const uint64_t armed_generation = generation;
      const bool ended = changed.wait_until(
          lock, deadline, [&] { return stop || !armed || generation != armed_generation; });
      if (ended) continue;
      const std::string expired_step = step;
      double expired_timeout = timeout_s;
      const bool expired_together = together;
      const Job* job = owner;
      // A watchdog that wakes long after its deadline was not running: the whole process was
      // stopped (SIGSTOP; a launcher ending the job sends SIGCONT first) or starved. Said so, with
      // the time it really waited.
      const double late_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - deadline).count();
      lock.unlock();
      std::string what = expired_step;
      if (late_s > kLateWakeSeconds) {
        expired_timeout += late_s;
        what += " (this process was itself stopped or starved: its watchdog woke " +
                std::to_string(static_cast<int>(late_s)) + " s late)";
      }
      job->watchdog_expired(what, expired_timeout, expired_together);  // ends the job
      lock.lock();
    }
  }
};

Job::Job() : watchdog_(std::make_unique<Watchdog>()) {}

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
  job.layout_.node_ranks = {0};
  job.layout_.node_names = {job.layout_.node_name};
  job.layout_.node_of_rank = {0};
  job.layout_.local_rank_of = {0};
  return job;
}

Job::Job(Job&& other) noexcept
    : layout_(std::move(other.layout_)),
      mpi_(other.mpi_),
      owns_mpi_(std::exchange(other.owns_mpi_, false)),
      thread_level_(other.thread_level_),
      sync_sequence_(std::move(other.sync_sequence_)),
      watchdog_(std::move(other.watchdog_))
#if AICBENCH_WITH_MPI
      ,
      world_(std::exchange(other.world_, MPI_COMM_NULL)),
      node_(std::exchange(other.node_, MPI_COMM_NULL)),
      sync_world_(std::exchange(other.sync_world_, MPI_COMM_NULL)),
      sync_node_(std::exchange(other.sync_node_, MPI_COMM_NULL)),
      watch_world_(std::exchange(other.watch_world_, MPI_COMM_NULL))
#endif
{
  if (watchdog_) {
    std::lock_guard lock(watchdog_->mutex);
    watchdog_->owner = this;
  }
  if (g_current == &other) g_current = this;
}

std::vector<std::string> Job::gather(SyncScope scope, std::string_view step, const std::string& payload,
                                     double timeout_s) const {
  std::vector<std::string> gathered;
  sync(scope, step, payload, timeout_s, nullptr, &gathered);
  return gathered;
}

std::string Job::agree(SyncScope scope, std::string_view step, const std::string& payload, double timeout_s,
                       const std::function<std::string(const std::vector<std::string>&)>& decide) const {
  return sync(scope, step, payload, timeout_s, &decide, nullptr);
}

void Job::barrier(SyncScope scope, std::string_view step, double timeout_s) const {
  sync(scope, step, std::string(), timeout_s, nullptr, nullptr);
}

void Job::on_failure(std::function<void(const JobFailure&)> handler) const {
  std::lock_guard lock(watchdog_->mutex);
  watchdog_->handler = std::move(handler);
}

void Job::fail(const JobFailure& failure) const {
  if (watchdog_->failing.exchange(true)) {
    // Another thread is ending the job already; it aborts this process too.
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::function<void(const JobFailure&)> handler;
  {
    std::lock_guard lock(watchdog_->mutex);
    handler = watchdog_->handler;
  }
  if (handler) {
    handler(failure);
  } else if (!failure.told_by_root()) {
    std::cerr << "aicbench: " << failure.what() << std::endl;
  }
  std::cout.flush();
  std::cerr.flush();
#if AICBENCH_WITH_MPI
  if (mpi_) {
    // Other ranks may have learnt of the same failure a moment ago and still be writing their
    // node's file; MPI_Abort ends them all.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    MPI_Abort(world_, failure.exit_code());
  }
#endif
  std::_Exit(failure.exit_code());
}

Job::Watch Job::watch(std::string step, double timeout_s, bool together) const {
  if (!multi_rank()) return Watch();
  Watchdog& w = *watchdog_;
  std::lock_guard lock(w.mutex);
  if (!w.thread.joinable()) {
    w.owner = this;
    w.thread = std::thread([&w] { w.loop(); });
  }
  w.armed = true;
  ++w.generation;
  w.step = std::move(step);
  w.timeout_s = timeout_s;
  w.together = together;
  w.deadline = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s));
  w.changed.notify_all();
  return Watch(this);
}

Job::Watch::~Watch() {
  if (job_) job_->disarm();
}

void Job::disarm() const {
  std::lock_guard lock(watchdog_->mutex);
  watchdog_->armed = false;
  ++watchdog_->generation;
  watchdog_->changed.notify_all();
}

#if AICBENCH_WITH_MPI

namespace {

// Tags on the harness's private communicators.
constexpr int kTokenTag = 1;    // a rank's arrival at a step, with its payload, to the step's root
constexpr int kAnswerTag = 2;   // the root's answer: every rank arrived (and the decision), or who did not
constexpr int kReportTag = 3;   // the watchdog: "this rank is still inside the watched step"
constexpr int kVerdictTag = 4;  // the watchdog: rank 0's verdict, naming who sent no report

// How long rank 0's watchdog collects the others' reports: their deadlines were set within
// milliseconds of each other (they armed right after a barrier), so a few seconds is plenty.
constexpr double kReportWindowSeconds = 3;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void pause_briefly() { std::this_thread::sleep_for(std::chrono::duration<double>(kSyncPollSeconds)); }

void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
uint64_t get_u64(std::string_view in, size_t at) {
  uint64_t v = 0;
  if (in.size() >= at + sizeof v) std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

// A token: [sequence][step length][step][payload]. An answer: [sequence][ok byte][text].
std::string make_token(uint64_t sequence, std::string_view step, const std::string& payload) {
  std::string token;
  put_u64(token, sequence);
  put_u64(token, step.size());
  token.append(step);
  token.append(payload);
  return token;
}

std::string make_answer(uint64_t sequence, bool ok, const std::string& text) {
  std::string answer;
  put_u64(answer, sequence);
  answer.push_back(ok ? 1 : 0);
  answer.append(text);
  return answer;
}

// Receives the message `status` announced.
std::string receive(MPI_Comm comm, const MPI_Status& status) {
  int bytes = 0;
  MPI_Get_count(&status, MPI_BYTE, &bytes);
  std::string data(static_cast<size_t>(std::max(bytes, 0)), '\0');
  MPI_Recv(data.data(), bytes, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm, MPI_STATUS_IGNORE);
  return data;
}

// Sends without waiting for the receiver, and keeps the buffer alive for as long as the process
// lives: a send to a rank that never receives it (stopped, dead) must not read freed memory.
void send_and_forget(const std::string& data, int dest, int tag, MPI_Comm comm) {
  auto* kept = new std::string(data);
  MPI_Request request;
  MPI_Isend(kept->data(), static_cast<int>(kept->size()), MPI_BYTE, dest, tag, comm, &request);
  MPI_Request_free(&request);
}

}  // namespace

std::string Job::sync(SyncScope scope, std::string_view step, const std::string& payload, double timeout_s,
                      const std::function<std::string(const std::vector<std::string>&)>* decide,
                      std::vector<std::string>* gathered) const {
  const MPI_Comm comm = scope == SyncScope::world ? sync_world_ : sync_node_;
  int size = 1, rank = 0;
  if (mpi_ && comm != MPI_COMM_NULL) {
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
  }
  if (size == 1) {
    std::vector<std::string> alone = {payload};
    std::string answer = decide ? (*decide)(alone) : std::string();
    if (gathered) *gathered = std::move(alone);
    return answer;
  }
  const auto world_rank_of = [&](int r) {
    return scope == SyncScope::world ? r : layout_.node_ranks[static_cast<size_t>(r)];
  };
  const uint64_t sequence = ++sync_sequence_[static_cast<size_t>(scope)];
  const std::string token = make_token(sequence, step, payload);

  if (rank == 0) {
    std::vector<std::string> payloads(static_cast<size_t>(size));
    std::vector<char> arrived(static_cast<size_t>(size), 0);
    payloads[0] = payload;
    arrived[0] = 1;
    int count = 1;
    const double deadline = now_seconds() + timeout_s;
    std::optional<std::string> out_of_step;
    std::vector<int> out_of_step_ranks;
    while (count < size) {
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, kTokenTag, comm, &flag, &status);
      if (!flag) {
        if (now_seconds() > deadline) break;
        pause_briefly();
        continue;
      }
      const std::string data = receive(comm, status);
      const int from = status.MPI_SOURCE;
      const uint64_t their_sequence = get_u64(data, 0);
      const size_t step_size = get_u64(data, 8);
      const std::string_view their_step = std::string_view(data).substr(16, step_size);
      if (their_sequence != sequence || their_step != step) {
        // Ranks that do not take the same steps in the same order: different suites, filters or
        // builds. Named, never waited on.
        out_of_step = layout_.describe_rank(world_rank_of(from)) + " is at " + std::string(their_step) +
                      " (step " + std::to_string(their_sequence) + ") while " +
                      layout_.describe_rank(world_rank_of(0)) + " is at " + std::string(step) + " (step " +
                      std::to_string(sequence) +
                      "): the ranks do not run the same benchmarks in the same order (same aicbench build, "
                      "suite, filter and options on every rank?)";
        out_of_step_ranks.push_back(world_rank_of(from));
        break;
      }
      if (!arrived[static_cast<size_t>(from)]) {
        arrived[static_cast<size_t>(from)] = 1;
        payloads[static_cast<size_t>(from)] = data.substr(16 + step_size);
        ++count;
      }
    }
    if (count < size || out_of_step) {
      std::string message;
      std::vector<int> missing;
      if (out_of_step) {
        message = *out_of_step;
        missing = out_of_step_ranks;
      } else {
        for (int r = 0; r < size; ++r) {
          if (!arrived[static_cast<size_t>(r)]) missing.push_back(world_rank_of(r));
        }
        message = describe_ranks(layout_, missing) + " did not arrive at " +
                  std::string(step) + " within " + seconds_text(timeout_s) + " (stopped, hung or dead); " +
                  std::to_string(count) + " of " + std::to_string(size) + " ranks arrived";
      }
      for (int r = 1; r < size; ++r) {
        if (arrived[static_cast<size_t>(r)]) send_and_forget(make_answer(sequence, false, message), r, kAnswerTag, comm);
      }
      throw JobFailure(message, missing);
    }
    const std::string decision = decide ? (*decide)(payloads) : std::string();
    const std::string answer = make_answer(sequence, true, decision);
    std::vector<MPI_Request> requests(static_cast<size_t>(size - 1));
    for (int r = 1; r < size; ++r) {
      MPI_Isend(answer.data(), static_cast<int>(answer.size()), MPI_BYTE, r, kAnswerTag, comm,
                &requests[static_cast<size_t>(r - 1)]);
    }
    // Every rank is there and receiving, so the answers go at once; bounded all the same.
    const double answer_deadline = now_seconds() + timeout_s;
    for (;;) {
      int done = 0;
      MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
      if (done) break;
      if (now_seconds() > answer_deadline) {
        // The buffer must outlive the pending sends: keep a copy alive, as send_and_forget does.
        new std::string(answer);
        throw JobFailure("after every rank arrived at " + std::string(step) + ", some did not take rank " +
                             std::to_string(world_rank_of(0)) + "'s answer within " + seconds_text(timeout_s),
                         {});
      }
      pause_briefly();
    }
    if (gathered) *gathered = std::move(payloads);
    return decision;
  }

  // Not the root: send this rank's token, then wait for the root's answer. The root may itself be
  // the last to arrive, and then waits up to timeout_s for the rest.
  auto* kept_token = new std::string(token);  // freed below once the send completed
  MPI_Request send_request;
  MPI_Isend(kept_token->data(), static_cast<int>(kept_token->size()), MPI_BYTE, 0, kTokenTag, comm, &send_request);
  const double wait_s = 2 * timeout_s + 5;
  const double deadline = now_seconds() + wait_s;
  for (;;) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(0, kAnswerTag, comm, &flag, &status);
    if (flag) {
      const std::string data = receive(comm, status);
      const bool ok = data.size() > 8 && data[8] == 1;
      const std::string text = data.size() > 9 ? data.substr(9) : std::string();
      if (!ok) throw JobFailure(text, {}, /*told_by_root=*/true);  // the token stays alive: abort follows
      if (get_u64(data, 0) != sequence) {
        throw JobFailure(layout_.describe_rank(world_rank_of(0)) + " answered step " +
                             std::to_string(get_u64(data, 0)) + " while " +
                             layout_.describe_rank(layout_.world_rank) + " is at " + std::string(step) +
                             " (step " + std::to_string(sequence) + ")",
                         {world_rank_of(0)});
      }
      // The root received the token before answering, so the send has completed.
      MPI_Wait(&send_request, MPI_STATUS_IGNORE);
      delete kept_token;
      return text;
    }
    if (now_seconds() > deadline) {
      throw JobFailure(layout_.describe_rank(world_rank_of(0)) + " did not answer at " + std::string(step) +
                           " within " + seconds_text(wait_s) + " (stopped, hung or dead), as seen from " +
                           layout_.describe_rank(layout_.world_rank),
                       {world_rank_of(0)});
    }
    pause_briefly();
  }
}

void Job::watchdog_expired(const std::string& step, double timeout_s, bool together) const {
  const JobLayout& l = layout_;
  const std::string what = step + " did not finish within " + seconds_text(timeout_s);
  if (!together) {
    fail(JobFailure(what + " on " + l.describe_rank(l.world_rank) + ": it hangs on this rank (--job-timeout)",
                    {l.world_rank}));
  }
  if (thread_level_ < MPI_THREAD_MULTIPLE) {
    fail(JobFailure(what + " on " + l.describe_rank(l.world_rank) +
                        "; this MPI library gives no MPI_THREAD_MULTIPLE, so the ranks that are missing "
                        "cannot be asked for",
                    {}));
  }
  if (l.world_rank == 0) {
    std::vector<char> reported(static_cast<size_t>(l.world_size), 0);
    reported[0] = 1;
    int count = 1;
    const double deadline = now_seconds() + kReportWindowSeconds;
    while (count < l.world_size && now_seconds() < deadline) {
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, kReportTag, watch_world_, &flag, &status);
      if (!flag) {
        pause_briefly();
        continue;
      }
      receive(watch_world_, status);
      if (!reported[static_cast<size_t>(status.MPI_SOURCE)]) {
        reported[static_cast<size_t>(status.MPI_SOURCE)] = 1;
        ++count;
      }
    }
    std::vector<int> missing;
    for (int r = 0; r < l.world_size; ++r) {
      if (!reported[static_cast<size_t>(r)]) missing.push_back(r);
    }
    const std::string message =
        missing.empty()
            ? "every rank was still inside " + step + " after " + seconds_text(timeout_s) +
                  ": a deadlock, or work slower than --job-timeout"
            : what + ": " + describe_ranks(l, missing) + " sent no report (stopped, hung or dead); the other " +
                  std::to_string(count) + " of " + std::to_string(l.world_size) + " ranks were waiting inside it";
    for (int r = 1; r < l.world_size; ++r) {
      if (reported[static_cast<size_t>(r)]) send_and_forget(message, r, kVerdictTag, watch_world_);
    }
    fail(JobFailure(message, missing));
  }
  send_and_forget(step, 0, kReportTag, watch_world_);
  const double wait_s = kReportWindowSeconds + 5;
  const double deadline = now_seconds() + wait_s;
  while (now_seconds() < deadline) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(0, kVerdictTag, watch_world_, &flag, &status);
    if (flag) fail(JobFailure(receive(watch_world_, status), {}, /*told_by_root=*/true));
    pause_briefly();
  }
  fail(JobFailure(what + " on " + l.describe_rank(l.world_rank) + ", and " + l.describe_rank(0) +
                      " did not answer its report within " + seconds_text(wait_s) + " (stopped, hung or dead)",
                  {0}));
}

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
  // Read before MPI starts, so a bad value is an input error on every rank alike.
  const std::optional<int> fake_node_size =
      env_int([](const char* name) { return std::getenv(name); }, "AICBENCH_TEST_RANKS_PER_NODE");
  Job job;
  job.mpi_ = true;
  if (!initialized) {
    // The watchdog calls MPI from a second thread while the first may be blocked inside a
    // collective: ask for that, and record what the library gave.
    MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &job.thread_level_);
    job.owns_mpi_ = true;
  } else {
    MPI_Query_thread(&job.thread_level_);
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &job.world_);
  JobLayout& l = job.layout_;
  MPI_Comm_rank(job.world_, &l.world_rank);
  MPI_Comm_size(job.world_, &l.world_size);
  if (fake_node_size && *fake_node_size > 0) {
    MPI_Comm_split(job.world_, l.world_rank / *fake_node_size, l.world_rank, &job.node_);
  } else {
    MPI_Comm_split_type(job.world_, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &job.node_);
  }
  MPI_Comm_dup(job.world_, &job.sync_world_);
  MPI_Comm_dup(job.world_, &job.watch_world_);
  MPI_Comm_dup(job.node_, &job.sync_node_);

  l.launcher = launch.launcher == Launcher::none ? Launcher::mpirun : launch.launcher;
  MPI_Comm_rank(job.node_, &l.local_rank);
  MPI_Comm_size(job.node_, &l.local_size);
  l.node_name = host_name();

  // Node index: the node leaders (local rank 0) numbered in world-rank order, told to their node.
  constexpr int kNameBytes = 256;
  std::vector<char> names;
  MPI_Comm leaders;
  MPI_Comm_split(job.world_, l.local_rank == 0 ? 0 : MPI_UNDEFINED, l.world_rank, &leaders);
  if (l.local_rank == 0) {
    MPI_Comm_rank(leaders, &l.node_index);
    MPI_Comm_size(leaders, &l.nodes);
    if (fake_node_size && *fake_node_size > 0) l.node_name += "-fake" + std::to_string(l.node_index);
    l.ranks_per_node.resize(static_cast<size_t>(l.nodes));
    MPI_Allgather(&l.local_size, 1, MPI_INT, l.ranks_per_node.data(), 1, MPI_INT, leaders);
    std::vector<char> mine(kNameBytes, '\0');
    std::memcpy(mine.data(), l.node_name.data(), std::min<size_t>(l.node_name.size(), kNameBytes - 1));
    names.resize(static_cast<size_t>(l.nodes) * kNameBytes);
    MPI_Allgather(mine.data(), kNameBytes, MPI_CHAR, names.data(), kNameBytes, MPI_CHAR, leaders);
    MPI_Comm_free(&leaders);
  }
  MPI_Bcast(&l.node_index, 1, MPI_INT, 0, job.node_);
  MPI_Bcast(&l.nodes, 1, MPI_INT, 0, job.node_);
  l.ranks_per_node.resize(static_cast<size_t>(l.nodes));
  MPI_Bcast(l.ranks_per_node.data(), l.nodes, MPI_INT, 0, job.node_);
  names.resize(static_cast<size_t>(l.nodes) * kNameBytes);
  MPI_Bcast(names.data(), l.nodes * kNameBytes, MPI_CHAR, 0, job.node_);
  l.node_names.clear();
  for (int n = 0; n < l.nodes; ++n) l.node_names.emplace_back(names.data() + static_cast<size_t>(n) * kNameBytes);
  l.node_name = l.node_names[static_cast<size_t>(l.node_index)];

  // Who is where, so that every message can name a rank's host.
  l.node_ranks.resize(static_cast<size_t>(l.local_size));
  MPI_Allgather(&l.world_rank, 1, MPI_INT, l.node_ranks.data(), 1, MPI_INT, job.node_);
  const int mine[2] = {l.node_index, l.local_rank};
  std::vector<int> all(2 * static_cast<size_t>(l.world_size));
  MPI_Allgather(mine, 2, MPI_INT, all.data(), 2, MPI_INT, job.world_);
  l.node_of_rank.resize(static_cast<size_t>(l.world_size));
  l.local_rank_of.resize(static_cast<size_t>(l.world_size));
  for (int r = 0; r < l.world_size; ++r) {
    l.node_of_rank[static_cast<size_t>(r)] = all[2 * static_cast<size_t>(r)];
    l.local_rank_of[static_cast<size_t>(r)] = all[2 * static_cast<size_t>(r) + 1];
  }
  job.make_current();
  return job;
}

Job::~Job() {
  if (g_current == this) g_current = nullptr;
  if (watchdog_ && watchdog_->thread.joinable()) {
    {
      std::lock_guard lock(watchdog_->mutex);
      watchdog_->stop = true;
      watchdog_->changed.notify_all();
    }
    watchdog_->thread.join();
  }
  for (MPI_Comm* comm : {&sync_node_, &sync_world_, &watch_world_, &node_, &world_}) {
    if (*comm != MPI_COMM_NULL) MPI_Comm_free(comm);
  }
  if (owns_mpi_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

#else  // a build without MPI: a job of one, unless a launcher started several

std::string Job::sync(SyncScope, std::string_view, const std::string& payload, double,
                      const std::function<std::string(const std::vector<std::string>&)>* decide,
                      std::vector<std::string>* gathered) const {
  std::vector<std::string> alone = {payload};
  std::string answer = decide ? (*decide)(alone) : std::string();
  if (gathered) *gathered = std::move(alone);
  return answer;
}

void Job::watchdog_expired(const std::string& step, double timeout_s, bool) const {
  fail(JobFailure(step + " did not finish within " + seconds_text(timeout_s), {}));
}

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
  if (watchdog_ && watchdog_->thread.joinable()) {
    {
      std::lock_guard lock(watchdog_->mutex);
      watchdog_->stop = true;
      watchdog_->changed.notify_all();
    }
    watchdog_->thread.join();
  }
}

#endif

}  // namespace aicbench
