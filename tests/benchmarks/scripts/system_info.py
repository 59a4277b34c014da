#!/usr/bin/python3
"""Prints, as JSON, what the benchmark numbers depend on: CPU, cores, memory, load, versions."""
import argparse
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path


def run(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def package_version(deps_json: Path, name: str) -> str | None:
    try:
        libs = json.loads(deps_json.read_text())["libraries"]
    except (OSError, KeyError, ValueError):
        return None
    for key in libs:
        if key.split("/")[0] == name:
            return key.split("/")[1]
    return None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--api", type=Path, required=True, help="published server folder")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--profile", required=True)
    p.add_argument("--parts", default="all", help="all, or real-size for a run of the real-size part alone")
    a = p.parse_args()

    cpuinfo = Path("/proc/cpuinfo").read_text()
    model_name = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M).group(1))
    manifest = json.loads((a.model / "caption_service.json").read_text())
    deps = next(a.api.glob("CaptionService.Api.deps.json"), None)
    peer_pkg = a.root / "tests/peer/node_modules/@huggingface/transformers/package.json"
    ort_node_pkg = a.root / "tests/peer/node_modules/onnxruntime-node/package.json"
    ort = None
    if deps:
        ort = {n: package_version(deps, n) for n in ("Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxRuntime.Gpu",
                                                      "Microsoft.ML.OnnxRuntime.Gpu.Linux", "Microsoft.ML.OnnxRuntime.Managed")}
        ort = {k: v for k, v in ort.items() if v}
    info = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "profile": a.profile,
        "parts": a.parts,
        "cpu_model": model_name.group(1) if model_name else platform.processor(),
        "cpu_cores": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": run("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "threads": a.threads,
        "git_commit": run("git", "-C", str(a.root), "rev-parse", "HEAD"),
        # Untracked files count too (a new source file changes the build); the report's own
        # output folder does not.
        "git_changes": [line for line in run("git", "-C", str(a.root), "status", "--porcelain").splitlines()
                        if "tests/benchmarks/report/" not in line],
        "model": {"path": str(a.model), "name": manifest.get("name"), "version": manifest.get("version"),
                  "bytes": sum(f.stat().st_size for f in a.model.rglob("*") if f.is_file()),
                  # run.sh measures the ceiling without the image cache only for a package that has one.
                  "has_image_cache": "image_cache" in manifest},
        "versions": {
            "dotnet_sdk": run("dotnet", "--version"),
            "dotnet_runtimes": run("dotnet", "--list-runtimes").splitlines(),
            "onnxruntime_service": ort,
            "node": run("node", "--version"),
            "transformers_js": json.loads(peer_pkg.read_text())["version"] if peer_pkg.exists() else None,
            "onnxruntime_node": json.loads(ort_node_pkg.read_text())["version"] if ort_node_pkg.exists() else None,
            "wrk": run("sh", "-c", "wrk -v 2>&1 | head -1"),
            "python": platform.python_version(),
            "matplotlib": run("/usr/bin/python3", "-c", "import matplotlib; print(matplotlib.__version__)"),
        },
    }
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
