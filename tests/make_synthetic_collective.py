#!/usr/bin/env python3
"""Writes the SYNTHETIC collective result files tests/data/result-synthetic-collective-*.json.

Nothing in them was measured: every time is computed here from known alpha-beta terms with the
step counts of docs/collective-model.md (written again here, independently of
reports/model_collective.cpp), so that the tests can check that `aicbench model collective`
recovers the terms it was made from and predicts held-out rank counts. Each file says so in
context.aicbench.command_line and carries the terms it was made from in
context.aicbench.synthetic. The rows follow the collective row contract of issue 10 (family per
operation, params bytes and in_place, counters algbw_gbps and busbw_gbps, block
aicbench.collective with ranks and nodes) in result format 2.

The `mpi` rows carry a deterministic +-3 % ripple (so a validation of them has a non-zero error);
every other row is exact. Run from anywhere: python3 tests/make_synthetic_collective.py
"""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

SIZES = [8 * 8**i for i in range(8)]  # 8 B .. 16 MiB by factor 8


def ceil_log2(n):
    return (n - 1).bit_length()


def busbw_factor(op, p):
    return {"all_reduce": 2 * (p - 1) / p, "broadcast": 1.0}.get(op, (p - 1) / p)


# Single-node step structure: (alpha steps, beta bytes) per shape, p ranks, S bytes.
def coefficients(op, shape, p, s):
    if shape == "ring":
        if op == "all_reduce":
            return 2 * (p - 1), 2 * (p - 1) / p * s
        if op == "broadcast":
            return p - 1, s
        return p - 1, (p - 1) / p * s
    if shape == "rhd":
        if op == "all_reduce":
            q = 1 << (p.bit_length() - 1)  # the largest power of two <= p
            extra = q != p
            return 2 * math.log2(q) + (2 if extra else 0), 2 * (q - 1) / q * s + (2 * s if extra else 0)
        if op == "broadcast":
            return ceil_log2(p), ceil_log2(p) * s
        return ceil_log2(p), (p - 1) / p * s
    if shape == "oneshot":
        return 1, (p - 1) * s
    if shape == "twoshot":
        return 2, 2 * (p - 1) / p * s
    if shape == "nvls":
        return 2, (p + 1) / p * s
    raise ValueError(shape)


def single_node_time(op, shape, p, s, alpha, gbps):
    a, b = coefficients(op, shape, p, s)
    return a * alpha + b / (gbps * 1e9)


def ring_across_nodes_time(p, nodes, s, intra_alpha, intra_gbps, inter_alpha, nic_gbps):
    """NCCL's ring all_reduce over `nodes` nodes: 2(p-1) steps of which 2(nodes-1) cross nodes;
    each rank sends 2(p-1)/p S through the slower of its NVLink and its share of the NICs."""
    g = p // nodes
    steps, inter_steps = 2 * (p - 1), 2 * (nodes - 1)
    beta = max(1 / (intra_gbps * 1e9), 1 / (nic_gbps * 1e9) / g)
    return (steps - inter_steps) * intra_alpha + inter_steps * inter_alpha + 2 * (p - 1) / p * s * beta


