#include "reports/history.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <re2/re2.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "reports/build_info.hpp"
#include "reports/compare.hpp"
#include "reports/result_rows.hpp"
#include "reports/sha256.hpp"

namespace aicbench::history {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ==== SQLite: a connection and a statement, each closed on every path out; errors as exit codes

class Connection {
 public:
  enum class Access { read_only, create };

  Connection(const fs::path& path, Access access, double busy_timeout_s) : path_(path.string()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      // SQLite would open a FIFO or a device and then wait or read garbage.
      if (!S_ISREG(st.st_mode)) throw InputError(path_ + ": is not a regular file, expected an aicbench history database");
    } else if (access == Access::read_only) {
      throw InputError(path_ + ": no such database (create one with 'aicbench history add --db " + path_ + " RESULTS...')");
    }
    const int flags = access == Access::create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    sqlite3* handle = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &handle, flags, nullptr);
    db_.reset(handle);  // closed however this constructor ends
    if (rc != SQLITE_OK) fail(rc, "cannot open the database");
    sqlite3_extended_result_codes(get(), 1);
    busy_timeout_s_ = busy_timeout_s;
    sqlite3_busy_timeout(get(), static_cast<int>(std::min(busy_timeout_s, 2e6) * 1000));
    exec("PRAGMA foreign_keys = ON", "configuring the connection");
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const { return db_.get(); }
  const std::string& path() const { return path_; }

  void exec(const char* sql, const std::string& doing) {
    const int rc = sqlite3_exec(get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, doing);
  }

  // Bad database files are bad input (2); a lock that outlasts the timeout, a full disk or a
  // permission are the environment (3); anything else is a bug here (1).
  [[noreturn]] void fail(int rc, const std::string& doing) const {
    const std::string detail = db_ ? sqlite3_errmsg(get()) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
      case SQLITE_NOTADB:
        throw InputError(path_ + ": not an SQLite database (" + detail + "); expected an aicbench history database");
      case SQLITE_CORRUPT:
        throw InputError(path_ + ": the database is damaged (" + detail + ") while " + doing);
      case SQLITE_CANTOPEN:
        throw InputError(path_ + ": " + doing + ": " + detail);
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        throw InputError(path_ + ": still locked by another writer after " + std::to_string(static_cast<int>(busy_timeout_s_)) +
                             " s while " + doing + " (" + detail + ", SQLite code " + std::to_string(rc) + ")", 3);
      case SQLITE_READONLY:
      case SQLITE_PERM:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_NOMEM:
      case SQLITE_PROTOCOL:
      case SQLITE_NOLFS:
        throw InputError(path_ + ": " + doing + ": " + detail, 3);
      default:
        throw std::runtime_error(path_ + ": " + doing + ": " + detail);
    }
  }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::string path_;
  std::unique_ptr<sqlite3, Close> db_;
  double busy_timeout_s_ = 0;
};

class Statement {
 public:
  Statement(Connection& db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db.get(), sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) db.fail(rc, "preparing a query");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) { return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string(v)); }
  Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, bool v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) { return v ? bind(i, *v) : bind_null(i); }
  // Empty text is NULL: "not recorded" rather than "recorded as empty".
  Statement& bind_text_or_null(int i, const std::string& v) { return v.empty() ? bind_null(i) : bind(i, v); }

  // True while there is a row to read.
  bool step(const std::string& doing) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail(rc, doing);
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  std::optional<double> real(int column) const {
    if (null(column)) return std::nullopt;
    return sqlite3_column_double(stmt_, column);
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) db_.fail(rc, "binding a query parameter");
    return *this;
  }
  Connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock at once (waiting up to the busy timeout), so two adders
// never both read and then both try to write: the deadlock SQLite would answer with SQLITE_BUSY
// at once, without waiting.
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& db) : db_(db) { db_.exec("BEGIN IMMEDIATE", "starting a transaction"); }
  ~WriteTransaction() {
    if (!committed_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT", "committing the transaction");
    committed_ = true;
  }

 private:
  Connection& db_;
  bool committed_ = false;
};

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm {};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// ==== The schema: created by the first add, checked by every command

