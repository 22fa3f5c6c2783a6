"""The benchmarks run end to end on the default corpus and report sane figures (no speed is asserted)."""

import json
import os
import subprocess
import sys

from conftest import CORPUS, ROOT


def test_build_and_search_reports_throughput_and_latency():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "bench/build_and_search.py", str(CORPUS), "--queries", "5", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["documents"] == 1 and r["chunks"] >= 5 and r["tokens"] > 500
    assert r["chunks_per_s"] > 0 and r["tokens_per_s"] > r["chunks_per_s"]
    # int8 kernels can beat the float32 matmul the fraction is measured against, so no upper bound.
    assert r["build_fraction_of_matmul_limit"] > 0 and r["matmul_gflops"] > 0
    assert r["encoder"] == "onnx-int8"
    assert r["queries"] == 5 and 0 < r["retrieve"]["p50_ms"] <= r["retrieve"]["p95_ms"]
    assert 0 < r["answer"]["p50_ms"] <= r["answer"]["p95_ms"]


def test_cluster_bench_in_process_parts_report_builds_and_shard_latency():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "bench/cluster.py", str(CORPUS), "--queries", "5", "--shards", "1,2", "--no-ray", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["chunks"] >= 5 and set(r["builds"]) == {"in-process", "2 local processes"}
    assert all(b["chunks_per_s"] > 0 for b in r["builds"].values())
    assert set(r["retrieve"]) == {"unsharded", "1 shards, threads", "2 shards, threads"}
    assert all(0 < p["p50_ms"] <= p["p95_ms"] for p in r["retrieve"].values())
