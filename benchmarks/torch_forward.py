"""The PyTorch side of side_by_side.py: times masked-LM forwards of a checkpoint folder in plain PyTorch.

    /usr/bin/python3 benchmarks/torch_forward.py DIR SPEC BATCH LENGTH REPEATS

Prints one JSON line like the TorchSharp side (samples/Benchmarks, command `forward`): the median seconds of REPEATS
forwards after one warm-up, a checksum of the logits, the set-up time and this process's fp32 matmul rate. Threads:
RNALM_BENCH_THREADS (default 2) intra-op, 1 inter-op.
"""

import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402


def fixed_input(batch, length):
    ids = (torch.arange(batch * length, dtype=torch.int64) * 7 % 4 + 6).view(batch, length)
    ids[:, 0] = 1
    ids[:, length - 1] = 2
    return ids


def matmul_rate():
    """GFLOP/s of a 2048x2048 fp32 product into preallocated memory: the best of 8 after a warm-up, so neither the
    allocation of the result nor a moment of load elsewhere on the machine lowers the rate."""
    a, b, c = torch.randn(2048, 2048), torch.randn(2048, 2048), torch.empty(2048, 2048)
    times = []
    for r in range(9):
        start = time.perf_counter()
        c.addmm_(a, b, beta=0)
        if r > 0:
            times.append(time.perf_counter() - start)
    return 2.0 * 2048 ** 3 / min(times) / 1e9


def main():
    directory, spec, batch, length, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(int(os.environ.get("RNALM_BENCH_THREADS", "2")))
    torch.set_num_interop_threads(1)
    start = time.perf_counter()
    model = torch_models.load(directory, spec)
    setup = time.perf_counter() - start
    ids = fixed_input(batch, length)
    mask = torch.ones_like(ids)
    times, checksum = [], 0.0
    with torch.inference_mode():
        for r in range(-1, repeats):
            start = time.perf_counter()
            _, logits = model.forward(ids, mask)
            if r < 0:
                checksum = float(logits.abs().sum())
            else:
                times.append(time.perf_counter() - start)
            del logits
    print(json.dumps({"engine": "pytorch", "version": torch.__version__, "median_s": statistics.median(times), "times": times,
                      "checksum": checksum, "setup_s": setup, "matmul_gflops": matmul_rate(), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