bool table_exists(Connection& db, const char* name) {
  Statement q(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  q.bind(1, name);
  return q.step("reading the schema");
}

// Version 1 to 2: the rows' node, rank and GPU (result format 3), the job's nodes, a collective's
// algbw and wrong elements. Rows recorded before get their run's host and rank, which is what a
// file of one process meant.
constexpr const char* kUpgradeToVersion2 = R"sql(
ALTER TABLE runs ADD COLUMN nodes INTEGER;
ALTER TABLE runs ADD COLUMN node_ranks TEXT;
ALTER TABLE results ADD COLUMN node TEXT;
ALTER TABLE results ADD COLUMN rank INTEGER;
ALTER TABLE results ADD COLUMN local_rank INTEGER;
ALTER TABLE results ADD COLUMN gpu_index INTEGER;
ALTER TABLE results ADD COLUMN span_ranks INTEGER;
ALTER TABLE results ADD COLUMN span_nodes INTEGER;
ALTER TABLE results ADD COLUMN algbw_gbps REAL;
ALTER TABLE results ADD COLUMN wrong_elements INTEGER;
UPDATE runs SET nodes = 1, node_ranks = '[' || rank || ']';
UPDATE results SET node = (SELECT host FROM runs WHERE runs.id = results.run_id),
                   rank = (SELECT rank FROM runs WHERE runs.id = results.run_id);
DROP VIEW measurements;
CREATE VIEW measurements AS
  SELECT runs.start_time, runs.host, results.device_name, results.gpu_uuid, results.name,
         results.mode, results.repetition_index, results.status, results.median_s,
         results.q1_s, results.q3_s, results.throughput, results.throughput_unit,
         results.sm_clock_mhz, results.temp_c, runs.suite, runs.driver, runs.complete,
         runs.id AS run_id, results.node, results.rank, results.gpu_index, results.span_ranks
  FROM results JOIN runs ON runs.id = results.run_id
  WHERE results.run_type = 'iteration';
UPDATE aicbench_schema SET version = 2;
)sql";

// Returns the version. With `create`, an empty database gets the schema (inside the caller's
// write transaction, so two first adders cannot both create it), and an older one is upgraded.
int check_schema(Connection& db, bool create) {
  if (!table_exists(db, "aicbench_schema")) {
    Statement objects(db, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 4");
    std::string names;
    while (objects.step("reading the schema")) names += (names.empty() ? "" : ", ") + objects.text(0);
    if (!names.empty()) {
      throw InputError(db.path() + ": not an aicbench history database: it holds other tables (" + names +
                       ") and no aicbench_schema table");
    }
    if (!create) {
      throw InputError(db.path() + ": an empty database, not an aicbench history yet (add runs with "
                       "'aicbench history add --db " + db.path() + " RESULTS...')");
    }
    db.exec(kSchemaSql, "creating the history schema");
    Statement version(db, "INSERT INTO aicbench_schema (version, created_at, created_by) VALUES (?1, ?2, ?3)");
    version.bind(1, kSchemaVersion).bind(2, utc_now()).bind(3, "aicbench " + std::string(build_info().version));
    version.step("recording the schema version");
    return kSchemaVersion;
  }
  Statement q(db, "SELECT version FROM aicbench_schema");
  std::vector<int64_t> versions;
  while (q.step("reading the schema version")) {
    versions.push_back(q.null(0) ? -1 : q.int64(0));
  }
  if (versions.size() != 1 || versions[0] < 1) {
    throw InputError(db.path() + ": table aicbench_schema should hold one positive version, holds " +
                     std::to_string(versions.size()) + " row(s); not a database aicbench wrote");
  }
  if (versions[0] > kSchemaVersion) {
    throw InputError(db.path() + ": history schema version " + std::to_string(versions[0]) +
                     ", written by a newer aicbench; this one (" + build_info().version + ") reads version " +
                     std::to_string(kSchemaVersion) + " and older. Use the newer aicbench.");
  }
  if (versions[0] < kSchemaVersion && create) {
    // Inside the adder's write transaction: upgraded whole, or not at all.
    db.exec(kUpgradeToVersion2, "upgrading the history schema from version 1 to 2");
    return kSchemaVersion;
  }
  return static_cast<int>(versions[0]);  // read as it is: version 1 lacks the rows' ranks and GPUs
}

// File systems whose byte-range locks and shared memory SQLite cannot rely on across hosts
// (statfs(2) magic numbers). WAL needs memory shared by every writer, which only one host has.
bool on_network_file_system(const fs::path& db) {
  struct statfs st {};
  fs::path dir = db.has_parent_path() ? db.parent_path() : fs::path(".");
  if (::statfs(dir.c_str(), &st) != 0) return false;
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x0BD00BD0:  // Lustre
    case 0x47504653:  // GPFS (Spectrum Scale)
    case 0x19830326:  // BeeGFS
    case 0x00C36400:  // CephFS
    case 0x5346414F:  // AFS
    case 0x65735546:  // FUSE (sshfs and friends)
    case 0x01021997:  // 9p
      return true;
    default:
      return false;
  }
}

