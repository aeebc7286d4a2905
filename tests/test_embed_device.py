"""Embedding device and dtype: ``auto`` picks the fastest exact-enough path the machine has."""

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
torch = pytest.importorskip("torch")

from synthproof.embed import Embedder, bf16_supported, resolve_device, resolve_dtype  # noqa: E402
from synthproof.errors import ConfigError  # noqa: E402


def test_auto_resolves_to_what_the_machine_supports():
    device = resolve_device("auto")
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_dtype("auto", "cpu") == ("bfloat16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32")
    assert resolve_dtype("float32", "cpu") == "float32"
    with pytest.raises(ConfigError, match="device"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="dtype"):
        resolve_dtype("float16", "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_a_config_error():
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")


@pytest.mark.skipif(bf16_supported("cpu"), reason="this CPU has native bfloat16")
def test_explicit_bfloat16_refused_without_native_support():
    with pytest.raises(ConfigError, match="bfloat16 needs native support"):
        resolve_dtype("bfloat16", "cpu")


def test_auto_embeddings_agree_with_float32_and_record_what_ran(tmp_path, fortunes):
    docs = [d for d in fortunes["text"].head(64)]
    auto = Embedder(use_cache=False)
    f32 = Embedder(dtype="float32", device="cpu", use_cache=False)
    a, b = auto.encode(docs).vectors, f32.encode(docs).vectors
    assert a.dtype == np.float32 and a.shape == b.shape == (64, 384)
    cos = np.sum(a * b, axis=1)
    assert cos.min() >= 0.99, cos.min()
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)  # unit rows in float32, whatever the dtype
    s = auto.settings()
    assert s["dtype"] == auto.dtype and s["backend"] == f"torch-{auto.device}"
    assert auto.dtype in ("float32", "bfloat16") and auto.device in ("cpu", "cuda")
    # Different resolved dtypes must never share a cache entry.
    if auto.dtype != f32.dtype:
        assert auto.cache_key(docs) != f32.cache_key(docs)


class _LocalPool:
    """An in-process stand-in for the Ray actor pool: its own Embedder per spec, batches in order,
    run as in a worker process (where no pool is set)."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.workers: dict = {}

    def _in_worker(self, fn):
        from synthproof import embed

        saved, embed.POOL[0] = embed.POOL[0], None
        try:
            return fn()
        finally:
            embed.POOL[0] = saved

    def _worker(self, spec):
        key = tuple(sorted(spec.items()))
        if key not in self.workers:
            self.workers[key] = Embedder(spec["model"], None, spec["dtype"], normalize=spec["normalize"],
                                         use_cache=False, device=spec["device"])
        return self.workers[key]

    def resolve(self, spec):
        w = self._worker(spec)
        return self._in_worker(lambda: (w.device, w.dtype))

    def encode(self, spec, batches):
        self.batches += [len(b) for b in batches]
        w = self._worker(spec)
        return self._in_worker(lambda: [w.encode_batch(b) for b in batches])


def test_pooled_batches_give_the_local_vectors_bit_for_bit(fortunes, monkeypatch):
    """The executor's embedding pool cuts sentence-transformers' own length-sorted batches, so the
    vectors equal one local encode exactly (a reordered batch would differ by ~1e-3)."""
    from synthproof import embed

    docs = fortunes.text.tolist()[:300]
    here = Embedder(use_cache=False, batch_size=16)
    local, want = here.encode(docs).vectors, here.settings()
    pool = _LocalPool()
    monkeypatch.setattr(embed, "POOL", [pool])
    pooled = Embedder(use_cache=False, batch_size=16)
    got = pooled.encode(docs)
    assert pool.batches and sum(pool.batches) == len(docs) and max(pool.batches) == 16
    assert got.vectors.dtype == np.float32 and np.array_equal(got.vectors, local)
    assert pooled.settings() == want  # what the findings and the cache key record
