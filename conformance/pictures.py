"""Pictures for the report: test patterns resized by each library beside torch.

Two generated patterns (nothing downloaded): a zone plate, whose rings get
finer towards the corners so aliasing shows as false rings, and a
checkerboard, whose sharp edges show ringing, blur and misplaced pixels.
Each is resized by torch and by every available library backend with the
same ``interpolate`` arguments, through the backend protocol (so a library
that cannot express the case says why), and |library - torch| is drawn as a
heatmap on one absolute scale.  Images are PNG (encoded by Pillow)
as ``data:`` URIs in a JSON file the report embeds: the report itself runs
nothing and fetches nothing.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backends import load
from backends.protocol import Unsupported

#: (title, pattern, interpolate arguments): the common cases.
CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("zone plate 256 → 96, bilinear", "zone plate", {"size": (96, 96), "mode": "bilinear"}),
    (
        "zone plate 256 → 96, bilinear, antialias=True",
        "zone plate",
        {"size": (96, 96), "mode": "bilinear", "antialias": True},
    ),
    ("zone plate 256 → 96, area", "zone plate", {"size": (96, 96), "mode": "area"}),
    ("checkerboard 24 → 96, bicubic", "checkerboard", {"size": (96, 96), "mode": "bicubic"}),
    ("checkerboard 24 → 96, nearest-exact", "checkerboard", {"size": (96, 96), "mode": "nearest-exact"}),
)
#: Display width of every picture, in CSS pixels.
WIDTH = 160


def zone_plate(n: int = 256) -> np.ndarray:
    """cos(k r^2), from 0 at the centre to the Nyquist frequency at the edges' midpoints, in [0, 1]."""
    y, x = np.mgrid[:n, :n].astype(np.float64) - (n - 1) / 2
    return (0.5 + 0.5 * np.cos(np.pi * (x * x + y * y) / n)).astype(np.float32)


def checkerboard(n: int = 24, square: int = 3) -> np.ndarray:
    """Alternating 0 and 1 squares of ``square`` pixels."""
    i = np.arange(n) // square
    return ((i[:, None] + i[None, :]) % 2).astype(np.float32)


PATTERNS = {"zone plate": zone_plate, "checkerboard": checkerboard}


def png_uri(rgb_or_gray: np.ndarray) -> str:
    """A uint8 (H, W) or (H, W, 3) array as a ``data:image/png;base64,`` URI (Pillow encodes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb_or_gray)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def gray(image: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (overshoot clipped) as 8-bit gray."""
    return np.round(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255).astype(np.uint8)


#: |difference| drawn white (values are in [0, 1]); the scale is absolute, so
#: rows and libraries compare, and a square root lets one 8-bit step show.
HEAT_TOP = 0.25


def heat(diff: np.ndarray) -> np.ndarray:
    """|difference| as a black-red-yellow-white heatmap: sqrt(d / HEAT_TOP), NaN white."""
    t = np.sqrt(np.clip(np.nan_to_num(diff, nan=HEAT_TOP) / HEAT_TOP, 0.0, 1.0))
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


def _resize(name: str, x: np.ndarray, kwargs: dict[str, Any]) -> tuple[np.ndarray | None, str, str]:
    """(output plane or None, the call used, why not)."""
    backend = load(name)
    call_used = getattr(backend, "call_used", None)
    call = (call_used("interpolate", kwargs) if callable(call_used) else None) or ""
    try:
        out = backend.to_numpy(backend.interpolate(backend.from_numpy(x[None, None]), **kwargs))
    except Unsupported as exc:
        return None, "", str(exc)
    return np.asarray(out, dtype=np.float64)[0, 0], call, ""


def _group(title: str, pattern: str, kwargs: dict[str, Any], libraries: Sequence[str]) -> list[dict[str, Any]]:
    x = PATTERNS[pattern]()
    torch_out, _, _ = _resize("torch", x, kwargs)
    assert torch_out is not None
    outs = {name: _resize(name, x, kwargs) for name in libraries}
    diffs = {n: np.abs(o - torch_out) for n, (o, _, _) in outs.items() if o is not None}
    items = [
        {"group": title, "label": "input", "image": png_uri(gray(x)), "width": WIDTH},
        {"group": title, "label": "torch", "image": png_uri(gray(torch_out)), "width": WIDTH},
    ]
    for name, (out, call, reason) in outs.items():
        item: dict[str, Any] = {"group": title, "label": name, "width": WIDTH, "call": call, "reason": reason}
        if out is None:  # an empty placeholder keeps the row aligned
            item["image"] = png_uri(np.full((8, 8), 235, np.uint8))
        else:
            item.update(image=png_uri(gray(out)), diff=png_uri(heat(diffs[name])))
            item["max_diff"] = f"{float(np.nanmax(diffs[name])):.3g}"
        items.append(item)
    return items


def available_libraries(names: Sequence[str]) -> list[str]:
    """Those of ``names`` that load and are available here."""
    found = []
    for name in names:
        try:
            ok, _ = load(name).availability()
        except Exception:  # an unknown or broken backend is just left out of the pictures
            ok = False
        if ok:
            found.append(name)
    return found


def write_pictures(path: str | os.PathLike[str], libraries: Sequence[str]) -> Path:
    """Resize every pattern case with torch and each available library; write the JSON the report embeds."""
    names = available_libraries(libraries)
    pictures = [item for title, pattern, kwargs in CASES for item in _group(title, pattern, kwargs, names)]
    note = (
        "float32 inputs in [0, 1], resized by torch and each library through its adapter "
        f"({', '.join(names) or 'none available'}); below each output, |library − torch| as a heatmap, "
        f"black 0 to white at {HEAT_TOP} and above (square-root scale); gray images are clipped to [0, 1]."
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"note": note, "pictures": pictures}), encoding="utf-8")
    return out