// WAL on a local file system: readers never block the writer, and writers queue on the busy
// timeout. On a network file system the rollback journal, whose locks are the file system's.
// Switching a new database to WAL needs it to itself for a moment, and SQLite answers a switch
// that meets another connection with SQLITE_BUSY at once, without its busy handler: so the
// switch is retried here, within the same timeout.
std::string set_journal_mode(Connection& db, bool network, double timeout_s) {
  auto pragma = [&](const char* sql, std::string& mode) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);  // before any switch: a live statement is a transaction
    return rc;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (int attempt = 0;; ++attempt) {
    std::string mode;
    int rc = pragma("PRAGMA journal_mode", mode);
    if (rc == SQLITE_OK && (network || mode == "wal")) return mode;
    if (rc == SQLITE_OK) rc = pragma("PRAGMA journal_mode = WAL", mode);
    if (rc == SQLITE_OK) return mode;  // "wal", or the mode kept where WAL is not possible
    const int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) {
      db.fail(rc, "switching to WAL journal mode");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, 1 << std::min(attempt, 7))));
  }
}

// ==== add: one result file as rows

std::string params_json(const std::map<std::string, int64_t>& params) {
  json object = json::object();
  for (const auto& [key, value] : params) object[key] = value;
  return object.dump();
}

std::optional<std::string> version_of(const RunFacts& facts, const char* name) {
  auto it = facts.versions.find(name);
  if (it == facts.versions.end()) return std::nullopt;
  return it->second;
}

constexpr const char* kInsertRun = R"sql(
INSERT OR IGNORE INTO runs (sha256, added_at, source_path, host, backend, device_name, gpu_uuid, gpu_count,
  rank, ranks, driver, cuda_runtime, cublas, nccl, versions, suite, suite_version, start_time, end_time,
  complete, format_version, aicbench_version, git_commit, git_dirty, command_line, result_json, nodes, node_ranks)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
  ?23, ?24, ?25, ?26, ?27, ?28))sql";

constexpr const char* kInsertResult = R"sql(
INSERT INTO results (run_id, entry, name, mode, family, impl, dtype, params, vendor, device_name, gpu_uuid,
  status, reason, run_type, aggregate_name, repetition_index, median_s, q1_s, q3_s, min_s, max_s, mean_s,
  rel_stddev, samples, unstable, timed_out, throughput, throughput_unit, tflops, gbps, busbw_gbps,
  pct_of_peak, pct_of_vendor, sm_clock_mhz, power_w, temp_c, energy_j, throttle_reasons, max_rel_err, tolerance,
  node, rank, local_rank, gpu_index, span_ranks, span_nodes, algbw_gbps, wrong_elements)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
  ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40,
  ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48))sql";

void bind_run(Statement& s, const RunFacts& f, const std::string& sha, const fs::path& path, const std::string& bytes) {
  json versions = json::object();
  for (const auto& [name, version] : f.versions) versions[name] = version;
  s.bind(1, sha).bind(2, utc_now()).bind(3, path.string()).bind(4, f.origin.host).bind(5, f.origin.backend)
      .bind(6, f.origin.device_name).bind_text_or_null(7, f.origin.gpu_uuid).bind(8, static_cast<int64_t>(f.gpu_count))
      .bind(9, f.origin.rank).bind(10, f.ranks).bind(11, version_of(f, "driver")).bind(12, version_of(f, "cuda_runtime"))
      .bind(13, version_of(f, "cublas")).bind(14, version_of(f, "nccl")).bind(15, versions.dump())
      .bind_text_or_null(16, f.suite).bind(17, f.suite.empty() ? std::optional<int64_t>() : f.suite_version).bind(18, f.start_time).bind_text_or_null(19, f.end_time)
      .bind(20, f.complete).bind(21, f.format_version).bind_text_or_null(22, f.aicbench_version)
      .bind_text_or_null(23, f.git_commit).bind(24, f.git_dirty).bind_text_or_null(25, f.command_line).bind(26, bytes)
      .bind(27, f.nodes).bind(28, json(f.node_ranks.empty() ? std::vector<int>{f.origin.rank} : f.node_ranks).dump());
}

