"""Files a device_check.sh run's results: copies its JSONs into benchmarks/results/ under names that
carry the date, what they measured and the GPU, and prints one summary to paste into the README and
the issue notes: the test runs (junit XML), the compute-sanitizer verdicts, the build's status, the
steps the budget skipped, and each JSON's throughput and peak memory.

    python benchmarks/collect_device_results.py OUT_DIR [--dest benchmarks/results] [--dry-run] [--force]

OUT_DIR is the folder device_check.sh wrote (the device tool's $OUT, fetched). Its env.json names the
GPU ("NVIDIA H200" -> nvidia-h200); bench_synthesis_cuda_b256.json, recorded on 2026-12-01, becomes
2026-12-01--bench_synthesis_cuda_b256--nvidia-h200.json. Existing files are kept unless --force.
"""
from __future__ import annotations

import datetime
import glob
import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import parser  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def gpu_slug(name: str) -> str:
    """'NVIDIA H200' -> 'nvidia-h200' (lower case, runs of other characters as one dash)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _throughput(rec: dict) -> str:
    """One line of a benchmark record's figures (whichever of them it holds)."""
    parts = []
    for key in ("engine", "module", "dali", "torch", "synthetic", "torch_baseline",  # bench_batch_transport's:
                "packed_uint8", "packed_float", "per_frame_uint8", "per_frame_float"):
        v = rec.get(key)
        if isinstance(v, dict):
            for unit in ("samples_per_s", "frames_per_s"):
                if unit in v:
                    parts.append(f"{key} {v[unit]:,.0f} {unit.replace('_per_s', '')}/s")
    if isinstance(rec.get("graph"), dict) and "samples_per_s" in rec["graph"]:
        parts.append(f"graph {rec['graph']['samples_per_s']:,.0f} samples/s")
    if isinstance(rec.get("items_per_s"), dict):
        parts += [f"{k} {v:,.1f} items/s" for k, v in rec["items_per_s"].items() if isinstance(v, (int, float))]
    elif isinstance(rec.get("items_per_s"), (int, float)):
        parts.append(f"{rec['items_per_s']:,.1f} items/s")
    for key in ("peak_mem_mb_per_forgery", "peak_mem_mb_per_sample"):
        if key in rec:
            parts.append(f"peak {rec[key]:.2f} MB/{'forgery' if 'forgery' in key else 'sample'}")
    if isinstance(rec.get("ratio"), (int, float)):
        parts.append(f"ratio {rec['ratio']:.1f}x")
    for key, what in (("ratio_b_over_a", "b/a"), ("ratio_c_over_b", "c/b")):  # bench_train's arms
        if isinstance(rec.get(key), (int, float)):
            parts.append(f"{what} {rec[key]:.2f}")
    return ", ".join(parts) or "(no throughput field)"


def _junit(path: str) -> str:
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return "no testsuite element"
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    failed = [f"{c.get('classname', '')}::{c.get('name')}" for c in suite.iter("testcase")
              if c.find("failure") is not None or c.find("error") is not None]
    line = f"{n['tests']} tests: {n['failures']} failed, {n['errors']} errors, {n['skipped']} skipped"
    return line + ("; failing: " + ", ".join(failed[:10]) if failed else "")


def _sanitizer(path: str) -> str:
    with open(path, errors="replace") as f:
        text = f.read()
    found = re.findall(r"(?:ERROR|RACECHECK) SUMMARY: [^\n]*", text)
    return "; ".join(found) or ("all ops ran, no summary line" if "all ops ran" in text else "no summary line")


def collect(out_dir: str, dest: str, dry_run: bool = False, force: bool = False) -> tuple[list[str], list[str]]:
    """(summary lines, files written). Raises ValueError naming what is missing or would be overwritten."""
    env_path = os.path.join(out_dir, "env.json")
    if not os.path.isfile(env_path):
        raise ValueError(f"{env_path}: not found (is {out_dir} a device_check.sh output folder?)")
    with open(env_path) as f:
        env = json.load(f)
    if not env.get("gpu"):
        raise ValueError(f"{env_path} names no GPU: these results did not come from a GPU run")
    slug = gpu_slug(env["gpu"])
    run_stamp = env.get("timestamp_utc") or datetime.datetime.fromtimestamp(
        os.path.getmtime(env_path), datetime.timezone.utc).isoformat()
    lines = [f"GPU: {env['gpu']} (torch {env.get('torch')}, CUDA {env.get('cuda')}, timm {env.get('timm')})"]
    log = os.path.join(out_dir, "device_check.log")
    if os.path.isfile(log):
        with open(log, errors="replace") as f:
            builds = re.findall(r"build rc=(\S+)", f.read())
        if builds:
            lines.append(f"CUDA build: rc {builds[-1]}")
    for path in sorted(glob.glob(os.path.join(out_dir, "*.xml"))):
        lines.append(f"tests {os.path.basename(path)}: {_junit(path)}")
    for path in sorted(glob.glob(os.path.join(out_dir, "sanitizer_*.log"))):
        lines.append(f"{os.path.basename(path)[:-4]}: {_sanitizer(path)}")
    skipped = os.path.join(out_dir, "skipped.txt")
    if os.path.isfile(skipped):
        with open(skipped) as f:
            lines += [f"skipped: {s}" for s in f.read().splitlines() if s.strip()]
    written, plans = [], []
    for path in sorted(glob.glob(os.path.join(out_dir, "*.json"))):
        if os.path.basename(path) == "env.json":
            continue
        with open(path) as f:
            try:
                rec = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: not valid JSON ({e})") from None
        # A record without its own time (the training summary) takes the run's, not the collection day's.
        stamp = (rec.get("env") or {}).get("timestamp_utc") or run_stamp
        name = f"{stamp[:10]}--{os.path.splitext(os.path.basename(path))[0]}--{slug}.json"
        target = os.path.join(dest, name)
        if os.path.exists(target) and not force:
            raise ValueError(f"{target} exists (--force replaces it)")
        plans.append((path, target))
        lines.append(f"{name}: {_throughput(rec)}")
    if not dry_run:
        os.makedirs(dest, exist_ok=True)
        for src, target in plans:
            shutil.copyfile(src, target)
            written.append(target)
    return lines, written


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("out_dir", help="the folder device_check.sh wrote ($OUT)")
    ap.add_argument("--dest", default=RESULTS, help="where the renamed JSONs go")
    ap.add_argument("--dry-run", action="store_true", help="print the summary and the names; copy nothing")
    ap.add_argument("--force", action="store_true", help="replace files of the same name in --dest")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.out_dir):
        ap.error(f"{args.out_dir}: not a folder")
    try:
        lines, written = collect(args.out_dir, args.dest, args.dry_run, args.force)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"{len(written)} file(s) written to {args.dest}" if not args.dry_run else "dry run: nothing copied")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
