#pragma once
// Which GPU a process measures. One process per GPU: under mpirun or srun each rank takes its
// node-local GPU (local rank -> device); a process started by hand takes device 0, or the one
// `--device N` names. CUDA_VISIBLE_DEVICES is honoured as CUDA honours it (device numbers count
// the visible devices only), which is how Slurm hands each task its GPU:
//
//   visible devices   ranks on the node   device
//   1                 any                 0 (srun --gpus-per-task=1: each task sees its own GPU)
//   V >= L            L                   the local rank
//   1 < V < L         L                   an error, unless sharing is allowed (then local rank mod V)
//
// Whether two ranks ended on the same GPU is only known once their UUIDs are compared across the
// node (one visible device each, but the same one): shared_gpu_problem().
#include <optional>
#include <string>
#include <vector>

namespace aicbench {

struct DeviceRequest {
  int local_rank = 0, local_size = 1;     // this process among those on its node
  int visible = 0;                        // devices CUDA shows this process (after CUDA_VISIBLE_DEVICES)
  std::optional<int> device;              // --device N
  bool allow_shared = false;              // --allow-shared-gpu: several ranks on one GPU (IPC tests)
  std::optional<std::string> cuda_visible_devices;  // the variable as set, for messages
};

struct DeviceChoice {
  int device = 0;      // the CUDA device number in this process
  std::string reason;  // one line for people: why this device
};

// Throws InputError: exit 2 for --device used wrongly (with several ranks on the node, or a
// negative number), exit 3 where the GPUs asked for are not there (--device beyond the visible
// devices; more ranks than GPUs without --allow-shared-gpu), naming what was seen.
DeviceChoice choose_device(const DeviceRequest& request);

// The GPU each rank of one node chose (UUID "GPU-..."), by local rank; world ranks for messages.
struct RankGpu {
  int world_rank = 0, local_rank = 0;
  std::string uuid;
};
// Ranks of one node that share a GPU: a message naming the GPU and the ranks, or nullopt when
// every rank has its own GPU or sharing is allowed.
std::optional<std::string> shared_gpu_problem(const std::vector<RankGpu>& ranks, const std::string& node,
                                              bool allow_shared);

}  // namespace aicbench