void bind_result(Statement& s, int64_t run_id, const ResultRow& r) {
  std::optional<std::string> throttle;
  if (!r.throttle_reasons.empty() || r.sm_clock_mhz || r.power_w || r.temp_c) throttle = json(r.throttle_reasons).dump();
  std::optional<int64_t> repetition;
  if (!r.aggregate) repetition = r.repetition_index;
  s.bind(1, run_id).bind(2, static_cast<int64_t>(r.entry)).bind(3, r.name).bind(4, r.mode).bind(5, r.family)
      .bind(6, r.impl).bind(7, r.dtype).bind(8, params_json(r.params)).bind(9, r.vendor).bind(10, r.origin.device_name)
      .bind_text_or_null(11, r.origin.gpu_uuid).bind(12, r.status).bind_text_or_null(13, r.reason)
      .bind(14, r.aggregate ? "aggregate" : "iteration").bind_text_or_null(15, r.aggregate ? r.aggregate_name : "")
      .bind(16, repetition).bind(17, r.median_s).bind(18, r.q1_s).bind(19, r.q3_s).bind(20, r.min_s).bind(21, r.max_s)
      .bind(22, r.mean_s).bind(23, r.rel_stddev).bind(24, r.samples).bind(25, r.unstable).bind(26, r.timed_out)
      .bind(27, r.throughput()).bind_text_or_null(28, r.throughput_unit()).bind(29, r.tflops).bind(30, r.gbps)
      .bind(31, r.busbw_gbps).bind(32, r.pct_of_peak).bind(33, r.pct_of_vendor).bind(34, r.sm_clock_mhz)
      .bind(35, r.power_w).bind(36, r.temp_c).bind(37, r.energy_j).bind(38, throttle).bind(39, r.max_rel_err)
      .bind(40, r.tolerance);
  const RowOrigin& o = r.origin;
  auto optional_int = [](std::optional<int> v) { return v ? std::optional<int64_t>(*v) : std::nullopt; };
  s.bind_text_or_null(41, o.host).bind(42, o.job_wide() ? std::optional<int64_t>() : std::optional<int64_t>(o.rank))
      .bind(43, optional_int(o.local_rank)).bind(44, optional_int(o.gpu_index))
      .bind(45, o.spans ? std::optional<int64_t>(o.spans->ranks) : std::nullopt)
      .bind(46, o.spans ? std::optional<int64_t>(o.spans->nodes) : std::nullopt).bind(47, r.algbw_gbps)
      .bind(48, r.wrong_elements);
}

// ==== trend

// The series a row belongs to: the GPU by its UUID; without one (cpu backend), the device and rank
// on its host; a job-wide collective by its rank count, on the host of its rank 0.
std::string series_key(const std::string& name, const TrendSeries& s) {
  if (s.span_ranks) return name + '\x1f' + s.device_name + '\x1f' + s.host + "\x1fspan " + std::to_string(s.span_ranks);
  return name + '\x1f' + (s.gpu_uuid.empty() ? s.device_name + '\x1f' + s.host + '\x1f' + std::to_string(s.rank) : s.gpu_uuid);
}

// Worst first: a point shows the worst status among its repetitions.
int status_rank(const std::string& status) {
  if (status == kStatusError) return 0;
  if (status == kStatusFailed) return 1;
  if (status == kStatusSkipped) return 2;
  if (status == kStatusOk) return 4;
  return 3;
}

