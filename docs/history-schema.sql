-- The aicbench history database, schema version 2 (docs/history.md describes the flows).
-- `aicbench history add` applies this file, compiled into the binary, to a new database in one
-- transaction; `sqlite3 DB .schema` prints it back. Times are UTC, ISO 8601 text as the result
-- files write them ("2026-11-30T07:51:33Z"), so they sort and compare as text.

-- One row: the schema's version. An aicbench refuses a database whose version is newer than the
-- one it knows (exit 2), and upgrades an older one in place (version 1 to 2: reports/history.cpp,
-- kUpgradeToVersion2, adds the columns marked "version 2" and fills them from each run).
CREATE TABLE aicbench_schema (
  version     INTEGER NOT NULL,
  created_at  TEXT NOT NULL,  -- when the database was created
  created_by  TEXT NOT NULL   -- the aicbench version that created it
);

-- One row per result file: one process's run on one GPU, or on the CPU; or (result format 3) one
-- node's run on all its GPUs.
CREATE TABLE runs (
  id                INTEGER PRIMARY KEY,
  sha256            TEXT NOT NULL UNIQUE,  -- of the file's bytes: the run's identity; adding the
                                           -- same file again adds nothing
  added_at          TEXT NOT NULL,         -- when `history add` recorded it
  source_path       TEXT NOT NULL,         -- the path it was added from (the first time)
  host              TEXT NOT NULL,         -- context.aicbench.host.hostname
  backend           TEXT NOT NULL,         -- cuda or cpu
  device_name       TEXT NOT NULL,         -- the GPU's name, or the CPU model on the cpu backend
  gpu_uuid          TEXT,                  -- the GPU measured; NULL on the cpu backend and for a node's
                                           -- file of several GPUs (its results name each GPU)
  gpu_count         INTEGER NOT NULL,      -- GPUs the node listed
  rank              INTEGER NOT NULL,      -- the process's (a node's file: the node leader's) world rank
  ranks             INTEGER NOT NULL,      -- the job's world size
  nodes             INTEGER,               -- version 2: the job's nodes (context.aicbench.job.nodes)
  node_ranks        TEXT,                  -- version 2: JSON array of the world ranks the file holds rows of
  driver            TEXT,                  -- context.aicbench.versions.driver
  cuda_runtime      TEXT,
  cublas            TEXT,
  nccl              TEXT,
  versions          TEXT NOT NULL,         -- every version as a JSON object
  suite             TEXT,
  suite_version     INTEGER,
  start_time        TEXT NOT NULL,
  end_time          TEXT,
  complete          INTEGER NOT NULL CHECK (complete IN (0, 1)),  -- 0: the run stopped early
  format_version    INTEGER NOT NULL,      -- of the result file
  aicbench_version  TEXT,
  git_commit        TEXT,
  git_dirty         INTEGER,
  command_line      TEXT,
  result_json       TEXT NOT NULL          -- the result file, byte for byte
);
CREATE INDEX runs_by_time ON runs (start_time);
CREATE INDEX runs_by_host ON runs (host, start_time);
CREATE INDEX runs_by_suite ON runs (suite, host, start_time);
CREATE INDEX runs_by_gpu ON runs (gpu_uuid, start_time);

-- One row per entry of a result file's benchmarks[]: one repetition of one benchmark
-- (run_type 'iteration') or an aggregate over its repetitions (run_type 'aggregate').
CREATE TABLE results (
  run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  entry             INTEGER NOT NULL,      -- index in the file's benchmarks[]
  name              TEXT NOT NULL,         -- the benchmark, without an aggregate suffix:
                                           -- gemm/wgmma_sm90/bf16/M:8192/N:8192/K:8192
  mode              TEXT NOT NULL,         -- cold or hot
  family            TEXT NOT NULL,
  impl              TEXT NOT NULL,
  dtype             TEXT NOT NULL,
  params            TEXT NOT NULL,         -- JSON object: {"K":8192,"M":8192,"N":8192}
  vendor            INTEGER NOT NULL,      -- 1: the vendor library's implementation
  device_name       TEXT NOT NULL,         -- where this row was measured
  gpu_uuid          TEXT,                  -- its GPU; NULL on the cpu backend and for a job-wide row
  node              TEXT,                  -- version 2: the node it ran on (aicbench.origin.node, else the run's host)
  rank              INTEGER,               -- version 2: its world rank
  local_rank        INTEGER,               -- version 2: its rank on its node, where recorded
  gpu_index         INTEGER,               -- version 2: its GPU's index in the node's file (format 3)
  span_ranks        INTEGER,               -- version 2: a job-wide collective: the ranks and nodes it
  span_nodes        INTEGER,               --   spanned (aicbench.origin.spans); NULL on other rows
  status            TEXT NOT NULL,         -- ok, failed, skipped, error
  reason            TEXT,                  -- why, when not ok
  run_type          TEXT NOT NULL CHECK (run_type IN ('iteration', 'aggregate')),
  aggregate_name    TEXT,                  -- mean, median, stddev, cv; NULL on repetitions
  repetition_index  INTEGER,               -- 0, 1, ...; NULL on aggregates
  median_s          REAL,                  -- seconds per run of the benchmark: median of samples
  q1_s              REAL,
  q3_s              REAL,
  min_s             REAL,
  max_s             REAL,
  mean_s            REAL,
  rel_stddev        REAL,                  -- of the samples
  samples           INTEGER,
  unstable          INTEGER NOT NULL,      -- 1: the noise stayed above the target
  timed_out         INTEGER NOT NULL,
  throughput        REAL,                  -- the row's headline number, in throughput_unit
  throughput_unit   TEXT,                  -- TFLOP/s, GB/s (bus) or GB/s
  tflops            REAL,
  gbps              REAL,
  algbw_gbps        REAL,                  -- version 2: a collective's algorithm bandwidth
  busbw_gbps        REAL,
  pct_of_peak       REAL,
  pct_of_vendor     REAL,
  sm_clock_mhz      REAL,                  -- telemetry while measuring (GPU runs)
  power_w           REAL,
  temp_c            REAL,
  energy_j          REAL,
  throttle_reasons  TEXT,                  -- JSON array of names; NULL without telemetry
  max_rel_err       REAL,                  -- validation: measured error and its tolerance
  tolerance         REAL,
  wrong_elements    INTEGER,               -- version 2: a collective's wrong elements, over its ranks
  PRIMARY KEY (run_id, entry)
);
CREATE INDEX results_by_name ON results (name, run_id);

-- What a trend is made of: every repetition with its run's time and place (version 2: the
-- row's node, rank, GPU index and span).
CREATE VIEW measurements AS
  SELECT runs.start_time, runs.host, results.device_name, results.gpu_uuid, results.name,
         results.mode, results.repetition_index, results.status, results.median_s,
         results.q1_s, results.q3_s, results.throughput, results.throughput_unit,
         results.sm_clock_mhz, results.temp_c, runs.suite, runs.driver, runs.complete,
         runs.id AS run_id, results.node, results.rank, results.gpu_index, results.span_ranks
  FROM results JOIN runs ON runs.id = results.run_id
  WHERE results.run_type = 'iteration';
