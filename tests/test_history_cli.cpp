// `aicbench history` end to end, through the reports-only binary: add twice, many adders at once,
// trend and baseline on real CPU result files, exit codes for bad databases and options, and the
// docs' sqlite3 queries run by the sqlite3 shell against a database the binary wrote.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "reports/result_file.hpp"
#include "tests/history_data.hpp"
#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Outcome;
using testing::query_int;
using testing::read_text;

Outcome aicbench(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, args); }

// A real result file of `aicbench run --suite smoke --backend cpu`, committed.
const fs::path kCpuResult = fs::path(AICBENCH_TEST_DATA_DIR) / "result-cpu-smoke.json";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class HistoryCli : public ::testing::Test {
 protected:
  // The committed CPU result and three more nights made from it, the third 20 % slower.
  std::vector<fs::path> real_nights() {
    std::vector<fs::path> files = {kCpuResult};
    const json real = json::parse(read_text(kCpuResult));
    for (int night = 1; night <= 3; ++night) {
      const fs::path path = dir_ / (std::string("night") + std::to_string(night) + ".json");
      write_file_atomically(path, testing::shifted_run(real, "2026-12-0" + std::to_string(night) + "T22:00:00Z",
                                                       night == 3 ? 1.2 : 1.0).dump(2));
      files.push_back(path);
    }
    return files;
  }
  std::string paths(const std::vector<fs::path>& files) {
    std::string out;
    for (const auto& f : files) {
      out += ' ';
      out += f.string();
    }
    return out;
  }
  fs::path db() const { return dir_ / "history.db"; }

  testing::TestDir dir_;
};

TEST_F(HistoryCli, AddTwiceLeavesOneCopy) {
  Outcome first = aicbench("history add --db " + db().string() + " " + kCpuResult.string());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "1 run(s) added, 0 already recorded")) << first.output;
  Outcome second = aicbench("history add --db " + db().string() + " " + kCpuResult.string());
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "0 run(s) added, 1 already recorded")) << second.output;
  EXPECT_TRUE(contains(second.output, "already recorded")) << second.output;
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results"), 6);

  // A directory stands for its *.json (the database beside them is not one).
  real_nights();
  Outcome nights = aicbench("history add --db " + db().string() + " " + dir_.path().string());
  ASSERT_EQ(nights.exit_code, 0) << nights.output;
  EXPECT_TRUE(contains(nights.output, "3 run(s) added, 0 already recorded")) << nights.output;
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 4);
}

// Many `aicbench history add` processes started at once on one database, as the nodes of a
// nightly job finishing together would: each adds the shared files and its own.
TEST_F(HistoryCli, ManyAddersAtOnce) {
  const auto shared = real_nights();
  const json real = json::parse(read_text(kCpuResult));
  std::string script = "pids=''; ";
  constexpr int kAdders = 6;
  for (int i = 0; i < kAdders; ++i) {
    json own = testing::shifted_run(real, "2026-12-1" + std::to_string(i) + "T22:00:00Z", 1.0);
    own["context"]["aicbench"]["host"]["hostname"] = "node-" + std::to_string(i);
    const fs::path path = dir_ / (std::string("own") + std::to_string(i) + ".json");
    write_file_atomically(path, own.dump());
    script += std::string(AICBENCH_REPORTS_BINARY) + " history add --db " + db().string() + paths(shared) + " " +
              path.string() + " > " + (dir_ / (std::string("out") + std::to_string(i))).string() + " 2>&1 & pids=\"$pids $!\"; ";
  }
  script += "failed=0; for p in $pids; do wait $p || failed=$((failed+1)); done; echo failed=$failed";
  Outcome o = testing::run_binary("sh", "-c '" + script + "'");
  EXPECT_TRUE(contains(o.output, "failed=0")) << o.output << "\n" << read_text(dir_ / "out0");
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 4 + kAdders);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results"), 6 * (4 + kAdders));
  int added = 0;
  for (int i = 0; i < kAdders; ++i) {
    std::smatch m;
    const std::string out = read_text(dir_ / (std::string("out") + std::to_string(i)));
    ASSERT_TRUE(std::regex_search(out, m, std::regex("(\\d+) run\\(s\\) added"))) << out;
    added += std::stoi(m[1]);
  }
  EXPECT_EQ(added, 4 + kAdders) << "every file was added by exactly one of the adders";
}

