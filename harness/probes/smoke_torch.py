"""Probe: torch works on CPU: a matmul checked against numpy, conv2d forward and backward.

Also records the build (version, CUDA or not, BLAS/LAPACK backend, CPU capability), the
thread count, a 1024x1024 float32 matmul timing and the import time of torch.
"""

from __future__ import annotations

import re
import statistics
from typing import Any

from _common import (
    Stopwatch,
    check,
    dist_version,
    import_time,
    is_offline,
    repeat_timed,
    run_probe,
    stage,
    workload,
)

IMPORT_RUNS = 3
BENCH_SIZE = 1024
BENCH_REPEATS = 5
SEED = 0


def blas_facts(config: str) -> dict[str, Any]:
    """BLAS and LAPACK backends named in ``torch.__config__.show()``."""
    blas = re.search(r"BLAS_INFO=([^,\s]+)", config)
    lapack = re.search(r"LAPACK_INFO=([^,\s]+)", config)
    names = {"mkl": "MKL", "open": "OpenBLAS", "openblas": "OpenBLAS", "accelerate": "Accelerate"}
    blas_name = blas.group(1) if blas else None
    if blas_name is None and "OpenBLAS" in config:
        blas_name = "open"
    mkl = re.search(r"Math Kernel Library Version ([^\s-]+)", config)
    return {
        "blas": names.get(blas_name or "", blas_name),
        "blas_info": blas_name,
        "lapack": lapack.group(1) if lapack else None,
        "lapack_enabled": "LAPACK is enabled" in config,
        "mkl_version": mkl.group(1) if mkl else None,
        "openmp": "OpenMP" in config,
        "mkldnn": "MKL-DNN" in config or "oneDNN" in config,
    }


def build_facts(torch: Any) -> dict[str, Any]:
    """Version and build of the installed torch."""
    config = torch.__config__.show()
    get_capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return {
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "cuda_build": torch.version.cuda is not None,
        "numpy_version": dist_version("numpy"),
        "cpu_capability": get_capability() if get_capability else None,
        "num_threads": torch.get_num_threads(),
        "num_interop_threads": torch.get_num_interop_threads(),
        **blas_facts(config),
    }


def pure_python_matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    """Reference matmul for when numpy is missing."""
    inner, width = range(len(b)), range(len(b[0]))
    return [[sum(row[k] * b[k][j] for k in inner) for j in width] for row in a]


def numpy_bridge(torch: Any, numpy: Any) -> str:
    """ "ok" when tensors convert to and from numpy arrays, else the error."""
    try:
        back = torch.from_numpy(torch.arange(4.0).numpy() * numpy.float32(2))
        return "ok" if back.tolist() == [0.0, 2.0, 4.0, 6.0] else f"wrong values {back.tolist()}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def check_matmul(torch: Any, result: dict[str, Any]) -> None:
    """torch's matmul equals numpy's (or a pure-Python one on a smaller pair)."""
    numpy: Any
    try:
        import numpy
    except ImportError:
        numpy = None
    result["numpy_importable"] = numpy is not None
    shape = (64, 48, 32) if numpy is not None else (8, 6, 4)
    generator = torch.Generator().manual_seed(SEED)
    a = torch.randn(shape[0], shape[1], dtype=torch.float64, generator=generator)
    b = torch.randn(shape[1], shape[2], dtype=torch.float64, generator=generator)
    got = a @ b
    if numpy is not None:
        # Via lists, not .numpy(): the reference must not depend on torch's numpy bridge,
        # which is checked on its own.
        product = numpy.array(a.tolist()) @ numpy.array(b.tolist())
        reference = torch.tensor(product.tolist(), dtype=torch.float64)
        result["matmul_reference"] = "numpy"
        result["numpy_bridge"] = numpy_bridge(torch, numpy)
    else:
        reference = torch.tensor(pure_python_matmul(a.tolist(), b.tolist()), dtype=torch.float64)
        result["matmul_reference"] = "pure python (numpy missing)"
    result["matmul_max_abs_diff"] = float((got - reference).abs().max())
    check(torch.allclose(got, reference, rtol=1e-10, atol=1e-10), "matmul differs from reference")


def check_conv2d(torch: Any, result: dict[str, Any]) -> None:
    """conv2d forward equals an unfold+matmul convolution; backward gives finite grads."""
    torch.manual_seed(SEED)
    conv = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    y = conv(x)
    check(tuple(y.shape) == (2, 8, 16, 16), f"conv2d output shape {tuple(y.shape)}")
    columns = torch.nn.functional.unfold(x, kernel_size=3, padding=1)
    manual = (conv.weight.view(8, -1) @ columns).view(2, 8, 16, 16) + conv.bias.view(1, 8, 1, 1)
    result["conv2d_max_abs_diff"] = float((y - manual).detach().abs().max())
    check(torch.allclose(y, manual, atol=1e-4), "conv2d differs from unfold+matmul")
    y.square().mean().backward()
    for name, tensor, grad in (("input", x, x.grad), ("weight", conv.weight, conv.weight.grad)):
        check(grad is not None and grad.shape == tensor.shape, f"{name} grad has wrong shape")
        check(bool(torch.isfinite(grad).all()), f"{name} grad is not finite")
        check(float(grad.abs().sum()) > 0, f"{name} grad is all zero")


def bench_matmul(torch: Any) -> dict[str, Any]:
    """Median time of a float32 BENCH_SIZE² matmul (after one warm-up) and its GFLOP/s."""
    generator = torch.Generator().manual_seed(SEED)
    a = torch.randn(BENCH_SIZE, BENCH_SIZE, generator=generator)
    b = torch.randn(BENCH_SIZE, BENCH_SIZE, generator=generator)
    torch.mm(a, b)  # warm-up: thread pool start and first-call dispatch
    times = []
    for _ in range(BENCH_REPEATS):
        watch = Stopwatch()
        torch.mm(a, b)
        times.append(watch.elapsed())
    median = statistics.median(times)
    return {
        "size": BENCH_SIZE,
        "dtype": "float32",
        "seconds_median": median,
        "seconds_runs": times,
        "gflops": round(2 * BENCH_SIZE**3 / median / 1e9, 2) if median > 0 else None,
    }


def forward_pass(torch: Any) -> dict[str, Any]:
    """Milliseconds of one inference forward pass of a small CNN (two conv layers, pooling,
    a linear head) on a batch of 8 RGB 64x64 images, repeated after a warm-up."""
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    ).eval()
    batch = torch.randn(8, 3, 64, 64)
    with torch.no_grad():
        seconds = repeat_timed(lambda: model(batch))
    return workload(
        "forward pass of a small CNN, batch 8 x 3x64x64 (no grad)",
        "ms",
        [s * 1000 for s in seconds],
        False,
    )


def main(result: dict[str, Any]) -> None:
    result["offline"] = is_offline()
    with stage(result, "import"):
        import torch
    result.update(build_facts(torch))
    with stage(result, "matmul_check"):
        check_matmul(torch, result)
    with stage(result, "conv2d_check"):
        check_conv2d(torch, result)
    with stage(result, "matmul_bench"):
        result["matmul_bench"] = bench_matmul(torch)
    with stage(result, "workload"):
        result["workload"] = forward_pass(torch)
    with stage(result, "import_time"):
        result["import_time"] = {"torch": import_time("torch", runs=IMPORT_RUNS)}


if __name__ == "__main__":
    run_probe(main)
