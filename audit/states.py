"""Shard state files: the container that ``synthproof sketch --shard I/N`` writes and
``synthproof audit --states DIR`` reads (issue 13; the commands that fill it are still to come).

A state file holds the mergeable states of one shard of the inputs as named numpy arrays plus a
JSON header that says what made them. The merge refuses — with exit 2 and a message naming the
file — anything it cannot trust: a file that is not a state file, truncated or tampered with (the
checksum covers the header and every byte of the payload), another format or synthproof version,
another config, seed or input listing than the other files, a shard missing, or a shard present
twice.

Layout (little endian)::

    b"SYNTHPROOF-STATE\\n"  | u64 header length | header (canonical JSON, UTF-8) | payload

The header's ``arrays`` lists each array's name, dtype, shape, offset and length in the payload;
``checksum`` is ``blake2b-256`` of the header without it (canonical JSON) followed by the payload.
Arrays are raw C-order bytes of plain numeric or boolean dtypes: no pickle, ever, so a state file
from anywhere can be read without running its code. Files are written to a fresh temporary sibling
and renamed into place, so a crashed writer leaves no file that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import struct
from dataclasses import dataclass, field

import numpy as np

from synthproof._version import __version__
from synthproof.errors import InputError

MAGIC = b"SYNTHPROOF-STATE\n"
FORMAT = 1
_KINDS = "biuf"  # bool, signed and unsigned integers, floats: no object, string or void dtypes
_MAX_HEADER = 1 << 26
_WORDS = {"version": "synthproof version", "config": "config", "seed": "seed", "inputs": "input listing",
          "kind": "kind of state", "shards": "shard count"}


class StateError(InputError):
    """A state file or set of state files that cannot be merged (exit 2, the file named)."""


@dataclass(frozen=True)
class StateHeader:
    """What made a state file.

    Parameters
    ----------
    shard, shards : int
        This file holds shard ``shard`` of ``shards`` (``0 <= shard < shards``).
    config : str
        Digest of the resolved config (the same for every shard of a run).
    seed : int
        The run's seed.
    inputs : dict of str to str
        Per input name (``real``, ``synthetic``, ``holdout``), the digest of its listing (every
        file's path, size and content hash, in path order): all shards cut the same inputs.
    kind : str
        What the arrays are (e.g. ``column_counts``); free-form, checked equal across files.
    version : str
        The synthproof version that wrote it (default: this one).
    meta : dict
        Small JSON-serialisable extras (per-array notes, counts).
    """

    shard: int
    shards: int
    config: str
    seed: int
    inputs: dict
    kind: str = "states"
    version: str = __version__
    meta: dict = field(default_factory=dict)

    def identity(self) -> dict:
        """The fields every file of one run must share."""
        return {"format": FORMAT, "version": self.version, "shards": self.shards, "config": self.config,
                "seed": self.seed, "inputs": self.inputs, "kind": self.kind}


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _checksum(header: dict, payload: bytes) -> str:
    h = hashlib.blake2b(digest_size=32)
    h.update(_canonical(header))
    h.update(payload)
    return "blake2b-256:" + h.hexdigest()


def state_bytes(header: StateHeader, arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of a state file (see the module docstring).

    Raises
    ------
    ValueError
        An array of a dtype other than bool, integer or float, or a shard outside ``[0, shards)``.
    """
    if not 0 <= header.shard < header.shards:
        raise ValueError(f"shard {header.shard} is not in [0, {header.shards})")
    listing, blobs, offset = [], [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        if a.dtype.kind not in _KINDS:
            raise ValueError(f"array {name!r} has dtype {a.dtype}: only bool, integer and float arrays are stored")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = a.tobytes()
        listing.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset,
                        "length": len(raw)})
        blobs.append(raw)
        offset += len(raw)
    payload = b"".join(blobs)
    head = {"format": FORMAT, "version": header.version, "shard": header.shard, "shards": header.shards,
            "config": header.config, "seed": header.seed, "inputs": header.inputs, "kind": header.kind,
            "meta": header.meta, "arrays": listing, "payload": len(payload)}
    head["checksum"] = _checksum(head, payload)
    raw_head = _canonical(head)
    return MAGIC + struct.pack("<Q", len(raw_head)) + raw_head + payload


def write_state(path: str | os.PathLike, header: StateHeader, arrays: dict[str, np.ndarray]) -> None:
    """Write a state file atomically (a fresh temporary sibling, then a rename over ``path``)."""
    from synthproof.result import atomic_write

    atomic_write(pathlib.Path(path), state_bytes(header, arrays))


