#pragma once
// Decisions every rank of a job takes together. A GPU collective's setup can fail on one rank
// only (a peer's memory that will not map, an allocation that does not fit); if that rank then
// skipped the benchmark while the others entered it, they would wait for it forever. So each
// setup step ends with every rank learning how it went everywhere, and all of them skip, or fail,
// together, with the same reason.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace aicbench::collectives {

// A collective that cannot run on these ranks, GPUs or this build. The harness records the
// benchmark as skipped, with what() as the reason.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `step` on this rank, then agrees with every rank of the job (Job::current().world()):
// returns on every rank when `step` returned on every rank; otherwise throws on every rank, with
// the message of the lowest rank that failed ("rank 3: ..." when the job has several ranks):
// Unsupported if that rank's step threw Unsupported, std::runtime_error otherwise. A collective
// call: every rank must make it, in the same order.
void on_every_rank(const std::function<void()>& step);

// Every rank's GPU (host name and PCI bus id of its current device) compared: a description of
// the first two ranks that share one ("ranks 0 and 1 both use GPU 0000:3b:00.0 on node7"), or
// nullopt. The same answer on every rank. A collective call.
std::optional<std::string> ranks_sharing_a_gpu();

// The smallest SM count of any rank's current device. A collective call.
int smallest_sm_count();

}  // namespace aicbench::collectives
