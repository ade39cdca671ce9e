"""Deliberately wrong backends, loaded by the tests as ``module:attribute``."""

from __future__ import annotations

import numpy as np

from backends import BackendBase, Unsupported
from backends.numpy_backend import NumpyBackend


class IgnoresAlignCorners(NumpyBackend):
    """Bilinear that always behaves as align_corners=False."""

    name = "ignores-align-corners"

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode in ("linear", "bilinear", "trilinear") and align_corners:
            align_corners = False
        return super().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


class NearestRoundsHalfUp(NumpyBackend):
    """'nearest' computed as round(i * scale) instead of floor: off on many cases."""

    name = "nearest-rounds"

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode != "nearest":
            return super().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        y = super().interpolate(
            x, size, scale_factor, "nearest-exact", align_corners, recompute_scale_factor, antialias
        )
        return y


class Float32Everywhere(NumpyBackend):
    """Computes float64 data in float32: fails only where float64 precision matters."""

    name = "float32-everywhere"

    def interpolate(self, x, *args, **kwargs):
        if x.dtype == np.float64:
            return super().interpolate(x.astype(np.float32), *args, **kwargs).astype(np.float64)
        return super().interpolate(x, *args, **kwargs)


ignores_align_corners = IgnoresAlignCorners()


class Float32NoLanczos(BackendBase):
    """An honest partial backend: float32 only, and no lanczos (raises Unsupported)."""

    name = "float32-no-lanczos"
    supported_dtypes = {"interpolate": ("float32",)}

    def interpolate(
        self,
        x,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        if mode == "lanczos":
            raise Unsupported("lanczos is not implemented")
        return NumpyBackend().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


class Uint8Only(BackendBase):
    """Takes uint8 alone: torch has no uint8 'linear', so that cell has nothing to check."""

    name = "uint8-only"
    supported_dtypes = {"interpolate": ("uint8",)}

    def interpolate(self, x, *args, **kwargs):
        return NumpyBackend().interpolate(x, *args, **kwargs)


class AlignCornersLengthOneTakesLast(NumpyBackend):
    """linear with align_corners=True resized to length 1 gives the last
    element (torch: scale 0, the first): right everywhere else."""

    name = "align-corners-length-one-takes-last"

    def interpolate(self, x, size=None, scale_factor=None, mode="nearest", align_corners=None, *args, **kwargs):
        y = super().interpolate(x, size, scale_factor, mode, align_corners, *args, **kwargs)
        if mode == "linear" and align_corners and y.shape[-1] == 1 < x.shape[-1]:
            y = x[..., -1:].copy()
        return y


class FlushesSubnormals(NumpyBackend):
    """Sets flush-to-zero when it loads (as a library built with -ffast-math
    does) and has no flushing code of its own: its float32 results lose their
    subnormals in the hardware.  Torch, in the same process, would too."""

    name = "flushes-subnormals"

    def __init__(self):
        import torch

        super().__init__()
        torch.set_flush_denormal(True)


class ConvTransposeIgnoresDilation(NumpyBackend):
    """conv_transpose that drops ``dilation``: wrong only when dilation > 1."""

    name = "conv-transpose-no-dilation"

    def conv_transpose(
        self, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, output_size=None
    ):
        return super().conv_transpose(x, weight, bias, stride, padding, output_padding, groups, 1, output_size)


class UnpoolDropsOutputSize(NumpyBackend):
    """max_unpool that ignores ``output_size`` and uses the default size."""

    name = "unpool-no-output-size"

    def max_unpool(self, x, indices, kernel_size, stride=None, padding=0, output_size=None):
        return super().max_unpool(x, indices, kernel_size, stride, padding, None)


class PixelShuffleSwapsSubpixels(NumpyBackend):
    """pixel_shuffle that interleaves the two sub-pixel axes the wrong way round."""

    name = "pixel-shuffle-swapped"

    def pixel_shuffle(self, x, upscale_factor):
        r = upscale_factor
        *lead, c, h, w = x.shape
        k = len(lead)
        y = x.reshape(*lead, c // (r * r), r, r, h, w).transpose(*range(k), k, k + 3, k + 2, k + 4, k + 1)
        return y.reshape(*lead, c // (r * r), h * r, w * r)


class BilinearAliasWithoutAlignCorners(NumpyBackend):
    """UpsamplingBilinear2d as plain bilinear: it must be align_corners=True."""

    name = "bilinear-alias-unaligned"

    def UpsamplingBilinear2d(self, x, size=None, scale_factor=None):  # noqa: N802
        return self.interpolate(x, size, scale_factor, mode="bilinear")


# --- backends that break in the ways a harness must survive -----------------


class Segfaults(NumpyBackend):
    """Dies of SIGSEGV on every bilinear call (a crashing native kernel)."""

    name = "segfaults"

    def interpolate(self, x, *args, **kwargs):
        if kwargs.get("mode", args[2] if len(args) > 2 else "nearest") == "bilinear":
            import ctypes

            ctypes.string_at(0)  # reads address 0: SIGSEGV
        return super().interpolate(x, *args, **kwargs)


class Hangs(NumpyBackend):
    """Never returns from pixel_shuffle."""

    name = "hangs"

    def pixel_shuffle(self, x, upscale_factor):
        import time

        while True:
            time.sleep(1)


class SlowToLoad(NumpyBackend):
    """Right, but takes 4 s to load (as a backend importing a large library on
    a loaded machine does): no case's timeout may count that."""

    name = "slow-to-load"

    def __init__(self):
        import time

        time.sleep(4)
        super().__init__()


class PatchesTorch(NumpyBackend):
    """Right, but changes torch in its own process: its worker's torch
    refuses every pixel_shuffle.  What that torch says must move no other
    backend's verdict."""

    name = "patches-torch"

    def __init__(self):
        import torch.nn.functional as F

        def refuses(*args, **kwargs):
            raise RuntimeError("pixel_shuffle patched away by a backend")

        F.pixel_shuffle = refuses
        super().__init__()


class HogsMemory(NumpyBackend):
    """Asks for a terabyte in pixel_unshuffle."""

    name = "hogs-memory"

    def pixel_unshuffle(self, x, downscale_factor):
        return np.ones((1 << 40,), dtype=np.uint8)


class WrongShape(NumpyBackend):
    """Returns one row too few from pixel_shuffle."""

    name = "wrong-shape"

    def pixel_shuffle(self, x, upscale_factor):
        return super().pixel_shuffle(x, upscale_factor)[..., :-1, :]


class ReturnsNaN(NumpyBackend):
    """Puts a NaN into every non-empty bilinear result."""

    name = "returns-nan"

    def interpolate(self, x, *args, **kwargs):
        y = super().interpolate(x, *args, **kwargs)
        if kwargs.get("mode") == "bilinear" and y.size and y.dtype.kind == "f":
            y = y.copy()
            y.flat[0] = np.nan
        return y


class MutatesInput(NumpyBackend):
    """Scales its input in place before pixel_unshuffle."""

    name = "mutates-input"

    def pixel_unshuffle(self, x, downscale_factor):
        if x.size:
            x[...] = x * 2
        return super().pixel_unshuffle(x, downscale_factor)


class WrongExceptionClass(NumpyBackend):
    """Raises ValueError wherever torch raises RuntimeError for pixel_shuffle."""

    name = "wrong-exception"

    def pixel_shuffle(self, x, upscale_factor):
        try:
            return super().pixel_shuffle(x, upscale_factor)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None


class ReturnsList(NumpyBackend):
    """Returns a nested list, not an array, from pixel_unshuffle."""

    name = "returns-list"

    def pixel_unshuffle(self, x, downscale_factor):
        return super().pixel_unshuffle(x, downscale_factor).tolist()


class LayoutDependent(NumpyBackend):
    """Reads its input's memory in storage order: wrong for non-contiguous inputs."""

    name = "layout-dependent"

    def pixel_shuffle(self, x, upscale_factor):
        storage_order = x.ravel(order="K").reshape(x.shape)
        return super().pixel_shuffle(storage_order, upscale_factor)


class VagueErrors(NumpyBackend):
    """Raises torch's exception class for bad pixel_shuffle calls, saying nothing useful."""

    name = "vague-errors"

    def pixel_shuffle(self, x, upscale_factor):
        try:
            return super().pixel_shuffle(x, upscale_factor)
        except RuntimeError:
            raise RuntimeError("invalid input") from None


# --- gradients --------------------------------------------------------------


class ReferenceGradients(NumpyBackend):
    """NumPy forward, the reference's gradients (rounded to the input's dtype)."""

    name = "reference-gradients"

    def unsupported_reason(self, op, dtype, params):
        return super().unsupported_reason(op, dtype, params)

    def vjp(self, op, grad_output, x, **kwargs):
        from backends.reference_backend import ReferenceBackend

        return ReferenceBackend().vjp(op, grad_output, x, **kwargs)


class WrongBilinearGradient(ReferenceGradients):
    """Right forward, wrong backward: bilinear gradients 1% too large."""

    name = "wrong-bilinear-gradient"

    def vjp(self, op, grad_output, x, **kwargs):
        grads = super().vjp(op, grad_output, x, **kwargs)
        if op == "interpolate" and kwargs.get("mode") == "bilinear":
            grads["x"] = (grads["x"] * 1.01).astype(grads["x"].dtype)
        return grads


class NondeterministicGradient(ReferenceGradients):
    """Gradients that differ in the last bit from call to call (like atomics on a GPU)."""

    name = "nondeterministic-gradient"
    calls = 0

    def vjp(self, op, grad_output, x, **kwargs):
        grads = super().vjp(op, grad_output, x, **kwargs)
        type(self).calls += 1
        if type(self).calls % 2 and grads["x"].size:
            g = grads["x"].copy()
            g.flat[0] = np.nextafter(g.flat[0], np.inf)
            grads["x"] = g
        return grads


class PixelShuffleThroughFloat64(NumpyBackend):
    """pixel_shuffle that moves the data as float64, then casts back: int64
    beyond 2**53 is rounded, a complex value loses its imaginary part."""

    name = "pixel-shuffle-float64"

    def pixel_shuffle(self, x, upscale_factor):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's ComplexWarning is the point here
            return super().pixel_shuffle(x.astype(np.float64), upscale_factor).astype(x.dtype)


class MaxPoolThroughFloat32(NumpyBackend):
    """max_pool of integers computed on a float32 copy: int32 and int64 values
    beyond 2**24 round, neighbours tie, and the values come back changed."""

    name = "max-pool-float32"

    def max_pool(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        if x.dtype.kind != "i":
            return super().max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
        values, indices = super().max_pool(x.astype(np.float32), kernel_size, stride, padding, dilation, ceil_mode)
        return values.astype(x.dtype), indices


class ConvTransposeDropsImaginary(NumpyBackend):
    """conv_transpose computing complex inputs on their real parts only."""

    name = "conv-transpose-real"

    def conv_transpose(self, x, weight, bias=None, *args, **kwargs):
        if x.dtype.kind != "c":
            return super().conv_transpose(x, weight, bias, *args, **kwargs)
        real = [None if a is None else a.real.copy() for a in (x, weight, bias)]
        return super().conv_transpose(*real, *args, **kwargs).astype(x.dtype)


# --- the broken mix of issue 33: each breaks every interpolate call ---------
#
# A new backend's first runs: one that breaks on every call of an op, forward
# and backward, invalid calls included.  ``benchmarks/test_bench_failure_path.py``
# times the mix on interpolate; ``tests/test_isolation.py`` checks what it records.


class _BreaksInterpolate(NumpyBackend):
    """Numpy's interpolate and gradients, each passed through ``broken``."""

    def broken(self, x, out):
        raise NotImplementedError

    def interpolate(self, x, *args, **kwargs):
        return self.broken(x, lambda: super(_BreaksInterpolate, self).interpolate(x, *args, **kwargs))

    def vjp(self, op, grad_output, x, **kwargs):
        if op != "interpolate":
            return super().vjp(op, grad_output, x, **kwargs)
        grads = lambda: super(_BreaksInterpolate, self).vjp(op, grad_output, x, **kwargs)  # noqa: E731
        return self.broken(x, grads)


class Crash(_BreaksInterpolate):
    """Dies of SIGSEGV on every interpolate call."""

    name = "broken-crash"

    def broken(self, x, out):
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV


class Hang(_BreaksInterpolate):
    """Never returns from an interpolate call."""

    name = "broken-hang"

    def broken(self, x, out):
        import time

        while True:
            time.sleep(1)


class Hog(_BreaksInterpolate):
    """Asks for a terabyte on every interpolate call."""

    name = "broken-hog"

    def broken(self, x, out):
        return np.ones((1 << 40,), dtype=np.uint8)


class Mutate(_BreaksInterpolate):
    """Scales its input in place, then interpolates it."""

    name = "broken-mutate"

    def broken(self, x, out):
        if x.size:
            x[...] = x * 2
        return out()


class Shape(_BreaksInterpolate):
    """Returns one element too few along the last axis."""

    name = "broken-shape"

    def broken(self, x, out):
        y = out()
        if isinstance(y, dict):
            return {k: v[..., :-1] for k, v in y.items()}
        return y[..., :-1]


class NaN(_BreaksInterpolate):
    """Puts a NaN into every non-empty floating result."""

    name = "broken-nan"

    def broken(self, x, out):
        y = out()
        if isinstance(y, dict):
            return {k: self.broken(x, lambda v=v: v) for k, v in y.items()}
        if y.size and y.dtype.kind == "f":
            y = y.copy()
            y.flat[0] = np.nan
        return y


#: The broken mix of issue 33, as ``--backend`` specs.
BROKEN_MIX = tuple(f"tests.broken_backends:{name}" for name in ("Crash", "Hang", "Hog", "Mutate", "Shape", "NaN"))


class WrongResidualIndices(NumpyBackend):
    """Right forward, right plain ``vjp``, wrong residuals: max_pool keeps the
    indices of the neighbouring window (rolled by one along the last axis),
    so only the residual path's gradients are wrong."""

    name = "wrong-residual-indices"

    def forward_with_residuals(self, op, x, **kwargs):
        out, saved = super().forward_with_residuals(op, x, **kwargs)
        if op == "max_pool":
            saved = {**saved, "indices": np.roll(saved["indices"], 1, axis=-1)}
        return out, saved


def _rank(kwargs):
    """The spatial rank of a conv_transpose or pooling call: from the weight, else the kernel."""
    weight, kernel = kwargs.get("weight"), kwargs.get("kernel_size")
    if weight is not None:
        return weight.ndim - 2
    return len(kernel) if isinstance(kernel, (tuple, list)) else None


class DeclinesUnbatched(NumpyBackend):
    """An honest partial backend, as a port onto a framework without
    unbatched inputs is: it raises Unsupported on every unbatched
    conv_transpose, max_pool and max_unpool call (and their gradients)."""

    name = "declines-unbatched"

    def _check(self, x, **kwargs):
        rank = _rank(kwargs)
        if rank is not None and x.ndim == rank + 1:
            raise Unsupported("unbatched input")

    def conv_transpose(self, x, weight, *args, **kwargs):
        self._check(x, weight=weight)
        return super().conv_transpose(x, weight, *args, **kwargs)

    def max_pool(self, x, kernel_size, *args, **kwargs):
        self._check(x, kernel_size=kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * (x.ndim - 2))
        return super().max_pool(x, kernel_size, *args, **kwargs)

    def max_unpool(self, x, indices, kernel_size, *args, **kwargs):
        self._check(x, kernel_size=kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * (x.ndim - 2))
        return super().max_unpool(x, indices, kernel_size, *args, **kwargs)

    def vjp(self, op, grad_output, x, **kwargs):
        self._check(x, **kwargs)
        return super().vjp(op, grad_output, x, **kwargs)


class ThreeWaysWrong(NumpyBackend):
    """Wrong in three unrelated ways in one cell, as a real port was: it
    raises ZeroDivisionError on an input of height 1, turns NaN into 0 (a
    clamp written with ``max``), and its float64 results are off by a
    millionth (a float32 constant)."""

    name = "three-ways-wrong"

    def interpolate(self, x, *args, **kwargs):
        if x.ndim == 4 and x.shape[2] == 1:
            raise ZeroDivisionError("float division by zero")
        y = super().interpolate(x, *args, **kwargs)
        if x.dtype == np.float64:
            y = y * (1 + 1e-6)
        return np.where(np.isnan(y), 0, y).astype(y.dtype)
