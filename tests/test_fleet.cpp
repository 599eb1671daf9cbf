// aicbench fleet on generated fleets (tests/fleet_generator.hpp): every planted node named with its
// reason and few others; identical values (MAD 0) make no outlier; repetitions fold into their
// median; time where there is no throughput; provenance needs a majority; the renderings carry the
// verdicts; the command end to end (exit codes, outputs, charts with and without gnuplot).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/fleet.hpp"
#include "reports/fleet_render.hpp"
#include "reports/result_file.hpp"
#include "tests/fleet_generator.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench::fleet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FleetSpec;
using testing::GeneratedFleet;
using testing::Plant;

// A real result file of `aicbench run --backend cpu --suite smoke --repetitions 3`: 6 benchmarks
// (3 shapes, cold and hot), 3 repetitions each, with their aggregates.
const fs::path kTemplate = fs::path(AICBENCH_TEST_DATA_DIR) / "result-cpu-smoke-repetitions.json";

const json& template_json() {
  static const ResultFile file = load_result_file(kTemplate);
  return file.json;
}

FleetReport analyse(const GeneratedFleet& fleet, const FleetOptions& options = {}) {
  FleetCollector collector;
  for (const fs::path& path : fleet.files) collector.add(load_result_file(path));
  return analyse_fleet(collector, options);
}

Reason expected_reason(Plant plant) {
  switch (plant) {
    case Plant::slow: return Reason::slow;
    case Plant::failing:
    case Plant::erroring: return Reason::failing;
    case Plant::hot: return Reason::hot;
    case Plant::throttled: return Reason::throttled;
    case Plant::missing_gpu:
    case Plant::missing_benchmark: return Reason::missing;
    case Plant::odd_driver: return Reason::odd_provenance;
  }
  return Reason::slow;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Fleet : public ::testing::Test {
 protected:
  aicbench::testing::TestDir dir_;
};

TEST_F(Fleet, EveryPlantedNodeIsNamedWithItsReasonAndFewOthers) {
  size_t false_positives = 0, nodes = 0;
  for (uint64_t seed : {1, 2}) {
    FleetSpec spec;
    spec.nodes = 100;
    spec.gpus_per_node = 4;
    spec.seed = seed;
    for (Plant kind : testing::kAllPlants) spec.plants[kind] = 2;
    const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_ / ("seed" + std::to_string(seed)));
    const FleetReport report = analyse(fleet);
    ASSERT_EQ(report.nodes.size(), spec.nodes);
    std::set<std::string> planted;
    for (const auto& p : fleet.planted) {
      planted.insert(p.node);
      const NodeVerdict* verdict = report.outlier(p.node);
      ASSERT_NE(verdict, nullptr) << "seed " << seed << ": planted " << to_string(p.kind) << " on " << p.node
                                  << " is not named";
      const Reason reason = expected_reason(p.kind);
      EXPECT_TRUE(verdict->has(reason)) << p.node << " planted " << to_string(p.kind) << ", named for "
                                        << render_markdown(report);
      // The finding names the planted GPU, except where the plant is the node's.
      if (p.kind != Plant::missing_gpu && p.kind != Plant::odd_driver) {
        const std::string gpu = p.node + ":" + std::to_string(p.gpu);
        const bool named = std::any_of(verdict->findings.begin(), verdict->findings.end(), [&](const Finding& f) {
          return f.reason == reason && std::find(f.gpus.begin(), f.gpus.end(), gpu) != f.gpus.end();
        });
        EXPECT_TRUE(named) << p.node << " planted " << to_string(p.kind) << " on " << gpu;
      }
      if (p.kind == Plant::odd_driver) {
        EXPECT_EQ(verdict->findings.size(), 1u) << "one finding for all of the node's GPUs";
        EXPECT_EQ(verdict->findings.front().gpus.size(), spec.gpus_per_node);
      }
    }
    for (const NodeVerdict& v : report.outliers) {
      if (!planted.count(v.node)) {
        ++false_positives;
        std::cout << "seed " << seed << ": not planted but named: " << v.node << ": "
                  << v.findings.front().detail << "\n";
      }
    }
    nodes += spec.nodes - planted.size();
  }
  std::cout << "false positives: " << false_positives << " of " << nodes << " clean nodes\n";
  EXPECT_LE(false_positives, 2u);
}

