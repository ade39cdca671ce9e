"""Transposed convolution (``conv_transpose1d/2d/3d``), in float64.

Transposed convolution is the adjoint of convolution: where a convolution
*gathers* ``k`` inputs into each output, its transpose *scatters* each input
into ``k`` outputs.  Along one spatial axis with stride ``s``, padding ``p``,
dilation ``d``, kernel length ``k`` and output padding ``op``:

    input position ``i`` and kernel tap ``j`` land on output ``i*s + j*d - p``

so the output is ``L_out = (L_in - 1)*s - 2*p + d*(k - 1) + op + 1`` long
(``op`` only extends the far end; it must be smaller than ``s`` or ``d``).
Channels: ``weight`` has shape ``(C_in, C_out / groups, k_1, ..., k_n)``; input
channel ``c`` of group ``g`` feeds output channels ``g*C_out/groups ...``.
``output_size`` (as ``nn.ConvTranspose*d.forward(input, output_size)`` takes
it) picks ``op`` so that the output has that size.  An output length below 1
is an error (torch 2.13's 3-D kernel lets some zero lengths through; the
harness draws no such case).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reference.dtypes import exact_dtype

IntOrSeq = int | Sequence[int]


def _tuple(value: IntOrSeq, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(value)
    if len(values) == 1:
        return values * n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the convolution "
            f"dimensions, but got {name}={list(values)}"
        )
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class ConvTransposePlan:
    """Resolved arguments: per spatial axis stride, padding, dilation, kernel,
    output padding, and the output lengths, cropped and before cropping (the
    extent of every ``i*s + j*d`` plus the output padding)."""

    batched: bool
    input_lengths: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    kernel: tuple[int, ...]
    output_padding: tuple[int, ...]
    output_lengths: tuple[int, ...]
    uncropped_lengths: tuple[int, ...]
    groups: int

    def tap_slice(self, tap: Sequence[int]) -> tuple[slice, ...]:
        """Where kernel tap ``tap`` lands in the uncropped output: ``i*s + j*d`` for every input ``i``."""
        return tuple(
            slice(j * d, j * d + (length - 1) * s + 1, s)
            for j, d, s, length in zip(tap, self.dilation, self.stride, self.input_lengths)
        )

    def crop(self) -> tuple[slice, ...]:
        """The output within the uncropped one: ``padding`` off both ends."""
        return tuple(slice(p, p + length) for p, length in zip(self.padding, self.output_lengths))


def plan_conv_transpose(
    x_shape: Sequence[int],
    weight_shape: Sequence[int],
    bias_shape: Sequence[int] | None = None,
    stride: IntOrSeq = 1,
    padding: IntOrSeq = 0,
    output_padding: IntOrSeq = 0,
    groups: int = 1,
    dilation: IntOrSeq = 1,
    output_size: Sequence[int] | None = None,
) -> ConvTransposePlan:
    """Check the arguments as torch does, in its order and with its messages'
    key phrases, and compute the output lengths.

    torch's order: the ranks; ``output_size`` (``nn.ConvTranspose*d`` turns it
    into an output padding in Python first); groups, padding, output padding,
    stride and dilation; the weight against groups, the input's channels and
    the bias; an input empty but in its batch or channels; then the kernel's
    own checks (kernel positive, output padding below stride or dilation, a
    non-empty weight; the 3-D kernel folds the first into the last) and an
    output of at least 1.
    """
    n = len(weight_shape) - 2
    if n not in (1, 2, 3):
        raise RuntimeError(
            f"weight should have 3, 4 or 5 dimensions (C_in, C_out/groups, kernel...), got {len(weight_shape)}"
        )
    if len(x_shape) not in (n + 1, n + 2):
        raise RuntimeError(
            f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv_transpose{n}d, "
            f"but got input of size: {list(x_shape)}"
        )
    batched = len(x_shape) == n + 2
    full_shape = tuple(x_shape) if batched else (1, *x_shape)
    channels = full_shape[1]
    spatial = tuple(x_shape[-n:])
    stride_t = _tuple(stride, n, "stride")
    padding_t = _tuple(padding, n, "padding")
    dilation_t = _tuple(dilation, n, "dilation")
    kernel = tuple(int(k) for k in weight_shape[2:])
    minimum = tuple(
        (length - 1) * s - 2 * p + d * (k - 1) + 1
        for length, s, p, d, k in zip(spatial, stride_t, padding_t, dilation_t, kernel)
    )
    if output_size is not None:
        out_pad = _output_padding_for(output_size, spatial, minimum, stride_t, len(x_shape), batched)
    else:
        out_pad = _tuple(output_padding, n, "output_padding")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (got groups={groups})")
    if any(p < 0 for p in padding_t):
        raise RuntimeError(f"negative padding is not supported (got padding={list(padding_t)})")
    if any(op < 0 for op in out_pad):
        raise RuntimeError(f"negative output_padding is not supported (got output_padding={list(out_pad)})")
    if any(s <= 0 for s in stride_t):
        raise RuntimeError(f"non-positive stride is not supported (got stride={list(stride_t)})")
    if any(d <= 0 for d in dilation_t):
        raise RuntimeError(f"dilation should be greater than zero (got dilation={list(dilation_t)})")
    if weight_shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of "
            f"size {list(weight_shape)} instead (the weight's first dimension is the input channels)"
        )
    if weight_shape[0] % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of "
            f"size {list(weight_shape)} instead (groups must divide the input channels)"
        )
    if channels != weight_shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight_shape)}, expected input{list(full_shape)} "
            f"to have {weight_shape[0]} channels, but got {channels} channels instead"
        )
    if bias_shape is not None and tuple(bias_shape) != (weight_shape[1] * groups,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight_shape)}, expected bias to be 1-dimensional "
            f"with {weight_shape[1] * groups} elements, but got bias of size {list(bias_shape)} instead"
        )
    if full_shape[0] > 0 and channels > 0 and 0 in spatial:
        raise RuntimeError(
            f"Only zero batch or zero channel inputs are supported, but got input shape: {list(full_shape)} "
            "(every spatial dimension must have positive length)"
        )
    _check_kernel(weight_shape, kernel, out_pad, stride_t, dilation_t, n)
    lengths = tuple(m + op for m, op in zip(minimum, out_pad))
    uncropped = tuple(v + 2 * p for v, p in zip(lengths, padding_t))
    if any(v <= 0 for v in lengths):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, spatial))}). Calculated output size per channel: "
            f"({' x '.join(map(str, lengths))}). Output size is too small: make the padding smaller, or the "
            "stride, dilation or kernel larger"
        )
    return ConvTransposePlan(
        batched, spatial, stride_t, padding_t, dilation_t, kernel, out_pad, lengths, uncropped, int(groups)
    )


def _output_padding_for(
    output_size: Sequence[int],
    spatial: Sequence[int],
    minimum: Sequence[int],
    stride: Sequence[int],
    ndim: int,
    batched: bool,
) -> tuple[int, ...]:
    """``nn.ConvTranspose*d._output_padding``: the output padding that gives ``output_size``."""
    n = len(spatial)
    sizes = [int(v) for v in output_size]
    leading = 2 if batched else 1
    if len(sizes) == n + leading:
        sizes = sizes[leading:]
    if len(sizes) != n:
        raise ValueError(
            f"ConvTranspose{n}D: for {ndim}D input, output_size must have {n} or {n + leading} elements (got {len(sizes)})"
        )
    maximum = [m + s - 1 for m, s in zip(minimum, stride)]
    if any(not lo <= v <= hi for v, lo, hi in zip(sizes, minimum, maximum)):
        raise ValueError(
            f"requested an output size of {sizes}, but valid sizes range from {list(minimum)} "
            f"to {maximum} (for an input of {list(spatial)})"
        )
    return tuple(v - m for v, m in zip(sizes, minimum))


def _check_kernel(
    weight_shape: Sequence[int],
    kernel: Sequence[int],
    out_pad: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    n: int,
) -> None:
    """The checks of torch's transposed-convolution kernels (``slow_conv_transpose{2,3}d``)."""
    if n < 3 and any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel {list(kernel)}")
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(out_pad)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    if 0 in weight_shape[1:]:
        if n == 3:
            raise RuntimeError(
                "non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x kernel_width) "
                f"tensor expected for weight, but got: {list(weight_shape)}"
            )
        raise RuntimeError(
            f"non-empty {n + 2}D weight tensor expected, but got: {list(weight_shape)} "
            "(no output channels: the weight's second dimension must be positive)"
        )