def row(op, impl, dtype, p, nodes, s, t, vendor, backend):
    name = f"{op}/{impl}/{dtype}/bytes:{s}/in_place:1"
    algbw = s / t / 1e9
    busbw = algbw * busbw_factor(op, p)
    element = 2 if dtype == "bf16" else 4
    return {
        "name": name,
        "run_name": name,
        "run_type": "iteration",
        "repetition_index": 0,
        "real_time": t * 1e9,
        "time_unit": "ns",
        "algbw_gbps": algbw,
        "busbw_gbps": busbw,
        "gbps": busbw,
        "aicbench": {
            "family": op,
            "impl": impl,
            "dtype": dtype,
            "backend": backend,
            "vendor": vendor,
            "params": {"bytes": s, "in_place": 1},
            "status": "ok",
            "validation": {"max_rel_err": 0, "tolerance": 0},
            "measurement": {"median_s": t},
            "collective": {"ranks": p, "nodes": nodes, "busbw_factor": busbw_factor(op, p),
                           "count": max(1, s // element), "wrong_elements": 0, "in_place": True},
        },
    }


def write(name, backend, ranks, nodes, rows, truth):
    context = {
        "aicbench": {
            "format_version": 2,
            "start_time": "2026-11-30T00:00:00Z",
            "end_time": "2026-11-30T00:00:00Z",
            "complete": True,
            "aicbench_version": "synthetic",
            "command_line": "tests/make_synthetic_collective.py: SYNTHETIC, times computed from known alpha-beta "
                            "terms, not measured",
            "suite": "collectives",
            "suite_version": 1,
            "backend": backend,
            "rank": 0,
            "ranks": ranks,
            "job": {"launcher": "mpirun", "ranks": ranks, "nodes": nodes},
            "host": {"hostname": "synthetic", "cpu_model": "synthetic: not measured"},
            "gpus": [],
            "telemetry": {"available": False, "reason": "synthetic file"},
            "synthetic": truth,
        }
    }
    path = os.path.join(OUT, f"result-synthetic-collective-{name}.json")
    # One row per line: small files that still diff row by row.
    with open(path, "w") as f:
        f.write('{"context": ' + json.dumps(context, indent=1, sort_keys=True) + ',\n "benchmarks": [\n')
        f.write(",\n".join("  " + json.dumps(r, sort_keys=True, separators=(",", ":")) for r in rows))
        f.write("\n ]\n}\n")
    print("wrote", os.path.relpath(path))


# ---------------------------------------------------------------------------------------------
# CPU: one node, MPI over shared memory, 2, 3, 4 and 8 ranks.

CPU_TRUTH = {
    # impl: (op, dtype, shape, alpha seconds, GB/s, ripple)
    "all_reduce/mpi/fp32": ("ring", 1.8e-6, 5.5, 0.03),
    "all_reduce/ring/fp32": ("ring", 2.0e-6, 5.0, 0),
    "all_reduce/ring/bf16": ("ring", 2.0e-6, 2.5, 0),
    "all_reduce/rhd/fp32": ("rhd", 3.0e-6, 4.0, 0),
    "all_reduce/oneshot_shm/fp32": ("oneshot", 1.5e-6, 8.0, 0),
    "all_reduce/twoshot_shm/fp32": ("twoshot", 2.5e-6, 6.0, 0),
    "all_gather/mpi/fp32": ("ring", 1.6e-6, 6.0, 0.03),
    "reduce_scatter/mpi/fp32": ("ring", 1.7e-6, 5.0, 0.03),
    "all_to_all/mpi/fp32": ("ring", 2.2e-6, 4.0, 0.03),
    "broadcast/mpi/fp32": ("ring", 1.4e-6, 7.0, 0.03),
}


def cpu_files():
    truth = {key: {"shape": shape, "alpha_s": alpha, "gbps": gbps, "ripple": ripple}
             for key, (shape, alpha, gbps, ripple) in CPU_TRUTH.items()}
    for p in (2, 3, 4, 8):
        rows = []
        for key, (shape, alpha, gbps, ripple) in CPU_TRUTH.items():
            op, impl, dtype = key.split("/")
            for i, s in enumerate(SIZES):
                t = single_node_time(op, shape, p, s, alpha, gbps)
                t *= 1 + ripple * math.sin(1.7 * i + 0.9 * p)
                rows.append(row(op, impl, dtype, p, 1, s, t, impl == "mpi", "cpu"))
        write(f"cpu-ranks{p}", "cpu", p, 1, rows, {"note": "SYNTHETIC: not measured", "terms": truth})


# ---------------------------------------------------------------------------------------------
# CUDA: nodes of 8 GPUs; NCCL (ring) on 1, 2 and 4 nodes, multimem (NVLS) on 1 node.

NCCL = {"alpha_s": 1.2e-6, "gbps": 360.0}
NET = {"alpha_s": 6.0e-6, "nic_gbps": 25.0}  # 200 Gb/s per GPU: the NICs are the bottleneck across nodes
NVLS = {"alpha_s": 2.5e-6, "gbps": 300.0}


def cuda_files():
    truth = {"nccl": NCCL, "network": NET, "multimem": NVLS, "note": "SYNTHETIC: not measured"}
    for nodes in (1, 2, 4):
        p = 8 * nodes
        rows = []
        for s in SIZES:
            if nodes == 1:
                t = single_node_time("all_reduce", "ring", p, s, NCCL["alpha_s"], NCCL["gbps"])
            else:
                t = ring_across_nodes_time(p, nodes, s, NCCL["alpha_s"], NCCL["gbps"], NET["alpha_s"], NET["nic_gbps"])
            rows.append(row("all_reduce", "nccl", "fp32", p, nodes, s, t, True, "cuda"))
        if nodes == 1:
            for s in SIZES:
                t = single_node_time("all_reduce", "nvls", p, s, NVLS["alpha_s"], NVLS["gbps"])
                rows.append(row("all_reduce", "multimem", "fp32", p, 1, s, t, False, "cuda"))
        write(f"cuda-{nodes}node" + ("s" if nodes > 1 else ""), "cuda", p, nodes, rows, truth)


if __name__ == "__main__":
    cpu_files()
    cuda_files()