TEST_F(Fleet, IdenticalValuesMakeNoOutlier) {
  // Every GPU the same: MAD is 0, sigma falls back to its floor (0.5 % of the median).
  FleetSpec spec;
  spec.nodes = 30;
  spec.gpus_per_node = 2;
  spec.node_sigma = spec.gpu_sigma = spec.noise_sigma = 0;
  spec.telemetry_spread = 0;
  spec.plants[Plant::slow] = 1;
  spec.slow_min = spec.slow_max = 0.02;  // 4 sigma, but only 2 %: not slow
  FleetReport report = analyse(generate_fleet(template_json(), spec, dir_ / "two"));
  for (const Distribution& d : report.distributions) {
    EXPECT_EQ(d.mad, 0) << d.benchmark;
    EXPECT_DOUBLE_EQ(d.sigma, 0.005 * d.median) << d.benchmark;
  }
  EXPECT_TRUE(report.outliers.empty()) << render_markdown(report);

  spec.slow_min = spec.slow_max = 0.08;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_ / "eight");
  report = analyse(fleet);
  ASSERT_EQ(report.outliers.size(), 1u) << render_markdown(report);
  EXPECT_EQ(report.outliers.front().node, fleet.planted.front().node);
  EXPECT_EQ(report.outliers.front().reasons(), std::set<Reason>{Reason::slow});
  EXPECT_NEAR(report.outliers.front().findings.front().z, -0.08 / 0.005, 1e-6) << "8 % below, sigma 0.5 % of the median";
}

TEST_F(Fleet, RepetitionsFoldIntoTheirMedian) {
  FleetSpec spec;
  spec.nodes = 6;
  spec.gpus_per_node = 1;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_.path());
  const FleetReport report = analyse(fleet);
  ASSERT_EQ(report.gpus.size(), 6u);
  // The first GPU's first benchmark: the median of its three repetitions' TFLOP/s.
  const ResultFile file = load_result_file(fleet.files.front());
  const Cell& cell = report.cells.front();
  const Distribution& d = report.distributions[cell.distribution];
  std::vector<double> tflops;
  for (const json& b : file.benchmarks()) {
    if (b.value("run_type", "") == "iteration" && b["run_name"] == d.benchmark) tflops.push_back(b["tflops"].get<double>());
  }
  ASSERT_EQ(tflops.size(), 3u);
  std::sort(tflops.begin(), tflops.end());
  EXPECT_EQ(cell.repetitions, 3u);
  EXPECT_DOUBLE_EQ(cell.value, tflops[1]);
  EXPECT_EQ(d.unit, "TFLOP/s");
  EXPECT_TRUE(d.judged) << "6 GPUs, and 5 are enough to judge";
}

TEST_F(Fleet, TimeWhereThereIsNoThroughput) {
  json tmpl = template_json();
  for (json& b : tmpl["benchmarks"]) {
    for (const char* counter : {"tflops", "gbps", "pct_of_peak", "pct_of_vendor", "tflops_per_w", "gbps_per_w"}) b.erase(counter);
  }
  FleetSpec spec;
  spec.nodes = 40;
  spec.gpus_per_node = 2;
  spec.plants[Plant::slow] = 1;
  const GeneratedFleet fleet = generate_fleet(tmpl, spec, dir_.path());
  const FleetReport report = analyse(fleet);
  for (const Distribution& d : report.distributions) {
    EXPECT_EQ(d.unit, "s");
    EXPECT_FALSE(d.higher_is_better);
  }
  const NodeVerdict* slow = report.outlier(fleet.planted.front().node);
  ASSERT_NE(slow, nullptr) << render_markdown(report);
  ASSERT_TRUE(slow->has(Reason::slow));
  EXPECT_LT(slow->findings.front().z, -3.5) << "slower is negative, for times too";
  EXPECT_GT(slow->findings.front().value, slow->findings.front().fleet) << "a slow GPU takes longer";
}

