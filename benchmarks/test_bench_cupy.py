"""The CuPy backend beside torch CUDA at large shapes (a GPU is needed).

Timed with CUDA events after a warm-up, each case's median over a few runs;
printed as a table with the ratio ``torch time / cupy time`` (throughput
ratio: >= 1 means cupy is at least as fast) and the memory bandwidth the
case achieves (input + output bytes over time) as a share of the GPU's,
the peak being a device-to-device copy measured in the same run.  Targets
(cupy >= 1.0x torch CUDA on interpolate; >= 80% of the copy bandwidth on
nearest and bilinear) are printed as met or MISSED, never asserted.
Without CuPy or a CUDA device the module skips and says which.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backends import load

CUPY = load("cupy")
OK, WHY = CUPY.availability()
pytestmark = pytest.mark.skipif(not OK, reason=f"cupy backend unavailable here: {WHY}")
ROUNDS = 10


def _median_ms(cp: Any, fn: Callable[[], Any]) -> float:
    fn()  # warm-up: kernel compilation, allocator
    cp.cuda.get_current_stream().synchronize()
    times = []
    for _ in range(ROUNDS):
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cp.cuda.get_elapsed_time(start, stop))
    return float(np.median(times))


def _cases(
    cp: Any, torch: Any
) -> list[tuple[str, tuple[int, ...], float | None, float | None, Callable, Callable, int]]:
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    cases = []

    def add(name, shape, target, bw_target, make, cupy_fn, torch_fn):
        host = make(shape)
        xc = CUPY.from_numpy(host)
        xt = torch.from_numpy(host).cuda()
        out_bytes = int(np.prod(cupy_fn(xc).shape)) * host.dtype.itemsize
        cases.append(
            (name, shape, target, bw_target, lambda: cupy_fn(xc), lambda: torch_fn(xt), host.nbytes + out_bytes)
        )

    def normal(shape):
        return rng.standard_normal(shape, dtype=np.float32)

    big = (32, 64, 256, 256)
    for mode, bw in (("nearest", 0.8), ("bilinear", 0.8), ("bicubic", None)):
        add(
            f"{mode} 2x up",
            big,
            1.0,
            bw,
            normal,
            lambda x, m=mode: CUPY.interpolate(x, scale_factor=2.0, mode=m),
            lambda x, m=mode: F.interpolate(x, scale_factor=2.0, mode=m),
        )
    add(
        "trilinear 2x up",
        (4, 32, 64, 128, 128),
        1.0,
        None,
        normal,
        lambda x: CUPY.interpolate(x, scale_factor=2.0, mode="trilinear"),
        lambda x: F.interpolate(x, scale_factor=2.0, mode="trilinear"),
    )
    weight = rng.standard_normal((64, 32, 4, 4), dtype=np.float32) / 16
    wc, wt = CUPY.from_numpy(weight), torch.from_numpy(weight).cuda()
    add(
        "conv_transpose2d k4 s2 p1",
        (32, 64, 64, 64),
        None,
        None,
        normal,
        lambda x: CUPY.conv_transpose(x, wc, None, stride=2, padding=1),
        lambda x: F.conv_transpose2d(x, wt, None, stride=2, padding=1),
    )
    add(
        "pixel_shuffle r2",
        (32, 256, 64, 64),
        None,
        None,
        normal,
        lambda x: CUPY.pixel_shuffle(x, 2),
        lambda x: F.pixel_shuffle(x, 2),
    )
    return cases


def test_cupy_beside_torch_cuda(capsys: pytest.CaptureFixture[str]) -> None:
    import cupy as cp
    import torch

    if not torch.cuda.is_available():
        pytest.skip("torch finds no CUDA device: nothing to compare cupy with")
    src = cp.empty(1 << 28, dtype=cp.uint8)  # 256 MiB
    dst = cp.empty_like(src)
    copy_ms = _median_ms(cp, lambda: cp.copyto(dst, src))
    peak = 2 * src.nbytes / (copy_ms * 1e-3)
    lines = [
        f"device-to-device copy: {peak / 1e9:.0f} GB/s ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()})",
        f"{'case':<28} {'cupy ms':>8} {'torch ms':>9} {'torch/cupy':>10} {'GB/s':>7} {'of copy':>7}  result",
    ]
    for name, _shape, target, bw_target, cupy_fn, torch_fn, nbytes in _cases(cp, torch):
        cupy_ms = _median_ms(cp, cupy_fn)
        torch_ms = _median_ms(cp, lambda fn=torch_fn: fn())
        speed = torch_ms / cupy_ms
        bandwidth = nbytes / (cupy_ms * 1e-3)
        verdicts = []
        if target is not None:
            verdicts.append("met" if speed >= target else "MISSED")
        if bw_target is not None:
            verdicts.append("bw met" if bandwidth / peak >= bw_target else "bw MISSED")
        lines.append(
            f"{name:<28} {cupy_ms:8.2f} {torch_ms:9.2f} {speed:10.2f} {bandwidth / 1e9:7.0f} "
            f"{bandwidth / peak:7.0%}  {' '.join(verdicts) or 'reported'}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
