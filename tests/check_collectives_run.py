#!/usr/bin/env python3
"""`mpirun -np 4 --oversubscribe aicbench run --suite collectives --backend cpu` end to end.

Small sizes and a short stopping rule keep it to a few seconds. Checks that the job writes
world rank 0's file with a row for every cpu algorithm of every operation and MPI's own beside
them (the other ranks' files hold no collective row: a job-wide row is recorded once), that no
element was wrong, that busbw = algbw * nccl-tests' factor for 4 ranks, that every row names the
ranks and hosts it spanned, that `aicbench report` reads the file, and that --console nccl-tests
printed nccl-tests' columns. Exit 0 on success, 1 with the reasons otherwise.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

RANKS = 4
FACTORS = {
    "all_reduce": 2 * (RANKS - 1) / RANKS,
    "all_gather": (RANKS - 1) / RANKS,
    "reduce_scatter": (RANKS - 1) / RANKS,
    "all_to_all": (RANKS - 1) / RANKS,
    "broadcast": 1.0,
}
ALGORITHMS = {
    "all_reduce": {"mpi", "ring", "rhd", "oneshot_shm", "twoshot_shm"},
    "all_gather": {"mpi", "ring"},
    "reduce_scatter": {"mpi", "ring"},
    "all_to_all": {"mpi", "pairwise"},
    "broadcast": {"mpi", "ring"},
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mpirun", required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    out_dir = os.path.join(args.work, "results")
    command = [args.mpirun, "-np", str(RANKS), "--oversubscribe", args.binary, "run", "--suite", "collectives",
               "--backend", "cpu", "--out", out_dir, "--max-bytes", "64", "--filter", "/fp32/",
               "--min-samples", "3", "--min-time", "0.001", "--timeout", "0.05", "--console", "nccl-tests"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240)
    problems = []
    if run.returncode != 0:
        problems.append(f"exit code {run.returncode}\nstdout:\n{run.stdout[-4000:]}\nstderr:\n{run.stderr[-4000:]}")

    files = sorted(glob.glob(os.path.join(out_dir, "*.json")))
    rank0 = [f for f in files if "-rank0-" in os.path.basename(f)]
    if len(rank0) != 1:
        problems.append(f"expected one file of world rank 0 in {out_dir}, found {files}")
    else:
        doc = json.load(open(rank0[0]))
        if not doc["context"]["aicbench"].get("complete"):
            problems.append("rank 0's file is not marked complete")
        seen = {}
        for row in doc["benchmarks"]:
            a = row["aicbench"]
            seen.setdefault(a["family"], set())
            if a["status"] == "skipped":
                continue  # e.g. 8 B gives each of 4 ranks no 16-byte block of all_gather
            if a["status"] != "ok":
                problems.append(f"{row['name']}: {a['status']}: {a.get('reason')}")
                continue
            seen[a["family"]].add(a["impl"])
            c = a["collective"]
            if c["wrong_elements"] != 0 or c["ranks"] != RANKS or c["nodes"] != 1:
                problems.append(f"{row['name']}: collective block {c}")
            factor = FACTORS[a["family"]]
            if abs(c["busbw_factor"] - factor) > 1e-12:
                problems.append(f"{row['name']}: busbw_factor {c['busbw_factor']}, expected {factor}")
            algbw = c["size_bytes"] / (row["real_time"] * 1e-9) / 1e9
            if abs(row["algbw_gbps"] - algbw) > 1e-9 * algbw:
                problems.append(f"{row['name']}: algbw {row['algbw_gbps']} is not size / time = {algbw}")
            if abs(row["busbw_gbps"] - row["algbw_gbps"] * factor) > 1e-12 * max(1.0, row["busbw_gbps"]):
                problems.append(f"{row['name']}: busbw {row['busbw_gbps']} != algbw {row['algbw_gbps']} * {factor}")
            spans = a.get("origin", {}).get("spans", {})
            if a.get("origin", {}).get("rank") != 0 or spans.get("ranks") != RANKS or len(spans.get("hosts", [])) != 1:
                problems.append(f"{row['name']}: origin {a.get('origin')}")
        for family, impls in ALGORITHMS.items():
            missing = impls - seen.get(family, set())
            if missing:
                problems.append(f"{family}: no ok row for {sorted(missing)}")
        report = subprocess.run([args.binary, "report", rank0[0]], capture_output=True, text=True, timeout=60)
        if report.returncode != 0:
            problems.append(f"aicbench report {rank0[0]}: exit {report.returncode}: {report.stderr[-2000:]}")
    for f in files:
        if f in rank0:
            continue
        rows = json.load(open(f))["benchmarks"]
        if rows:
            problems.append(f"{f}: a rank other than 0 recorded {len(rows)} collective rows")
    for fragment in ["#       size         count      type   redop    root     time   algbw   busbw  #wrong",
                     "# all_reduce/twoshot_shm/fp32 (cpu, 4 ranks on 1 node)", "# Out of bounds values : 0 OK"]:
        if fragment not in run.stdout:
            problems.append(f"--console nccl-tests: '{fragment}' not in the output:\n{run.stdout[-3000:]}")
    bad = subprocess.run([args.binary, "run", "--console", "nccl_tests", "--out", out_dir], capture_output=True,
                         text=True, timeout=60)
    if bad.returncode != 2 or "valid: aicbench, nccl-tests" not in bad.stderr:
        problems.append(f"--console nccl_tests: exit {bad.returncode}, expected 2 naming the valid ones: {bad.stderr}")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"ok: {len(files)} files, rank 0's holds every algorithm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
