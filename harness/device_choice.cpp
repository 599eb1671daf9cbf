#include "harness/device_choice.hpp"

#include <map>

#include "reports/result_file.hpp"  // InputError

namespace aicbench {

namespace {

std::string visible_text(const DeviceRequest& r) {
  std::string text = std::to_string(r.visible) + (r.visible == 1 ? " visible GPU" : " visible GPUs");
  if (r.cuda_visible_devices) text += " (CUDA_VISIBLE_DEVICES=" + *r.cuda_visible_devices + ")";
  return text;
}

constexpr const char* kOneRankPerGpu =
    "start one rank per GPU (mpirun -np/--map-by ppr:G:node, srun --ntasks-per-node=G --gpus-per-task=1)";

}  // namespace

DeviceChoice choose_device(const DeviceRequest& r) {
  if (r.device) {
    if (r.local_size > 1) {
      throw InputError("--device " + std::to_string(*r.device) + " selects the GPU of a single process, but " +
                       std::to_string(r.local_size) +
                       " ranks run on this node: each takes its node-local GPU (local rank -> device); "
                       "leave --device out, or limit each rank's GPUs with CUDA_VISIBLE_DEVICES");
    }
    if (*r.device < 0) throw InputError("--device must be 0 or more, got " + std::to_string(*r.device));
    if (*r.device >= r.visible) {
      throw InputError("--device " + std::to_string(*r.device) + ": this process sees " + visible_text(r) +
                           ", numbered from 0",
                       3);
    }
    return {*r.device, "--device " + std::to_string(*r.device)};
  }
  if (r.visible < 1) throw InputError("no visible GPU to choose from", 3);
  if (r.local_size <= 1) {
    return {0, r.visible == 1 ? std::string("the only visible GPU")
                              : "device 0 of " + visible_text(r) +
                                    " (one process measures one GPU: --device N for another, or one rank per GPU)"};
  }
  if (r.visible == 1) {
    return {0, "the one GPU this rank sees (" + visible_text(r) + "), local rank " + std::to_string(r.local_rank)};
  }
  if (r.visible >= r.local_size) {
    return {r.local_rank, "local rank " + std::to_string(r.local_rank) + " of " + std::to_string(r.local_size) +
                              " on this node, " + visible_text(r)};
  }
  if (!r.allow_shared) {
    throw InputError(std::to_string(r.local_size) + " ranks on this node but " + visible_text(r) +
                         ": more ranks than GPUs; " + kOneRankPerGpu +
                         ", or pass --allow-shared-gpu to run several ranks on one GPU on purpose",
                     3);
  }
  return {r.local_rank % r.visible, "local rank " + std::to_string(r.local_rank) + " of " +
                                        std::to_string(r.local_size) + " sharing " + visible_text(r) +
                                        " (--allow-shared-gpu)"};
}

std::optional<std::string> shared_gpu_problem(const std::vector<RankGpu>& ranks, const std::string& node,
                                              bool allow_shared) {
  if (allow_shared) return std::nullopt;
  std::map<std::string, std::vector<const RankGpu*>> by_gpu;
  for (const RankGpu& r : ranks) {
    if (!r.uuid.empty()) by_gpu[r.uuid].push_back(&r);
  }
  std::string message;
  for (const auto& [uuid, users] : by_gpu) {
    if (users.size() < 2) continue;
    if (!message.empty()) message += "; ";
    message += "ranks ";
    for (size_t i = 0; i < users.size(); ++i) {
      message += (i ? ", " : "") + std::to_string(users[i]->world_rank) + " (local rank " +
                 std::to_string(users[i]->local_rank) + ")";
    }
    message += " all use " + uuid;
  }
  if (message.empty()) return std::nullopt;
  return "on node " + node + ", " + message +
         ": more ranks than GPUs (each rank sees one device, and it is the same one); " + kOneRankPerGpu +
         ", or pass --allow-shared-gpu to run several ranks on one GPU on purpose";
}

}  // namespace aicbench
