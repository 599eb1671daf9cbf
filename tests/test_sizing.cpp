// The sizing model (reports/sizing*.hpp) on its structures: the presets' shapes against their
// published parameter counts, the work per step (GEMM shapes under tensor and expert parallelism,
// FLOPs), the GEMM rate table's interpolation, the step time of a made-up candidate whose every
// rate is known (so the step can be written down by hand), the pipeline bubble, recomputation,
// memory, the layout search and its refusals, the deadline search, and the library API the score
// command uses. Fixture candidates: specs/procurement/fixtures/ (FIXTURES, not measurements).
#include <cmath>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "reports/result_file.hpp"
#include "reports/sizing.hpp"

namespace aicbench::sizing {
namespace {

namespace fs = std::filesystem;

const fs::path kSpecs = AICBENCH_SPECS_DIR;

Candidate fixture(const std::string& name) {
  return load_candidate(name, {load_result_file(kSpecs / "procurement" / "fixtures" / (name + ".json"))}, {});
}

// A candidate whose GEMMs all run at `tflops` (two points of one rate span every volume the tests
// use), attention at `attention_tflops`, 80 GB, no collective rows.
Candidate flat_candidate(double tflops, double attention_tflops) {
  Candidate c;
  c.name = "flat";
  c.gpu_name = "made up";
  c.peak_tflops = {{"bf16", 1000.0}, {"fp8", 2000.0}};
  c.peak_source = "made up";
  c.memory_bytes = {80e9, Source::measured, "made up"};
  for (const char* dtype : {"bf16", "fp8"}) {
    c.gemm[dtype].add({1, 1, 1, tflops, 500.0, "tiny", "made up"});
    c.gemm[dtype].add({1e6, 1e6, 1e6, tflops, 500.0, "huge", "made up"});
  }
  for (int64_t s : {1024, 65536}) c.attention.push_back({s, 128, true, attention_tflops, "attention", "made up"});
  return c;
}

void expect_near_rel(double actual, double expected, double rel, const std::string& what) {
  EXPECT_NEAR(actual, expected, std::abs(expected) * rel) << what;
}

TEST(SizingModel, PresetsMatchTheirPublishedParameterCounts) {
  const std::vector<std::string> presets = model_presets();
  for (const char* name : {"llama3-8b", "llama3-70b", "llama3-405b", "gpt3-175b", "deepseek-v3"}) {
    ASSERT_NE(std::find(presets.begin(), presets.end(), name), presets.end()) << name;
    const ModelSpec m = load_model(name);
    const ParamCount p = count_params(m);
    ASSERT_TRUE(m.published_total) << name;
    expect_near_rel(p.total, *m.published_total, 0.015, std::string(name) + " total parameters");
    if (m.published_active) expect_near_rel(p.active, *m.published_active, 0.03, std::string(name) + " active parameters");
  }
}

TEST(SizingModel, ForwardFlopsAreTwiceTheWeightsPlusCausalAttention) {
  const ModelSpec m = load_model("llama3-70b");
  const ParamCount p = count_params(m);
  // Every weight but the embedding's does one multiply-add per token; attention 2 H S (d_qk + d_v)
  // per token and layer, halved for the causal mask.
  const double attention = m.layers * 2.0 * m.heads * m.seq_len * (2.0 * m.head_dim) / 2;
  expect_near_rel(forward_flops_per_token(m), 2 * (p.active - p.embedding - m.layers * p.norms) + attention, 1e-9,
                  "forward FLOPs per token");
  // The 6N rule leaves attention out: for 70B at 8K about 7 % below the count from the shapes.
  EXPECT_LT(six_n_flops_per_token(m), 3 * forward_flops_per_token(m));
  EXPECT_GT(six_n_flops_per_token(m), 0.85 * 3 * forward_flops_per_token(m));
}

TEST(SizingModel, GemmShapesFollowTensorAndExpertParallelism) {
  const ModelSpec llama = load_model("llama3-70b");
  const BlockWork w = block_work(llama, BlockKind::dense, {8, 1, 2});
  auto find = [&](const BlockWork& b, const std::string& name) {
    for (const Gemm& g : b.gemms) {
      if (g.name == name) return g;
    }
    ADD_FAILURE() << name;
    return Gemm{};
  };
  const Gemm qkv = find(w, "qkv");
  EXPECT_EQ(qkv.m, 2 * 8192);                   // two sequences of 8192 tokens
  EXPECT_EQ(qkv.n, (64 / 8 + 2 * 1) * 128);     // 8 query heads and one KV head pair per rank
  EXPECT_EQ(qkv.k, 8192);
  EXPECT_EQ(find(w, "attn_out").k, 64 * 128 / 8);
  EXPECT_EQ(find(w, "mlp_up_gate").n, 2 * 28672 / 8);
  EXPECT_EQ(find(w, "mlp_down").k, 28672 / 8);
  EXPECT_EQ(w.attention.heads, 8);
  EXPECT_EQ(lm_head_gemm(llama, {8, 1, 2}).n, 128256.0 / 8);

  // DeepSeek-V3 on tp=1, ep=64: a rank holds 256/64 = 4 experts, each with its share of the 64
  // ranks' tokens times 8 experts per token over 256 experts.
  const ModelSpec ds = load_model("deepseek-v3");
  const BlockWork moe = block_work(ds, BlockKind::moe, {1, 64, 1});
  const Gemm up = find(moe, "expert_up_gate");
  EXPECT_EQ(up.count, 4);
  EXPECT_DOUBLE_EQ(up.m, 4096.0 * 64 * 8 / 256);
  EXPECT_EQ(up.n, 2 * 2048);
  EXPECT_EQ(moe.attention.qk_dim, 192);
  EXPECT_EQ(moe.attention.v_dim, 128);
  // Whatever the split, a rank's expert work is its tokens' k experts.
  const BlockWork moe8 = block_work(ds, BlockKind::moe, {1, 8, 1});
  expect_near_rel(find(moe8, "expert_up_gate").flops(), up.flops(), 1e-12, "expert FLOPs do not depend on ep");
}

TEST(SizingModel, ModelFilesAreCheckedAndNamed) {
  try {
    load_model("llama3-7b");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--model llama3-7b"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("llama3-8b"), std::string::npos) << e.what();
  }
  nlohmann::json j = nlohmann::json::parse(R"({"name": "x", "description": "d", "source": "s", "layers": 2, "hidden": 64,
      "heads": 4, "kv_heads": 3, "head_dim": 16, "ffn_hidden": 128, "mlp": "gated", "vocab": 100, "seq_len": 16})");
  try {
    parse_model(j, "x.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kv_heads"), std::string::npos) << e.what();
  }
  j.erase("kv_heads");
  try {
    parse_model(j, "x.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kv_heads"), std::string::npos) << e.what();
  }
}