@np.errstate(invalid="ignore", over="ignore")  # NaN and infinities are data here
def conv_transpose(
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
    """Reference ``conv_transpose{1,2,3}d`` (rank from ``weight``), exact float64
    (complex128 for complex inputs, int64 for int64: ``exact_dtype``).

    For every kernel tap ``j`` (one offset per spatial axis), the input times
    ``weight[:, :, j]`` is added into the output at positions ``i*s + j*d - p``:
    a strided slice of an uncropped output, cropped by ``p`` at both ends.
    """
    x = np.asarray(x)
    weight = np.asarray(weight)
    plan = plan_conv_transpose(
        x.shape,
        weight.shape,
        None if bias is None else np.shape(bias),
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size,
    )
    # float64, complex128 (both parts) or int64: see exact_dtype
    work = exact_dtype(np.result_type(x.dtype, weight.dtype))
    xb = x.astype(work) if plan.batched else x.astype(work)[None]
    w = weight.astype(work)
    n_batch, c_in = xb.shape[:2]
    spatial = xb.shape[2:]
    g = plan.groups
    c_out_g = w.shape[1]
    y = np.zeros((n_batch, c_out_g * g, *plan.uncropped_lengths), dtype=work)
    xg = xb.reshape(n_batch, g, c_in // g, *spatial)
    wg = w.reshape(g, c_in // g, c_out_g, *plan.kernel)
    for tap in itertools.product(*(range(k) for k in plan.kernel)):
        # (n, g, c_in/g, *spatial) x (g, c_in/g, c_out/g) -> (n, g, c_out/g, *spatial)
        contribution = np.einsum("ngc...,gco->ngo...", xg, wg[(..., *tap)])
        region = y[(slice(None), slice(None), *plan.tap_slice(tap))]
        region += contribution.reshape(region.shape)
    y = y[(slice(None), slice(None), *plan.crop())]
    if bias is not None:
        y = y + np.asarray(bias).astype(work).reshape((1, -1) + (1,) * len(spatial))
    return y if plan.batched else y[0]