TEST_F(Fleet, OddProvenanceNeedsAStrictMajority) {
  FleetSpec spec;
  spec.nodes = 20;
  spec.gpus_per_node = 1;
  spec.plants[Plant::odd_driver] = 10;  // half and half: neither is odd
  FleetReport report = analyse(generate_fleet(template_json(), spec, dir_ / "half"));
  for (const NodeVerdict& v : report.outliers) EXPECT_FALSE(v.has(Reason::odd_provenance)) << v.node;
  EXPECT_TRUE(std::any_of(report.notes.begin(), report.notes.end(), [](const std::string& note) {
    return note.find("no majority for versions.driver") != std::string::npos;
  })) << render_markdown(report);

  spec.plants[Plant::odd_driver] = 9;
  report = analyse(generate_fleet(template_json(), spec, dir_ / "nine"));
  size_t odd = 0;
  for (const NodeVerdict& v : report.outliers) odd += v.has(Reason::odd_provenance);
  EXPECT_EQ(odd, 9u);
  EXPECT_EQ(report.majority_environment.at("versions.driver"), spec.driver);
}

TEST_F(Fleet, MissingGpusAgainstWhatMostNodesReport) {
  FleetSpec spec;
  spec.nodes = 12;
  spec.gpus_per_node = 3;
  spec.plants[Plant::missing_gpu] = 1;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_.path());
  const FleetReport report = analyse(fleet);
  EXPECT_EQ(report.usual_gpus_per_node, 3u);
  const NodeVerdict* node = report.outlier(fleet.planted.front().node);
  ASSERT_NE(node, nullptr) << render_markdown(report);
  EXPECT_EQ(node->gpus, 2u);
  ASSERT_TRUE(node->has(Reason::missing));
  EXPECT_TRUE(node->findings.front().gpus.empty()) << "about the node, not one of its GPUs";
  EXPECT_EQ(node->findings.front().detail, "reported 2 GPUs; most nodes report 3");
}

TEST_F(Fleet, AFileWithoutRowsIsAGpuMissingEveryBenchmark) {
  FleetSpec spec;
  spec.nodes = 10;
  spec.gpus_per_node = 2;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_.path());
  // The run on node-0004's second GPU stopped before its first benchmark was written.
  const fs::path stopped = fleet.files[7];
  json document = load_result_file(stopped).json;
  document["benchmarks"] = json::array();
  document["context"]["aicbench"]["complete"] = false;
  std::ofstream(stopped) << document.dump(2);

  const FleetReport report = analyse(fleet);
  EXPECT_EQ(report.gpus.size(), 20u) << "the GPU is still counted on its node";
  const NodeVerdict* node = report.outlier("node-0004");
  ASSERT_NE(node, nullptr) << render_markdown(report);
  EXPECT_EQ(node->gpus, 2u);
  EXPECT_EQ(node->reasons(), std::set<Reason>{Reason::missing});
  EXPECT_EQ(node->findings.front().gpus, std::vector<std::string>{"node-0004:1"});
  EXPECT_NE(node->findings.front().detail.find("6 of 6 benchmarks"), std::string::npos) << node->findings.front().detail;
  EXPECT_NE(node->findings.front().detail.find("(its run stopped early)"), std::string::npos);
  EXPECT_EQ(report.outliers.size(), 1u) << render_markdown(report);
}

// A small fleet with one slow and one hot node, analysed once for the rendering tests.
class Rendered : public Fleet {
 protected:
  void SetUp() override {
    FleetSpec spec;
    spec.nodes = 30;
    spec.gpus_per_node = 2;
    spec.node_sigma = spec.gpu_sigma = 0.005;
    spec.plants[Plant::slow] = 1;
    spec.plants[Plant::hot] = 1;
    fleet_ = generate_fleet(template_json(), spec, dir_.path());
    report_ = analyse(fleet_);
    slow_gpu_ = fleet_.planted[0].node + ":" + std::to_string(fleet_.planted[0].gpu);
    ASSERT_EQ(fleet_.planted[0].kind, Plant::slow);
  }
  GeneratedFleet fleet_;
  FleetReport report_;
  std::string slow_gpu_;
};

