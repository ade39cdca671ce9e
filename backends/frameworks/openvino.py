"""OpenVINO (CPU plugin) as a backend: ``openvino.convert_model`` of a one-op torch module.

The deploy path: a ``torch.nn.Module`` whose ``forward`` is the one functional
call (every array an input of the model), converted by OpenVINO's PyTorch
frontend (``openvino.convert_model(module, example_input=...)``, which traces
it), compiled for the ``CPU`` device and run by OpenVINO.  torch is imported
in this backend's worker for the conversion only: the module is torch's, the
kernel is OpenVINO's.  Arguments are checked as torch does first (``plan_*``,
the pixel-shuffle checks), so an invalid call raises torch's error without a
conversion.  One model is converted and compiled per (op, arguments, input
shapes and dtypes) and reused.

=====================================  ==================================================================
torch                                  OpenVINO
=====================================  ==================================================================
``F.interpolate`` (every mode)         the frontend's ``Interpolate`` (and what it decomposes into)
``F.conv_transpose{n}d``               ``ConvolutionBackpropData`` / ``GroupConvolutionBackpropData``
``F.max_pool{n}d(...,                  ``MaxPool`` with its indices output
return_indices=True)``
``F.max_unpool{n}d``                   none: tracing ``max_unpool`` fails in torch's own checks
                                       (a tensor condition): unsupported, with the frontend's words
``F.pixel_(un)shuffle``                the frontend's decomposition (reshape, transpose)
a call the frontend cannot convert     unsupported, with the frontend's words
=====================================  ==================================================================

The CPU plugin runs with ``EXECUTION_MODE_HINT=ACCURACY``: its default
(performance) mode runs float32 models in bfloat16 on CPUs that have
bfloat16 instructions (``INFERENCE_PRECISION_HINT`` bf16), which is a
deployment choice, not a kernel's semantics (docs/frameworks-findings.md
shows what that default does).  No gradients: OpenVINO runs inference only.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends.frameworks import FrameworkBackend
from backends.libraries.torch_checks import check_shuffle, check_unpool_indices
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.dtypes import BFLOAT16
from reference.interpolate import plan_interpolate
from reference.unpooling import plan_max_pool, plan_max_unpool, spatial_rank

IntOrSeq = int | Sequence[int]

#: How many compiled models are kept (the most recently used): a worker's address space is capped.
CACHED_MODELS = 8
#: The CPU plugin's configuration: the model's own precision.
CONFIG = {"EXECUTION_MODE_HINT": "ACCURACY"}


#: The torch.nn.functional name of each of the protocol's ops (``{n}``: the spatial rank).
FUNCTIONAL = {
    "interpolate": "interpolate",
    "conv_transpose": "conv_transpose{n}d",
    "max_pool": "max_pool{n}d",
    "max_unpool": "max_unpool{n}d",
    "pixel_shuffle": "pixel_shuffle",
    "pixel_unshuffle": "pixel_unshuffle",
}


class OpenvinoBackend(FrameworkBackend):
    """OpenVINO's CPU plugin, running torch modules converted by its PyTorch frontend."""

    name = "openvino"
    module = "openvino"
    extra = "openvino"
    compiles = True  # one model converted and compiled per signature

    def __init__(self) -> None:
        self._compiled: dict[Any, Any] = {}
        self._core: Any = None

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op not in FUNCTIONAL or op == "max_unpool":
            return None
        return f"openvino.compile_model(openvino.convert_model(<module: F.{FUNCTIONAL[op]}>), 'CPU', EXECUTION_MODE_HINT=ACCURACY)"

    def _run(self, op: str, rank: int, arrays: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The model of ``F.<op>(*arrays, **kwargs)``, converted and compiled once, run on ``arrays``."""
        arrays = [np.ascontiguousarray(a) for a in arrays if a is not None]
        if any(a.dtype == BFLOAT16 for a in arrays):
            raise Unsupported(
                "bfloat16: OpenVINO's Python API takes no ml_dtypes bfloat16 array (nor torch's trace one)"
            )
        key = (op, rank, repr(sorted(kwargs.items())), tuple((a.shape, a.dtype.str) for a in arrays))
        compiled = self._compiled.pop(key, None)
        if compiled is None:
            compiled = self._compile(FUNCTIONAL[op].format(n=rank), arrays, kwargs)
        self._compiled[key] = compiled  # the most recent last
        while len(self._compiled) > CACHED_MODELS:  # each compiled model holds the plugin's memory
            self._compiled.pop(next(iter(self._compiled)))
        outputs = compiled(arrays)
        return tuple(outputs[o] for o in compiled.outputs)

    def _compile(self, function: str, arrays: list[np.ndarray], kwargs: dict[str, Any]) -> Any:
        ov = self._lib()
        torch = importlib.import_module("torch")
        call = getattr(torch.nn.functional, function)

        class OneOp(torch.nn.Module):
            def forward(self, *tensors: Any) -> Any:
                return call(*tensors, **kwargs)

        example = tuple(torch.from_numpy(a.copy()) for a in arrays)
        try:
            model = ov.convert_model(OneOp(), example_input=example)
        except Exception as exc:  # noqa: BLE001 -- the frontend's refusal, in its words
            first = str(exc).strip().splitlines()
            raise Unsupported(
                f"openvino.convert_model cannot convert F.{function}: {' '.join(first[:3])[:300]}"
            ) from exc
        # static shapes, the example's: the CPU plugin's deconvolution takes no dynamic weight shape
        model.reshape({port: ov.PartialShape(list(a.shape)) for port, a in zip(model.inputs, arrays)})
        if self._core is None:
            self._core = ov.Core()
        return self._core.compile_model(model, "CPU", CONFIG)

    def interpolate(
        self,
        x: np.ndarray,
        size: IntOrSeq | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> np.ndarray:
        plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        kwargs = {
            "size": size,
            "scale_factor": scale_factor,
            "mode": mode,
            "align_corners": align_corners,
            "recompute_scale_factor": recompute_scale_factor,
            "antialias": antialias,
        }
        return self._run("interpolate", 0, [x], kwargs)[0]

    def conv_transpose(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        stride: IntOrSeq = 1,
        padding: IntOrSeq = 0,
        output_padding: IntOrSeq = 0,
        groups: int = 1,
        dilation: IntOrSeq = 1,
        output_size: Sequence[int] | None = None,
    ) -> np.ndarray:
        shapes = (x.shape, weight.shape, None if bias is None else bias.shape)
        plan = plan_conv_transpose(*shapes, stride, padding, output_padding, groups, dilation, output_size)
        kwargs = {
            "stride": plan.stride,
            "padding": plan.padding,
            "output_padding": plan.output_padding,
            "groups": plan.groups,
            "dilation": plan.dilation,
        }
        return self._run("conv_transpose", len(plan.kernel), [x, weight, bias], kwargs)[0]

    def max_pool(
        self,
        x: np.ndarray,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        dilation: IntOrSeq = 1,
        ceil_mode: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        plan = plan_max_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
        kwargs = {
            "kernel_size": plan.kernel,
            "stride": plan.stride,
            "padding": plan.padding,
            "dilation": plan.dilation,
            "ceil_mode": ceil_mode,
            "return_indices": True,
        }
        values, indices = self._run("max_pool", len(plan.kernel), [x], kwargs)
        return values, indices

    def max_unpool(
        self,
        x: np.ndarray,
        indices: np.ndarray,
        kernel_size: IntOrSeq,
        stride: IntOrSeq | None = None,
        padding: IntOrSeq = 0,
        output_size: Sequence[int] | None = None,
    ) -> np.ndarray:
        out = plan_max_unpool(x.shape, indices.shape, indices.dtype, kernel_size, stride, padding, output_size)
        check_unpool_indices(indices, out)
        kwargs = {"kernel_size": kernel_size, "stride": stride, "padding": padding, "output_size": output_size}
        return self._run("max_unpool", spatial_rank(x.ndim, kernel_size), [x, indices], kwargs)[0]

    def pixel_shuffle(self, x: np.ndarray, upscale_factor: int) -> np.ndarray:
        check_shuffle("pixel_shuffle", x.shape, x.dtype, upscale_factor)
        return self._run("pixel_shuffle", 2, [x], {"upscale_factor": upscale_factor})[0]

    def pixel_unshuffle(self, x: np.ndarray, downscale_factor: int) -> np.ndarray:
        check_shuffle("pixel_unshuffle", x.shape, x.dtype, downscale_factor)
        return self._run("pixel_unshuffle", 2, [x], {"downscale_factor": downscale_factor})[0]
