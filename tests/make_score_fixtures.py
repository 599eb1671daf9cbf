#!/usr/bin/env python3
"""Writes the FIXTURE result files tests/data/procurement/{h100,h200,b200}/gpu{0,1}.json for
`aicbench score` (tests/test_score*.cpp, specs/procurement/example.json).

Nothing in them was measured. They stand in for what an H100-, H200- and B200-class sample node
would give, so that the scorecard runs and is tested on a machine without a GPU: throughputs are
round illustrative figures in the proportions of the datasheets (specs/gpus/) and of public
reports (B200 about twice H100 on dense tensor math; H200 a few percent above H100 on compute and
about 1.4x on memory bandwidth, 141 GB of HBM3e at 4.8 TB/s against 3.35 TB/s), never a claim about
any product. Each file says so in context.aicbench.fixture (true) and fixture_note, as the sizing
fixtures do, and every row is a valid result-format 2 row (the reader checks them).

What the files exercise on purpose:
  - two GPUs per candidate (one file each, 1 % apart): a candidate's value is the median of both;
  - the B200-class files have no telemetry (no power_w): its power comes from the candidates file
    (STATED); the H100- and H200-class rows record NVML power;
  - wgmma_sm90 rows are skipped on the B200 class (Hopper only); mma_sm80 bf16 fails validation on
    the H200 class (the best valid implementation is used, the failure is listed);
  - one benchmark only the H100 class ran (fp16 4096^3) and one decode shape the B200 class did not
    run: both "not measured" somewhere, so left out of the index and listed;
  - launch latency rows have a time only (lower is better);
  - collective rows (all_reduce, 8 ranks) are in rank 0's file only, as format 2 writes them.

Run from anywhere: python3 tests/make_score_fixtures.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "procurement")

NOTE = ("FIXTURE for tests and the example candidates file: illustrative throughputs in the proportions of the "
        "datasheets, written by tests/make_score_fixtures.py; not measured on any GPU")

GEMM = "M:{M}/N:{N}/K:{K}"

# Per candidate: the GPU's name, dense peaks (specs/gpus/), and per benchmark a value (TFLOP/s,
# GB/s, busbw GB/s or seconds) and NVML power, or a status.
CANDIDATES = {
    "h100": {
        "gpu": "NVIDIA H100 80GB HBM3",
        "peak": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4, "fp8": 1978.9},
        "power": True,
    },
    "h200": {
        "gpu": "NVIDIA H200",
        "peak": {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4, "fp8": 1978.9},
        "power": True,
    },
    "b200": {
        "gpu": "NVIDIA B200",
        "peak": {"fp32": 75.0, "tf32": 1125.0, "bf16": 2250.0, "fp16": 2250.0, "fp8": 4500.0},
        "power": False,
    },
}

# (family, impl, dtype, params, vendor, kind, {candidate: value or status}, power watts per candidate)
# kind: tflops, gbps, busbw (all_reduce), time (seconds)
SKIP_HOPPER = ("skipped", "wgmma_sm90 needs a Hopper GPU (sm_90a); this is sm_100")
FAIL = ("failed", None)
BENCHMARKS = [
    ("gemm", "cublaslt", "bf16", dict(M=8192, N=8192, K=8192), True, "tflops",
     {"h100": 720, "h200": 760, "b200": 1480}, {"h100": 690, "h200": 700}),
    ("gemm", "wgmma_sm90", "bf16", dict(M=8192, N=8192, K=8192), False, "tflops",
     {"h100": 745, "h200": 782, "b200": SKIP_HOPPER}, {"h100": 695, "h200": 700}),
    ("gemm", "mma_sm80", "bf16", dict(M=8192, N=8192, K=8192), False, "tflops",
     {"h100": 540, "h200": FAIL, "b200": 560}, {"h100": 640, "h200": 650}),
    ("gemm", "cublaslt", "bf16", dict(M=8192, N=57344, K=8192), True, "tflops",
     {"h100": 700, "h200": 735, "b200": 1420}, {"h100": 695, "h200": 700}),
    ("gemm", "cublaslt", "fp8", dict(M=8192, N=8192, K=8192), True, "tflops",
     {"h100": 1350, "h200": 1420, "b200": 2900}, {"h100": 700, "h200": 700}),
    ("gemm", "wgmma_sm90", "fp8", dict(M=8192, N=8192, K=8192), False, "tflops",
     {"h100": 1290, "h200": 1350, "b200": SKIP_HOPPER}, {"h100": 700, "h200": 700}),
    ("gemm", "cublaslt", "tf32", dict(M=8192, N=8192, K=8192), True, "tflops",
     {"h100": 380, "h200": 400, "b200": 740}, {"h100": 660, "h200": 670}),
    ("gemm", "cublas", "fp32", dict(M=8192, N=8192, K=8192), True, "tflops",
     {"h100": 51, "h200": 53, "b200": 70}, {"h100": 560, "h200": 570}),
    ("gemm", "cublaslt", "fp16", dict(M=4096, N=4096, K=4096), True, "tflops",
     {"h100": 650}, {"h100": 680}),
    ("attention", "cudnn", "bf16", dict(B=4, H=64, KVH=8, Sq=4096, Sk=4096, D=128, causal=1), True, "tflops",
     {"h100": 480, "h200": 505, "b200": 1050}, {"h100": 650, "h200": 660}),
    ("attention", "mma_sm80", "bf16", dict(B=4, H=64, KVH=8, Sq=4096, Sk=4096, D=128, causal=1), False, "tflops",
     {"h100": 390, "h200": 400, "b200": 620}, {"h100": 620, "h200": 630}),
    ("attention", "cudnn", "bf16", dict(B=1, H=64, KVH=8, Sq=16384, Sk=16384, D=128, causal=1), True, "tflops",
     {"h100": 560, "h200": 590, "b200": 1200}, {"h100": 670, "h200": 680}),
    ("attention_decode", "cudnn", "bf16", dict(B=16, H=64, KVH=8, Sq=1, Sk=8192, D=128, causal=1), True, "gbps",
     {"h100": 2300, "h200": 3500, "b200": 5900}, {"h100": 560, "h200": 590}),
    ("attention_decode", "split_kv_sm80", "bf16", dict(B=16, H=64, KVH=8, Sq=1, Sk=8192, D=128, causal=1), False, "gbps",
     {"h100": 2450, "h200": 3700, "b200": 4800}, {"h100": 570, "h200": 600}),
    ("attention_decode", "cudnn", "bf16", dict(B=16, H=64, KVH=8, Sq=1, Sk=65536, D=128, causal=1), True, "gbps",
     {"h100": 2600, "h200": 3900}, {"h100": 570, "h200": 600}),
    ("all_reduce", "nccl", "bf16", dict(bytes=1048576, in_place=1), True, "busbw",
     {"h100": 95, "h200": 96, "b200": 140}, {"h100": 420, "h200": 430}),
    ("all_reduce", "nccl", "bf16", dict(bytes=67108864, in_place=1), True, "busbw",
     {"h100": 330, "h200": 335, "b200": 610}, {"h100": 450, "h200": 460}),
    ("all_reduce", "nccl", "bf16", dict(bytes=1073741824, in_place=1), True, "busbw",
     {"h100": 365, "h200": 370, "b200": 690}, {"h100": 460, "h200": 470}),
    ("memory", "triad", "fp64", dict(bytes=1073741824), False, "gbps",
     {"h100": 3000, "h200": 4350, "b200": 6900}, {"h100": 520, "h200": 560}),
    ("memory", "memcpy", "fp64", dict(bytes=1073741824), True, "gbps",
     {"h100": 2900, "h200": 4200, "b200": 6600}, {"h100": 510, "h200": 550}),
    ("launch", "stream", "none", dict(batch=1), False, "time",
     {"h100": 4.1e-6, "h200": 4.0e-6, "b200": 3.6e-6}, {"h100": 120, "h200": 125}),
]

RANKS = 8  # the collectives' world: one 8-GPU node


def flops(family, p):
    if family == "gemm":
        return 2.0 * p["M"] * p["N"] * p["K"]
    # attention forward: 4 B H Sq Sk D, halved when causal (the suites' convention)
    f = 4.0 * p["B"] * p["H"] * p["Sq"] * p["Sk"] * p["D"]
    return f / 2 if p.get("causal") else f


def decode_bytes(p):
    # K and V read once: 2 x B x KVH x Sk x D x 2 bytes (bf16)
    return 2.0 * p["B"] * p["KVH"] * p["Sk"] * p["D"] * 2


def name_of(family, impl, dtype, params):
    return "/".join([family, impl, dtype] + [f"{k}:{v}" for k, v in params.items()])


def row(cand, gpu, bench):
    family, impl, dtype, params, vendor, kind, values, powers = bench
    spec = CANDIDATES[cand]
    value = values[cand]
    scale = 1.0 + (0.01 if gpu == 1 else 0.0)  # the second GPU 1 % faster
    name = name_of(family, impl, dtype, params)
    info = {"family": family, "impl": impl, "dtype": dtype, "backend": "cuda", "vendor": vendor,
            "params": params, "mode": "cold"}
    b = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1, "repetition_index": 0,
         "threads": 1, "iterations": 1, "time_unit": "ns"}
    if isinstance(value, tuple):
        status, reason = value
        info["status"] = status
        if status == "failed":
            info["reason"] = "validation failed: max_rel_err 0.21 above the tolerance 0.02"
            info["validation"] = {"max_rel_err": 0.21, "tolerance": 0.02, "samples": 4096}
            b["error_occurred"] = True
            b["error_message"] = info["reason"]
        else:
            info["reason"] = reason
            b["error_occurred"] = True
            b["error_message"] = reason
        b["real_time"] = 0
        b["cpu_time"] = 0
        b["aicbench"] = info
        return b
    info["status"] = "ok"
    if kind == "tflops":
        tflops = value * scale
        seconds = flops(family, params) / (tflops * 1e12)
        b["tflops"] = tflops
        b["pct_of_peak"] = 100 * tflops / spec["peak"][dtype]
    elif kind == "gbps":
        gbps = value * scale
        nbytes = decode_bytes(params) if family == "attention_decode" else 3.0 * params["bytes"]
        seconds = nbytes / (gbps * 1e9)
        b["gbps"] = gbps
    elif kind == "busbw":
        factor = 2.0 * (RANKS - 1) / RANKS
        busbw = value * scale
        algbw = busbw / factor
        seconds = params["bytes"] / (algbw * 1e9)
        b["algbw_gbps"] = algbw
        b["busbw_gbps"] = busbw
        b["gbps"] = busbw
        info["collective"] = {"ranks": RANKS, "nodes": 1, "busbw_factor": factor, "count": params["bytes"] // 2,
                              "wrong_elements": 0, "in_place": True}
    else:  # time only
        seconds = value / scale
    info["validation"] = {"max_rel_err": 0.0 if family in ("all_reduce", "memory", "launch") else 0.004,
                          "tolerance": 0.0 if family in ("all_reduce", "memory", "launch") else 0.02, "samples": 4096}
    info["measurement"] = {"samples": 25, "median_s": seconds, "mean_s": seconds * 1.002, "min_s": seconds * 0.99,
                           "q1_s": seconds * 0.996, "q3_s": seconds * 1.004, "max_s": seconds * 1.02,
                           "rel_stddev": 0.004, "timed_out": False, "unstable": False}
    if spec["power"]:
        watts = powers[cand] * (1.0 + (0.005 if gpu == 1 else 0.0))
        energy = watts * seconds * 25
        b["power_w"] = watts
        b["energy_j"] = energy
        b["sm_clock_mhz"] = 1755.0
        b["temp_c"] = 64.0 + gpu
        info["telemetry"] = {"readings": 25, "sm_clock_mhz": 1755.0, "power_w": watts, "temp_c": 64.0 + gpu,
                             "energy_j": energy, "throttle_reasons": []}
    else:
        info["telemetry"] = {"unavailable": "FIXTURE: no telemetry in this fixture (the candidate's power is stated)"}
    b["real_time"] = seconds * 1e9
    b["cpu_time"] = seconds * 1e9
    b["aicbench"] = info
    return b


def result_file(cand, gpu):
    spec = CANDIDATES[cand]
    rows = []
    for bench in BENCHMARKS:
        if cand not in bench[6]:
            continue
        if bench[5] == "busbw" and gpu != 0:
            continue  # a collective is recorded once, by rank 0
        rows.append(row(cand, gpu, bench))
    provenance = {
        "format_version": 2,
        "aicbench_version": "fixture",
        "git_commit": "fixture",
        "git_dirty": False,
        "command_line": "tests/make_score_fixtures.py: FIXTURE, not measured",
        "start_time": "2026-11-30T00:00:00Z",
        "end_time": "2026-11-30T00:10:00Z",
        "complete": True,
        "suite": "procurement-fixture",
        "suite_version": 1,
        "backend": "cuda",
        "rank": gpu,
        "ranks": RANKS,
        "host": {"hostname": f"fixture-{cand}-node1", "cpu_model": "FIXTURE: not measured"},
        "gpus": [{"index": gpu, "name": spec["gpu"], "uuid": f"GPU-fixture-{cand}-{gpu}"}],
        "fixture": True,
        "fixture_note": NOTE,
    }
    return {"context": {"aicbench": provenance}, "benchmarks": rows}


def main():
    for cand in CANDIDATES:
        os.makedirs(os.path.join(OUT, cand), exist_ok=True)
        for gpu in (0, 1):
            path = os.path.join(OUT, cand, f"gpu{gpu}.json")
            with open(path, "w") as f:
                json.dump(result_file(cand, gpu), f, indent=1, sort_keys=True)
                f.write("\n")
            print(os.path.relpath(path, os.path.dirname(HERE)))


if __name__ == "__main__":
    main()
