#!/usr/bin/env python3
"""Writes the FIXTURE result files that stand in for GPU measurements where none exist yet:

  specs/procurement/fixtures/{h100_sxm,h200,b200}.json   candidates for `aicbench size` and `aicbench score`
  tests/data/sizing/{a100,h100,h800}.json                 the hardware of published training runs, for the
                                                          validation in docs/sizing-validation.md

NOTHING IN THEM WAS MEASURED. Every number comes from the datasheet peak (specs/gpus/*.json) through
the stated rules below, the same rules for every GPU, so that the CPU path of `size` and `score`
runs and is tested end to end, and so that the validation tests the sizing model with the hardware
held to one documented convention rather than tuned per run. Each file says so in
context.aicbench.fixture (true), context.aicbench.fixture_note and command_line.

Rules (docs/sizing.md, "Fixtures"):
  GEMM (impl cublaslt, vendor): TFLOP/s = peak x e_max x V / (V + V_half), V = M N K;
      bf16: e_max 0.75, V_half 2^31 (about 1290^3); fp8: e_max 0.65, V_half 2^32.
      Shapes: the gemm suite's square sweep 256..16384 and its Llama 3 layer shapes at 4096 and
      8192 tokens (specs/suites/gemm.json), bf16 and fp8 (fp8 where the datasheet has it).
  attention (impl cudnn, vendor, bf16, causal): TFLOP/s = bf16 peak x 0.6 x S / (S + 512), at
      S = 1024..16384 with B S = 16384 tokens, 64 heads, 8 KV heads, D = 128 (Llama 3 70B's heads);
      FLOPs 4 B H S S D / 2.
  all_reduce (impl nccl, bf16, 8 ranks on one node): ring time 2(p-1) x 1.5 us + 2(p-1)/p S / B_bus,
      B_bus = 0.82 x the NVLink bandwidth per direction (0.82 = 370/450, nccl-tests' ring busbw on
      8x H100 SXM over its 450 GB/s, the collective model's assumption), S = 1 MiB .. 4 GiB by 4x.
  power_w on GEMM rows: TDP x (0.55 + 0.4 x rate / (peak x e_max)).

Run from anywhere: python3 tests/make_procurement_fixtures.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

E_MAX = {"bf16": 0.75, "fp8": 0.65}
V_HALF = {"bf16": 2.0**31, "fp8": 2.0**32}
ATTENTION_MAX = 0.6
ATTENTION_S_HALF = 512
ALLREDUCE_ALPHA_S = 1.5e-6
BUSBW_OF_NVLINK = 0.82

SQUARE = [256, 512, 1024, 2048, 4096, 8192, 16384]
# Llama 3 8B, 70B, 405B linear layers (N, K): fused QKV, attention output, fused gate/up, down.
LAYERS = [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336),
          (10240, 8192), (8192, 8192), (57344, 8192), (8192, 28672),
          (18432, 16384), (16384, 16384), (106496, 16384), (16384, 53248)]
TOKENS = [4096, 8192]

# name: (file, GPU name as NVML reports it, datasheet file, memory GB, NVLink GB/s per direction, source of NVLink)
CANDIDATES = {
    "h100_sxm": ("specs/procurement/fixtures/h100_sxm.json", "NVIDIA H100 80GB HBM3", "h100_sxm", 80, 450,
                 "NVLink 4: 900 GB/s per GPU (H100 SXM datasheet), 450 per direction"),
    "h200": ("specs/procurement/fixtures/h200.json", "NVIDIA H200", "h200", 141, 450,
             "NVLink 4: 900 GB/s per GPU (H200 SXM datasheet), 450 per direction"),
    "b200": ("specs/procurement/fixtures/b200.json", "NVIDIA B200", "b200", 180, 900,
             "NVLink 5: 1.8 TB/s per GPU (HGX B200 specifications), 900 per direction"),
    "a100": ("tests/data/sizing/a100.json", "NVIDIA A100-SXM4-80GB", "a100", 80, 300,
             "NVLink 3: 600 GB/s per GPU (A100 datasheet), 300 per direction"),
    "h100": ("tests/data/sizing/h100.json", "NVIDIA H100 80GB HBM3", "h100_sxm", 80, 450,
             "NVLink 4: 900 GB/s per GPU (H100 SXM datasheet), 450 per direction"),
    "h800": ("tests/data/sizing/h800.json", "NVIDIA H800", "h800", 80, 200,
             "NVLink: 400 GB/s per GPU (H800 SXM datasheet), 200 per direction"),
}


def datasheet(name):
    with open(os.path.join(ROOT, "specs", "gpus", name + ".json")) as f:
        return json.load(f)


def row(name, family, impl, dtype, params, seconds, counters, extra=None):
    info = {
        "family": family, "impl": impl, "dtype": dtype, "backend": "cuda", "vendor": True,
        "params": params, "mode": "cold", "status": "ok",
        "validation": {"max_rel_err": 0.001, "tolerance": 0.01},
        "measurement": {"median_s": seconds},
    }
    if extra:
        info.update(extra)
    r = {"name": name, "run_name": name, "run_type": "iteration", "repetition_index": 0,
         "real_time": seconds * 1e9, "cpu_time": seconds * 1e9, "time_unit": "ns", "aicbench": info}
    r.update(counters)
    return r


def gemm_rows(peaks, tdp):
    rows = []
    shapes = [(s, s, s) for s in SQUARE] + [(m, n, k) for m in TOKENS for (n, k) in LAYERS]
    shapes = sorted(set(shapes), key=shapes.index)  # 4096^3 is both a square and a layer shape
    for dtype in ("bf16", "fp8"):
        if dtype not in peaks:
            continue
        peak = peaks[dtype]
        for (m, n, k) in shapes:
            v = float(m) * n * k
            tflops = peak * E_MAX[dtype] * v / (v + V_HALF[dtype])
            seconds = 2 * v / (tflops * 1e12)
            power = tdp * (0.55 + 0.4 * tflops / (peak * E_MAX[dtype]))
            name = f"gemm/cublaslt/{dtype}/M:{m}/N:{n}/K:{k}"
            rows.append(row(name, "gemm", "cublaslt", dtype, {"M": m, "N": n, "K": k}, seconds,
                            {"tflops": tflops, "pct_of_peak": 100 * tflops / peak, "power_w": power,
                             "energy_j": power * seconds, "tflops_per_w": tflops / power},
                            {"telemetry": {"readings": 10, "power_w": power, "energy_j": power * seconds,
                                           "energy_source": "fixture: TDP x (0.55 + 0.4 x rate / (peak x e_max))"}}))
    return rows


def attention_rows(peaks):
    rows = []
    h, kvh, d = 64, 8, 128
    for s in (1024, 2048, 4096, 8192, 16384):
        b = 16384 // s
        flops = 4.0 * b * h * s * s * d / 2
        tflops = peaks["bf16"] * ATTENTION_MAX * s / (s + ATTENTION_S_HALF)
        seconds = flops / (tflops * 1e12)
        name = f"attention/cudnn/bf16/B:{b}/H:{h}/KVH:{kvh}/Sq:{s}/Sk:{s}/D:{d}/causal:1"
        rows.append(row(name, "attention", "cudnn", "bf16",
                        {"B": b, "H": h, "KVH": kvh, "Sq": s, "Sk": s, "D": d, "causal": 1}, seconds,
                        {"tflops": tflops, "pct_of_peak": 100 * tflops / peaks["bf16"]}))
    return rows


def all_reduce_rows(nvlink_gbps, ranks=8):
    rows = []
    bus = BUSBW_OF_NVLINK * nvlink_gbps * 1e9
    size = 1 << 20
    while size <= 4 << 30:
        seconds = 2 * (ranks - 1) * ALLREDUCE_ALPHA_S + 2 * (ranks - 1) / ranks * size / bus
        algbw = size / seconds / 1e9
        factor = 2 * (ranks - 1) / ranks
        name = f"all_reduce/nccl/bf16/bytes:{size}/in_place:1"
        rows.append(row(name, "all_reduce", "nccl", "bf16", {"bytes": size, "in_place": 1}, seconds,
                        {"algbw_gbps": algbw, "busbw_gbps": algbw * factor, "gbps": algbw * factor},
                        {"collective": {"ranks": ranks, "nodes": 1, "busbw_factor": factor, "count": size // 2,
                                        "wrong_elements": 0, "in_place": True},
                         "validation": {"max_rel_err": 0, "tolerance": 0}}))
        size *= 4
    return rows


def write(key):
    path, gpu, sheet_name, memory_gb, nvlink, nvlink_source = CANDIDATES[key]
    sheet = datasheet(sheet_name)
    peaks = sheet["peak_tflops"]
    tdp = sheet["tdp_w"]
    note = (f"FIXTURE, NOT A MEASUREMENT: {gpu}-class numbers made by tests/make_procurement_fixtures.py from the "
            f"datasheet ({sheet['sku']}) through stated rules: GEMM at 75 % (bf16) / 65 % (fp8) of the dense peak "
            f"for large shapes, falling with V/(V+2^31); fused attention at 60 % of the bf16 peak x S/(S+512); "
            f"8-GPU NCCL all-reduce at 0.82 x NVLink per direction ({nvlink_source}); power_w "
            f"0.55..0.95 x TDP {tdp} W. Replace with the vendor sample node's result files.")
    gpus = [{"index": i, "name": gpu, "uuid": f"GPU-fixture-{key}-{i}", "memory_bytes": memory_gb * 1e9,
             "power_limit_w": tdp} for i in range(8)]
    context = {"aicbench": {
        "format_version": 2,
        "aicbench_version": "fixture",
        "command_line": "tests/make_procurement_fixtures.py: FIXTURE, numbers made from the datasheet by stated "
                        "rules, not measured",
        "start_time": "2026-11-30T00:00:00Z", "end_time": "2026-11-30T00:00:00Z", "complete": True,
        "suite": "procurement_fixture", "suite_version": 1,
        "backend": "cuda", "backend_reason": "fixture: no device was used",
        "rank": 0, "ranks": 8, "job": {"launcher": "none", "ranks": 8, "nodes": 1},
        "host": {"hostname": f"fixture-{key}", "cpu_model": "fixture: not measured"},
        "gpus": gpus,
        "datasheet": {"sku": sheet["sku"], "source": sheet["source"]},
        "telemetry": {"available": True, "source": "fixture: power_w from a stated rule, not NVML"},
        "fixture": True,
        "fixture_note": note,
    }}
    rows = gemm_rows(peaks, tdp) + attention_rows(peaks) + all_reduce_rows(nvlink)
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write('{"context": ' + json.dumps(context, indent=1, sort_keys=True) + ',\n "benchmarks": [\n')
        f.write(",\n".join("  " + json.dumps(r, sort_keys=True, separators=(",", ":")) for r in rows))
        f.write("\n ]\n}\n")
    print("wrote", path)


if __name__ == "__main__":
    for key in CANDIDATES:
        write(key)
