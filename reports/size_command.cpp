// aicbench size --model M --tokens D --candidate [NAME=]FILE... [--gpus N] [--deadline-days T] ...
//
// The sizing model (docs/sizing.md): for a transformer trained on D tokens, per candidate GPU the
// step time built from its own measured results, the parallel layout (searched where not given),
// MFU, days on N GPUs, GPUs needed for a deadline, energy and its cost, and where the step time
// goes. Exit 0; 2 bad usage or input, naming the option, file or field.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "reports/cli_common.hpp"
#include "reports/output_paths.hpp"
#include "reports/result_file.hpp"
#include "reports/sizing.hpp"
#include "reports/sizing_render.hpp"
#include "reports/text_format.hpp"

namespace aicbench::cli {

namespace {

using namespace aicbench::sizing;

constexpr int64_t kMaxGpus = int64_t{1} << 24;
constexpr double kMaxTokens = 1e18;

constexpr const char* kUsage =
    "usage: aicbench size --model NAME|PATH --tokens D --candidate [NAME=]FILE [--candidate [NAME=]FILE]...\n"
    "                     (--gpus N | --deadline-days T | both) [--global-batch SEQS] [--dtype bf16|fp8]\n"
    "                     [--tp T] [--pp P] [--ep E] [--micro-batch B] [--virtual-stages V] [--recompute none|partial|full]\n"
    "                     [--pue X] [--won-per-kwh X] [--json] [--md F] [--html F]";

cxxopts::Options size_options() {
  cxxopts::Options options(
      "aicbench size",
      "Sizes the training of a transformer on a candidate's GPUs from the candidate's own measured results: step time and "
      "where it goes, MFU, days on N GPUs, GPUs for a deadline, energy. See docs/sizing.md.");
  options.add_options()
      ("model", "a preset (specs/models/: llama3-8b, llama3-70b, llama3-405b, gpt3-175b, deepseek-v3) or a model file",
       cxxopts::value<std::string>())
      ("tokens", "training tokens D, e.g. 15e12", cxxopts::value<std::string>())
      ("candidate", "[NAME=]FILE: a candidate's result file; repeatable (or comma-separated); entries with the same NAME are "
       "one candidate's files, a FILE without NAME is a candidate of its own",
       cxxopts::value<std::vector<std::string>>())
      ("gpus", "GPUs to train on: gives days, MFU, energy", cxxopts::value<std::string>())
      ("deadline-days", "days to finish in: gives the GPUs needed", cxxopts::value<std::string>())
      ("gpus-per-node", "GPUs per node (default 8)", cxxopts::value<std::string>())
      ("global-batch", "sequences per step (default: the model file's)", cxxopts::value<std::string>())
      ("dtype", "the blocks' GEMM dtype: bf16 (default) or fp8", cxxopts::value<std::string>())
      ("tp", "tensor-parallel size (default: searched)", cxxopts::value<std::string>())
      ("pp", "pipeline-parallel size (default: searched)", cxxopts::value<std::string>())
      ("ep", "expert-parallel size, MoE models (default: searched)", cxxopts::value<std::string>())
      ("micro-batch", "sequences per micro-batch (default: searched among 1, 2, 4, 8)", cxxopts::value<std::string>())
      ("virtual-stages", "interleaved pipeline chunks per GPU (default: searched among 1, 2, 4)", cxxopts::value<std::string>())
      ("recompute", "activation recomputation: none, partial (the fewest blocks that fit) or full (default: searched, "
       "none where it fits)", cxxopts::value<std::string>())
      ("gemm-impl", "GEMM rows used: vendor (default), best, or an implementation", cxxopts::value<std::string>())
      ("pue", "power usage effectiveness of the facility (default 1.0)", cxxopts::value<std::string>())
      ("won-per-kwh", "electricity price: gives the energy cost", cxxopts::value<std::string>())
      ("nic-gbps", "network bandwidth per GPU across nodes, Gb/s (default: the collective model's 400, assumed)",
       cxxopts::value<std::string>())
      ("nic-latency-us", "latency per step across nodes, us (default: the collective model's 5, assumed)",
       cxxopts::value<std::string>())
      ("other-pct", "non-GEMM, non-attention kernel time, % of GEMM + attention (default 10)", cxxopts::value<std::string>())
      ("attention-fraction", "attention rate without attention rows, of the fastest bf16 GEMM rate (default 0.5)",
       cxxopts::value<std::string>())
      ("tp-overlap", "share of tensor-parallel communication hidden, 0 to 1 (default 0)", cxxopts::value<std::string>())
      ("ep-overlap", "share of expert all-to-all hidden, 0 to 1 (default 0)", cxxopts::value<std::string>())
      ("no-dp-overlap", "data-parallel communication not overlapped with the first forward and last backward")
      ("grad-bytes", "bytes per gradient value reduce-scattered: 2 or 4 (default 4)", cxxopts::value<std::string>())
      ("memory-reserve-pct", "% of each GPU's memory kept free (default 10)", cxxopts::value<std::string>())
      ("batch-tolerance-pct", "how far the global batch may move to fit the layout, % (default 10)",
       cxxopts::value<std::string>())
      ("json", "print JSON instead of Markdown")
      ("md", "write the Markdown here as well", cxxopts::value<std::string>())
      ("html", "write a self-contained HTML page here", cxxopts::value<std::string>());
  return options;
}

std::optional<std::string> value(const cxxopts::ParseResult& r, const std::string& name) {
  if (!r.count(name)) return std::nullopt;
  return r[name].as<std::string>();
}

// The --candidate entries grouped into candidates: "NAME=FILE" entries sharing a NAME are one
// candidate's files (a node's several result files); a FILE without NAME is a candidate of its
// own, named after its datasheet's SKU, else its GPU. (cxxopts splits a value at commas, so
// "A=x.json,y.json" is the two entries "A=x.json" and "y.json": repeat the name instead.)
struct CandidateArg {
  std::string name;
  std::vector<std::string> files;
};
std::vector<CandidateArg> group_candidates(const std::vector<std::string>& entries) {
  std::vector<CandidateArg> out;
  for (const std::string& entry : entries) {
    std::string name, file = entry;
    if (const size_t equals = entry.find('='); equals != std::string::npos) {
      name = entry.substr(0, equals);
      file = entry.substr(equals + 1);
      if (name.empty()) throw InputError("--candidate " + entry + ": the name before '=' is empty");
    }
    if (file.empty()) throw InputError("--candidate " + entry + ": expected [NAME=]FILE");
    auto same = std::find_if(out.begin(), out.end(), [&](const CandidateArg& c) { return !name.empty() && c.name == name; });
    if (same != out.end()) same->files.push_back(file);
    else out.push_back({name, {file}});
  }
  return out;
}

}  // namespace

int size_command(int argc, char** argv) {
  cxxopts::Options options = size_options();
  auto parsed = parse_options(options, argc, argv);
  if (!parsed) return 0;
  const cxxopts::ParseResult& r = *parsed;
  for (const char* required : {"model", "tokens", "candidate"}) {
    if (!r.count(required)) throw InputError(std::string("--") + required + " is required\n" + kUsage);
  }
  if (!r.count("gpus") && !r.count("deadline-days")) {
    throw InputError(std::string("--gpus or --deadline-days is required (days on N GPUs, or GPUs for a deadline)\n") + kUsage);
  }

  SizeReport report;
  report.model = load_model(r["model"].as<std::string>());
  report.tokens = parse_number("tokens", r["tokens"].as<std::string>(), 0, kMaxTokens, true);
  if (auto t = value(r, "gpus")) report.gpus = parse_integer("gpus", *t, 1, kMaxGpus);
  if (auto t = value(r, "deadline-days")) report.deadline_days = parse_number("deadline-days", *t, 0, 1e5, true);

  Assumptions& a = report.assumptions;
  if (auto t = value(r, "gpus-per-node")) a.gpus_per_node = parse_integer("gpus-per-node", *t, 1, 1024);
  if (auto t = value(r, "dtype")) {
    if (*t != "bf16" && *t != "fp8") throw InputError("--dtype " + *t + ": expected bf16 or fp8");
    a.dtype = *t;
  }
  if (auto t = value(r, "other-pct")) a.other_fraction = parse_number("other-pct", *t, 0, 1000, false) / 100;
  if (auto t = value(r, "attention-fraction")) a.attention_fallback = parse_number("attention-fraction", *t, 0, 1, true);
  if (auto t = value(r, "tp-overlap")) a.tp_overlap = parse_number("tp-overlap", *t, 0, 1, false);
  if (auto t = value(r, "ep-overlap")) a.ep_overlap = parse_number("ep-overlap", *t, 0, 1, false);
  if (r.count("no-dp-overlap")) a.dp_overlap = false;
  if (auto t = value(r, "grad-bytes")) {
    a.grad_bytes = static_cast<double>(parse_integer("grad-bytes", *t, 2, 4));
    if (a.grad_bytes == 3) throw InputError("--grad-bytes 3: expected 2 (bf16) or 4 (fp32)");
  }
  if (auto t = value(r, "memory-reserve-pct")) a.memory_reserve = parse_number("memory-reserve-pct", *t, 0, 90, false) / 100;
  if (auto t = value(r, "batch-tolerance-pct")) a.batch_tolerance = parse_number("batch-tolerance-pct", *t, 0, 100, false) / 100;
  if (auto t = value(r, "nic-gbps")) a.nic_gbps = parse_number("nic-gbps", *t, 0, 1e6, true);
  if (auto t = value(r, "nic-latency-us")) a.nic_latency_us = parse_number("nic-latency-us", *t, 0, 1e6, false);

  LayoutChoice& choice = report.choice;
  if (auto t = value(r, "tp")) choice.tp = parse_integer("tp", *t, 1, 1024);
  if (auto t = value(r, "pp")) choice.pp = parse_integer("pp", *t, 1, 1 << 20);
  if (auto t = value(r, "ep")) choice.ep = parse_integer("ep", *t, 1, 1 << 20);
  if (auto t = value(r, "micro-batch")) choice.micro_batch = parse_integer("micro-batch", *t, 1, 1 << 20);
  if (auto t = value(r, "virtual-stages")) choice.virtual_stages = parse_integer("virtual-stages", *t, 1, 1024);
  if (auto t = value(r, "recompute")) {
    if (*t != "none" && *t != "partial" && *t != "full") {
      throw InputError("--recompute " + *t + ": expected none, partial or full");
    }
    choice.recompute = *t == "full" ? Recompute::full : *t == "partial" ? Recompute::partial : Recompute::none;
  }
  if (choice.ep && !report.model.moe && *choice.ep != 1) {
    throw InputError("--ep " + std::to_string(*choice.ep) + ": the model " + report.model.name + " has no experts");
  }

  std::optional<int64_t> batch_option;
  if (auto t = value(r, "global-batch")) batch_option = parse_integer("global-batch", *t, 1, int64_t{1} << 40);
  report.global_batch = global_batch_of(report.model, batch_option);
  report.global_batch_source = batch_option ? "--global-batch" : report.model.global_batch_source;

  report.energy.pue = 1.0;
  if (auto t = value(r, "pue")) report.energy.pue = parse_number("pue", *t, 1, 10, false);
  if (auto t = value(r, "won-per-kwh")) report.energy.won_per_kwh = parse_number("won-per-kwh", *t, 0, 1e9, false);

  CandidateOptions candidate_options;
  if (auto t = value(r, "gemm-impl")) candidate_options.gemm_impl = *t;

  // Outputs are refused before anything is read if one would overwrite an input.
  std::vector<std::string> inputs;
  const std::vector<CandidateArg> args = group_candidates(r["candidate"].as<std::vector<std::string>>());
  for (const CandidateArg& arg : args) inputs.insert(inputs.end(), arg.files.begin(), arg.files.end());
  std::vector<reports::OutputPath> outputs;
  for (const char* option : {"md", "html"}) {
    if (r.count(option)) outputs.push_back({std::string("--") + option, r[option].as<std::string>()});
  }
  reports::check_output_paths({inputs.begin(), inputs.end()}, outputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (reports::same_file(inputs[i], inputs[j])) {
        throw InputError(inputs[i] + " is given twice (as " + inputs[j] + "); each result file belongs to one candidate");
      }
    }
  }

