"""Side-by-side forward benchmark: the generated TorchSharp models against the same weights in plain PyTorch.

    /usr/bin/python3 benchmarks/side_by_side.py [--runs 4] [--repeats 3] [--only splicebert,ernierna] [--shapes all|short|long]
        [--malloc rnalm|glibc] [--linear kernel|libtorch] [--mkl-intel-path] [--out results.md]

Needs Debian's python3-torch (PyTorch 1.13) with OpenBLAS as the system BLAS for /usr/bin/python3
(`apt-get install python3-torch libopenblas0-pthread`; without OpenBLAS, Debian's reference BLAS makes PyTorch's
matmuls ~10× slower) and a Release build of samples/Benchmarks (built here when missing). For each model and shape it writes a full-size checkpoint with random weights once
(/tmp/rnalm-bench), checks that both engines give the same logits on a fixed input (relative difference of the
checksums ≤ 1e-3; the engines' own outputs are checked against the fixtures by check.py and the parity tests), then
alternates fresh processes TorchSharp, PyTorch, TorchSharp, ... `--runs` times each. Each process reports the median of
`--repeats` forwards after a warm-up; the table gives the median over runs, the ratio TorchSharp/PyTorch, and achieved
GFLOP/s as a share of the same process's fp32 matmul rate. Both processes get the same environment: 2 intra-op threads
(RNALM_BENCH_THREADS, also OPENBLAS_NUM_THREADS), OMP_WAIT_POLICY=PASSIVE, and one allocator policy:
`--malloc rnalm` (default) is the policy every rnalm command applies (RnaLm.Training.NativeMemory): tensors of 2 MiB
and more are mappings of their own backed by transparent huge pages, smaller ones come from glibc's heap, which is
never trimmed. The TorchSharp worker applies it itself (libtorch's THP_MEM_ALLOC_ENABLE, mmap threshold 2 MiB, trim
threshold 1 GiB; without huge pages it falls back to a 32 MiB mmap threshold, and it reports which policy ran).
PyTorch 1.13 has no such switch, so its processes get the same through glibc's tunables (glibc.malloc.hugetlb=1,
which also puts PyTorch's heap on huge pages, mmap_threshold 2 MiB, trim_threshold 1 GiB).
`--malloc glibc` leaves glibc's defaults on both sides.

`--linear kernel` (default) lets the generated models' projections run on RnaLm's AVX-512 kernel
(RnaLm.Modules.Dense) as every rnalm command does; `--linear libtorch` sends them to libtorch's linear (MKL), as on
a processor without AVX-512. The TorchSharp side's "% of matmul" is against the 2048² product rate of the path its
projections take; the header also gives libtorch's own rate in the same processes.

`--mkl-intel-path` measures how much of the TorchSharp side's time is the BLAS: libtorch's bundled MKL takes a generic
AVX2 code path on AMD processors, while OpenBLAS (PyTorch's side here) uses AVX-512. With this option the TorchSharp
processes run with a two-line shim (built with gcc into the scratch folder and preloaded) that makes MKL's vendor
check answer "Intel", so MKL picks its AVX-512 kernels. It is a measurement, not something rnalm does.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKER = os.path.join(REPO, "samples", "Benchmarks", "bin", "Release", "net10.0", "rnalm-benchmarks")

# (variant, family spec, batch, length)
CASES = [
    ("splicebert", "splicebert", 1, 128), ("splicebert", "splicebert", 8, 512),
    ("rnaernie", "rnaernie", 1, 128), ("rnaernie", "rnaernie", 8, 512),
    ("ernierna", "ernierna", 1, 128), ("ernierna", "ernierna", 8, 512),
    ("ncrnabert", "ncrnabert", 1, 128), ("ncrnabert", "ncrnabert", 2, 512),
    ("rnafm", "rnafm", 1, 128), ("rnafm", "rnafm", 8, 512),
    ("utrlm-te_el", "utrlm", 1, 128), ("utrlm-te_el", "utrlm", 8, 512),
    ("calm", "calm", 1, 128), ("calm", "calm", 8, 512),
    ("rinalmo-micro", "rinalmo", 1, 128), ("rinalmo-micro", "rinalmo", 8, 512),
    ("utrbert-3mer", "utrbert", 1, 128), ("utrbert-3mer", "utrbert", 8, 510),
    ("rnabert", "rnabert", 1, 128), ("rnabert", "rnabert", 8, 440),
]


def run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument("--shapes", choices=["all", "short", "long"], default="all", help="short: the 1×128 cases; long: the others")
    parser.add_argument("--out", default="")
    parser.add_argument("--scratch", default="/tmp/rnalm-bench")
    parser.add_argument("--malloc", choices=["rnalm", "glibc"], default="rnalm")
    parser.add_argument("--linear", choices=["kernel", "libtorch"], default="kernel")
    parser.add_argument("--mkl-intel-path", action="store_true")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    if not os.path.exists(WORKER):
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(REPO, "samples", "Benchmarks")], check=True)
    threads = os.environ.get("RNALM_BENCH_THREADS", "2")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", RNALM_BENCH_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    sharp_env = dict(env)
    if args.malloc == "rnalm":
        # RnaLm.Training.NativeMemory.LargeTensorBytes, with huge pages, as the TorchSharp worker applies it.
        env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=2097152:glibc.malloc.trim_threshold=1073741824"
    else:
        sharp_env["RNALM_BENCH_MALLOC"] = "glibc"
    if args.linear == "libtorch":
        sharp_env["RNALM_LINEAR"] = "libtorch"
    if args.mkl_intel_path:
        os.makedirs(args.scratch, exist_ok=True)
        source, shim = os.path.join(args.scratch, "mkl_intel_path.c"), os.path.join(args.scratch, "libmkl_intel_path.so")
        with open(source, "w") as f:
            f.write("int mkl_serv_intel_cpu_true(void) { return 1; }\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", shim, source], check=True)
        sharp_env["LD_PRELOAD"] = shim
    rows = []
    for variant, family, batch, length in CASES:
        if only and variant not in only:
            continue
        if (args.shapes == "short" and (batch, length) != (1, 128)) or (args.shapes == "long" and (batch, length) == (1, 128)):
            continue
        checkpoint = os.path.join(args.scratch, variant)
        if not os.path.exists(os.path.join(checkpoint, "model.safetensors")):
            subprocess.run([WORKER, "write-checkpoint", variant, checkpoint], env=env, check=True, capture_output=True)
        spec = os.path.join(REPO, "Definitions", f"{family}.model.json")
        sharp_cmd = [WORKER, "forward", checkpoint, str(batch), str(length), str(args.repeats)]
        torch_cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_forward.py"), checkpoint, spec, str(batch), str(length), str(args.repeats)]
        sharp, torch_ = [], []
        for _ in range(args.runs):
            sharp.append(run(sharp_cmd, sharp_env))
            torch_.append(run(torch_cmd, env))
        a, b = sharp[0]["checksum"], torch_[0]["checksum"]
        if abs(a - b) > 1e-3 * max(abs(a), abs(b)):
            sys.exit(f"{variant} {batch}x{length}: the engines disagree (logit checksums {a} and {b})")
        policies = sorted({r.get("memory_policy", "?") for r in sharp})
        ts = statistics.median(r["median_s"] for r in sharp)
        pt = statistics.median(r["median_s"] for r in torch_)
        flops = sharp[0]["flops"]
        ts_mm = statistics.median(r["matmul_gflops"] for r in sharp)
        ts_libtorch_mm = statistics.median(r.get("libtorch_matmul_gflops", r["matmul_gflops"]) for r in sharp)
        kernel = sorted({"kernel" if r.get("projection_kernel") else "libtorch" for r in sharp})
        pt_mm = statistics.median(r["matmul_gflops"] for r in torch_)
        row = {"variant": variant, "shape": f"{batch}×{length}", "torchsharp_s": ts, "pytorch_s": pt, "ratio": ts / pt,
               "torchsharp_gflops": flops / ts / 1e9, "pytorch_gflops": flops / pt / 1e9, "torchsharp_matmul": ts_mm, "pytorch_matmul": pt_mm,
               "torchsharp_libtorch_matmul": ts_libtorch_mm, "torchsharp_projections": ",".join(kernel),
               "torchsharp_setup_s": statistics.median(r["setup_s"] for r in sharp), "torchsharp_memory_policy": ",".join(policies), "pytorch_setup_s": statistics.median(r["setup_s"] for r in torch_)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; PyTorch {torch_[0].get('version', '?') if rows else '?'}; "
        f"threads {env['RNALM_BENCH_THREADS']}; OMP_WAIT_POLICY=PASSIVE; malloc policy {args.malloc}"
        f"{' (TorchSharp: ' + ', '.join(sorted({r['torchsharp_memory_policy'] for r in rows})) + ')' if rows else ''}; "
        f"{'MKL AVX-512 path forced; ' if args.mkl_intel_path else ''}{args.runs} alternating runs × {args.repeats} forwards"
        f"{'; TorchSharp projections on ' + ', '.join(sorted({r['torchsharp_projections'] for r in rows})) if rows else ''}"
        f"{', libtorch matmul %.0f GFLOP/s in the same processes' % statistics.median(r['torchsharp_libtorch_matmul'] for r in rows) if rows else ''}.",
        "",
        "| model | batch × tokens | TorchSharp | PyTorch | ratio | TorchSharp GFLOP/s (% of matmul) | PyTorch GFLOP/s (% of matmul) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['shape']} | {r['torchsharp_s'] * 1000:,.1f} ms | {r['pytorch_s'] * 1000:,.1f} ms | {r['ratio']:.2f} | "
                     f"{r['torchsharp_gflops']:.1f} ({100 * r['torchsharp_gflops'] / r['torchsharp_matmul']:.0f}% of {r['torchsharp_matmul']:.0f}) | "
                     f"{r['pytorch_gflops']:.1f} ({100 * r['pytorch_gflops'] / r['pytorch_matmul']:.0f}% of {r['pytorch_matmul']:.0f}) |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
