"""Deep-learning frameworks, compilers, exporters and kernel sets that claim
torch's semantics, each behind the backend protocol.

One module per framework (``torch_compile``, ``torch_onnx``, ``tinygrad``,
...), registered by name in ``backends.BUILTIN`` (``FRAMEWORKS`` below), plus
``aten-kernels:DIR`` (a directory of kernels for torch's aten ops).  They sit
on the library adapters' base (``backends.libraries.LibraryBackend``): the
framework is imported on first use, ``availability`` names the
``pyproject.toml`` extra that installs it, ``call_used`` names the
framework's call per case (the report's frameworks matrix shows it), and a
case the framework cannot express raises ``Unsupported`` with the reason.
An adapter calls the framework's own ops, no torch or NumPy computation of
its own beyond converting arrays in and out, and checks arguments as torch
does (``reference``'s ``plan_*`` and ``backends.libraries.torch_checks``)
where the framework has no such checks, so an invalid call raises torch's
error.

Gradients, where the framework differentiates, go through the protocol's
``vjp`` (``vjp(op, grad_output, x, **kwargs)``, one array per
differentiable input).

A framework that compiles (``compiles = True``) pays for compilation on
the first call of a signature: the harness times every cell's first call
apart from its steady state (``first_call_s`` beside ``time_s`` in each
result), and the report shows both.
"""

from __future__ import annotations

from backends.libraries import LibraryBackend

#: The framework backends by name: "module:attribute", imported only when loaded.
FRAMEWORKS: dict[str, str] = {
    "torch-compile": "backends.frameworks.torch_compile:TorchCompileBackend",
    "torch-onnx": "backends.frameworks.torch_onnx:TorchOnnxBackend",
    "tinygrad": "backends.frameworks.tinygrad:TinygradBackend",
    "mlx": "backends.frameworks.mlx:MlxBackend",
    "paddle": "backends.frameworks.paddle:PaddleBackend",
    "keras": "backends.frameworks.keras:KerasBackend",
    "openvino": "backends.frameworks.openvino:OpenvinoBackend",
}

#: The protocol's ops as torch's functional API has them (``backends.torch_backend``), then the aliases.
TORCH_OPS = ("interpolate", "conv_transpose", "max_pool", "max_unpool", "pixel_shuffle", "pixel_unshuffle")
TORCH_ALIASES = (
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
)

#: Framework backends whose op is torch's own call wrapped (``{fn}``: a function
#: of torch tensors): a failure's repro calls the framework and torch directly,
#: without the harness (``conformance.repro``).
DIRECT_CALLS: dict[str, str] = {
    "torch-compile": "torch.compile({fn}, dynamic=True, fullgraph=True)",
}

#: ``aten-kernels:DIR`` loads a directory of aten kernels (``backends.frameworks.aten_kernels``).
ATEN_KERNELS_PREFIX = "aten-kernels:"


class FrameworkBackend(LibraryBackend):
    """Defaults for a framework adapter: ``LibraryBackend``'s lazy import,
    install hint and ``call_used``; ``kind`` puts its results in the
    frameworks matrix (not the libraries one)."""

    kind = "framework"
    #: Whether the framework compiles on a signature's first call (a JIT):
    #: its first call's time is compile time, not kernel time.
    compiles: bool = False


def is_framework(spec: str) -> bool:
    """Whether a backend spec names a framework backend."""
    return spec in FRAMEWORKS or spec.startswith(ATEN_KERNELS_PREFIX)