TEST(SizingHardware, GemmRatesAreInterpolatedInLogVolumeAndClamped) {
  GemmTable t;
  t.add({1024, 1024, 1024, 100, std::nullopt, "a", "f"});
  t.add({4096, 4096, 4096, 400, std::nullopt, "b", "f"});
  EXPECT_EQ(t.rate(1024, 1024, 1024).source, Source::measured);
  EXPECT_DOUBLE_EQ(t.rate(4096, 4096, 4096).value, 400);
  // 2048^3 is halfway in log volume.
  const Rate mid = t.rate(2048, 2048, 2048);
  EXPECT_EQ(mid.source, Source::interpolated);
  EXPECT_NEAR(mid.value, 250, 1e-9);
  // Above: the largest's rate; below: the smallest's time.
  EXPECT_EQ(t.rate(8192, 8192, 8192).source, Source::clamped);
  EXPECT_DOUBLE_EQ(t.rate(8192, 8192, 8192).value, 400);
  EXPECT_NEAR(t.rate(512, 512, 512).value, 100.0 / 8, 1e-9);
}

TEST(SizingHardware, FixturesAreReadAsFlaggedCandidates) {
  const Candidate h100 = fixture("h100_sxm");
  EXPECT_TRUE(h100.fixture);
  EXPECT_NE(h100.fixture_note.find("NOT A MEASUREMENT"), std::string::npos);
  EXPECT_DOUBLE_EQ(h100.peak("bf16"), 989.4);
  EXPECT_FALSE(h100.gemm.at("bf16").empty());
  EXPECT_FALSE(h100.gemm.at("fp8").empty());
  EXPECT_FALSE(h100.attention.empty());
  EXPECT_FALSE(h100.collectives.points.empty());
  const auto power = h100.power("bf16");
  ASSERT_TRUE(power);
  EXPECT_EQ(power->source, Source::measured);
  EXPECT_LE(power->value, 700);
  const Rate attention = attention_rate(h100, 8192, 128, 0.5);
  EXPECT_EQ(attention.source, Source::measured);
  // Without attention rows the fallback is a stated fraction of the GEMM rate, flagged as derived.
  Candidate bare = h100;
  bare.attention.clear();
  const Rate fallback = attention_rate(bare, 8192, 128, 0.5);
  EXPECT_EQ(fallback.source, Source::derived);
  EXPECT_DOUBLE_EQ(fallback.value, 0.5 * bare.gemm.at("bf16").max_tflops());
}

