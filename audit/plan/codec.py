"""A safe codec for shard states: a tree of plain values, numpy arrays, Arrow tables, pandas
categoricals and a few whitelisted state classes, as a JSON tree plus named numeric arrays for
:func:`synthproof.states.state_bytes`.

Nothing here runs code from the bytes it reads (no pickle): the JSON says which of the known forms
a node is, arrays are raw numeric bytes, tables are Arrow IPC streams (read by pyarrow's IPC
reader, which only builds arrays), strings are Arrow string arrays, and an object node names a
class of :data:`TYPES` whose fields are set from decoded values. Floats are stored by ``repr``,
so NaN, infinities and ``-0.0`` come back bit for bit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa

#: Classes an object node may name (registered by the modules that define them).
TYPES: dict[str, type] = {}


def register(cls: type) -> type:
    """Allow ``cls`` in states (its instance ``__dict__`` is encoded field by field)."""
    TYPES[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def _errors() -> dict[str, type]:
    from synthproof import errors

    known = [ValueError, TypeError, KeyError, OSError, RuntimeError, LookupError, UnicodeError]
    known += [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    return {f"{c.__module__}.{c.__qualname__}": c for c in known}


#: Exception classes a kept error may come back as (others come back as RuntimeError, same message).
ERRORS: dict[str, type] = _errors()


class CodecError(ValueError):
    """A state tree names a form or class this version does not know (a damaged or foreign state)."""


def _table_bytes(table: pa.Table) -> np.ndarray:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return np.frombuffer(sink.getvalue(), dtype=np.uint8)


def _strings(values) -> pa.Table:
    return pa.table({"s": pa.array([None if v is None else str(v) for v in values], type=pa.large_string())})


def encode(obj) -> tuple[object, dict[str, np.ndarray]]:
    """``(tree, arrays)`` of ``obj``: ``tree`` is JSON-serialisable, ``arrays`` numeric.

    Raises
    ------
    TypeError
        A value of a type the codec does not store.
    """
    arrays: dict[str, np.ndarray] = {}

    def put(a: np.ndarray) -> str:
        name = f"a{len(arrays)}"
        arrays[name] = a
        return name

    def enc(x):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, (int, np.integer)) and not isinstance(x, np.bool_):
            return int(x)
        if isinstance(x, np.bool_):
            return bool(x)
        if isinstance(x, (float, np.floating)):
            return {"$f": repr(float(x))}
        if isinstance(x, np.ndarray):
            if x.dtype.kind in "biuf":
                return {"$a": put(np.ascontiguousarray(x))}
            if x.dtype.kind == "S":  # fixed-width bytes (digests): their uint8 view
                return {"$b": put(np.ascontiguousarray(x).view(np.uint8).reshape(x.shape + (x.dtype.itemsize,))),
                        "w": x.dtype.itemsize}
            if x.dtype.kind in "UO" and x.ndim == 1:
                return {"$s": put(_table_bytes(_strings(x.tolist()))), "o": x.dtype.kind == "O"}
            raise TypeError(f"cannot store an array of dtype {x.dtype}")
        if isinstance(x, pa.Table):
            return {"$t": put(_table_bytes(x))}
        if isinstance(x, pd.Categorical):
            return {"$c": enc(np.asarray(x.codes)), "cats": enc(np.asarray(x.categories.astype(str), dtype=object))}
        if isinstance(x, tuple):
            return {"$u": [enc(v) for v in x]}
        if isinstance(x, list):
            return [enc(v) for v in x]
        if isinstance(x, dict):
            return {"$k": [[enc(k), enc(v)] for k, v in x.items()]}
        name = f"{type(x).__module__}.{type(x).__qualname__}"
        if isinstance(x, BaseException):  # a tap's kept error: its class (when known) and message
            return {"$e": name, "m": str(x)}
        if name in TYPES:
            fields = ({f.name: getattr(x, f.name) for f in dataclasses.fields(x)} if dataclasses.is_dataclass(x)
                      else dict(vars(x)))
            return {"$o": name, "f": {k: enc(v) for k, v in fields.items()}}
        raise TypeError(f"cannot store a {name} in a state")

    return enc(obj), arrays


def _table(a: np.ndarray) -> pa.Table:
    with pa.ipc.open_stream(pa.py_buffer(np.ascontiguousarray(a, dtype=np.uint8).tobytes())) as reader:
        return reader.read_all()


def decode(tree, arrays: dict[str, np.ndarray], key=None):
    """The value :func:`encode` gave ``(tree, arrays)`` for (arrays are copied out of the file);
    with ``key``, only that entry of the encoded dict (the other entries' arrays are not touched).

    Raises
    ------
    CodecError
        A form or class this version does not know, or an array it does not hold.
    """

    def arr(name) -> np.ndarray:
        if name not in arrays:
            raise CodecError(f"no array {name!r}")
        return arrays[name]

    def dec(x):
        if x is None or isinstance(x, (bool, int, str)):
            return x
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict) or len(x) == 0:
            raise CodecError(f"unknown node {x!r:.60}")
        if "$f" in x:
            return float(x["$f"])
        if "$a" in x:
            return np.array(arr(x["$a"]))
        if "$b" in x:
            a = np.ascontiguousarray(arr(x["$b"]), dtype=np.uint8)
            return a.reshape(-1).view(f"S{int(x['w'])}").reshape(a.shape[:-1]).copy()
        if "$s" in x:
            values = _table(arr(x["$s"])).column("s").to_pylist()
            return np.array(values, dtype=object) if x.get("o", True) else np.array(values, dtype=str)
        if "$t" in x:
            return _table(arr(x["$t"]))
        if "$c" in x:
            return pd.Categorical.from_codes(dec(x["$c"]), categories=pd.Index(dec(x["cats"]), dtype=object))
        if "$u" in x:
            return tuple(dec(v) for v in x["$u"])
        if "$k" in x:
            out = {}
            for k, v in x["$k"]:
                out[dec(k)] = dec(v)
            return out
        if "$e" in x:
            try:
                return ERRORS.get(x["$e"], RuntimeError)(x["m"])
            except TypeError:  # a class that takes more than a message
                return RuntimeError(x["m"])
        if "$o" in x:
            cls = TYPES.get(x["$o"])
            if cls is None:
                raise CodecError(f"unknown state class {x['$o']!r}")
            obj = cls.__new__(cls)
            obj.__dict__.update({k: dec(v) for k, v in x["f"].items()})
            return obj
        raise CodecError(f"unknown node {sorted(x)[:3]}")

    if key is not None:
        if not isinstance(tree, dict) or "$k" not in tree:
            raise CodecError("not a dict state")
        found = [v for k, v in tree["$k"] if k == key]
        if len(found) != 1:
            raise CodecError(f"no entry {key!r}")
        return dec(found[0])
    return dec(tree)
