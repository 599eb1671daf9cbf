// cuDNN fused attention through the backend API (attention_cudnn.hpp has the graph).
#include "kernels/attention/attention_cudnn.hpp"

#include <cmath>
#include <limits>

namespace aicbench::kernels {

namespace {

// Unique ids of the tensors the variant pack binds; virtual tensors count up from kFirstVirtual.
enum Uid : int64_t { kQ = 1, kK, kV, kO, kScale, kNegativeInf, kSeqlenK, kSeqlenQ, kFirstVirtual = 100 };

std::string describe(cudnnStatus_t status) {
  char last[1024] = {};
  cudnnGetLastErrorString(last, sizeof last);
  std::string text = cudnnGetErrorString(status);
  if (last[0]) text += std::string(": ") + last;
  return text;
}

// Creates, sets and finalizes backend descriptors, keeping each in `owned` for the destructor.
// Any failure while building the graph is cuDNN declining it: CudnnNotSupported, with the step.
class Builder {
 public:
  Builder(std::vector<cudnnBackendDescriptor_t>& owned, cudnnHandle_t handle) : owned_(owned), handle_(handle) {}

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type, const char* what) {
    cudnnBackendDescriptor_t d = nullptr;
    check(cudnnBackendCreateDescriptor(type, &d), what, "create");
    owned_.push_back(d);
    return d;
  }
  void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
           int64_t count, const void* value, const char* what) {
    check(cudnnBackendSetAttribute(d, name, type, count, value), what, "set an attribute of");
  }
  void set_one(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name, cudnnBackendDescriptor_t value,
               const char* what) {
    set(d, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &value, what);
  }
  void finalize(cudnnBackendDescriptor_t d, const char* what) { check(cudnnBackendFinalize(d), what, "finalize"); }

  // A tensor: `uid` 0 makes a new virtual tensor.
  cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t type, const std::vector<int64_t>& dims,
                                  const std::vector<int64_t>& strides, bool by_value = false) {
    const bool is_virtual = uid == 0;
    if (is_virtual) uid = next_virtual_++;
    cudnnBackendDescriptor_t t = make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "a tensor");
    const int64_t alignment = 16;
    set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, "a tensor");
    set(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, "a tensor");
    set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, static_cast<int64_t>(dims.size()), dims.data(), "a tensor");
    set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, static_cast<int64_t>(strides.size()), strides.data(), "a tensor");
    set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment, "a tensor");
    set(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual, "a tensor");
    if (by_value) set(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &by_value, "a tensor");
    finalize(t, "a tensor");
    return t;
  }
  cudnnBackendDescriptor_t scalar(int64_t uid, cudnnDataType_t type) {
    return tensor(uid, type, {1, 1, 1, 1}, {1, 1, 1, 1}, /*by_value=*/true);
  }

  // y = mode(x [, b [, t]]), computed in `precision`; `axis` for GEN_INDEX.
  cudnnBackendDescriptor_t pointwise(cudnnPointwiseMode_t mode, cudnnDataType_t precision, cudnnBackendDescriptor_t x,
                                     cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t t, cudnnBackendDescriptor_t y,
                                     int64_t axis = -1) {
    cudnnBackendDescriptor_t pw = make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "a pointwise descriptor");
    set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, "a pointwise descriptor");
    set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &precision, "a pointwise descriptor");
    if (mode == CUDNN_POINTWISE_GEN_INDEX) set(pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis, "gen_index");
    finalize(pw, "a pointwise descriptor");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, "a pointwise operation");
    set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, "a pointwise operation");
    set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, "a pointwise operation");
    if (b) set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b, "a pointwise operation");
    if (t) set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, t, "a pointwise operation");
    set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, "a pointwise operation");
    const float one = 1.0f;
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_ALPHA1, CUDNN_TYPE_FLOAT, 1, &one, "a pointwise operation");
    set(op, CUDNN_ATTR_OPERATION_POINTWISE_ALPHA2, CUDNN_TYPE_FLOAT, 1, &one, "a pointwise operation");
    finalize(op, "a pointwise operation");
    ops_.push_back(op);
    return op;
  }

  void reduction(cudnnReduceTensorOp_t op_type, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t r = make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, "a reduction descriptor");
    const cudnnDataType_t precision = CUDNN_DATA_FLOAT;
    set(r, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1, &op_type, "a reduction descriptor");
    set(r, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &precision, "a reduction descriptor");
    finalize(r, "a reduction descriptor");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, "a reduction operation");
    set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, r, "a reduction operation");
    set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x, "a reduction operation");
    set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y, "a reduction operation");
    finalize(op, "a reduction operation");
    ops_.push_back(op);
  }

  void matmul(cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t c) {
    cudnnBackendDescriptor_t m = make(CUDNN_BACKEND_MATMUL_DESCRIPTOR, "a matmul descriptor");
    const cudnnDataType_t precision = CUDNN_DATA_FLOAT;
    set(m, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &precision, "a matmul descriptor");
    finalize(m, "a matmul descriptor");
    cudnnBackendDescriptor_t op = make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, "a matmul operation");
    set_one(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, m, "a matmul operation");
    set_one(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, a, "a matmul operation");
    set_one(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, b, "a matmul operation");
    set_one(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, c, "a matmul operation");
    finalize(op, "a matmul operation");
    ops_.push_back(op);
  }

  cudnnBackendDescriptor_t graph() {
    cudnnBackendDescriptor_t g = make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "the operation graph");
    set(g, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle_, "the operation graph");
    set(g, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(ops_.size()), ops_.data(),
        "the operation graph");
    finalize(g, "the operation graph");
    return g;
  }

 private:
  static void check(cudnnStatus_t status, const char* what, const char* verb) {
    if (status != CUDNN_STATUS_SUCCESS) {
      throw CudnnNotSupported(std::string("cuDNN could not ") + verb + " " + what + ": " + describe(status));
    }
  }

  std::vector<cudnnBackendDescriptor_t>& owned_;
  cudnnHandle_t handle_;
  std::vector<cudnnBackendDescriptor_t> ops_;
  int64_t next_virtual_ = kFirstVirtual;
};

}  // namespace