std::optional<double> median_of(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One run's repetitions of one benchmark, folded into a point.
struct PointBuilder {
  TrendPoint point;
  std::vector<double> median_s, q1_s, q3_s, throughput;
  bool all_ok = true;

  void add(const Statement& row) {
    ++point.repetitions;
    const std::string status = row.text(8);
    if (status != kStatusOk) all_ok = false;
    if (point.status.empty() || status_rank(status) < status_rank(point.status)) {
      point.status = status;
      point.reason = row.text(9);
    }
    if (row.int64(15)) point.unstable = true;
    if (auto v = row.real(10)) median_s.push_back(*v);
    if (auto v = row.real(11)) q1_s.push_back(*v);
    if (auto v = row.real(12)) q3_s.push_back(*v);
    if (auto v = row.real(13)) throughput.push_back(*v);
  }

  TrendPoint finish() {
    if (all_ok) {  // a result that is not ok never shows a number
      point.median_s = median_of(median_s);
      point.q1_s = median_of(q1_s);
      point.q3_s = median_of(q3_s);
      point.throughput = median_of(throughput);
    }
    return point;
  }
};

ResultFile load_run(Connection& db, int64_t run_id) {
  Statement q(db, "SELECT result_json, source_path FROM runs WHERE id = ?1");
  q.bind(1, run_id);
  if (!q.step("reading a run's result file")) throw std::runtime_error(db.path() + ": run " + std::to_string(run_id) + " vanished");
  ResultFile file = parse_result_file(q.text(0), db.path() + " run " + std::to_string(run_id) + " (" + q.text(1) + ")");
  return file;
}

void mark_changes(Connection& db, Trend& trend, const ChangeDetector& detect) {
  std::map<std::pair<int64_t, int64_t>, std::map<std::string, Change>> compared;
  for (TrendSeries& series : trend.series) {
    for (size_t i = 1; i < series.points.size(); ++i) {
      const auto pair = std::make_pair(series.points[i - 1].run_id, series.points[i].run_id);
      auto it = compared.find(pair);
      if (it == compared.end()) {
        it = compared.emplace(pair, detect(load_run(db, pair.first), load_run(db, pair.second))).first;
      }
      // At the series' position as compare paired it, else pooled, else by name alone.
      for (const std::string& key : {change_key(series.benchmark, series.position()), change_key(series.benchmark, ""),
                                     series.benchmark}) {
        if (auto change = it->second.find(key); change != it->second.end()) {
          series.points[i].change = change->second;
          break;
        }
      }
    }
  }
}

// ==== baseline

void match_function(sqlite3_context* context, int, sqlite3_value** args) {
  const auto* filter = static_cast<const NameFilter*>(sqlite3_user_data(context));
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(args[0]));
  const int bytes = sqlite3_value_bytes(args[0]);
  sqlite3_result_int(context, text && filter->matches(std::string(text, static_cast<size_t>(bytes))) ? 1 : 0);
}

// "2026-11-30" or "2026-11-30T07:51:33Z" (seconds and the Z optional): what compares as text
// with the start times the result files write.
bool iso_time(const std::string& s) {
  const std::string pattern = "dddd-dd-ddTdd:dd:dd";
  if (s.size() != 10 && s.size() != 16 && s.size() != 19 && !(s.size() == 20 && s.back() == 'Z')) return false;
  for (size_t i = 0; i < std::min(s.size(), pattern.size()); ++i) {
    if (pattern[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != pattern[i]) return false;
  }
  return true;
}

// Letters, digits, '.', '_' and '-' only: a file name part from a host or a time.
std::string name_part(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (plain) out += c;
  }
  return out.substr(0, 64);
}

// Creates `dir/name` holding `bytes`, never replacing a file: written beside it under a
// temporary name, flushed, then hard-linked to the final name (which fails if it exists).
// Returns false when the name is taken.
bool write_new_file(const fs::path& dir, const std::string& name, const std::string& bytes) {
  std::string tmp = (dir / ("." + name + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw InputError("cannot write in " + dir.string() + ": " + std::strerror(errno), 3);
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{tmp};
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw InputError("cannot write " + tmp + ": " + std::strerror(err), 3);
    }
    written += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  ::fsync(fd);
  ::close(fd);
  const fs::path target = dir / name;
  if (::link(tmp.c_str(), target.c_str()) == 0) return true;
  if (errno == EEXIST) return false;
  throw InputError("cannot create " + target.string() + ": " + std::strerror(errno), 3);
}

}  // namespace

// ==== NameFilter

NameFilter::NameFilter(const std::string& pattern) {
  // RE2 runs in time linear in the name and in memory bounded here, whatever the pattern.
  constexpr size_t kMaxPatternBytes = 4096;
  if (pattern.size() > kMaxPatternBytes) {
    throw InputError("--filter is " + std::to_string(pattern.size()) + " bytes long, more than " +
                     std::to_string(kMaxPatternBytes));
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxFilterMemory);
  re_ = std::make_unique<RE2>(pattern, options);
  if (!re_->ok()) {
    throw InputError("--filter '" + pattern + "' is not a valid RE2 regular expression: " + re_->error());
  }
}

NameFilter::~NameFilter() = default;

bool NameFilter::matches(const std::string& name) const { return RE2::PartialMatch(name, *re_); }

// ==== add

