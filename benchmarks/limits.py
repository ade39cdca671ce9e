"""What bounds the groups that miss their targets: the part of each case
NumPy cannot do faster, timed beside the whole call and torch's, one thread
each, interleaved round by round (medians of CPU time, so that other
processes on the machine weigh less).

    python benchmarks/limits.py

* ``conv_transpose``: the call's matrix product alone (the same products the
  op makes: ``cols = w.T @ x``, every sample side by side), against torch's
  whole ``conv_transpose2d``; and, for DCGAN's 4x4 inputs, the share of those
  products that land in the cropped border (computed, then dropped).
* ``max_unpool`` backward: NumPy's gather alone (``np.take`` per plane, the
  kernel of the backward), against torch's whole backward.
* The data-movement groups: a copy of the result's bytes into a *new* array
  (``np.empty`` + ``np.copyto``, what any op that returns a new array pays at
  least), against the floor (a copy into an array allocated and touched
  once, outside the timing): fresh pages are zeroed by the kernel on first
  touch, a write the floor does not pay.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)

# Run from a checkout: its packages, not an installed copy's.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from backends import load  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))


def race(calls: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median CPU milliseconds of each call, the calls interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # warm-up
    for _ in range(ROUNDS):
        for name, call in calls.items():
            start = time.process_time()
            call()
            times[name].append(time.process_time() - start)
    return {name: float(np.median(t)) * 1e3 for name, t in times.items()}


def show(title: str, ms: dict[str, float], base: str) -> None:
    print(f"{title}: " + ", ".join(f"{k} {v:.1f} ms ({v / ms[base]:.2f}x {base})" for k, v in ms.items()))


def conv_transpose(nb: Any, rng: np.random.Generator) -> None:
    cases = {
        "conv_transpose2d k4 s2 p1": ((8, 64, 64, 64), (64, 32, 4, 4)),
        "DCGAN ConvTranspose2d(512, 256, 4, 2, 1)": ((64, 512, 4, 4), (512, 256, 4, 4)),
    }
    for name, (x_shape, w_shape) in cases.items():
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = rng.standard_normal(w_shape, dtype=np.float32)
        c_in, c_out, kh, kw = w_shape
        wt = np.ascontiguousarray(w.reshape(c_in, -1).T)
        x_side = np.ascontiguousarray(np.moveaxis(x, 0, 1).reshape(c_in, -1))
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        ms = race(
            {
                "torch": partial(F.conv_transpose2d, tx, tw, None, 2, 1),
                "numpy": partial(nb.conv_transpose, x, w, None, 2, 1),
                "its product alone": partial(np.matmul, wt, x_side),
            }
        )
        show(f"{name} forward", ms, "torch")
        h, wd = x_shape[2:]
        # Along each axis, (tap, input) pairs landing in the output (o = 2i + j - 1 in 0..2n-1).
        kept = [sum(0 <= 2 * i + j - 1 < 2 * n for i in range(n) for j in range(k)) for n, k in ((h, kh), (wd, kw))]
        print(f"  products landing in the cropped border: {1 - kept[0] * kept[1] / (h * kh * wd * kw):.0%}")
        # Backward: grad_x = w @ cols and grad_w = x @ cols.T, cols the cotangent gathered per (tap, input).
        xr = tx.clone().requires_grad_(True)
        wr = tw.clone().requires_grad_(True)
        out = F.conv_transpose2d(xr, wr, None, 2, 1)
        g = rng.standard_normal(tuple(out.shape), dtype=np.float32)
        saved = nb.forward_with_residuals("conv_transpose", x, weight=w, stride=2, padding=1)[1]
        cols = rng.standard_normal((wt.shape[0], x_side.shape[1]), dtype=np.float32)
        w2 = np.ascontiguousarray(wt.T)
        ms = race(
            {
                "torch": partial(torch.autograd.grad, out, (xr, wr), torch.from_numpy(g), retain_graph=True),
                "numpy": partial(nb.vjp_from_residuals, "conv_transpose", saved, g),
                "its two products alone": lambda w2=w2, cols=cols, x_side=x_side: (w2 @ cols, x_side @ cols.T),
            }
        )
        show(f"{name} backward", ms, "torch")


def unpool_backward(nb: Any, rng: np.random.Generator) -> None:
    x = torch.from_numpy(rng.standard_normal((8, 64, 128, 128), dtype=np.float32))
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    g = rng.standard_normal(tuple(x.shape), dtype=np.float32)
    v = values.clone().requires_grad_(True)
    out = F.max_unpool2d(v, indices, 2)
    saved = nb.forward_with_residuals("max_unpool", values.numpy(), indices=indices.numpy(), kernel_size=(2, 2))[1]
    flat, planes = indices.numpy().reshape(512, -1), g.reshape(512, -1)
    gathered = np.empty(flat.shape, np.float32)

    def take() -> None:
        for p in range(len(flat)):
            np.take(planes[p], flat[p], out=gathered[p], mode="wrap")

    ms = race(
        {
            "torch": lambda: torch.autograd.grad(out, (v,), torch.from_numpy(g), retain_graph=True),
            "numpy": lambda: nb.vjp_from_residuals("max_unpool", saved, g),
            "np.take alone": take,
        }
    )
    show("max_unpool2d 2x2 to 128x128 backward", ms, "torch")


def fresh_output(nb: Any, rng: np.random.Generator) -> None:
    cases = {
        "nearest 2x up 8x64x128x128": ((8, 64, 128, 128), lambda nb, x: nb.interpolate(x, scale_factor=2.0)),
        "SD VAE nearest 2x 1x512x64x64": ((1, 512, 64, 64), lambda nb, x: nb.interpolate(x, scale_factor=2.0)),
        "pixel_shuffle r2 8x256x64x64": ((8, 256, 64, 64), lambda nb, x: nb.pixel_shuffle(x, 2)),
        "pixel_unshuffle r2 8x64x128x128": ((8, 64, 128, 128), lambda nb, x: nb.pixel_unshuffle(x, 2)),
    }
    for name, (shape, op) in cases.items():
        x = rng.standard_normal(shape, dtype=np.float32)
        size = max(x.nbytes, op(nb, x).nbytes)
        src, dst = np.ones(size, np.uint8), np.zeros(size, np.uint8)

        def fresh(src: np.ndarray = src) -> np.ndarray:
            out = np.empty(src.shape, np.uint8)
            np.copyto(out, src)
            return out

        ms = race({"floor": partial(np.copyto, dst, src), "copy into a new array": fresh, "numpy": partial(op, nb, x)})
        show(name, ms, "floor")


def main() -> None:
    nb, rng = load("numpy"), np.random.default_rng(0)
    conv_transpose(nb, rng)
    unpool_backward(nb, rng)
    fresh_output(nb, rng)


if __name__ == "__main__":
    main()