TEST_F(Rendered, MarkdownNamesOutliersWithReasonsThenDistributions) {
  const std::string md = render_markdown(report_);
  EXPECT_NE(md.find("# Fleet: 30 nodes, 60 GPUs, 60 result files"), std::string::npos) << md;
  const size_t outliers = md.find("## Outlier nodes"), distributions = md.find("## Distributions");
  ASSERT_NE(outliers, std::string::npos);
  ASSERT_NE(distributions, std::string::npos);
  EXPECT_LT(outliers, distributions);
  EXPECT_NE(md.find("| " + fleet_.planted[0].node + " | slow |"), std::string::npos) << md;
  EXPECT_NE(md.find("**slow** " + slow_gpu_ + ": slow on 6 of 6 benchmarks"), std::string::npos) << md;
  EXPECT_NE(md.find("| " + fleet_.planted[1].node + " | hot |"), std::string::npos) << md;
}

TEST_F(Rendered, CsvHasOneRowPerGpuAndBenchmark) {
  const std::string text = render_csv(report_);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("node,gpu,uuid,model,benchmark,mode,unit,status,repetitions,value,fleet_median,relative,z,", 0), 0u);
  size_t rows = 0, slow_rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 19) << line;
    if (line.find(slow_gpu_ + ",") != std::string::npos) {
      slow_rows += line.find(",slow,slow") != std::string::npos;
    }
  }
  EXPECT_EQ(rows, 60u * 6u);
  EXPECT_EQ(slow_rows, 6u) << "the slow GPU is slow on each of its 6 benchmarks";
}

TEST_F(Rendered, JsonCarriesEverything) {
  const json doc = json::parse(render_json(report_));
  EXPECT_EQ(doc["fleet"]["gpus"], 60);
  EXPECT_EQ(doc["fleet"]["nodes"], 30);
  ASSERT_EQ(doc["outliers"].size(), report_.outliers.size());
  EXPECT_EQ(doc["distributions"].size(), 6u);
  EXPECT_EQ(doc["gpus"].size(), 60u);
  EXPECT_EQ(doc["gpus"][0]["values"].size(), 6u);
  EXPECT_EQ(doc["options"]["k_sigma"], 3.5);
  bool slow_found = false;
  for (const json& node : doc["outliers"]) {
    for (const json& f : node["findings"]) {
      if (f["reason"] == "slow" && f["gpus"][0] == slow_gpu_) slow_found = f["z"].get<double>() < -3.5;
    }
  }
  EXPECT_TRUE(slow_found) << doc["outliers"].dump(1);
}

TEST_F(Rendered, HtmlDrawsAChartOrSaysWhyNot) {
  std::string script_seen;
  const std::string page = render_html(report_, reports::ChartDrawer{[&](const std::string& script) {
    script_seen = script;
    return std::string("<?xml version='1.0'?>\n<svg id='gnuplot_canvas'><use href='#gpPt0'/></svg>");
  }, ""});
  EXPECT_NE(page.find("<svg id='fleet0-gnuplot_canvas'><use href='#fleet0-gpPt0'/>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<?xml"), std::string::npos);
  EXPECT_NE(script_seen.find("'" + slow_gpu_ + "'"), std::string::npos) << "the slow GPU is named:\n" << script_seen;
  EXPECT_NE(script_seen.find("boxxyerror"), std::string::npos);

  const std::string without = render_html(report_, reports::ChartDrawer{nullptr, "gnuplot not found on PATH"});
  EXPECT_NE(without.find("Charts are not drawn: gnuplot not found on PATH"), std::string::npos) << without;
  EXPECT_EQ(without.find("<svg"), std::string::npos);
  EXPECT_NE(without.find(fleet_.planted[0].node), std::string::npos) << "the tables are still there";

  const std::string failing = render_html(report_, reports::ChartDrawer{[](const std::string&) -> std::string {
    throw std::runtime_error("gnuplot failed: line 3: undefined variable");
  }, ""});
  EXPECT_NE(failing.find("was not drawn: gnuplot failed: line 3"), std::string::npos) << failing;
}

