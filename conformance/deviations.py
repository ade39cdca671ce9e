"""Where torch 2.13 (CPU) strays from the reference or is broken, as data.

Each ``Deviation`` names one known fault of torch, the op it is in, a
concrete ``Case`` that shows it, how it shows (``SHOWS``) and what the
harness does about it.  The op registry attaches them to its ops
(``deviations_for``); ``tests/test_deviations.py`` checks on every run that
each one still reproduces on the pinned torch, so that a torch release that
fixes one is noticed and its entry (and the harness's workaround) removed.

Some show only on some of torch's CPU paths (``Where``): each says where,
as found by probing every path the machine allows (``python -m conformance
deviations --probe``), and its test checks both directions there.

This module is plain data: it imports no torch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.cases import Case, InputSpec, PooledIndices

#: The torch release these deviations were established on.
TORCH_VERSION = "2.13"

#: How a deviation shows on its case:
#:   off-reference  torch's result differs from the float64 reference beyond tolerance
#:   raises         torch raises an exception (``raises_phrase`` is part of its message)
#:   crash          the process running torch dies
#:   accepts        torch returns a result where it should raise
#:   unspecified    the result depends on an unspecified choice
SHOWS = ("off-reference", "raises", "crash", "accepts", "unspecified")
DIRECTIONS = ("forward", "backward")

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Where:
    """The torch CPU paths a deviation shows on, as conditions on the facts
    ``backends.torch_backend.cpu_path`` records; each field narrows it, and
    the default holds everywhere.  torch picks its kernels by ATen's CPU
    capability (its vectorised kernels), by whether oneDNN runs a convolution
    (on, with float16 ones where the CPU has AVX512-FP16 or AMX-FP16) and by
    the thread count (oneDNN runs a 1x1 unstrided float32 conv_transpose of
    one sample only with 2+ threads), and a deviation lives in one of them."""

    #: ATen CPU capabilities (as torch names them: ``"AVX2"``); empty: any.
    capabilities: tuple[str, ...] = ()
    #: oneDNN runs convolutions (``None``: either).
    onednn: bool | None = None
    #: oneDNN runs float16 convolutions (``None``: either).
    onednn_float16: bool | None = None
    #: At least this many intra-op threads.
    min_threads: int = 1

    @property
    def everywhere(self) -> bool:
        return self == Where()

    def holds(self, path: Mapping[str, Any] | None) -> bool:
        """On the CPU path ``path`` (``None``: not a CPU run, where only an
        unconditional deviation is taken to show)."""
        if path is None:
            return self.everywhere
        return (
            (not self.capabilities or path.get("capability") in self.capabilities)
            and (self.onednn is None or bool(path.get("onednn")) == self.onednn)
            and (self.onednn_float16 is None or bool(path.get("onednn_float16")) == self.onednn_float16)
            and int(path.get("threads") or 1) >= self.min_threads
        )

    def describe(self) -> str:
        """``"ATen capability AVX2 or AVX512"``, ``"any CPU path"``."""
        parts = []
        if self.capabilities:
            parts.append(f"ATen capability {' or '.join(self.capabilities)}")
        if self.onednn is not None:
            parts.append("oneDNN on" if self.onednn else "oneDNN off")
        if self.onednn_float16 is not None:
            runs = "runs" if self.onednn_float16 else "does not run"
            parts.append(f"oneDNN {runs} float16 convolutions (it does with AVX512-FP16 or AMX-FP16)")
        if self.min_threads > 1:
            parts.append(f"{self.min_threads}+ threads")
        return ", ".join(parts) or "any CPU path"


#: Where the conditions were probed (``python -m conformance deviations --probe``).
PROBED_HERE = "probed on AMD EPYC Zen 4 (AVX-512, no AVX512-FP16): DEFAULT, AVX2, AVX512 x oneDNN on, off x 1, 2 threads"
PROBED_FP16 = PROBED_HERE + "; and on an Intel Xeon with AVX512-FP16 and AMX (AVX512, 1 and 2 threads)"


@dataclass(frozen=True)
class Deviation:
    """One known place where torch departs from the reference or is broken."""

    #: Short kebab-case id.
    name: str
    #: The harness op it is in (interpolate, conv_transpose, max_pool, ...).
    op: str
    #: "forward" or "backward" (the gradient).
    direction: str
    #: One sentence a user reads.
    summary: str
    #: A concrete call that shows it (backward: with a ``grad_output`` operand).
    case: Case
    #: How it shows on ``case``: one of ``SHOWS``.
    shows: str
    #: What the harness does about it.
    handling: str
    #: For ``shows == "raises"``: a substring of torch's error message.
    raises_phrase: str | None = None
    #: Where it shows beyond its case (as an expected deviation of a torch
    #: backend, ``conformance.expected``): the op's cells (default: its
    #: case's) and the dtypes (default: any).
    cells: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    #: The CPU paths it shows on (``Where``: everywhere by default), and
    #: where that was found out (the paths probed; required for a condition).
    where: Where = Where()
    probed: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"deviation name {self.name!r} is not kebab-case")
        if self.shows not in SHOWS:
            raise ValueError(f"{self.name}: shows={self.shows!r}, not one of {SHOWS}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.name}: direction={self.direction!r}, not one of {DIRECTIONS}")
        if self.case.op != self.op or self.case.direction != self.direction:
            raise ValueError(f"{self.name}: its case is a {self.case.direction} {self.case.op} call")
        if (self.shows == "raises") != (self.raises_phrase is not None):
            raise ValueError(f"{self.name}: raises_phrase goes with shows='raises', and only with it")
        if not self.where.everywhere and not self.probed:
            raise ValueError(f"{self.name}: a deviation that shows on some CPU paths says where it was probed")


def _grad(shape: tuple[int, ...], dtype: str, seed: int) -> tuple[str, InputSpec]:
    """The cotangent operand of a backward case (seeded as ``strategies.backward_case`` seeds it)."""
    return ("grad_output", InputSpec(shape, dtype, "normal", (seed + 7919) % 2**32))


FLAGGED = "flagged torch off-reference"
REFERENCE_ALONE = "judged against the reference alone, flagged torch off-reference"

KNOWN_DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        name="antialias-width-one",
        op="interpolate",
        direction="forward",
        summary=(
            "An antialiased bilinear/bicubic/lanczos resize to output width 1 while the height changes "
            "repeats its first output row in every row instead of filtering each row."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 5, 6), "float32", "normal", 0),
            {"mode": "bilinear", "size": (3, 1), "antialias": True},
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("bilinear", "bicubic", "lanczos"),
    ),
    Deviation(
        name="antialias-backward-unchanged-axis",
        op="interpolate",
        direction="backward",
        summary=(
            "The antialias backward filters an axis whose length is unchanged under a scale factor used as given "
            "(length 2 at scale 1.25) where its forward copies that axis, so its gradient is not the adjoint of "
            "its forward."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 2, 6), "float32", "normal", 0),
            {"mode": "bilinear", "scale_factor": (1.25, 0.5), "antialias": True},
            (_grad((1, 1, 2, 3), "float32", 0),),
            direction="backward",
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("bilinear", "bicubic", "lanczos"),
    ),
    Deviation(
        name="nearest-3d-backward-given-scale",
        op="interpolate",
        direction="backward",
        summary=(
            "The 3-D nearest backward with a scale factor used as given (length 2 -> 2 at scale 1.25) sends "
            "the gradient to other source indices than its forward reads, so it is not the adjoint of its forward."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 2, 2, 2), "float32", "normal", 0),
            {"mode": "nearest", "scale_factor": 1.25},
            (_grad((1, 1, 2, 2, 2), "float32", 0),),
            direction="backward",
        ),
        shows="off-reference",
        handling=FLAGGED,
    ),
    Deviation(
        name="uint8-cubic-clamps-between-passes",
        op="interpolate",
        direction="forward",
        summary=(
            "uint8 bicubic and lanczos round and clamp to 0..255 between their two separable passes, "
            "so results are up to ~30 off the exact value."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 3, 8, 8), "uint8", "extremes", 0),
            {"mode": "bicubic", "scale_factor": 2.0},
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("bicubic", "lanczos"),
        dtypes=("uint8",),
    ),
    Deviation(
        name="uint8-antialias-internal-assert",
        op="interpolate",
        direction="forward",
        summary=(
            "uint8 bilinear and bicubic resizes of 3-channel inputs to a 1 x 1 output, antialiased or not, "
            "fail an internal assertion (torch runs its AVX antialias kernel for uint8 either way)."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 3, 4, 4), "uint8", "bytes", 0),
            {"mode": "bilinear", "size": (1, 1), "antialias": True},
        ),
        shows="raises",
        raises_phrase="INTERNAL ASSERT FAILED",
        handling=REFERENCE_ALONE,
        cells=("bilinear", "bicubic"),
        dtypes=("uint8",),
        where=Where(capabilities=("AVX2", "AVX512")),
        probed=PROBED_HERE,
    ),
    Deviation(
        name="uint8-width-one-default-kernel",
        op="interpolate",
        direction="forward",
        summary=(
            "On ATen's DEFAULT capability (no AVX2), uint8 bilinear and bicubic resizes to output width 1 while "
            "the height changes repeat the first output row in every row (the AVX2 and AVX-512 kernels are right): "
            "5 x 2 -> 4 x 1 gives 181 181 181 181 where the exact result is 181 72 7 114."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 5, 2), "uint8", "bytes", 0),
            {"mode": "bicubic", "size": (4, 1)},
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("bilinear", "bicubic"),
        dtypes=("uint8",),
        where=Where(capabilities=("DEFAULT",)),
        probed=PROBED_HERE + " (found by python -m conformance run --backend torch@default)",
    ),
    Deviation(
        name="float16-conv-transpose1d-backward-segfault",
        op="conv_transpose",
        direction="backward",
        summary=(
            "The float16 conv_transpose1d backward of an unbatched input with groups=2 can kill the process "
            "(SIGSEGV) where oneDNN runs float16 convolutions."
        ),
        case=Case(
            "conv_transpose",
            InputSpec((2, 4), "float16", "normal", 0),
            {"stride": (2,), "padding": (3,), "groups": 2, "dilation": (2,)},
            (("weight", InputSpec((2, 1, 1), "float16", "normal", 1)), _grad((2, 1), "float16", 0)),
            direction="backward",
        ),
        shows="crash",
        handling=REFERENCE_ALONE + " (the worker that died is restarted)",
        where=Where(onednn_float16=True),
        probed=PROBED_FP16,
    ),
    Deviation(
        name="pixel-shuffle-backward-empty",
        op="pixel_shuffle",
        direction="backward",
        summary="The pixel_shuffle backward fails on an empty input: autograd rejects the gradient's shape.",
        case=Case(
            "pixel_shuffle",
            InputSpec((0, 4, 2, 2), "float32", "normal", 0),
            {"upscale_factor": 2},
            (_grad((0, 1, 4, 4), "float32", 0),),
            direction="backward",
        ),
        shows="raises",
        raises_phrase="returned an invalid gradient",
        handling="not drawn (no gradient case for an empty input)",
    ),
    Deviation(
        name="pixel-unshuffle-backward-empty",
        op="pixel_unshuffle",
        direction="backward",
        summary="The pixel_unshuffle backward fails on an empty input: autograd rejects the gradient's shape.",
        case=Case(
            "pixel_unshuffle",
            InputSpec((1, 0, 4, 4), "float32", "normal", 0),
            {"downscale_factor": 2},
            (_grad((1, 0, 4, 4), "float32", 0),),
            direction="backward",
        ),
        shows="raises",
        raises_phrase="returned an invalid gradient",
        handling="not drawn (no gradient case for an empty input)",
    ),
    Deviation(
        name="max-unpool-3d-repeated-indices",
        op="max_unpool",
        direction="forward",
        summary=(
            "Where an index repeats, max_unpool3d keeps a write that depends on torch's thread count "
            "(one thread: the last; two: the second of four; eight: the first)."
        ),
        case=Case(
            "max_unpool",
            InputSpec((1, 1, 2, 2, 2), "float32", "normal", 100),
            {"kernel_size": (3, 3, 3), "stride": (2, 2, 2)},
            (
                (
                    "indices",
                    PooledIndices(
                        InputSpec((1, 1, 5, 5, 5), "float32", "normal", 0),
                        (("kernel_size", (3, 3, 3)), ("stride", (2, 2, 2))),
                    ),
                ),
            ),
        ),
        shows="unspecified",
        handling="not drawn (no case with a repeated index)",
    ),
    Deviation(
        name="conv-transpose-zero-length-accepted",
        op="conv_transpose",
        direction="forward",
        summary=(
            "float32 conv_transpose with groups > 1 returns an empty result for an output length of 0 "
            "where oneDNN runs it (a 1x1 unstrided kernel on one sample: with 2+ threads); torch's own kernel, "
            "groups=1 and float64 raise 'too small'."
        ),
        case=Case(
            "conv_transpose",
            InputSpec((1, 2, 2, 2, 2), "float32", "normal", 0),
            {"padding": (1, 1, 1), "groups": 2},
            (("weight", InputSpec((2, 1, 1, 1, 1), "float32", "normal", 1)),),
        ),
        shows="accepts",
        handling="not drawn (drawn output lengths are at least 1)",
        where=Where(onednn=True, min_threads=2),
        probed=PROBED_FP16,
    ),
    Deviation(
        name="float32-linear-source-coordinates",
        op="interpolate",
        direction="forward",
        summary=(
            "float32 linear downsampling of long axes computes source coordinates in float32, "
            "so results stray by hundreds of ulps (301 -> 215: ~170 eps)."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 301), "float32", "normal", 0),
            {"mode": "linear", "size": 215},
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("linear", "bilinear", "trilinear"),
        dtypes=("float32",),
    ),
    # Special values (NaN, infinities, overflow): where torch's propagation
    # depends on its own rounding rather than on the values.
    Deviation(
        name="float32-coordinates-zero-weights",
        op="interpolate",
        direction="forward",
        summary=(
            "float32, float16 and bfloat16 linear, bicubic and antialiased resizes compute source coordinates "
            "and filter weights in float32: where the exact weight of a tap is 0 and torch's is a rounding residue (or the "
            "opposite, or a near-zero lanczos weight of the other sign), an infinity in the input gives +-inf or NaN "
            "where the reference gives NaN (inf * 0) or a finite value, or the other infinity (13 -> 10: torch NaN "
            "at output 4, the reference -0.187; float64 follows the reference).  ATen's DEFAULT kernels show it too, "
            "on fewer cases (1 -> 3 at output 1 shows on AVX2 and AVX512 only)."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 13), "float32", "specials", 7),
            {"mode": "linear", "scale_factor": 0.8181818181818182},
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("linear", "bilinear", "trilinear", "bicubic", "lanczos"),
        dtypes=("float32", "float16", "bfloat16"),
        probed=PROBED_HERE,
    ),
    Deviation(
        name="area-3d-float16-sums-overflow",
        op="interpolate",
        direction="forward",
        summary=(
            "float16 3-D area (adaptive_avg_pool3d) sums each window in float16, so two values near float16's "
            "largest give +-inf where their mean is finite (1-D and 2-D sum in float32)."
        ),
        case=Case(
            "interpolate",
            InputSpec((1, 1, 3, 1, 1), "float16", "huge", 0),
            {"mode": "area", "size": (2, 1, 1)},
        ),
        shows="off-reference",
        handling=FLAGGED,
        dtypes=("float16",),
    ),
    Deviation(
        name="float16-conv-transpose-products-overflow",
        op="conv_transpose",
        direction="forward",
        summary=(
            "float16 conv_transpose rounds each kernel tap's products (summed over input channels) to float16 "
            "before adding the taps up, so a product beyond 65504 becomes +-inf, and two of opposite signs NaN, "
            "where the exact sum is finite (oneDNN's float16 convolutions keep float32 sums)."
        ),
        case=Case(
            "conv_transpose",
            InputSpec((1, 2, 2), "float16", "huge", 5),
            {"stride": (1,)},
            (("weight", InputSpec((2, 1, 2), "float16", "normal", 6)),),
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("1d", "2d", "3d"),
        dtypes=("float16",),
        where=Where(onednn_float16=False),
        probed=PROBED_FP16,
    ),
    Deviation(
        name="float16-conv-transpose-weight-gradient-overflow",
        op="conv_transpose",
        direction="backward",
        summary=(
            "The float16 conv_transpose weight gradient adds the samples' contributions in float16, so values "
            "near float16's largest overflow mid-sum: +-inf of either sign, or NaN, where the exact gradient "
            "is finite or of the other sign (not where oneDNN runs float16 convolutions)."
        ),
        case=Case(
            "conv_transpose",
            InputSpec((2, 3, 5), "float16", "huge", 0),
            {"stride": (2,), "padding": (2,), "groups": 3, "dilation": (3,)},
            (("weight", InputSpec((3, 1, 3), "float16", "normal", 1)), _grad((2, 3, 11), "float16", 0)),
            direction="backward",
        ),
        shows="off-reference",
        handling=FLAGGED,
        cells=("1d", "2d", "3d"),
        dtypes=("float16",),
        where=Where(onednn_float16=False),
        probed=PROBED_FP16,
    ),
)


def deviations_for(op: str) -> tuple[Deviation, ...]:
    """The known deviations of torch in ``op``."""
    return tuple(d for d in KNOWN_DEVIATIONS if d.op == op)
