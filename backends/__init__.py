"""Backends under test and the oracles, behind one protocol.

``load(spec)`` returns a backend from

* a registered name: the built-ins (``names()`` lists them) and third-party
  backends registered under the entry-point group
  ``upsample_conformance.backends`` (the entry point names a backend instance
  or a zero-argument factory), or
* ``"variant:NAME"``: a semantic variant (a plausible wrong version of an
  op, ``reference.variants``) as a backend, or
* ``"aten-kernels:DIR"``: a directory of kernels for torch's aten ops
  (BackendBench's layout), registered with ``torch.library`` in the
  backend's process and reached through ``torch.nn.functional``, or
* ``"torch@SETTINGS"``: torch's CPU kernels on a chosen path (ATen CPU
  capability, oneDNN off, thread count: ``torch@avx2``, ``torch@no-onednn``,
  ``torch@default,threads=1``), checked against the oracle on its own path, or
* ``"module:attribute"``: an importable module and an attribute in it that is a
  backend instance or a zero-argument factory (a class counts).
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

from backends.frameworks import ATEN_KERNELS_PREFIX, FRAMEWORKS
from backends.protocol import Backend, BackendBase, Unsupported

__all__ = [
    "Backend",
    "BackendBase",
    "BackendLoadError",
    "Unsupported",
    "load",
    "names",
]

ENTRY_POINT_GROUP = "upsample_conformance.backends"

#: Built-in backends: name -> "module:attribute" (imported only when loaded).
BUILTIN: dict[str, str] = {
    "numpy": "backends.numpy_backend:NumpyBackend",
    "reference": "backends.reference_backend:ReferenceBackend",
    "torch": "backends.torch_backend:TorchBackend",
    "torch-cuda": "backends.torch_backend:TorchCudaBackend",
    "cupy": "backends.cupy_backend:CupyBackend",
    # resize libraries (backends/libraries/): optional extras, available once installed
    "opencv": "backends.libraries.opencv:OpenCVBackend",
    "pillow": "backends.libraries.pillow:PillowBackend",
    "scipy": "backends.libraries.scipy_ndimage:ScipyBackend",
    "skimage": "backends.libraries.skimage_transform:SkimageBackend",
    "jax": "backends.libraries.jax_image:JaxBackend",
    "tensorflow": "backends.libraries.tensorflow_image:TensorflowBackend",
    "onnxruntime": "backends.libraries.onnx_runtime:OnnxRuntimeBackend",
    "onnx-reference": "backends.libraries.onnx_reference:OnnxReferenceBackend",
    # frameworks, compilers and exporters claiming torch's semantics (backends/frameworks/): optional extras
    **FRAMEWORKS,
}

#: ``variant:NAME`` loads a semantic variant of ``reference.variants`` as a backend.
VARIANT_PREFIX = "variant:"

#: Required members of a backend, checked when one is loaded.
_REQUIRED = ("name", "version", "availability", "unsupported_reason", "from_numpy", "to_numpy", "synchronize")


class BackendLoadError(LookupError):
    """A backend spec names nothing loadable, or something that is not a backend."""


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Registered backend names: the built-ins, torch on each listed CPU path, then entry points."""
    from backends.torch_backend import LISTED_PATHS, PATH_PREFIX

    paths = [PATH_PREFIX + p for p in LISTED_PATHS]
    return list(BUILTIN) + paths + sorted(n for n in _entry_points() if n not in BUILTIN)


def _instantiate(obj: Any, spec: str) -> Any:
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "from_numpy")):
        try:
            obj = obj()
        except TypeError as exc:
            raise BackendLoadError(
                f"{spec!r} is callable but not with zero arguments ({exc}); "
                "point at a backend instance or a zero-argument factory"
            ) from exc
    missing = [m for m in _REQUIRED if not hasattr(obj, m)]
    if missing:
        raise BackendLoadError(
            f"{spec!r} gave {obj!r}, which lacks {', '.join(missing)}: "
            "see backends/protocol.py for what a backend provides"
        )
    return obj


def load(spec: str) -> Backend:
    """The backend named by ``spec`` (a registered name or ``module:attribute``)."""
    if spec.startswith(VARIANT_PREFIX):
        from backends.variant_backend import VariantBackend

        try:
            return VariantBackend(spec.removeprefix(VARIANT_PREFIX))
        except KeyError as exc:
            raise BackendLoadError(str(exc.args[0])) from exc
    if spec.startswith(ATEN_KERNELS_PREFIX):
        from backends.frameworks.aten_kernels import AtenKernelsBackend

        try:
            return AtenKernelsBackend(spec.removeprefix(ATEN_KERNELS_PREFIX))
        except ValueError as exc:
            raise BackendLoadError(str(exc)) from exc
    if spec.startswith("torch@"):
        from backends.torch_backend import TorchPathBackend

        try:
            return TorchPathBackend(spec.removeprefix("torch@"))
        except ValueError as exc:
            raise BackendLoadError(str(exc)) from exc
    if spec in BUILTIN:
        target = BUILTIN[spec]
    elif spec in (eps := _entry_points()):
        try:
            obj = eps[spec].load()
        except Exception as exc:  # a broken plug-in must not look like a missing one
            raise BackendLoadError(f"entry point {spec!r} failed to load: {exc!r}") from exc
        return _instantiate(obj, spec)
    elif ":" in spec:
        target = spec
    else:
        raise BackendLoadError(f"unknown backend {spec!r}: use one of {', '.join(names())} or 'module:attribute'")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendLoadError(f"cannot import {module_name!r} for backend {spec!r}: {exc}") from exc
    try:
        obj = getattr(module, attr)
    except AttributeError as exc:
        raise BackendLoadError(f"module {module_name!r} has no attribute {attr!r}") from exc
    return _instantiate(obj, spec)