TEST_F(HistoryCli, TrendOnRealCpuResults) {
  ASSERT_EQ(aicbench("history add --db " + db().string() + paths(real_nights())).exit_code, 0);
  Outcome md = aicbench("history trend --db " + db().string() + " --filter 'M:127/N:129/K:65$'");
  ASSERT_EQ(md.exit_code, 0) << md.output;
  EXPECT_TRUE(contains(md.output, "## gemm/cpu_blocked/fp32/M:127/N:129/K:65\n")) << md.output;
  EXPECT_TRUE(contains(md.output, "### AMD EPYC on vm")) << md.output;
  EXPECT_TRUE(contains(md.output, "| 2026-12-03 22:00:00 |")) << md.output;
  EXPECT_TRUE(contains(md.output, "+20.0 %")) << "night 3 is 20 % slower than night 2\n" << md.output;
  EXPECT_FALSE(contains(md.output, "mode:hot")) << "the filter's $ leaves the hot-mode benchmark out";
  EXPECT_FALSE(contains(md.output, "SLOWER")) << "30 % noise: a 20 % change is inside it\n" << md.output;
  // The hot-mode benchmark's samples spread by a few percent: compare calls night 3 slower.
  Outcome hot = aicbench("history trend --db " + db().string() + " --filter 'M:127/N:129/K:65/mode:hot'");
  ASSERT_EQ(hot.exit_code, 0) << hot.output;
  EXPECT_TRUE(contains(hot.output, "| +20.0 % | ok, unstable | SLOWER |")) << hot.output;
  EXPECT_TRUE(contains(hot.output, "marked where aicbench compare finds one")) << hot.output;

  const fs::path html = dir_ / "trend.html", csv = dir_ / "trend.csv";
  Outcome files = aicbench("history trend --db " + db().string() + " --filter cpu_blocked --node vm --html " +
                           html.string() + " --csv " + csv.string());
  ASSERT_EQ(files.exit_code, 0) << files.output;
  const std::string page = read_text(html);
  EXPECT_TRUE(contains(page, "<!DOCTYPE html>"));
  EXPECT_TRUE(contains(page, "<h3>AMD EPYC on vm</h3>")) << page;
  const std::string lines = read_text(csv);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1 + 6 * 4) << lines;
}

TEST_F(HistoryCli, BaselineExportsFilesThatReadAsTheOriginals) {
  const auto nights = real_nights();
  ASSERT_EQ(aicbench("history add --db " + db().string() + paths(nights)).exit_code, 0);
  const fs::path out = dir_ / "baseline";
  Outcome o = aicbench("history baseline --db " + db().string() + " --node vm --last 2 --before 2026-12-03 --out " +
                       out.string());
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_TRUE(contains(o.output, "2 run(s) exported")) << o.output;
  std::vector<std::string> exported;
  for (const auto& entry : fs::directory_iterator(out)) exported.push_back(read_text(entry.path()));
  std::sort(exported.begin(), exported.end());
  std::vector<std::string> expected = {read_text(nights[1]), read_text(nights[2])};  // nights 1 and 2
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(exported, expected);
  // What compare will read: the exported files load like any result file.
  Outcome report = aicbench("report " + (out / "*.json").string());
  EXPECT_EQ(report.exit_code, 0) << report.output;
}