  for (const CandidateArg& arg : args) {
    std::vector<ResultFile> files;
    for (const std::string& path : arg.files) files.push_back(load_result_file(path));
    CandidateSizing cs;
    std::string name = arg.name;
    cs.candidate = load_candidate(name.empty() ? "?" : name, files, candidate_options);
    if (name.empty()) {
      cs.candidate.name = cs.candidate.datasheet ? cs.candidate.datasheet->sku : cs.candidate.gpu_name;
    }
    cs.network = network_of(cs.candidate, a);
    if (report.gpus) {
      if (*report.gpus % a.gpus_per_node != 0 && *report.gpus > a.gpus_per_node) {
        throw InputError("--gpus " + std::to_string(*report.gpus) + ": not a whole number of " +
                         std::to_string(a.gpus_per_node) + "-GPU nodes (--gpus-per-node)");
      }
      cs.at_gpus = train(report.model, cs.candidate, cs.network, report.tokens, *report.gpus, report.global_batch, choice, a,
                         report.energy);
    }
    if (report.deadline_days) {
      cs.deadline = gpus_for_deadline(report.model, cs.candidate, cs.network, report.tokens, *report.deadline_days,
                                      report.global_batch, choice, a, report.energy);
    }
    report.candidates.push_back(std::move(cs));
  }

  const std::string markdown = render_markdown(report);
  for (const reports::OutputPath& out : outputs) {
    write_file_atomically(out.path, out.option == "--md" ? markdown : render_html(report));
    std::cerr << "aicbench size: wrote " << out.path.string() << "\n";
  }
  std::cout << (r.count("json") ? to_json(report).dump(2) + "\n" : markdown);
  return 0;
}

}  // namespace aicbench::cli
