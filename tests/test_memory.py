"""synthproof.memory: dropping the resident pages of spill-file mappings keeps their values."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from synthproof.memory import release_mappings, release_memory, track_mapping


def _rss_file_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no RssFile line")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RssFile is Linux's")
def test_released_pages_leave_the_process_and_the_values_stay(tmp_path):
    path = tmp_path / "sig.u32"
    want = np.arange(16 << 20, dtype=np.uint32)  # 64 MiB
    want.tofile(path)
    sig = np.memmap(path, dtype=np.uint32, mode="r", shape=want.shape)
    track_mapping(sig)
    base = _rss_file_mib()
    assert int(sig.astype(np.uint64).sum()) == int(want.astype(np.uint64).sum())  # every page touched
    touched = _rss_file_mib()
    assert touched - base > 48
    release_mappings()
    assert touched - _rss_file_mib() > 48
    assert np.array_equal(sig[::4096], want[::4096]) and np.array_equal(sig[-10:], want[-10:])
    release_memory()  # includes the mappings; a view of a tracked map is still readable after it
    assert np.array_equal(np.asarray(sig[5:9]), want[5:9])


def test_a_dead_mapping_is_forgotten(tmp_path):
    from synthproof import memory

    path = tmp_path / "x.u32"
    np.zeros(1024, dtype=np.uint32).tofile(path)
    m = np.memmap(path, dtype=np.uint32, mode="r", shape=(1024,))
    track_mapping(m)
    del m
    track_mapping(np.memmap(path, dtype=np.uint32, mode="r", shape=(1024,)))
    release_mappings()  # neither the collected map nor a closed one raises
    assert sum(r() is not None for r in memory._MAPPINGS) <= 1
