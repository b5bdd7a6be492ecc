#!/usr/bin/env python3
"""Prints the README's benchmark table from a bench_attention.py bench.json.

Each cell is our TFLOP/s over cuDNN's BF16 SDPA TFLOP/s for the same shape
and pass, both measured in the same process (so the ratio, not the TFLOP/s,
is what compares across runs). Rows whose key the JSON lacks (an older run)
are left out; shapes default to D = 128 from 4k keys, the issues' targets.

  python3 bench/ratio_table.py bench/results/bench-session38-sustained-h100.json
"""
import argparse
import json
import sys

# (label, our key, cuDNN's key)
ROWS = [
    ("`qat` forward (NVFP4 P)", "attnqat_qat_fwd_tflops", "cudnn_fwd_tflops"),
    ("`qat` forward, no autograd (no O′)", "attnqat_qateval_fwd_tflops", "cudnn_fwd_tflops"),
    ("`qat` forward, MXFP4", "attnqat_qatmx_fwd_tflops", "cudnn_fwd_tflops"),
    ("`qat` forward, MXFP4, no autograd", "attnqat_qatmxeval_fwd_tflops", "cudnn_fwd_tflops"),
    ("`fp4` forward", "attnqat_fp4_fwd_tflops", "cudnn_fwd_tflops"),
    ("`none` forward", "attnqat_none_fwd_tflops", "cudnn_fwd_tflops"),
    ("`qat` forward+backward", "attnqat_qat_fwdbwd_tflops", "cudnn_fwdbwd_tflops"),
    ("`qat` backward alone", "attnqat_qat_bwd_tflops", "cudnn_bwd_tflops"),
]


def label(row):
    n = row["N"]
    keys = f"{n // 1024}k" if n % 1024 == 0 else f"{n:,}"
    return keys + (" causal" if row["causal"] else "")


def table(result, head_dim, min_keys):
    rows = [r for r in result["rows"] if r["D"] == head_dim and r["N"] >= min_keys]
    if not rows:
        raise SystemExit(f"ratio_table: no row with D = {head_dim} and N >= {min_keys}")
    lines = ["| mode | " + " | ".join(label(r) for r in rows) + " |",
             "|---|" + "---|" * len(rows)]
    for name, ours, ref in ROWS:
        if not any(ours in r for r in rows):
            continue
        cells = [f"{r[ours] / r[ref]:.3f}" if ours in r and r.get(ref) else "n/a"
                 for r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", help="a bench.json written by bench_attention.py")
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--min-keys", type=int, default=4096)
    a = p.parse_args(argv)
    try:
        with open(a.json) as f:
            result = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"ratio_table: cannot read {a.json}: {e}")
    print(f"GPU: {result.get('gpu', 'unknown')}; ratios to cuDNN BF16 SDPA, D = {a.head_dim}")
    print(table(result, a.head_dim, a.min_keys))
    if result.get("done") is False:  # bench_attention.py writes each row as it comes
        print(f"partial run: it stopped after {len(result['rows'])} shapes")


if __name__ == "__main__":
    sys.exit(main())