AddReport add_runs(const fs::path& db, const std::vector<fs::path>& files, const AddOptions& options) {
  Connection connection(db, Connection::Access::create, options.busy_timeout_s);
  AddReport report;
  // The journal mode first: it is the database's, persistent, and set outside any transaction.
  report.network_file_system = on_network_file_system(db);
  report.journal_mode = set_journal_mode(connection, report.network_file_system, options.busy_timeout_s);
  WriteTransaction transaction(connection);
  check_schema(connection, true);

  Statement insert_run(connection, kInsertRun);
  Statement insert_result(connection, kInsertResult);
  Statement existing(connection, "SELECT id, (SELECT count(*) FROM results WHERE run_id = runs.id) FROM runs WHERE sha256 = ?1");
  for (const fs::path& path : files) {
    std::string bytes;
    const ResultFile file = load_result_file(path, bytes);  // one at a time: memory bounded by the largest file
    AddedRun run;
    run.path = path;
    run.sha256 = sha256_hex(bytes);
    bind_run(insert_run, run_facts(file, 0), run.sha256, path, bytes);
    insert_run.step("recording the run of " + path.string());
    insert_run.reset();
    if (sqlite3_changes(connection.get()) == 1) {
      run.added = true;
      run.run_id = sqlite3_last_insert_rowid(connection.get());
      for (const ResultRow& row : result_rows(file, 0)) {
        bind_result(insert_result, run.run_id, row);
        insert_result.step("recording the results of " + path.string());
        insert_result.reset();
        ++run.results;
      }
    } else {  // the UNIQUE hash ignored it: this very file is already recorded
      existing.bind(1, run.sha256);
      if (!existing.step("looking up a recorded run")) throw std::runtime_error("run " + run.sha256 + " neither added nor found");
      run.run_id = existing.int64(0);
      run.results = static_cast<size_t>(existing.int64(1));
      existing.reset();
    }
    report.runs.push_back(std::move(run));
  }
  transaction.commit();
  return report;
}

// ==== trend

std::string change_label(Change change) {
  switch (change) {
    case Change::faster: return "FASTER";
    case Change::slower: return "SLOWER";
    case Change::environment_changed: return "ENVIRONMENT CHANGED";
    case Change::none: break;
  }
  return "";
}

std::string change_key(const std::string& benchmark, const std::string& position) { return benchmark + '\x1f' + position; }

ChangeDetector compare_change_detector() {
  // `aicbench compare before.json -- after.json`, decided with its default options: a mark in the
  // trend means what the nightly gate would have said about these two runs.
  return [](const ResultFile& before, const ResultFile& after) {
    compare::Options options;
    options.resamples = 0;  // the verdicts only: the bootstrap interval is not shown in a trend
    std::map<std::string, Change> changes;
    for (const compare::Verdict& verdict : compare::compare_files({before}, {after}, options).verdicts) {
      switch (verdict.state) {
        case compare::State::slower: changes[change_key(verdict.name, verdict.position)] = Change::slower; break;
        case compare::State::faster: changes[change_key(verdict.name, verdict.position)] = Change::faster; break;
        case compare::State::environment_changed:
          changes[change_key(verdict.name, verdict.position)] = Change::environment_changed;
          break;
        default: break;  // same, new, gone, failing: the point's status shows failures
      }
    }
    return changes;
  };
}

std::string TrendSeries::label() const {
  const std::string device = device_name.empty() ? "unknown device" : device_name;
  if (span_ranks) {
    return "job: " + std::to_string(span_ranks) + " ranks on " + std::to_string(span_nodes) + (span_nodes == 1 ? " node" : " nodes") +
           " of " + device + (host.empty() ? "" : " (from " + host + ")");
  }
  std::string label = device;
  if (gpu_index && !gpu_uuid.empty()) label += " GPU " + std::to_string(*gpu_index) + " (" + gpu_uuid + ")";
  else if (!gpu_uuid.empty()) label += " " + gpu_uuid;
  else if (rank_named) label += " rank " + std::to_string(rank);
  if (!host.empty()) label += " on " + host;
  return label;
}

std::string TrendSeries::position() const {
  return compare::pairing_position(
      [&] {
        RowOrigin o;
        o.rank = rank;
        if (span_ranks) o.spans = RowOrigin::Spans{span_ranks, span_nodes, {}};
        return o;
      }(),
      true);
}

