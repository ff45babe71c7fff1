"""Refuse Zarr stores whose codecs build Python objects (pickle and kin) before anything is decoded.

A Zarr v2 array may declare a ``pickle`` filter: decoding a chunk then runs
``pickle.loads`` on bytes the store's author chose, i.e. arbitrary code.
Whether numcodecs allows it depends on its version and on the environment
(``NUMCODECS_ALLOW_UNSAFE_PICKLE_DECODE``), so the project does not rely on
it: :func:`check_store` reads only the store's metadata documents (JSON:
``.zarray``/``.zmetadata`` for v2, ``zarr.json`` with its consolidated
metadata for v3; no chunk is read) and refuses, as bad input (exit 3):

* a codec (filter, compressor, v3 codec, inside a sharding codec too) that
  decodes to Python objects: ``pickle``, ``json``/``json2``, ``msgpack``/
  ``msgpack2``, ``vlen-array`` (any ``numcodecs.``-prefixed v3 spelling too);
* an ``object`` data type, except strings stored with ``vlen-utf8`` or
  ``vlen-bytes``, which decode to ``str``/``bytes`` and nothing else.

Every opening of a user store goes through it: cubes
(:func:`ocean.cube.open_cube`), forecast stores
(:func:`ocean.forecast_store.open_forecasts`) and ``ocean info`` /
producer files (:func:`ocean.io.open_raw`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from ocean.errors import DataError

__all__ = ["check_store", "UNSAFE_CODECS"]

#: Codec ids that decode to arbitrary Python objects.
UNSAFE_CODECS = frozenset({"pickle", "json", "json2", "msgpack", "msgpack2", "vlen-array"})
_STRING_CODECS = frozenset({"vlen-utf8", "vlen-bytes"})
_METADATA = (".zarray", ".zmetadata", "zarr.json")


def check_store(path: "str | os.PathLike") -> None:
    """Raise :class:`DataError` when the Zarr store at ``path`` declares an object-building codec."""
    path = Path(path)
    if not path.is_dir():
        return  # not a local directory store: xarray will say what it is
    for where, array in _arrays(path):
        codecs = _codec_ids(array)
        unsafe = sorted(c for c in codecs if c in UNSAFE_CODECS)
        if unsafe:
            raise DataError("the store declares a codec that decodes to Python objects (it can run code)",
                            file=path, variable=where, found=f"codec {', '.join(unsafe)}",
                            expected="numeric data with numeric codecs (blosc, zstd, gzip, ...)",
                            hint="Refused before reading any data: rewrite the store with numeric dtypes, or do "
                                 "not open a store from an untrusted source")
        dtype = str(array.get("dtype", array.get("data_type", "")))
        if dtype.lstrip("|<>=") in ("O", "object") and not codecs & _STRING_CODECS:
            raise DataError("the store declares an object data type", file=path, variable=where,
                            found=f"dtype {dtype!r} with codecs {sorted(codecs) or 'none'}",
                            expected="numeric data types (strings only with vlen-utf8 or vlen-bytes)",
                            hint="Refused before reading any data: rewrite the store with numeric dtypes")


def _arrays(root: Path) -> Iterator[tuple[str, dict]]:
    """``(array path, metadata)`` of every array the store declares, in any metadata document."""
    stack = [root]
    while stack:
        folder = stack.pop()
        is_array = False
        for name in _METADATA:
            doc = _read(folder / name)
            if doc is None:
                continue
            rel = folder.relative_to(root).as_posix()
            if name == ".zarray":
                is_array = True
                yield rel, doc
            elif name == ".zmetadata":
                for key, meta in (doc.get("metadata") or {}).items():
                    if key.endswith(".zarray") and isinstance(meta, dict):
                        yield f"{rel}/{key.rpartition('.zarray')[0]}".strip("./") or ".", meta
            else:
                if doc.get("node_type") == "array":
                    is_array = True
                    yield rel, doc
                consolidated = (doc.get("consolidated_metadata") or {}).get("metadata") or {}
                for key, meta in consolidated.items():
                    if isinstance(meta, dict) and meta.get("node_type") == "array":
                        yield f"{rel}/{key}".strip("./"), meta
        if not is_array:  # an array's sub-folders hold its chunks: never listed
            stack.extend(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataError(f"the store's metadata cannot be read ({exc})", file=path) from exc
    return doc if isinstance(doc, dict) else None


def _codec_ids(array: dict) -> set[str]:
    """Every codec id an array's metadata names (v2 filters/compressor, v3 codecs, nested)."""
    found: set[str] = set()

    def visit(item: Any) -> None:
        if isinstance(item, dict):
            for key in ("id", "name"):
                if isinstance(item.get(key), str):
                    name = item[key].lower()
                    found.add(name.removeprefix("numcodecs."))
            for value in item.values():
                visit(value)
        elif isinstance(item, list):
            for value in item:
                visit(value)

    for key in ("filters", "compressor", "codecs", "object_codec"):
        visit(array.get(key))
    return found
