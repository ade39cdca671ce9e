"""One-node ONNX models for torch's ops, and the adapter both ONNX engines share.

``onnxruntime`` and ``onnx-reference`` (ONNX's own ``ReferenceEvaluator``)
run the same models, built here with ``onnx.helper`` at opset 19: one node,
its inputs with dynamic dimensions, so a model (and the engine's session
built from it) serves every shape of one signature -- op, attributes,
element type, rank -- and is cached per signature.  Arguments are checked and
resolved as torch does (``plan_interpolate``, ``plan_conv_transpose``,
``plan_max_unpool``, the reference's pixel-shuffle checks) before a model
runs.  The mapping:

=====================================  ==================================================================
torch                                  ONNX node
=====================================  ==================================================================
``nearest``                            ``Resize(mode="nearest", coordinate_transformation_mode=
                                       "asymmetric", nearest_mode="floor")``: ``floor(i / scale)``
``nearest-exact``                      ``Resize(mode="nearest", coordinate_transformation_mode=
                                       "half_pixel", nearest_mode="round_prefer_ceil")``:
                                       ``floor((i + 0.5) / scale - 0.5 + 0.5)``
``linear`` / ``bilinear`` /            ``Resize(mode="linear", coordinate_transformation_mode=
``trilinear``                          "half_pixel")``; ``align_corners=True``: ``"align_corners"``.
                                       (``"pytorch_half_pixel"`` maps a length-1 output to input 0;
                                       torch 2.13 samples its centre, as ``"half_pixel"`` does)
``bicubic``                            ``Resize(mode="cubic", cubic_coeff_a=-0.75, exclude_outside=0)``
                                       (edge taps repeated), coordinates as for linear
``antialias=True`` (bilinear,          ``Resize(..., antialias=1, exclude_outside=1)`` (torch renormalises
bicubic)                               the weights of a window cut by the edge), ``cubic_coeff_a=-0.5``
                                       (Pillow's, torch's antialias cubic); ``align_corners=True``:
                                       ``"align_corners"``, whose sample positions are not torch's
                                       (torch centres output ``i`` at ``s * (i + 0.5)`` there)
size given, or scale recomputed        the ``sizes`` input: ``(N, C, *torch's output size)``
scale factor used as given             the ``scales`` input: ``(1, 1, *scale_factor)`` as float32 (ONNX
                                       takes float32 scales, and derives the output length from them:
                                       ``floor(n * scale)``); ``1`` on an axis torch leaves as it is
                                       (linear modes, antialias)
``lanczos``, ``area``                  none (Resize has neither): unsupported
``conv_transpose{1,2,3}d``             ``ConvTranspose(X, W, B, strides, pads=padding at both ends,
                                       dilations, group=groups, output_padding, kernel_shape)``: the
                                       weight layout ``(C_in, C_out / groups, k...)`` is torch's; an
                                       unbatched input gets a batch axis; ``output_padding >= stride``
                                       (torch takes it below the dilation): unsupported
``max_unpool{1,2,3}d``                 ``MaxUnpool(X, I, output_shape=(N, C, *out), kernel_shape,
                                       strides, pads)``.  ONNX's indices are linear over the whole
                                       tensor, torch's over one plane: the adapter adds
                                       ``(n * C + c) * prod(out)`` (``out`` the output's spatial size)
``pixel_shuffle``                      ``DepthToSpace(mode="CRD", blocksize=r)`` (CRD is torch's channel
                                       order); leading dimensions become the batch
``pixel_unshuffle``                    ``SpaceToDepth(blocksize=r)``, whose channel order is DCR
                                       (``(i*r + j)*C + c``): the adapter reorders the channels to
                                       torch's ``c*r*r + i*r + j`` after it (a reshape and transpose)
=====================================  ==================================================================

Dtypes: those the node's ONNX type constraint lists (Resize, DepthToSpace,
SpaceToDepth: all of torch's; ConvTranspose, MaxUnpool: float16, float32,
float64); an engine without a kernel for one says so (``Unsupported``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

from backends.libraries import LibraryBackend
from backends.libraries.torch_checks import check_shuffle, check_unpool_indices
from backends.protocol import Unsupported
from reference.conv_transpose import plan_conv_transpose
from reference.interpolate import MODE_RANKS, ResizePlan, plan_interpolate
from reference.unpooling import plan_max_unpool, spatial_rank

IntOrSeq = int | Sequence[int]

OPSET = 19
#: An IR version every engine here reads (onnx 1.23 writes a newer one by default).
IR_VERSION = 9
#: The harness's dtype names -> ONNX's.
ONNX_TYPES = {
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float32": "float",
    "float64": "double",
    "uint8": "uint8",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool",
    "complex64": "complex64",
    "complex128": "complex128",
}
#: The protocol's ops -> the ONNX node each runs.
NODES = {
    "interpolate": "Resize",
    "conv_transpose": "ConvTranspose",
    "max_unpool": "MaxUnpool",
    "pixel_shuffle": "DepthToSpace",
    "pixel_unshuffle": "SpaceToDepth",
}

#: A model's signature: (node, attributes as sorted pairs (lists as tuples), input names,
#: element types, shapes (a data input's dimensions are None: any length)).
Signature = tuple[
    str, tuple[tuple[str, Any], ...], tuple[str, ...], tuple[int, ...], tuple[tuple[int | None, ...], ...]
]
#: Inputs that hold parameters (their length is the data's rank): their shapes are static.
PARAMETER_INPUTS = frozenset({"roi", "scales", "sizes", "output_shape"})


@cache
def node_dtypes(node: str) -> tuple[str, ...]:
    """The harness dtypes the node's first ONNX type constraint allows."""
    from onnx import defs

    allowed = set(defs.get_schema(node, OPSET).type_constraints[0].allowed_type_strs)
    return tuple(name for name, onnx_name in ONNX_TYPES.items() if f"tensor({onnx_name})" in allowed)