Trend history_trend(const fs::path& db, const TrendQuery& query, const ChangeDetector& detect) {
  const NameFilter filter(query.filter);
  Connection connection(db, Connection::Access::read_only, kDefaultBusyTimeoutS);
  const int version = check_schema(connection, false);

  // The benchmark names first (from the index, so each is matched once), then each one's rows.
  std::vector<std::string> names;
  size_t recorded = 0;
  {
    Statement q(connection, "SELECT DISTINCT name FROM results ORDER BY name");
    while (q.step("listing benchmarks")) {
      ++recorded;
      if (std::string name = q.text(0); filter.matches(name)) names.push_back(std::move(name));
    }
  }
  if (names.empty()) {
    throw InputError(db.string() + ": no recorded benchmark matches --filter '" + query.filter + "' (" +
                     std::to_string(recorded) + " benchmarks recorded)");
  }

  Trend trend;
  trend.db = db;
  trend.query = query;
  // Where each row ran; a version 1 database (not upgraded until the next add) has its run's host and rank.
  const std::string origin_columns = version >= 2 ? "coalesce(x.node, r.host), coalesce(x.rank, 0), x.gpu_index, x.span_ranks, x.span_nodes"
                                                  : "r.host, r.rank, NULL, NULL, NULL";
  const std::string query_text = R"sql(
    SELECT x.run_id, r.start_time, r.host, coalesce(r.suite, ''), coalesce(r.git_commit, ''), r.complete,
           x.device_name, coalesce(x.gpu_uuid, ''), x.status, coalesce(x.reason, ''), x.median_s, x.q1_s, x.q3_s,
           x.throughput, coalesce(x.throughput_unit, ''), x.unstable, )sql" + origin_columns + R"sql(, r.ranks
    FROM results x JOIN runs r ON r.id = x.run_id
    WHERE x.name = ?1 AND x.run_type = 'iteration' AND (?2 IS NULL OR r.host = ?2)
    ORDER BY x.device_name, x.gpu_uuid, r.host, r.start_time, r.id, x.repetition_index)sql";
  Statement rows(connection, query_text.c_str());
  for (const std::string& name : names) {
    rows.bind(1, name).bind(2, query.node);
    std::map<std::string, TrendSeries> by_key;
    std::map<std::string, std::vector<PointBuilder>> builders;
    std::map<std::string, std::string> latest_start;
    while (rows.step("reading results of " + name)) {
      const std::string host = rows.text(16), device = rows.text(6), uuid = rows.text(7);
      TrendSeries where;
      where.benchmark = name;
      where.device_name = device;
      where.gpu_uuid = uuid;
      where.host = host;
      where.rank = static_cast<int>(rows.int64(17));
      if (!rows.null(18)) where.gpu_index = static_cast<int>(rows.int64(18));
      where.span_ranks = static_cast<int>(rows.int64(19));
      where.span_nodes = static_cast<int>(rows.int64(20));
      where.rank_named = uuid.empty() && !where.span_ranks && rows.int64(21) > 1;
      const std::string key = series_key(name, where);
      TrendSeries& series = by_key[key];
      if (series.benchmark.empty()) series = where;
      if (std::string& latest = latest_start[key]; rows.text(1) >= latest) {
        latest = rows.text(1);
        // The GPU's host, rank and index in its latest run.
        series.host = host;
        series.rank = where.rank;
        series.gpu_index = where.gpu_index;
      }
      if (std::string unit = rows.text(14); !unit.empty()) series.throughput_unit = unit;
      std::vector<PointBuilder>& points = builders[key];
      const int64_t run_id = rows.int64(0);
      if (points.empty() || points.back().point.run_id != run_id) {
        PointBuilder builder;
        builder.point.run_id = run_id;
        builder.point.start_time = rows.text(1);
        builder.point.host = host;
        builder.point.suite = rows.text(3);
        builder.point.git_commit = rows.text(4);
        builder.point.complete = rows.int64(5) != 0;
        points.push_back(std::move(builder));
      }
      points.back().add(rows);
    }
    rows.reset();
    for (auto& [key, series] : by_key) {
      for (PointBuilder& builder : builders[key]) series.points.push_back(builder.finish());
      // A GPU moved to another host has its rows in two runs of the query's order: time order here.
      std::stable_sort(series.points.begin(), series.points.end(), [](const TrendPoint& a, const TrendPoint& b) {
        return std::tie(a.start_time, a.run_id) < std::tie(b.start_time, b.run_id);
      });
      trend.series.push_back(std::move(series));
    }
  }
  if (trend.series.empty()) {
    throw InputError(db.string() + ": no runs of node '" + query.node.value_or("") + "' hold a benchmark matching --filter '" +
                     query.filter + "'");
  }
  if (detect) {
    mark_changes(connection, trend, detect);
    trend.changes_marked = true;
  }
  return trend;
}

