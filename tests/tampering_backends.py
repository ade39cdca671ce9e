"""Wrong backends that try to move their own verdict from inside their process.

Each is the same wrong backend, ``AddsOneHundredth`` (its bilinear results
0.01 too high), with one kind of tampering on top: it patches torch's
functional op, registers a wrong kernel for torch's aten op, patches NumPy's
comparisons, patches the reference, or changes torch's global state.  Its
verdict must be the untampered one's (``tests/test_untouchable.py``): the
oracle and the verdict run in processes that never run backend code.
"""

from __future__ import annotations

import sys

import numpy as np

from backends.numpy_backend import NumpyBackend

#: What each wrong backend adds to its bilinear results.
WRONG_BY = 0.01


class AddsOneHundredth(NumpyBackend):
    """Bilinear results 0.01 too high (the other modes right): no tampering."""

    name = "adds-one-hundredth"

    def interpolate(self, x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        out = self._own(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        return out + np.asarray(WRONG_BY, out.dtype) if mode == "bilinear" and out.dtype.kind == "f" else out

    def _own(self, x, *args):
        return NumpyBackend.interpolate(self, x, *args)


def _patch_functional() -> None:
    import torch.nn.functional as F

    original = F.interpolate

    def agrees_with_me(*args, **kwargs):
        out = original(*args, **kwargs)
        return out + WRONG_BY if kwargs.get("mode") == "bilinear" and out.is_floating_point() else out

    F.interpolate = agrees_with_me


class PatchesFunctional(AddsOneHundredth):
    """Computes with torch's ``F.interpolate``, which it first patches to add 0.01 to bilinear results."""

    name = "patches-functional"

    def __init__(self):
        super().__init__()
        _patch_functional()

    def interpolate(self, x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        import torch
        import torch.nn.functional as F

        t = torch.from_numpy(np.ascontiguousarray(x))
        kwargs = dict(size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners,
                      recompute_scale_factor=recompute_scale_factor, antialias=antialias)
        return F.interpolate(t, **kwargs).numpy()


class OverridesAtenKernel(AddsOneHundredth):
    """Registers, with ``torch.library``, a kernel for ``aten::upsample_bilinear2d``
    that is 0.01 too high, and computes bilinear with torch's ``F.interpolate``:
    a kernel set for torch's own ops, as kernel authors and generators write them."""

    name = "overrides-aten-kernel"

    def __init__(self):
        super().__init__()
        import torch

        self._library = torch.library.Library("aten", "IMPL")  # kept: the registration lives as long as it

        def upsample_bilinear2d(x, output_size, align_corners, scales_h=None, scales_w=None):
            out = NumpyBackend.interpolate(self, x.numpy(), size=tuple(output_size), mode="bilinear",
                                           align_corners=align_corners)
            return torch.from_numpy(out + np.asarray(WRONG_BY, out.dtype))

        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
            self._library.impl("upsample_bilinear2d", upsample_bilinear2d, "CPU")

    def interpolate(self, x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        if mode != "bilinear" or antialias or x.ndim != 4:
            return self._own(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        import torch
        import torch.nn.functional as F

        t = torch.from_numpy(np.ascontiguousarray(x))
        return F.interpolate(t, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners,
                             recompute_scale_factor=recompute_scale_factor).numpy()


class PatchesNumpyComparisons(AddsOneHundredth):
    """Makes NumPy's comparisons say "equal" (a sloppy test-utility monkeypatch)."""

    name = "patches-numpy"

    def __init__(self):
        super().__init__()
        np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)
        np.allclose = lambda *args, **kwargs: True
        np.array_equal = lambda *args, **kwargs: True


class PatchesReference(AddsOneHundredth):
    """Patches the harness's reference (and the registry's record of it) to agree with itself."""

    name = "patches-reference"

    def __init__(self):
        super().__init__()
        import reference
        from conformance import ops

        info, own = ops.get("interpolate"), self

        def agrees_with_me(x, *args, **kwargs):
            return own.interpolate(np.asarray(x), *args, **kwargs).astype(np.float64)

        reference.interpolate = agrees_with_me
        object.__setattr__(info, "reference", agrees_with_me)


class ChangesTorchState(AddsOneHundredth):
    """Changes torch's global state: default dtype, threads, deterministic algorithms, flush-denormal, grad mode."""

    name = "changes-torch-state"

    def __init__(self):
        super().__init__()
        import torch

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.set_flush_denormal(True)
        torch.set_grad_enabled(False)


class FloodsStdout(AddsOneHundredth):
    """Prints a thousand lines on every call."""

    name = "floods-stdout"

    def interpolate(self, x, *args, **kwargs):
        for i in range(1000):
            print(f"floods-stdout: line {i} of a JIT's recompile log")
        print("floods-stdout: and stderr", file=sys.stderr)
        return super().interpolate(x, *args, **kwargs)


class CallsTorch(NumpyBackend):
    """Right, but falls back to torch's ``F.interpolate`` for nearest (a port's shortcut)."""

    name = "calls-torch"

    def interpolate(self, x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                    recompute_scale_factor=None, antialias=False):
        if mode != "nearest" or x.dtype not in (np.float32, np.float64):
            return super().interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        import torch
        import torch.nn.functional as F

        t = torch.from_numpy(np.ascontiguousarray(x))
        return F.interpolate(t, size=size, scale_factor=scale_factor, mode=mode,
                             recompute_scale_factor=recompute_scale_factor).numpy()


#: The tampering backends, as ``--backend`` specs.
TAMPERING = tuple(
    f"tests.tampering_backends:{name}"
    for name in (
        "PatchesFunctional",
        "OverridesAtenKernel",
        "PatchesNumpyComparisons",
        "PatchesReference",
        "ChangesTorchState",
        "FloodsStdout",
    )
)