TEST(FleetRender, EscapesWhatFilesSay) {
  FleetReport report;
  report.nodes = {"<b>x|y</b>"};
  Gpu gpu;
  gpu.node = "<b>x|y</b>";
  gpu.label = "<b>x|y</b>:0";
  gpu.model = "GPU 'quoted'";
  report.gpus.push_back(gpu);
  NodeVerdict v{"<b>x|y</b>", 1, {Finding{Reason::failing, {"<b>x|y</b>:0"}, "a", kNaN, kNaN, kNaN, "a|b <i>, \"c\""}}};
  report.outliers.push_back(v);
  const std::string md = render_markdown(report);
  EXPECT_NE(md.find("| \\<b>x\\|y\\</b> |"), std::string::npos) << md;
  EXPECT_NE(md.find("a\\|b"), std::string::npos) << md;
  const std::string html = render_html(report, reports::ChartDrawer{[](const std::string&) { return std::string("<svg/>"); }, ""});
  EXPECT_EQ(html.find("<b>x"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;b&gt;x|y&lt;/b&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("&quot;c&quot;"), std::string::npos);
}

// ==== The command end to end.

testing::Outcome fleet_command(const std::string& args) {
  return testing::run_binary(AICBENCH_REPORTS_BINARY, "fleet " + args);
}

TEST_F(Fleet, CommandExitsOneOnOutliersAndWritesEveryOutput) {
  FleetSpec spec;
  spec.nodes = 20;
  spec.gpus_per_node = 2;
  spec.plants[Plant::failing] = 1;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_ / "results");
  const std::string out = (dir_ / "out").string();
  testing::Outcome o = fleet_command((dir_ / "results").string() + " --csv " + out + "/f.csv --json " + out +
                                     "/f.json --html " + out + "/f.html --md " + out + "/f.md");
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("1 of 20 nodes stand out"), std::string::npos) << o.output;
  EXPECT_NE(read(dir_ / "out/f.md").find(fleet.planted[0].node), std::string::npos);
  EXPECT_EQ(json::parse(read(dir_ / "out/f.json"))["fleet"]["files"], 40);
  EXPECT_NE(read(dir_ / "out/f.csv").find(",failed,"), std::string::npos);
  const std::string page = read(dir_ / "out/f.html");
  if (fs::exists("/usr/bin/gnuplot")) {
    EXPECT_NE(page.find("<svg"), std::string::npos) << page.substr(0, 3000);
  }

  // Without gnuplot the page is still written, and says so.
  o = testing::run_binary("AICBENCH_GNUPLOT=/nonexistent " AICBENCH_REPORTS_BINARY,
                          "fleet " + (dir_ / "results").string() + " --html " + out + "/g.html");
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(read(dir_ / "out/g.html").find("Charts are not drawn"), std::string::npos);
}

TEST_F(Fleet, CommandExitsZeroOnACleanFleetAndTwoOnBadInput) {
  FleetSpec spec;
  spec.nodes = 8;
  spec.gpus_per_node = 2;
  spec.node_sigma = spec.gpu_sigma = spec.noise_sigma = 0;
  const GeneratedFleet fleet = generate_fleet(template_json(), spec, dir_ / "results");
  testing::Outcome o = fleet_command((dir_ / "results").string());
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("None: no node stands out."), std::string::npos) << o.output;

  o = fleet_command((dir_ / "results").string() + " --csv " + fleet.files[3].string());
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find("is the input file"), std::string::npos) << o.output;
  o = fleet_command((dir_ / "results").string() + " --k-sigma -1");
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find("--k-sigma is -1"), std::string::npos) << o.output;
  o = fleet_command((dir_ / "results").string() + " --slow-pct 100");
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find("--slow-pct is 100"), std::string::npos) << o.output;
  o = fleet_command((dir_ / "results").string() + " -k 4 --slow-pct 2 --max-temp 90");
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("-4 and more than 2.0 % below"), std::string::npos) << o.output;
  o = fleet_command((dir_ / "nonexistent.json").string());
  EXPECT_EQ(o.exit_code, 2) << o.output;
  EXPECT_NE(o.output.find("nonexistent.json"), std::string::npos) << o.output;
  fs::create_directories(dir_ / "empty");
  o = fleet_command((dir_ / "empty").string());
  EXPECT_EQ(o.exit_code, 2) << o.output;
  o = fleet_command("");
  EXPECT_EQ(o.exit_code, 2) << o.output;
}

}  // namespace
}  // namespace aicbench::fleet