std::string cudnn_version_string() {
  auto text = [](size_t v) {
    return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
  };
  return text(cudnnGetVersion()) + " (runtime), built with " + text(CUDNN_VERSION);
}

CudnnAttention::CudnnAttention(cudaStream_t stream, const AttentionShape& s, cudnnDataType_t type) : shape_(s) {
  if (const cudnnStatus_t status = cudnnCreate(&handle_); status != CUDNN_STATUS_SUCCESS) {
    handle_ = nullptr;
    throw std::runtime_error("cudnnCreate failed: " + describe(status));
  }
  cudnnSetStream(handle_, stream);
  scale_ = static_cast<float>(s.scale());
  negative_inf_ = -std::numeric_limits<float>::infinity();
  seqlen_k_ = static_cast<int32_t>(s.Sk);
  seqlen_q_ = static_cast<int32_t>(s.Sq);
  try {
    Builder g(descriptors_, handle_);
    const int64_t B = s.B, H = s.H, KVH = s.KVH, Sq = s.Sq, Sk = s.Sk, D = s.D;
    // BSHD through the strides: [batch, head, token, d].
    const auto Q = g.tensor(kQ, type, {B, H, Sq, D}, {Sq * H * D, D, H * D, 1});
    const auto Kt = g.tensor(kK, type, {B, KVH, D, Sk}, {Sk * KVH * D, D, 1, KVH * D});  // K^T: strides swapped
    const auto V = g.tensor(kV, type, {B, KVH, Sk, D}, {Sk * KVH * D, D, KVH * D, 1});
    const auto O = g.tensor(kO, type, {B, H, Sq, D}, {Sq * H * D, D, H * D, 1});
    const std::vector<int64_t> score_dims = {B, H, Sq, Sk}, score_strides = {H * Sq * Sk, Sq * Sk, Sk, 1};
    const std::vector<int64_t> row_dims = {B, H, Sq, 1}, row_strides = {H * Sq, Sq, 1, 1};
    auto scores = [&](cudnnDataType_t t) { return g.tensor(0, t, score_dims, score_strides); };
    auto rows = [&]() { return g.tensor(0, CUDNN_DATA_FLOAT, row_dims, row_strides); };

    const auto S0 = scores(CUDNN_DATA_FLOAT);
    g.matmul(Q, Kt, S0);
    auto S = scores(CUDNN_DATA_FLOAT);
    g.pointwise(CUDNN_POINTWISE_MUL, CUDNN_DATA_FLOAT, S0, g.scalar(kScale, CUDNN_DATA_FLOAT), nullptr, S);
    if (s.causal) {
      // Keep key c for query r where r + Sk - Sq >= c (bottom right), else -inf.
      const auto row0 = scores(CUDNN_DATA_INT32), col = scores(CUDNN_DATA_INT32);
      g.pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, S, nullptr, nullptr, row0, 2);
      g.pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, S, nullptr, nullptr, col, 3);
      const auto row1 = scores(CUDNN_DATA_INT32), row = scores(CUDNN_DATA_INT32);
      g.pointwise(CUDNN_POINTWISE_ADD, CUDNN_DATA_INT32, row0, g.scalar(kSeqlenK, CUDNN_DATA_INT32), nullptr, row1);
      g.pointwise(CUDNN_POINTWISE_SUB, CUDNN_DATA_INT32, row1, g.scalar(kSeqlenQ, CUDNN_DATA_INT32), nullptr, row);
      const auto keep = scores(CUDNN_DATA_BOOLEAN);
      g.pointwise(CUDNN_POINTWISE_CMP_GE, CUDNN_DATA_BOOLEAN, row, col, nullptr, keep);
      const auto masked = scores(CUDNN_DATA_FLOAT);
      g.pointwise(CUDNN_POINTWISE_BINARY_SELECT, CUDNN_DATA_FLOAT, S, g.scalar(kNegativeInf, CUDNN_DATA_FLOAT), keep,
                  masked);
      S = masked;
    }
    const auto m = rows();
    g.reduction(CUDNN_REDUCE_TENSOR_MAX, S, m);
    const auto shifted = scores(CUDNN_DATA_FLOAT), E = scores(CUDNN_DATA_FLOAT);
    g.pointwise(CUDNN_POINTWISE_SUB, CUDNN_DATA_FLOAT, S, m, nullptr, shifted);
    g.pointwise(CUDNN_POINTWISE_EXP, CUDNN_DATA_FLOAT, shifted, nullptr, nullptr, E);
    const auto l = rows();
    g.reduction(CUDNN_REDUCE_TENSOR_ADD, E, l);
    const auto log_l = rows(), stats = rows();
    g.pointwise(CUDNN_POINTWISE_LOG, CUDNN_DATA_FLOAT, l, nullptr, nullptr, log_l);
    g.pointwise(CUDNN_POINTWISE_ADD, CUDNN_DATA_FLOAT, m, log_l, nullptr, stats);
    const auto P = scores(type);
    g.pointwise(CUDNN_POINTWISE_DIV, CUDNN_DATA_FLOAT, E, l, nullptr, P);
    g.matmul(P, V, O);
    const cudnnBackendDescriptor_t op_graph = g.graph();

    // Engines: heuristics mode A, then the fallback list; the first plan that finalizes.
    std::string declined;
    for (const cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
      cudnnBackendDescriptor_t heur = g.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "the engine heuristics");
      g.set_one(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, op_graph, "the engine heuristics");
      g.set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "the engine heuristics");
      if (cudnnBackendFinalize(heur) != CUDNN_STATUS_SUCCESS) continue;
      int64_t count = 0;
      if (cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                                   nullptr) != CUDNN_STATUS_SUCCESS || count <= 0) {
        continue;
      }
      std::vector<cudnnBackendDescriptor_t> configs;
      for (int64_t i = 0; i < count; ++i) configs.push_back(g.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "an engine config"));
      int64_t returned = 0;
      if (cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count,
                                   &returned, configs.data()) != CUDNN_STATUS_SUCCESS) {
        continue;
      }
      for (int64_t i = 0; i < returned && !plan_; ++i) {
        cudnnBackendDescriptor_t plan = g.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "an execution plan");
        g.set(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle_, "an execution plan");
        g.set_one(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, configs[i], "an execution plan");
        if (const cudnnStatus_t st = cudnnBackendFinalize(plan); st != CUDNN_STATUS_SUCCESS) {
          if (declined.empty()) declined = describe(st);
          continue;
        }
        plan_ = plan;
        cudnnBackendDescriptor_t engine = g.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR, "an engine");
        int64_t n = 0, index = -1;
        if (cudnnBackendGetAttribute(configs[i], CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n,
                                     &engine) == CUDNN_STATUS_SUCCESS) {
          cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &index);
        }
        engine_ = "engine " + std::to_string(index) + " (" +
                  (mode == CUDNN_HEUR_MODE_A ? "heuristics mode A" : "fallback list") + ", choice " +
                  std::to_string(i + 1) + " of " + std::to_string(returned) + ")";
      }
      if (plan_) break;
    }
    if (!plan_) {
      throw CudnnNotSupported("cuDNN " + cudnn_version_string() + " has no engine for this attention graph" +
                              (declined.empty() ? std::string() : " (first refusal: " + declined + ")"));
    }
    int64_t n = 0;
    if (cudnnBackendGetAttribute(plan_, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n,
                                 &workspace_bytes_) != CUDNN_STATUS_SUCCESS) {
      throw std::runtime_error("cuDNN: the execution plan's workspace size is unreadable");
    }
    if (workspace_bytes_ > 0 && cudaMalloc(&workspace_, static_cast<size_t>(workspace_bytes_)) != cudaSuccess) {
      (void)cudaGetLastError();
      workspace_ = nullptr;
      throw std::runtime_error("cuDNN attention: cannot allocate its " + std::to_string(workspace_bytes_) +
                               "-byte workspace");
    }
  } catch (...) {
    for (auto it = descriptors_.rbegin(); it != descriptors_.rend(); ++it) cudnnBackendDestroyDescriptor(*it);
    descriptors_.clear();
    cudnnDestroy(handle_);
    handle_ = nullptr;
    throw;
  }
}