// ==== baseline

std::vector<BaselineRun> select_baseline(const fs::path& db, const BaselineQuery& query) {
  if (query.last < 1) throw InputError("--last must be at least 1, got " + std::to_string(query.last));
  if (query.before && !iso_time(*query.before)) {
    throw InputError("--before '" + *query.before + "' is not a UTC time as result files write it "
                     "(2026-11-30T07:51:33Z, or a date: 2026-11-30)");
  }
  std::unique_ptr<NameFilter> filter;
  if (query.filter) filter = std::make_unique<NameFilter>(*query.filter);
  Connection connection(db, Connection::Access::read_only, kDefaultBusyTimeoutS);
  check_schema(connection, false);
  if (filter) {
    const int rc = sqlite3_create_function_v2(connection.get(), "aicbench_matches", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                              filter.get(), match_function, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) connection.fail(rc, "registering the filter");
  }
  Statement q(connection, filter ? R"sql(
    SELECT id, host, device_name, coalesce(gpu_uuid, ''), start_time, coalesce(suite, '') FROM runs
    WHERE complete = 1 AND (?1 IS NULL OR host = ?1) AND (?2 IS NULL OR suite = ?2) AND (?3 IS NULL OR start_time < ?3)
      AND EXISTS (SELECT 1 FROM results x WHERE x.run_id = runs.id AND aicbench_matches(x.name))
    ORDER BY start_time DESC, id DESC)sql"
                                 : R"sql(
    SELECT id, host, device_name, coalesce(gpu_uuid, ''), start_time, coalesce(suite, '') FROM runs
    WHERE complete = 1 AND (?1 IS NULL OR host = ?1) AND (?2 IS NULL OR suite = ?2) AND (?3 IS NULL OR start_time < ?3)
    ORDER BY start_time DESC, id DESC)sql");
  q.bind(1, query.node).bind(2, query.suite).bind(3, query.before);
  std::map<std::string, std::vector<BaselineRun>> by_gpu;
  while (q.step("selecting baseline runs")) {
    BaselineRun run{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5)};
    auto& runs = by_gpu[run.gpu_uuid.empty() ? run.device_name + '\x1f' + run.host : run.gpu_uuid];
    if (static_cast<int>(runs.size()) < query.last) runs.push_back(std::move(run));
  }
  std::vector<BaselineRun> selected;
  for (auto& [gpu, runs] : by_gpu) {
    std::reverse(runs.begin(), runs.end());  // oldest first
    for (auto& run : runs) selected.push_back(std::move(run));
  }
  if (selected.empty()) {
    std::string what = "no complete run";
    if (query.node) what += " of node '" + *query.node + "'";
    if (query.suite) what += " of suite '" + *query.suite + "'";
    if (query.before) what += " before " + *query.before;
    if (query.filter) what += " with a benchmark matching --filter '" + *query.filter + "'";
    throw InputError(db.string() + ": " + what + " is recorded; nothing to export");
  }
  return selected;
}

std::vector<ExportedRun> export_runs(const fs::path& db, const std::vector<BaselineRun>& runs, const fs::path& out_dir) {
  Connection connection(db, Connection::Access::read_only, kDefaultBusyTimeoutS);
  check_schema(connection, false);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir)) {
    throw InputError("--out " + out_dir.string() + ": cannot make it a directory (" +
                     (ec ? ec.message() : "it is not a directory") + ")");
  }
  Statement q(connection, "SELECT result_json FROM runs WHERE id = ?1");
  std::vector<ExportedRun> exported;
  for (const BaselineRun& run : runs) {
    q.bind(1, run.run_id);
    if (!q.step("reading a run's result file")) throw std::runtime_error("run " + std::to_string(run.run_id) + " vanished");
    const std::string bytes = q.text(0);
    q.reset();
    std::string time = run.start_time;
    std::erase_if(time, [](char c) { return c == '-' || c == ':'; });
    const std::string stem = "baseline-" + name_part(run.host) + "-" + name_part(time) + "-run" + std::to_string(run.run_id);
    for (int attempt = 1;; ++attempt) {
      std::string name = stem;
      if (attempt > 1) name += '-' + std::to_string(attempt);
      name += ".json";
      if (write_new_file(out_dir, name, bytes)) {
        exported.push_back({run, out_dir / name});
        break;
      }
    }
  }
  return exported;
}

}  // namespace aicbench::history