// One GPU, one stage, no communication: the step is the micro-batches' GEMM and attention time
// plus the stated share of other kernels, which the test writes down from the shapes.
TEST(SizingStep, OneGpuStepIsTheWorkAtTheKnownRates) {
  const ModelSpec m = load_model("llama3-8b");
  const Candidate c = flat_candidate(500, 250);
  Assumptions a;
  const Network net = network_of(c, a);
  const Layout l{1, 1, 1, 1, 1, 1, Recompute::none, 0};
  const StepEstimate e = estimate_step(m, c, net, l, 4, a);
  EXPECT_EQ(e.micro_batches, 4);
  const BlockWork w = block_work(m, BlockKind::dense, {1, 1, 1});
  double gemm_flops = 0;
  for (const Gemm& g : w.gemms) gemm_flops += g.flops();
  gemm_flops = gemm_flops * m.layers + lm_head_gemm(m, {1, 1, 1}).flops();
  const double gemm_s = 3 * gemm_flops / 500e12;  // forward, dgrad, wgrad
  const double attention_s = m.layers * w.attention.forward_flops() * (1 + a.attention_backward) / 250e12;
  const double expected = 4 * (1 + a.other_fraction) * (gemm_s + attention_s);
  expect_near_rel(e.step_time_s, expected, 1e-9, "step time");
  expect_near_rel(e.breakdown.total(), e.step_time_s, 1e-9, "the breakdown adds up");
  EXPECT_EQ(e.breakdown.bubble, 0);
  // MFU: model FLOPs (3x forward) over time and the dense peak.
  expect_near_rel(e.mfu, 3 * forward_flops_per_token(m) * 4 * m.seq_len / (e.step_time_s * 1000e12), 1e-9, "MFU");
}

TEST(SizingStep, PipelineBubbleIsOneF1BsAndRecomputationAddsAForward) {
  const ModelSpec m = load_model("llama3-8b");
  const Candidate c = flat_candidate(500, 250);
  Assumptions a;
  const Network net = network_of(c, a);
  const Layout l{1, 4, 1, 1, 1, 1, Recompute::none, 0};
  const StepEstimate e = estimate_step(m, c, net, l, 16, a);
  ASSERT_EQ(e.micro_batches, 16);
  EXPECT_EQ(e.stage_layers.size(), 4u);
  // bubble / pipeline = (p-1) / (m+p-1)
  const double pipeline = e.step_time_s - e.breakdown.dp_comm;
  expect_near_rel(e.breakdown.bubble / pipeline, 3.0 / (16 + 3), 1e-9, "1F1B bubble");
  const Layout interleaved{1, 4, 1, 1, 1, 2, Recompute::none, 0};
  const StepEstimate i = estimate_step(m, c, net, interleaved, 16, a);
  EXPECT_LT(i.breakdown.bubble, e.breakdown.bubble);
  expect_near_rel(i.breakdown.bubble / (i.step_time_s - i.breakdown.dp_comm),
                  1.5 / (16 + 1.5), 1e-9, "interleaved bubble (p-1)/v");

  const Layout full{1, 4, 1, 1, 1, 1, Recompute::full, 1};
  const StepEstimate r = estimate_step(m, c, net, full, 16, a);
  EXPECT_GT(r.step_time_s, e.step_time_s);
  EXPECT_GT(r.breakdown.recompute, 0);
  EXPECT_LT(r.memory.activations, e.memory.activations);
}