CudnnAttention::~CudnnAttention() {
  cudaFree(workspace_);
  for (auto it = descriptors_.rbegin(); it != descriptors_.rend(); ++it) cudnnBackendDestroyDescriptor(*it);
  if (handle_) cudnnDestroy(handle_);
}

cudnnStatus_t CudnnAttention::run(const void* Q, const void* K, const void* V, void* O) {
  int64_t uids[8] = {kQ, kK, kV, kO, kScale, kNegativeInf, kSeqlenK, kSeqlenQ};
  void* pointers[8] = {const_cast<void*>(Q), const_cast<void*>(K), const_cast<void*>(V), O,
                       &scale_, &negative_inf_, &seqlen_k_, &seqlen_q_};
  // Only the causal graph has the mask's scalars.
  const int64_t bound = shape_.causal ? 8 : 5;
  cudnnBackendDescriptor_t pack = nullptr;
  cudnnStatus_t status = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack);
  if (status != CUDNN_STATUS_SUCCESS) return status;
  status = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, bound, uids);
  if (status == CUDNN_STATUS_SUCCESS) {
    status = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, bound, pointers);
  }
  if (status == CUDNN_STATUS_SUCCESS) {
    status = cudnnBackendSetAttribute(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace_);
  }
  if (status == CUDNN_STATUS_SUCCESS) status = cudnnBackendFinalize(pack);
  if (status == CUDNN_STATUS_SUCCESS) status = cudnnBackendExecute(handle_, plan_, pack);
  cudnnBackendDestroyDescriptor(pack);
  return status;
}

}  // namespace aicbench::kernels
