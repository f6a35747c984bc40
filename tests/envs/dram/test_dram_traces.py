"""Trace generators (spec §2.11), the STL reader/writer, address decoding and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from opsrl.envs.dram import Trace, TraceError, load_trace, make_trace, save_trace, simulate
from opsrl.envs.dram.devices import DDR3_1600, DDR4_2400, decode
from opsrl.envs.dram.traces import as_trace, decode_trace


def test_stream_and_random():
    s = make_trace("stream")
    assert len(s) == 10_000 and s.read_only
    assert np.array_equal(s.address, 64 * np.arange(10_000)) and np.array_equal(s.cycle, np.arange(10_000))
    assert s.address[-1] == 0x9C3C0
    r = make_trace("random", seed=0)
    assert (r.address % 64 == 0).all() and r.address.max() < 1 << 30
    assert len(np.unique(r.address)) >= 9_990
    assert not np.array_equal(r.address, make_trace("random", seed=1).address)
    assert np.array_equal(r.address, make_trace("random", seed=0).address)


@pytest.mark.parametrize("name,first_sequential", [("cloud1", True), ("cloud-1", True), ("cloud2", False),
                                                    ("cloud-2", False)])
def test_cloud_blocks(name, first_sequential):
    tr = make_trace(name, seed=3)
    words = tr.address // 64
    chunks = words.reshape(-1, 50)
    seq = np.all(np.diff(chunks, axis=1) == 1, axis=1)
    assert bool(seq[0]) == first_sequential
    assert 0.3 < seq.mean() < 0.7
    # sequential chunks continue one shared cursor starting at 0, untouched by random chunks
    starts = chunks[seq, 0]
    assert starts[0] == 0 or not first_sequential
    assert np.array_equal(starts, 50 * np.arange(seq.sum()))


def test_write_traces():
    rw = make_trace("random_rw", seed=0)
    assert 0.27 < rw.is_write.mean() < 0.33
    assert np.array_equal(rw.address, make_trace("random", seed=0).address)  # same addresses, ops added
    cp = make_trace("copy", n_requests=6)
    assert cp.is_write.tolist() == [False, True] * 3
    assert cp.address.tolist() == [0, 512 << 20, 64, (512 << 20) + 64, 128, (512 << 20) + 128]
    assert len(make_trace("seq200k")) == 200_000
    assert make_trace("stream", write_fraction=1.0).is_write.all()


def test_address_maps():
    s = make_trace("stream")
    d3 = decode(s.address, DDR3_1600)
    assert len({(b, r) for b, r in zip(d3["bank"], d3["row"], strict=True)}) == 79  # 79 ACT for stream
    assert d3["bank"][127] == 0 and d3["bank"][128] == 1 and d3["row"][1024] == 1
    d4 = decode(s.address, DDR4_2400)
    assert (d4["bank"] == 0).all() and len(np.unique(d4["row"])) == 79  # brc: one bank
    r4 = decode(make_trace("random").address, DDR4_2400)
    assert set(np.unique(r4["bank"]).tolist()) == {0, 4, 8, 12}  # bank 0 of each group (spec §7.8)


def test_stl_round_trip(tmp_path):
    tr = make_trace("random_rw", n_requests=200, seed=5)
    path = tmp_path / "t.stl"
    save_trace(tr, path)
    back = load_trace(path)
    for f in ("cycle", "is_write", "address"):
        assert np.array_equal(getattr(back, f), getattr(tr, f))
    assert simulate(str(path), None)["total_time_ns"] == simulate(tr, None)["total_time_ns"]


def test_stl_dialects(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# comment\n0: read 0x40\n\n3:\twrite\t128  # trailing\n3 R 0xC0 0xdeadbeef\n")
    tr = load_trace(path)
    assert tr.cycle.tolist() == [0, 3, 3] and tr.is_write.tolist() == [False, True, False]
    assert tr.address.tolist() == [0x40, 128, 0xC0]


@pytest.mark.parametrize("text,match", [
    ("0: read\n", r"t.stl:1: .*expected '<cycle> <read\|write> <address>'"),
    ("0: read 0x0\nx: read 0x40\n", r"t.stl:2: .*cycle 'x' is not an integer"),
    ("0: fetch 0x0\n", r"operation 'fetch'"),
    ("0: read 0xZZ\n", r"address '0xZZ'"),
    ("5: read 0x0\n3: read 0x40\n", r"t.stl:2: .*earlier than the previous"),
    ("-1: read 0x0\n", r"negative"),
    ("0: read 0x0 1 2\n", r"too many fields"),
    ("# nothing\n\n", r"no requests"),
])
def test_bad_trace_lines(tmp_path, text, match):
    path = tmp_path / "t.stl"
    path.write_text(text)
    with pytest.raises(TraceError, match=match):
        load_trace(path)


def test_bad_trace_inputs(tmp_path):
    with pytest.raises(TraceError, match="does not exist"):
        load_trace(tmp_path / "missing.stl")
    with pytest.raises(ValueError, match="trace='nope'"):
        as_trace("nope")
    with pytest.raises(TraceError, match="non-decreasing"):
        Trace(np.array([2, 1]), np.zeros(2, bool), np.zeros(2, np.int64))
    with pytest.raises(TraceError, match="shape"):
        as_trace(np.zeros((4, 2), dtype=np.int64))
    with pytest.raises(TraceError):
        as_trace(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="n_requests"):
        make_trace("stream", n_requests=0)


def test_array_traces_and_player_clock():
    addr = 64 * np.arange(256)
    a = simulate(addr, None)
    b = simulate(np.stack([np.arange(256), np.zeros(256, np.int64), addr], axis=1), None)
    assert a["total_time_ns"] == b["total_time_ns"]
    dec = decode_trace(make_trace("stream", n_requests=10), DDR4_2400)
    assert dec.arrival_cycle.tolist() == [-(-i * 1250 // 833) for i in range(10)]  # first cycle at or after