TEST(SizingStep, LayoutsThatCannotBeAreRefusedNamingTheOption) {
  const ModelSpec llama = load_model("llama3-70b");
  const Candidate c = fixture("h100_sxm");
  Assumptions a;
  const Network net = network_of(c, a);
  auto refusal = [&](const ModelSpec& m, const Layout& l, int64_t batch) {
    try {
      estimate_step(m, c, net, l, batch, a);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(refusal(llama, {3, 1, 8, 1, 1, 1, Recompute::none, 0}, 64).find("--tp 3"), std::string::npos);
  EXPECT_NE(refusal(llama, {16, 1, 1, 1, 1, 1, Recompute::none, 0}, 64).find("--tp 16"), std::string::npos);
  EXPECT_NE(refusal(llama, {8, 81, 1, 1, 1, 1, Recompute::none, 0}, 64).find("--pp 81"), std::string::npos);
  EXPECT_NE(refusal(llama, {8, 1, 8, 2, 1, 1, Recompute::none, 0}, 64).find("--ep 2"), std::string::npos);
  EXPECT_NE(refusal(llama, {8, 1, 8, 1, 1, 1, Recompute::none, 0}, 5).find("--global-batch"), std::string::npos);
  const ModelSpec ds = load_model("deepseek-v3");
  EXPECT_NE(refusal(ds, {1, 16, 8, 3, 1, 1, Recompute::none, 0}, 64).find("--ep 3"), std::string::npos);
}

TEST(SizingSearch, SeventyBOnTenThousandGpusFitsAndTheDeadlineSearchIsTight) {
  const ModelSpec m = load_model("llama3-70b");
  const Candidate c = fixture("h100_sxm");
  Assumptions a;
  const Network net = network_of(c, a);
  const Training t = train(m, c, net, 15e12, 10000, global_batch_of(m, std::nullopt), {}, a, {});
  const StepEstimate& e = t.search.best;
  EXPECT_TRUE(e.memory.fits());
  EXPECT_EQ(e.layout.gpus(), 10000);
  EXPECT_GT(t.search.fit, 1u);
  EXPECT_GT(e.mfu, 0.2);
  EXPECT_LT(e.mfu, 0.75);
  EXPECT_GT(t.days, 5);
  EXPECT_LT(t.days, 60);
  expect_near_rel(t.days * 86400 * e.tokens_per_s, 15e12, 1e-9, "days x tokens per second");
  ASSERT_TRUE(t.energy);
  expect_near_rel(t.energy->mwh, t.energy->power_w.value * 10000 * t.days * 86400 / 3.6e9, 1e-9, "MWh");

  const Deadline d = gpus_for_deadline(m, c, net, 15e12, 90, global_batch_of(m, std::nullopt), {}, a, {});
  ASSERT_TRUE(d.needed) << d.why_not;
  EXPECT_LE(d.needed->days, 90);
  EXPECT_EQ(d.needed->gpus % 8, 0);
  // One node fewer does not make it (or has no layout).
  bool fewer_makes_it = false;
  try {
    fewer_makes_it = train(m, c, net, 15e12, d.needed->gpus - 8, global_batch_of(m, std::nullopt), {}, a, {}).days <= 90;
  } catch (const InputError&) {
  }
  EXPECT_FALSE(fewer_makes_it);
}

TEST(SizingSearch, WhatCannotFitIsRefusedWithTheClosestLayout) {
  const ModelSpec m = load_model("llama3-405b");
  const Candidate c = fixture("h100_sxm");
  Assumptions a;
  const Network net = network_of(c, a);
  try {
    search_layout(m, c, net, 8, 64, {}, a);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no layout of 8 GPUs fits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GB per GPU"), std::string::npos) << e.what();
  }
}

TEST(SizingSearch, MoreMemoryAndFasterGemmsNeverCostGpus) {
  const ModelSpec m = load_model("llama3-70b");
  Assumptions a;
  const int64_t batch = global_batch_of(m, std::nullopt);
  auto needed = [&](const Candidate& c) {
    const Deadline d = gpus_for_deadline(m, c, network_of(c, a), 15e12, 90, batch, {}, a, {});
    EXPECT_TRUE(d.needed);
    return d.needed ? d.needed->gpus : 0;
  };
  const int64_t h100 = needed(fixture("h100_sxm"));
  EXPECT_LE(needed(fixture("h200")), h100);  // the same rates, more memory
  EXPECT_LT(needed(fixture("b200")), h100);
}

TEST(SizingApi, TrainingCapacityIsTheSearchsBestStep) {
  const ModelSpec m = load_model("llama3-8b");
  const Candidate c = fixture("b200");
  const Capacity cap = training_capacity(m, c, 1024);
  EXPECT_GT(cap.tokens_per_s, 0);
  expect_near_rel(cap.tokens_per_day, cap.tokens_per_s * 86400, 1e-12, "tokens per day");
  EXPECT_DOUBLE_EQ(cap.mfu, cap.step.mfu);
  EXPECT_EQ(cap.step.layout.gpus(), 1024);
  // fp8 GEMMs are faster on the fixture, and MFU is then quoted against the fp8 peak.
  Assumptions fp8;
  fp8.dtype = "fp8";
  const Capacity fast = training_capacity(m, c, 1024, fp8);
  EXPECT_GT(fast.tokens_per_s, cap.tokens_per_s);
  expect_near_rel(fast.step.mfu_bf16, 2 * fast.step.mfu, 1e-9, "fp8 peak is twice bf16's on B200");
}

TEST(SizingApi, MixtureOfExpertsSizesWithExpertParallelism) {
  const ModelSpec m = load_model("deepseek-v3");
  const Candidate c = fixture("h100_sxm");
  Assumptions a;
  a.dtype = "fp8";
  const Network net = network_of(c, a);
  const Layout l{1, 16, 128, 64, 1, 1, Recompute::partial, 0};
  const StepEstimate e = estimate_step(m, c, net, l, 15360, a);
  EXPECT_GT(e.breakdown.ep_comm, 0);
  EXPECT_TRUE(e.memory.fits());
  bool dispatch = false;
  for (const CommUse& u : e.comms) dispatch |= u.name == "ep all-to-all dispatch";
  EXPECT_TRUE(dispatch);
  Assumptions hidden = a;
  hidden.ep_overlap = 1;
  EXPECT_EQ(estimate_step(m, c, net, l, 15360, hidden).breakdown.ep_comm, 0);
}

}  // namespace
}  // namespace aicbench::sizing