TEST_F(HistoryCli, ExitCodes) {
  ASSERT_EQ(aicbench("history add --db " + db().string() + " " + kCpuResult.string()).exit_code, 0);
  const fs::path text = dir_ / "not-a-db";
  write_file_atomically(text, std::string(2000, 'z'));
  struct Case {
    std::string args;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"history", 2, "subcommand is needed"},
      {"history frobnicate --db x", 2, "unknown subcommand 'frobnicate'"},
      {"history add " + kCpuResult.string(), 2, "--db is required"},
      {"history add --db " + db().string(), 2, "at least one result file"},
      {"history add --db " + text.string() + " " + kCpuResult.string(), 2, "not an SQLite database"},
      {"history add --db " + db().string() + " " + db().string(), 2, "is the input file"},
      {"history add --db " + db().string() + " " + (dir_ / "absent.json").string(), 2, "absent.json"},
      {"history trend --db " + db().string(), 2, "--filter is required"},
      {"history trend --db " + db().string() + " --filter '(('", 2, "not a valid RE2"},
      {"history trend --db " + db().string() + " --filter attention", 2, "no recorded benchmark matches"},
      {"history trend --db " + db().string() + " --filter . --csv " + db().string(), 2, "is the input file"},
      {"history trend --db " + (dir_ / "absent.db").string() + " --filter .", 2, "no such database"},
      {"history baseline --db " + db().string() + " --out " + (dir_ / "b").string(), 2, "--last is required"},
      {"history baseline --db " + db().string() + " --last 1 --node elsewhere --out " + (dir_ / "b").string(), 2,
       "no complete run of node 'elsewhere'"},
      {"history --help", 0, "add|trend|baseline"},
      {"history trend --help", 0, "--filter"},
  };
  for (const Case& c : cases) {
    Outcome o = aicbench(c.args);
    EXPECT_EQ(o.exit_code, c.code) << c.args << "\n" << o.output;
    EXPECT_TRUE(contains(o.output, c.says)) << c.args << "\n" << o.output;
  }
  // A database from a newer aicbench.
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &handle), SQLITE_OK);
  sqlite3_exec(handle, "UPDATE aicbench_schema SET version = version + 1", nullptr, nullptr, nullptr);
  sqlite3_close(handle);
  for (const std::string& args : {"history add --db " + db().string() + " " + kCpuResult.string(),
                                  "history trend --db " + db().string() + " --filter .",
                                  "history baseline --db " + db().string() + " --last 1 --out " + (dir_ / "b").string()}) {
    Outcome o = aicbench(args);
    EXPECT_EQ(o.exit_code, 2) << args << "\n" << o.output;
    EXPECT_TRUE(contains(o.output, "newer aicbench")) << o.output;
  }
}

// Every ```sql block of docs/history.md runs in the sqlite3 shell against a database the binary
// wrote, without an error: the documented schema is the one written, and the examples work.
TEST_F(HistoryCli, DocumentedQueriesRunInTheSqlite3Shell) {
  if (testing::run_binary("sqlite3", "-version").exit_code != 0) GTEST_SKIP() << "the sqlite3 shell is not installed";
  const auto nights = real_nights();
  ASSERT_EQ(aicbench("history add --db " + db().string() + paths(nights)).exit_code, 0);
  const std::string doc = read_text(fs::path(AICBENCH_SOURCE_DIR) / "docs" / "history.md");
  const std::regex block("```sql\n([^`]*)```");
  int blocks = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), block); it != std::sregex_iterator(); ++it) {
    const fs::path sql = dir_ / (std::string("query") + std::to_string(++blocks) + ".sql");
    write_file_atomically(sql, (*it)[1].str());
    Outcome o = testing::run_binary("cd " + dir_.path().string() + " && sqlite3", "-bail -batch " + db().string() +
                                                                                     " < " + sql.string());
    EXPECT_EQ(o.exit_code, 0) << (*it)[1].str() << "\n" << o.output;
    EXPECT_FALSE(contains(o.output, "Error")) << (*it)[1].str() << "\n" << o.output;
    EXPECT_FALSE(o.output.empty()) << "every example shows something:\n" << (*it)[1].str();
  }
  EXPECT_GE(blocks, 5);
  // The example that writes a run's file back out wrote the first night's bytes.
  EXPECT_EQ(read_text(dir_ / "run-1.json"), read_text(nights[0]));
}

}  // namespace
}  // namespace aicbench
