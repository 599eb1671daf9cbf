// The sizing model against published training runs (deliverable 3 of issue 14;
// docs/sizing-validation.md). Each run's hardware is a FIXTURE (tests/data/sizing/*.json, made by
// tests/make_procurement_fixtures.py from the datasheet by one rule for every GPU, never tuned to
// a run); each run's model, token count, batch and, where its paper gives it, its parallel layout
// are the published ones; everything else is the model's default assumptions. The test predicts
// each published figure in that figure's own convention, writes the table (with the 6 N D rule
// as a cross-check column) to the build directory, and holds the errors to the bounds the
// documentation states: every row within 35 %, the median within 10 %.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/result_file.hpp"
#include "reports/sizing.hpp"
#include "reports/text_format.hpp"

namespace aicbench::sizing {
namespace {

namespace fs = std::filesystem;
using reports::sig3;

const fs::path kData = fs::path(AICBENCH_TEST_DATA_DIR) / "sizing";

enum class Metric {
  megatron_tflops,  // TFLOP/s per GPU by Megatron-LM's Eq. 3 (recomputation counted, full attention)
  model_tflops,     // TFLOP/s per GPU of model FLOPs (3x forward, causal attention halved)
  mfu,              // model FLOPs over the dense bf16 peak
  gpu_hours,        // GPU-hours for the tokens
};

struct PublishedRun {
  std::string name;
  std::string model;      // preset or path under tests/data/sizing/models
  std::string hardware;   // tests/data/sizing/<file>
  int64_t gpus = 0;
  double tokens = 0;
  std::optional<int64_t> global_batch;
  LayoutChoice choice;
  std::optional<double> nic_gbps;
  std::string dtype = "bf16";
  Metric metric = Metric::mfu;
  double published = 0;
  std::string source;
  bool in_overall = true;
};

PublishedRun run_of(std::string name, std::string model, std::string hardware, int64_t gpus, double tokens) {
  PublishedRun r;
  r.name = std::move(name);
  r.model = std::move(model);
  r.hardware = std::move(hardware);
  r.gpus = gpus;
  r.tokens = tokens;
  return r;
}

std::vector<PublishedRun> runs() {
  std::vector<PublishedRun> r;
  {
    PublishedRun x = run_of("Megatron-LM, GPT 1T", (kData / "models" / "megatron-1t.json").string(), "a100.json", 3072, 450e9);
    x.choice.tp = 8;
    x.choice.pp = 64;
    x.choice.recompute = Recompute::full;
    x.nic_gbps = 200;
    x.metric = Metric::megatron_tflops;
    x.published = 163;
    x.source = "Narayanan et al. 2021 (arXiv:2104.04473), Table 1: 163 TFLOP/s per GPU, 52 % of 312; tp 8, pp 64, "
               "batch 3072, activation recomputation; Selene, 8x 200 Gb/s HDR per node";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("Megatron-LM, GPT-3 175B", "gpt3-175b", "a100.json", 1536, 300e9);
    x.global_batch = 1536;
    x.choice.recompute = Recompute::full;
    x.nic_gbps = 200;
    x.metric = Metric::megatron_tflops;
    x.published = 141;
    x.source = "Narayanan et al. 2021, Table 2 (PTD-P at 1,536 GPUs, batch 1,536): 141 TFLOP/s per GPU, as a secondary "
               "summary of the paper gives it; the layout is not given there: searched";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("MegaScale, 175B", "gpt3-175b", "a100.json", 12288, 300e9);
    x.global_batch = 6144;
    x.metric = Metric::mfu;
    x.published = 0.552;
    x.source = "Jiang et al., MegaScale, NSDI'24 (arXiv:2402.15627), abstract: 55.2 % MFU on 12,288 GPUs (Ampere); the "
               "batch (6,144) and the layout are not confirmed here: batch as we read Table 2, layout searched";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("Llama 3 405B, 8K GPUs", "llama3-405b", "h100.json", 8192, 15.6e12);
    x.choice.tp = 8;
    x.choice.pp = 16;
    x.nic_gbps = 400;
    x.metric = Metric::model_tflops;
    x.published = 430;
    x.source = "Grattafiori et al. 2024 (arXiv:2407.21783), Table 4: 8,192 H100, tp 8, pp 16, dp 64, 16M tokens of "
               "8,192, 430 TFLOPs/GPU (43 % BF16 MFU); 400 Gb/s RoCE per GPU";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("Llama 3 405B, 16K GPUs", "llama3-405b", "h100.json", 16384, 15.6e12);
    x.choice.tp = 8;
    x.choice.pp = 16;
    x.nic_gbps = 400;
    x.metric = Metric::model_tflops;
    x.published = 400;
    x.source = "Llama 3 paper, Table 4: 16,384 H100, dp 128, 400 TFLOPs/GPU (41 %)";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("DeepSeek-V3 pre-training", "deepseek-v3", "h800.json", 2048, 14.8e12);
    x.choice.tp = 1;
    x.choice.pp = 16;
    x.choice.ep = 64;
    x.nic_gbps = 400;
    x.dtype = "fp8";
    x.metric = Metric::gpu_hours;
    x.published = 2.664e6;
    x.source = "DeepSeek-V3 report (arXiv:2412.19437), Table 1: 2,664K H800 GPU-hours of pre-training on 14.8T tokens; "
               "2,048 H800, pp 16, ep 64 over 8 nodes, ZeRO-1 data parallel, FP8";
    r.push_back(x);
  }
  {
    PublishedRun x = run_of("Llama 3 405B, model card", "llama3-405b", "h100.json", 16384, 15.6e12);
    x.choice.tp = 8;
    x.choice.pp = 16;
    x.nic_gbps = 400;
    x.metric = Metric::gpu_hours;
    x.published = 30.84e6;
    x.source = "Meta's Llama 3.1 model card: 30.84M H100 GPU-hours for 405B; the card's total covers the whole training "
               "(long-context stage and restarts included), so this row is context, not in the overall error";
    x.in_overall = false;
    r.push_back(x);
  }
  return r;
}

// FLOPs per token in the convention of each published figure.
double megatron_eq3_per_token(const ModelSpec& m) {
  const double s = static_cast<double>(m.seq_len), l = static_cast<double>(m.layers), h = static_cast<double>(m.hidden),
               v = static_cast<double>(m.vocab);
  // Eq. 3 is F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) per batch of B sequences of s tokens.
  return 96 * l * h * h * (1 + s / (6 * h) + v / (16 * l * h));
}

struct Outcome {
  PublishedRun run;
  std::string layout;
  double predicted = 0, six_nd = 0;
  double error() const { return (predicted - run.published) / run.published; }
  double six_nd_error() const { return (six_nd - run.published) / run.published; }
};

Outcome predict(const PublishedRun& run) {
  const ModelSpec m = load_model(run.model);
  const Candidate c = load_candidate(run.hardware, {load_result_file(kData / run.hardware)}, {});
  EXPECT_TRUE(c.fixture) << run.hardware;
  Assumptions a;
  a.dtype = run.dtype;
  a.nic_gbps = run.nic_gbps;
  const Network net = network_of(c, a);
  const Training t =
      train(m, c, net, run.tokens, run.gpus, global_batch_of(m, run.global_batch), run.choice, a, EnergyOptions{});
  const StepEstimate& e = t.search.best;
  const double gpus = static_cast<double>(run.gpus);
  const double model_per_token = 3 * forward_flops_per_token(m);
  const double six_n = six_n_flops_per_token(m);
  Outcome o{run, e.layout.describe()};
  switch (run.metric) {
    case Metric::megatron_tflops: {
      const double per_token = megatron_eq3_per_token(m);
      o.predicted = per_token * e.tokens_per_s / gpus / 1e12;
      o.six_nd = six_n * e.tokens_per_s / gpus / 1e12;
      break;
    }
    case Metric::model_tflops:
      o.predicted = model_per_token * e.tokens_per_s / gpus / 1e12;
      o.six_nd = six_n * e.tokens_per_s / gpus / 1e12;
      break;
    case Metric::mfu:
      o.predicted = e.mfu_bf16;
      o.six_nd = e.mfu_bf16 * six_n / model_per_token;
      break;
    case Metric::gpu_hours:
      o.predicted = t.gpu_hours;
      // 6 N D at the predicted utilisation: the FLOPs counted by the rule of thumb instead.
      o.six_nd = t.gpu_hours * six_n / model_per_token;
      break;
  }
  return o;
}

std::string metric_text(Metric m, double v) {
  switch (m) {
    case Metric::megatron_tflops: return sig3(v) + " TFLOP/s (Eq. 3)";
    case Metric::model_tflops: return sig3(v) + " TFLOP/s";
    case Metric::mfu: return sig3(100 * v) + " % MFU";
    case Metric::gpu_hours: return sig3(v / 1e6) + "M GPU-h";
  }
  return "";
}

std::string signed_pct(double x) { return (x >= 0 ? "+" : "") + sig3(100 * x) + " %"; }

TEST(SizingValidation, PublishedRunsWithinTheStatedError) {
  std::vector<Outcome> outcomes;
  for (const PublishedRun& run : runs()) outcomes.push_back(predict(run));
  std::ofstream table(AICBENCH_SIZING_TABLE);
  table << "| run | hardware (fixture) | published | predicted | error | layout (searched where not published) | 6·N·D at "
           "the predicted speed | its error |\n|---|---|---|---|---|---|---|---|\n";
  std::vector<double> errors;
  for (const Outcome& o : outcomes) {
    table << "| " << o.run.name << (o.run.in_overall ? "" : " (context)") << " | " << o.run.gpus << "x "
          << o.run.hardware << " | " << metric_text(o.run.metric, o.run.published) << " | "
          << metric_text(o.run.metric, o.predicted) << " | " << signed_pct(o.error()) << " | " << o.layout << " | "
          << metric_text(o.run.metric, o.six_nd) << " | " << signed_pct(o.six_nd_error()) << " |\n";
    if (o.run.in_overall) {
      errors.push_back(std::abs(o.error()));
      EXPECT_LT(std::abs(o.error()), 0.35) << o.run.name << ": " << o.predicted << " against " << o.run.published;
    }
  }
  std::sort(errors.begin(), errors.end());
  const double median = errors.size() % 2 ? errors[errors.size() / 2]
                                          : (errors[errors.size() / 2 - 1] + errors[errors.size() / 2]) / 2;
  table << "\nOverall (" << errors.size() << " runs, context rows excluded): median |error| " << sig3(100 * median)
        << " %, largest " << sig3(100 * errors.back()) << " %.\n";
  EXPECT_LT(median, 0.10);
  std::cout << "sizing validation table written to " << AICBENCH_SIZING_TABLE << "\n";
}

}  // namespace
}  // namespace aicbench::sizing