def read_state(path: str | os.PathLike) -> tuple[StateHeader, dict[str, np.ndarray]]:
    """Read and verify one state file.

    Returns
    -------
    header : StateHeader
    arrays : dict of str to ndarray (read-only views of the file's bytes)

    Raises
    ------
    StateError
        Not a state file, truncated, checksum mismatch (tampered), or another format or
        synthproof version than this one; the message names the file and what to do.
    """
    path = pathlib.Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateError(f"state file {name}: cannot read it ({exc.strerror or exc})") from None
    return read_state_bytes(data, name)


def read_state_bytes(data: bytes, name: str) -> tuple[StateHeader, dict[str, np.ndarray]]:
    """:func:`read_state` of a state's bytes (e.g. a Ray task's result); ``name`` for messages."""
    if not data.startswith(MAGIC):
        raise StateError(f"state file {name} is not a synthproof state file (no {MAGIC[:-1].decode()} header)")
    at = len(MAGIC)
    if len(data) < at + 8:
        raise StateError(f"state file {name} is truncated: write it again with synthproof sketch")
    (n_head,) = struct.unpack("<Q", data[at:at + 8])
    if n_head > _MAX_HEADER or len(data) < at + 8 + n_head:
        raise StateError(f"state file {name} is truncated: write it again with synthproof sketch")
    try:
        head = json.loads(data[at + 8:at + 8 + n_head])
        payload = data[at + 8 + n_head:]
        claimed = head.pop("checksum")
        fmt, version = head["format"], head["version"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StateError(f"state file {name} has a damaged header: write it again with synthproof sketch") from None
    if len(payload) != head.get("payload"):
        raise StateError(f"state file {name} is truncated (or has bytes appended): write it again with "
                         "synthproof sketch")
    if _checksum(head, payload) != claimed:
        raise StateError(f"state file {name} fails its checksum (changed after it was written): write it again "
                         "with synthproof sketch")
    if fmt != FORMAT or version != __version__:
        raise StateError(f"state file {name} was written by synthproof {version} (state format {fmt}); this is "
                         f"synthproof {__version__} (format {FORMAT}): write the states again with this version")
    try:
        arrays = {}
        for item in head["arrays"]:
            dtype = np.dtype(item["dtype"])
            if dtype.kind not in _KINDS:
                raise ValueError(dtype)
            raw = payload[item["offset"]:item["offset"] + item["length"]]
            arrays[item["name"]] = np.frombuffer(raw, dtype=dtype).reshape(item["shape"])
        header = StateHeader(int(head["shard"]), int(head["shards"]), str(head["config"]), int(head["seed"]),
                             dict(head["inputs"]), str(head["kind"]), version, dict(head["meta"]))
    except (ValueError, KeyError, TypeError):
        raise StateError(f"state file {name} has a damaged header: write it again with synthproof sketch") from None
    if not 0 <= header.shard < header.shards:
        raise StateError(f"state file {name} claims shard {header.shard} of {header.shards}: write it again with "
                         "synthproof sketch")
    return header, arrays


def check_states(paths: list[str | os.PathLike]) -> list[tuple[pathlib.Path, StateHeader, dict]]:
    """Read a run's state files and return them in shard order, refusing any set that cannot merge.

    Raises
    ------
    StateError
        No files; any file :func:`read_state` refuses; a file whose config, seed, input listing,
        kind, shard count or version differs from the first file's (the field named); a shard
        present twice (both files named); shards missing (listed).
    """
    if not paths:
        raise StateError("no state files given: pass the folder that synthproof sketch wrote into")
    read = [(pathlib.Path(p), *read_state(p)) for p in sorted(paths, key=str)]
    first_path, first, _ = read[0]
    want = first.identity()
    seen: dict[int, pathlib.Path] = {}
    for path, header, _ in read:
        got = header.identity()
        for key in ("version", "config", "seed", "inputs", "kind", "shards"):
            if got[key] != want[key]:
                raise StateError(f"state file {path.name} was made with another {_WORDS[key]} than {first_path.name}: "
                                 "write every shard's state again with the same inputs, config and seed")
        if header.shard in seen:
            raise StateError(f"shard {header.shard} of {header.shards} is present twice: {seen[header.shard].name} "
                             f"and {path.name}; keep one")
        seen[header.shard] = path
    missing = sorted(set(range(first.shards)) - set(seen))
    if missing:
        shown = ", ".join(str(i) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise StateError(f"{len(missing)} of {first.shards} shard state(s) missing (shard {shown}): run synthproof "
                         "sketch for them")
    return sorted(read, key=lambda t: t[1].shard)

