"""torch as a backend: the oracle (CPU) and torch on CUDA where present.

Each protocol op maps onto the torch API a user calls: ``F.interpolate``,
``F.conv_transpose{n}d`` (or ``nn.ConvTranspose{n}d`` when an
``output_size`` is given, as only the module takes it), ``F.max_pool{n}d``
with ``return_indices=True``, ``F.max_unpool{n}d``, ``F.pixel_(un)shuffle``,
and the aliases themselves (``F.upsample*``, ``nn.Upsample``,
``nn.UpsamplingNearest2d``, ``nn.UpsamplingBilinear2d``), so that the harness
can show each alias equal to the ``interpolate`` call it stands for.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backends.protocol import BackendBase
from reference.dtypes import BFLOAT16
from reference.unpooling import spatial_rank


class TorchBackend(BackendBase):
    """``torch.nn.functional`` on a device (``"cpu"`` by default)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.name = "torch" if device == "cpu" else f"torch-{device}"

    def _torch(self) -> Any:
        import torch

        return torch

    def version(self) -> str:
        try:
            return self._torch().__version__
        except ImportError:
            return "not installed"

    def availability(self) -> tuple[bool, str]:
        try:
            torch = self._torch()
        except ImportError as exc:
            install = "python -m pip install -c constraints.txt -e ."
            return False, f"torch is not installed ({exc}); from the checkout's root: {install}"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return False, "torch finds no CUDA device (torch.cuda.is_available() is False)"
        return True, ""

    def from_numpy(self, array: np.ndarray) -> Any:
        torch = self._torch()
        if any(s < 0 for s in array.strides):
            array = array.copy()  # torch.from_numpy rejects negative strides
        if array.dtype == BFLOAT16:
            # torch.from_numpy takes no ml_dtypes array: the same bits as int16
            # (strides kept), reinterpreted as torch's bfloat16 -- exact
            return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16).to(self.device)
        return torch.from_numpy(array).to(self.device)

    def to_numpy(self, array: Any) -> np.ndarray:
        array = array.detach().cpu()
        if array.dtype == self._torch().bfloat16:  # .numpy() refuses bfloat16: the bits, as from_numpy
            return array.view(self._torch().int16).numpy().view(BFLOAT16)
        return array.numpy()

    def synchronize(self) -> None:
        if self.device.startswith("cuda"):
            self._torch().cuda.synchronize()

    def interpolate(
        self,
        x: Any,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> Any:
        import torch.nn.functional as F

        return F.interpolate(
            x,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
            antialias=antialias,
        )

    def conv_transpose(
        self,
        x: Any,
        weight: Any,
        bias: Any | None = None,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        dilation: int | Sequence[int] = 1,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        torch = self._torch()
        n = weight.dim() - 2
        fn = getattr(torch.nn.functional, f"conv_transpose{n}d")
        if output_size is not None:
            # What nn.ConvTranspose{n}d.forward(x, output_size) does: derive the
            # output padding, then the functional call (which keeps autograd).
            module = getattr(torch.nn, f"ConvTranspose{n}d")(
                weight.shape[0],
                weight.shape[1] * groups,
                tuple(weight.shape[2:]),
                stride=stride,
                padding=padding,
                groups=groups,
                bias=False,
                dilation=dilation,
                device="meta",
            )
            output_padding = module._output_padding(
                x,
                list(output_size),
                list(module.stride),
                list(module.padding),
                list(module.kernel_size),
                n,
                list(module.dilation),
            )
        return fn(x, weight, bias, stride, padding, output_padding, groups, dilation)

    def max_pool(
        self,
        x: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        ceil_mode: bool = False,
    ) -> tuple[Any, Any]:
        n = spatial_rank(x.dim(), kernel_size)
        fn = getattr(self._torch().nn.functional, f"max_pool{n}d")
        return fn(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=True)

    def max_unpool(
        self,
        x: Any,
        indices: Any,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        output_size: Sequence[int] | None = None,
    ) -> Any:
        n = spatial_rank(x.dim(), kernel_size)
        fn = getattr(self._torch().nn.functional, f"max_unpool{n}d")
        return fn(x, indices, kernel_size, stride, padding, None if output_size is None else list(output_size))

    def pixel_shuffle(self, x: Any, upscale_factor: int) -> Any:
        return self._torch().nn.functional.pixel_shuffle(x, upscale_factor)

    def pixel_unshuffle(self, x: Any, downscale_factor: int) -> Any:
        return self._torch().nn.functional.pixel_unshuffle(x, downscale_factor)

    def vjp(self, op: str, grad_output: Any, x: Any, **kwargs: Any) -> dict[str, Any]:
        """torch autograd: the gradient of ``op`` with respect to every
        floating-point or complex tensor given (``x``, ``weight``, ``bias``;
        integer ``indices`` have none)."""
        torch = self._torch()
        arrays = {"x": x, **{k: v for k, v in kwargs.items() if isinstance(v, torch.Tensor)}}
        params = {k: v for k, v in kwargs.items() if k not in arrays}
        leaves = {
            k: v.detach().clone().requires_grad_(True) for k, v in arrays.items() if v.is_floating_point() or v.is_complex()
        }
        inputs = {**arrays, **leaves}
        out = getattr(self, op)(inputs.pop("x"), **inputs, **params)
        out = out[0] if isinstance(out, tuple) else out  # max_pool: the values
        grads = torch.autograd.grad(out, list(leaves.values()), grad_output, allow_unused=True)
        return {k: torch.zeros_like(leaves[k]) if g is None else g for k, g in zip(leaves, grads)}

    def _alias(self, name: str, x: Any, **kwargs: Any) -> Any:
        torch = self._torch()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # F.upsample* warn that they are deprecated
            function = getattr(torch.nn.functional, name, None)  # F.upsample*
            if function is None:  # nn.Upsample*: the arguments construct the module
                return getattr(torch.nn, name)(**kwargs)(x)
            return function(x, **kwargs)

    def upsample(
        self,
        x: Any,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
    ) -> Any:
        return self._alias("upsample", x, size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners)

    def upsample_nearest(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:
        return self._alias("upsample_nearest", x, size=size, scale_factor=scale_factor)

    def upsample_bilinear(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:
        return self._alias("upsample_bilinear", x, size=size, scale_factor=scale_factor)

    def Upsample(
        self,
        x: Any,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",  # noqa: N802
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> Any:
        return self._alias(
            "Upsample",
            x,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
        )

    def UpsamplingNearest2d(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:  # noqa: N802
        return self._alias("UpsamplingNearest2d", x, size=size, scale_factor=scale_factor)

    def UpsamplingBilinear2d(self, x: Any, size: Any = None, scale_factor: Any = None) -> Any:  # noqa: N802
        return self._alias("UpsamplingBilinear2d", x, size=size, scale_factor=scale_factor)


class TorchCudaBackend(TorchBackend):
    """torch on the first CUDA device."""

    def __init__(self) -> None:
        super().__init__("cuda")


# --------------------------------------------------------------------------
# torch's CPU kernels on a chosen path
# --------------------------------------------------------------------------

#: ``torch@SETTINGS`` loads torch on a chosen CPU path (``TorchPathBackend``).
PATH_PREFIX = "torch@"
#: ATen's CPU capabilities on x86-64, lowest first (``ATEN_CPU_CAPABILITY``'s values).
CAPABILITIES = ("default", "avx2", "avx512")
#: The /proc/cpuinfo flags each capability needs, as ATen's ``compute_cpu_capability`` asks cpuinfo.
CAPABILITY_FLAGS = {"default": (), "avx2": ("avx2", "fma"), "avx512": ("avx512vl", "avx512bw", "fma")}
#: The paths ``backends.names()`` lists (any combination loads: ``torch@avx2,no-onednn,threads=1``).
LISTED_PATHS = (*CAPABILITIES, "no-onednn", "threads=1")
#: The CPU flags that select torch's kernels (ATen's capability, oneDNN's ISA), as /proc/cpuinfo names them.
KERNEL_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512dq",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "amx_fp16",
    "asimd",
    "sve",
    "sve2",
    "bf16",
)


def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags (``/proc/cpuinfo``; empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def kernel_flags() -> list[str]:
    """Of ``KERNEL_FLAGS``, those this CPU has."""
    flags = cpu_flags()
    return [f for f in KERNEL_FLAGS if f in flags]


def cpu_path() -> dict[str, Any]:
    """The path torch's CPU kernels take in this process, as the facts that
    select them: ATen's CPU capability (its vectorised kernels:
    ``ATEN_CPU_CAPABILITY`` caps it), whether oneDNN runs convolutions
    (available and enabled), whether it runs float16 and bfloat16 ones (it
    does where the CPU has AVX512-FP16 / AMX-FP16, resp. AVX-512 BW/VL/DQ),
    the intra-op thread count, and the torch and oneDNN versions."""
    import torch

    mkldnn = torch.backends.mkldnn
    onednn = bool(mkldnn.is_available() and mkldnn.enabled)
    try:
        fp16 = bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
        bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        fp16 = bf16 = False
    return {
        "torch": torch.__version__,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "onednn": onednn,
        "onednn_version": _onednn_version(torch),
        "onednn_float16": onednn and fp16,
        "onednn_bfloat16": onednn and bf16,
        "threads": torch.get_num_threads(),
    }


def _onednn_version(torch: Any) -> str | None:
    """oneDNN's version, from torch's build summary (it has no other accessor)."""
    found = re.search(r"(?:MKL-DNN|oneDNN) v([\w.]+)", torch.__config__.show())
    return found.group(1) if found else None


def describe_path(path: dict[str, Any]) -> str:
    """One line: ``AVX512, oneDNN on (float16 no, bfloat16 yes), 2 threads``."""
    if not path.get("onednn"):
        onednn = "oneDNN off"
    else:
        half = "yes" if path.get("onednn_float16") else "no"
        bf16 = "yes" if path.get("onednn_bfloat16") else "no"
        onednn = f"oneDNN on (float16 {half}, bfloat16 {bf16})"
    threads = path.get("threads")
    return f"{path.get('capability')}, {onednn}, {threads} thread{'s' if threads != 1 else ''}"


@dataclass(frozen=True)
class CpuPathSettings:
    """What ``torch@SETTINGS`` changes: ATen's CPU capability (``None``: the
    machine's), oneDNN on or off, the thread count (``None``: torch's)."""

    capability: str | None = None
    onednn: bool = True
    threads: int | None = None

    @classmethod
    def parse(cls, text: str) -> CpuPathSettings:
        """``avx2``, ``no-onednn``, ``threads=1``, or several joined by commas."""
        capability, onednn, threads = None, True, None
        for part in (p.strip() for p in text.split(",")):
            if part in CAPABILITIES:
                capability = part
            elif part == "no-onednn":
                onednn = False
            elif part.startswith("threads=") and part.removeprefix("threads=").isdigit() and int(part[8:]) > 0:
                threads = int(part[8:])
            else:
                raise ValueError(
                    f"torch@{text}: {part!r} is no CPU path setting; use {', '.join(CAPABILITIES)}, "
                    "no-onednn or threads=N, joined by commas (torch@avx2,no-onednn)"
                )
        return cls(capability, onednn, threads)

    def spec(self) -> str:
        parts = [self.capability] if self.capability else []
        parts += [] if self.onednn else ["no-onednn"]
        parts += [f"threads={self.threads}"] if self.threads else []
        return ",".join(parts)

    def applied_to(self, path: dict[str, Any]) -> dict[str, Any]:
        """``path`` (the facts ``cpu_path`` records) as these settings change it."""
        changed = dict(path)
        if self.capability:
            changed["capability"] = self.capability.upper()
        if not self.onednn:
            changed.update(onednn=False, onednn_float16=False, onednn_bfloat16=False)
        if self.threads:
            changed["threads"] = self.threads
        return changed


class TorchPathBackend(TorchBackend):
    """torch's CPU kernels on a chosen path, for differential testing of
    torch against itself (``torch@avx2`` against the oracle's path).

    oneDNN and the thread count are set around each of its calls and put back
    after, so they move nothing else in the process.  The CPU capability is
    process-wide and fixed at torch's first kernel call: the backend sets
    ``ATEN_CPU_CAPABILITY`` before its own first call and checks that torch
    took it, so it runs in a worker process of its own (the default; the
    oracle answers from another process), never beside an oracle that has
    already run a kernel."""

    def __init__(self, settings: str | CpuPathSettings) -> None:
        super().__init__("cpu")
        self.settings = CpuPathSettings.parse(settings) if isinstance(settings, str) else settings
        self.name = PATH_PREFIX + self.settings.spec()
        self._checked = False

    def availability(self) -> tuple[bool, str]:
        ok, why = super().availability()
        capability = self.settings.capability
        if ok and capability:
            missing = [f for f in CAPABILITY_FLAGS[capability] if f not in cpu_flags()]
            if missing:
                return False, f"this CPU lacks {', '.join(missing)}, which ATen's {capability} kernels need"
        return ok, why

    def from_numpy(self, array: np.ndarray) -> Any:
        self._take_capability()
        return super().from_numpy(array)

    def _take_capability(self) -> None:
        """Before its first kernel: ``ATEN_CPU_CAPABILITY``, then a check that torch took it
        (not in ``availability``: the main process asks that, and its torch keeps its own path)."""
        wanted = self.settings.capability
        if wanted is None or self._checked:
            return
        torch = self._torch()
        before = os.environ.get("ATEN_CPU_CAPABILITY")
        os.environ["ATEN_CPU_CAPABILITY"] = wanted  # read once, at torch's first kernel call
        got = torch.backends.cpu.get_cpu_capability()
        if got != wanted.upper():
            # not left behind for the processes this one starts (an oracle's worker among them)
            if before is None:
                del os.environ["ATEN_CPU_CAPABILITY"]
            else:
                os.environ["ATEN_CPU_CAPABILITY"] = before
            raise RuntimeError(
                f"{self.name}: torch in this process runs its CPU kernels on {got}, not {wanted.upper()} "
                "(the capability is fixed at torch's first kernel call): run it in its own worker process "
                "(drop --no-isolation, or set ATEN_CPU_CAPABILITY before torch loads)"
            )
        self._checked = True

    @contextlib.contextmanager
    def on_path(self) -> Iterator[None]:
        self._take_capability()
        torch = self._torch()
        threads, onednn = torch.get_num_threads(), torch._C._get_mkldnn_enabled()
        # the flag itself, not torch.backends.mkldnn.flags(): that warns of TF32 on Intel GPUs on every call
        torch._C._set_mkldnn_enabled(onednn and self.settings.onednn)
        try:
            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            yield
        finally:
            torch.set_num_threads(threads)
            torch._C._set_mkldnn_enabled(onednn)

    def path(self) -> dict[str, Any]:
        """The facts of its path (``cpu_path``), read on it."""
        with self.on_path():
            return cpu_path()


def _on_path(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapped(self: TorchPathBackend, *args: Any, **kwargs: Any) -> Any:
        with self.on_path():
            return method(self, *args, **kwargs)

    return wrapped


# every op (and vjp) runs on the backend's path
for _op in (
    "interpolate",
    "conv_transpose",
    "max_pool",
    "max_unpool",
    "pixel_shuffle",
    "pixel_unshuffle",
    "vjp",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
):
    setattr(TorchPathBackend, _op, _on_path(getattr(TorchBackend, _op)))
