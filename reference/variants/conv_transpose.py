"""Plausible wrong versions of ``conv_transpose``: arguments dropped or
swapped, the kernel flipped, groups' channel blocks or the bias mixed up,
output padding filled wrongly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.conv_transpose import conv_transpose, plan_conv_transpose
from reference.dtypes import BFLOAT16
from reference.gradients import conv_transpose_vjp
from reference.variants import summed_in, variant

OP = "conv_transpose"


def _spatial(weight: np.ndarray) -> int:
    return np.asarray(weight).ndim - 2


def _channel_axis(x: np.ndarray, weight: np.ndarray) -> int:
    """The channel axis of ``x`` (0 when unbatched)."""
    return np.asarray(x).ndim - _spatial(weight) - 1


def with_arguments(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., np.ndarray]:
    """``conv_transpose`` called with its keyword arguments changed by ``change``."""

    def forward(x: Any, weight: Any, bias: Any = None, **params: Any) -> np.ndarray:
        return conv_transpose(x, weight, **change({"bias": bias, **params}))

    return forward


variant("conv-transpose-dilation-ignored", OP, "dilation ignored (taps one apart)", kind="arguments")(
    with_arguments(lambda p: {**p, "dilation": 1})
)
variant("conv-transpose-bias-ignored", OP, "bias not added", kind="arguments")(
    with_arguments(lambda p: {**p, "bias": None})
)
variant(
    "conv-transpose-output-size-ignored",
    OP,
    "output_size ignored (the default output length)",
    kind="arguments",
)(with_arguments(lambda p: {k: v for k, v in p.items() if k != "output_size"}))
variant(
    "conv-transpose-stride-and-dilation-swapped",
    OP,
    "stride and dilation passed in each other's place",
    kind="arguments",
)(with_arguments(lambda p: {**p, "stride": p.get("dilation", 1), "dilation": p.get("stride", 1)}))


@variant("conv-transpose-kernel-flipped", OP, "the kernel flipped along every spatial axis (a correlation)", kind="structure")
def kernel_flipped(x: Any, weight: Any, bias: Any = None, **params: Any) -> np.ndarray:
    w = np.asarray(weight)
    return conv_transpose(x, np.flip(w, tuple(range(2, w.ndim))).copy(), bias, **params)


def _permuted_channels(x: Any, weight: Any, groups: int, outputs: bool) -> np.ndarray:
    """Channel order with the group index varying fastest instead of slowest."""
    n = np.asarray(weight).shape[1] * groups if outputs else np.asarray(weight).shape[0]
    return np.arange(n).reshape(groups, n // groups).T.ravel()


@variant(
    "conv-transpose-groups-outputs-interleaved",
    OP,
    "with groups, output channel c of group g written at c * groups + g (torch: g * C_out/groups + c)",
    kind="structure",
)
def groups_outputs_interleaved(x: Any, weight: Any, bias: Any = None, groups: int = 1, **params: Any) -> np.ndarray:
    y = conv_transpose(x, weight, None, groups=groups, **params)
    order = _permuted_channels(x, weight, groups, outputs=True)
    y = np.take(y, np.argsort(order), axis=_channel_axis(x, weight))
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape((-1,) + (1,) * _spatial(weight))
    return y


@variant(
    "conv-transpose-groups-inputs-interleaved",
    OP,
    "with groups, input channels taken as interleaved (c * groups + g) instead of in blocks",
    kind="structure",
)
def groups_inputs_interleaved(x: Any, weight: Any, bias: Any = None, groups: int = 1, **params: Any) -> np.ndarray:
    order = _permuted_channels(x, weight, groups, outputs=False)
    return conv_transpose(np.take(np.asarray(x), order, axis=_channel_axis(x, weight)), weight, bias, groups=groups, **params)


@variant(
    "conv-transpose-bias-of-first-group",
    OP,
    "with groups, the first group's bias added to every group",
    kind="structure",
)
def bias_of_first_group(x: Any, weight: Any, bias: Any = None, groups: int = 1, **params: Any) -> np.ndarray:
    if bias is not None:
        per_group = np.asarray(bias)[: np.asarray(weight).shape[1]]
        bias = np.tile(per_group, groups)
    return conv_transpose(x, weight, bias, groups=groups, **params)


def _padded_output(at_start: bool) -> Callable[..., np.ndarray]:
    def forward(x: Any, weight: Any, bias: Any = None, **params: Any) -> np.ndarray:
        plan = plan_conv_transpose(np.shape(x), np.shape(weight), None if bias is None else np.shape(bias), **params)
        plain = {k: v for k, v in params.items() if k not in ("output_padding", "output_size")}
        y = conv_transpose(x, weight, None, **plain)
        extra = [o - n for o, n in zip(plan.output_lengths, y.shape[-len(plan.output_lengths) :])]
        pads = [(0, 0)] * (y.ndim - len(extra)) + [((e, 0) if at_start else (0, e)) for e in extra]
        y = np.pad(y, pads)
        if bias is not None:
            y = y + np.asarray(bias, np.float64).reshape((-1,) + (1,) * len(extra))
        return y

    return forward


variant(
    "conv-transpose-output-padding-zeros",
    OP,
    "output padding filled with zeros (plus bias) instead of the taps that land there",
    kind="structure",
)(_padded_output(at_start=False))
variant(
    "conv-transpose-output-padding-at-start",
    OP,
    "output padding added at the start of each axis instead of the end",
    kind="structure",
)(_padded_output(at_start=True))


@variant(
    "conv-transpose-padding-cropped-at-start-only",
    OP,
    "padding cropped twice from the start instead of once from each end",
    kind="structure",
)
def padding_cropped_at_start(x: Any, weight: Any, bias: Any = None, **params: Any) -> np.ndarray:
    plan = plan_conv_transpose(np.shape(x), np.shape(weight), None if bias is None else np.shape(bias), **params)
    unpadded = {**{k: v for k, v in params.items() if k != "output_size"}, "padding": 0}
    unpadded["output_padding"] = plan.output_padding
    y = conv_transpose(x, weight, None, **unpadded)
    n = len(plan.output_lengths)
    for axis, (p, length) in enumerate(zip(plan.padding, plan.output_lengths)):
        ax = y.ndim - n + axis
        y = np.take(y, np.arange(2 * p, 2 * p + length), axis=ax, mode="clip") * (
            (np.arange(2 * p, 2 * p + length) < y.shape[ax]).reshape((-1,) + (1,) * (n - axis - 1))
        )
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape((-1,) + (1,) * n)
    return y


@variant(
    "conv-transpose-weight-read-out-in",
    OP,
    "weight read as (C_out, C_in, ...) (a convolution's layout) instead of (C_in, C_out / groups, ...)",
    kind="structure",
)
def weight_read_out_in(x: Any, weight: Any, bias: Any = None, groups: int = 1, **params: Any) -> np.ndarray:
    w = np.asarray(weight)
    if groups != 1 or w.shape[0] != w.shape[1]:
        return conv_transpose(x, weight, bias, groups=groups, **params)
    return conv_transpose(x, np.swapaxes(w, 0, 1).copy(), bias, groups=groups, **params)


#: Inputs larger than this are not differentiated element by element (too slow).
MAX_JACOBIAN_INPUTS = 4096


def _gradient_summed_in(dtype: Any) -> Callable[..., np.ndarray]:
    """The input gradient of ``conv_transpose`` on ``dtype`` data accumulated
    in ``dtype`` (``summed_in``, the outputs of a sample in row-major order);
    the reference's for other dtypes."""

    def vjp(g: Any, x: Any, weight: Any, bias: Any = None, **params: Any) -> np.ndarray:
        x, g = np.asarray(x), np.asarray(g)
        if x.dtype != dtype:
            return conv_transpose_vjp(g, x, weight, bias, **params)["x"]
        batched = x.ndim == np.ndim(weight)
        sample = x.shape[1:] if batched else x.shape
        n_in = int(np.prod(sample))
        if n_in == 0:
            return np.zeros(x.shape)
        if n_in > MAX_JACOBIAN_INPUTS:
            raise MemoryError(f"the variant's gradient differentiates at most {MAX_JACOBIAN_INPUTS} inputs a sample")
        if params.get("output_size") is not None:  # the spatial lengths (the basis is batched, x maybe not)
            params = {**params, "output_size": tuple(params["output_size"])[-_spatial(weight) :]}
        basis = np.eye(n_in, dtype=x.dtype).reshape((n_in, *sample))  # a batch of one-hot samples: exact
        jacobian = np.asarray(conv_transpose(basis, weight, None, **params)).reshape(n_in, -1).T
        planes = x.shape[0] if batched else 1
        grad = summed_in(dtype, jacobian, g.reshape(planes, jacobian.shape[0]))
        return grad.reshape(x.shape)

    return vjp


for _name, _dtype in (("bfloat16", BFLOAT16), ("float16", np.dtype(np.float16))):
    variant(
        f"conv-transpose-{_name}-gradient-summed-in-{_name}",
        OP,
        f"the {_name} input gradient accumulated in {_name}, rounded after every term (torch: in float32)",
        kind="rounding",
        dtypes=(_name,),
        vjp=_gradient_summed_in(_dtype),
    )(conv_transpose)