def build_model(signature: Signature) -> Any:
    """The one-node model of ``signature`` (an empty input name: an omitted optional input)."""
    from onnx import helper

    node, attributes, names, types, shapes = signature
    inputs = [
        helper.make_tensor_value_info(name, t, list(shape)) for name, t, shape in zip(names, types, shapes) if name
    ]
    output = helper.make_tensor_value_info("Y", types[0], None)
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in attributes}
    graph = helper.make_graph([helper.make_node(node, list(names), ["Y"], **kwargs)], node, inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)


def resize_attributes(plan: ResizePlan) -> dict[str, Any]:
    """Resize's attributes for torch's resize ``plan`` (the table above)."""
    if plan.mode == "nearest":
        return {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    if plan.mode == "nearest-exact":
        return {"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_ceil"}
    if plan.mode in ("lanczos", "area"):
        raise Unsupported(f"ONNX Resize has no {plan.mode} mode")
    attributes: dict[str, Any] = {
        "mode": "cubic" if plan.mode == "bicubic" else "linear",
        "coordinate_transformation_mode": "align_corners" if plan.align_corners else "half_pixel",
    }
    if plan.mode == "bicubic":
        attributes["cubic_coeff_a"] = -0.5 if plan.antialias else -0.75
    if plan.antialias:
        attributes.update(antialias=1, exclude_outside=1)
    return attributes


def resize_scales(plan: ResizePlan) -> np.ndarray | None:
    """The ``scales`` input where torch uses its scale factor as given, else None (``sizes``)."""
    if all(s is None for s in plan.scales):
        return None
    ignored = plan.mode not in ("nearest", "nearest-exact", "bicubic") or plan.antialias
    factors = [
        1.0 if (ignored and n_in == n_out) else float(s)
        for s, n_in, n_out in zip(plan.scales, plan.input_size, plan.output_size)
    ]
    return np.array([1.0, 1.0, *factors], dtype=np.float32)


class OnnxBackend(LibraryBackend):
    """torch's ops as one-node ONNX models; a subclass runs them on one engine
    (``_run``: the engine's session for a signature, cached, run on the feeds)."""

    def availability(self) -> tuple[bool, str]:
        # both engines need onnx itself to build their models
        try:
            import onnx  # noqa: F401
        except ImportError as exc:
            return False, (
                f"onnx is not installed ({exc}); from the checkout's root: "
                f"python -m pip install -c constraints.txt -e '.[{self.extra}]'"
            )
        return super().availability()

    def _run(self, signature: Signature, feeds: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def unsupported_reason(self, op: str, dtype: str, params: Mapping[str, Any]) -> str | None:
        reason = super().unsupported_reason(op, dtype, params)
        node = NODES.get(op.removesuffix(":backward"))
        if reason is None and node is not None and dtype not in node_dtypes(node):
            return f"ONNX {node} takes no {dtype}"
        return reason

    def call_used(self, op: str, params: Mapping[str, Any]) -> str | None:
        if op != "interpolate":
            return {
                "conv_transpose": "ConvTranspose(X, W, B, strides, pads, dilations, group, output_padding)",
                "max_unpool": "MaxUnpool(X, I + plane offsets, output_shape, kernel_shape, strides, pads)",
                "pixel_shuffle": 'DepthToSpace(mode="CRD", blocksize=r)',
                "pixel_unshuffle": "SpaceToDepth(blocksize=r), channels reordered DCR -> CRD",
            }.get(op)
        if params.get("mode", "nearest") not in MODE_RANKS:
            return None
        plan = ResizePlan(
            str(params.get("mode", "nearest")),
            (),
            (),
            (),
            bool(params.get("align_corners")),
            bool(params.get("antialias")),
        )
        try:
            attributes = resize_attributes(plan)
        except Unsupported:
            return None
        given = params.get("scale_factor") is not None and not params.get("recompute_scale_factor")
        text = ", ".join(f"{k}={v!r}" for k, v in attributes.items())
        return f"Resize(X, roi, {'scales' if given else 'sizes'}, {text})"

    def _call(self, node: str, attributes: Mapping[str, Any], feeds: Mapping[str, np.ndarray | None]) -> np.ndarray:
        """Run ``node`` on ``feeds`` (input name -> array; None: omitted, in the node's input order)."""
        from onnx import helper

        names = tuple(name if a is not None else "" for name, a in feeds.items())
        present = {name: np.asarray(a) for name, a in feeds.items() if a is not None}
        types = tuple(helper.np_dtype_to_tensor_dtype(present[n].dtype) if n else 0 for n in names)
        shapes = tuple(
            (present[n].shape if n in PARAMETER_INPUTS else (None,) * present[n].ndim) if n else () for n in names
        )
        frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in attributes.items()))
        signature: Signature = (node, frozen, names, types, shapes)
        return self._run(signature, present)

    def interpolate(
        self,
        x: np.ndarray,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
        antialias: bool = False,
    ) -> np.ndarray:
        plan = plan_interpolate(x.shape, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
        attributes = resize_attributes(plan)
        scales = resize_scales(plan)
        sizes = None if scales is not None else np.array([*x.shape[:2], *plan.output_size], dtype=np.int64)
        return self._call("Resize", attributes, {"X": x, "roi": None, "scales": scales, "sizes": sizes})

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
        plan = plan_conv_transpose(
            x.shape,
            weight.shape,
            None if bias is None else bias.shape,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
            output_size,
        )
        if any(op >= s for op, s in zip(plan.output_padding, plan.stride)):
            # torch takes it when below the dilation; both engines refuse it (ORT: "output_padding
            # may be too large for stride"; the reference evaluator: a shape mismatch)
            raise Unsupported("ONNX ConvTranspose takes no output_padding >= stride")
        attributes = {
            "kernel_shape": list(plan.kernel),
            "strides": list(plan.stride),
            "pads": [*plan.padding, *plan.padding],
            "dilations": list(plan.dilation),
            "group": plan.groups,
            "output_padding": list(plan.output_padding),
        }
        y = self._call("ConvTranspose", attributes, {"X": x if plan.batched else x[None], "W": weight, "B": bias})
        return y if plan.batched else y[0]

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
        n = spatial_rank(x.ndim, kernel_size)
        batched = x.ndim == n + 2
        xb, ib = (x, indices) if batched else (x[None], indices[None])
        planes = math.prod(xb.shape[:2])
        # torch's index is within one output plane, ONNX's within the whole output
        offsets = (np.arange(planes, dtype=np.int64) * math.prod(out)).reshape(xb.shape[:2] + (1,) * n)
        kernel = _expand(kernel_size, n)
        attributes = {
            "kernel_shape": kernel,
            "strides": kernel if stride is None else _expand(stride, n),
            "pads": _expand(padding, n) * 2,
        }
        shape = np.array([*xb.shape[:2], *out], dtype=np.int64)
        y = self._call("MaxUnpool", attributes, {"X": xb, "I": ib + offsets, "output_shape": shape})
        return y if batched else y[0]

    def pixel_shuffle(self, x: np.ndarray, upscale_factor: int) -> np.ndarray:
        check_shuffle("pixel_shuffle", x.shape, x.dtype, upscale_factor)
        r = int(upscale_factor)
        *lead, c, h, w = x.shape
        y = self._call("DepthToSpace", {"blocksize": r, "mode": "CRD"}, {"X": x.reshape(math.prod(lead), c, h, w)})
        return y.reshape(*lead, c // (r * r), h * r, w * r)

    def pixel_unshuffle(self, x: np.ndarray, downscale_factor: int) -> np.ndarray:
        check_shuffle("pixel_unshuffle", x.shape, x.dtype, downscale_factor)
        r = int(downscale_factor)
        *lead, c, h, w = x.shape
        if x.size == 0:
            return x.copy()  # torch keeps an empty input's shape
        y = self._call("SpaceToDepth", {"blocksize": r}, {"X": x.reshape(math.prod(lead), c, h, w)})
        # DCR channel (i*r + j)*C + c -> torch's c*r*r + i*r + j
        y = y.reshape(-1, r * r, c, h // r, w // r).swapaxes(1, 2)
        return np.ascontiguousarray(y).reshape(*lead, c * r * r, h // r, w // r)


def _expand(value: IntOrSeq, n: int) -> list[int]:
    """A pooling argument (already checked by ``plan_max_unpool``) as ``n`` ints."""
    values = [int(value)] * n if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    return values * n if len(values) == 1 else values


#: Sessions (or evaluators) per signature, per engine: building one per call is slow.
SESSION_CACHE_SIZE = 256


def cached(make: Callable[[Signature], Any]) -> Callable[[Signature], Any]:
    """``make`` memoised per signature (least recently used dropped past ``SESSION_CACHE_SIZE``)."""
    from functools import lru_cache

    return lru_cache(maxsize=SESSION_CACHE_SIZE)(make)
