"""Memory traces of the ``dram`` family: seeded generators (spec §2.11), an STL reader/writer and decoding.

A trace is N 64-byte requests ``(cycle, op, address)``: request i is issued by the trace player at
``cycle_i`` × 1,250 ps (an 800 MHz player). Generators (all regenerated from a seed, never copied):

* ``stream`` — addr_i = 64·i;
* ``random`` — addr_i = 64·U{0, …, 2^24 − 1}, iid (uniform over 1 GiB);
* ``cloud1`` / ``cloud2`` (also ``cloud-1`` / ``cloud-2``) — 50-request chunks, each sequential or random with
  probability 1/2 after the first, which is sequential (cloud1) or random (cloud2); sequential chunks continue
  one shared cursor that random chunks do not advance;
* ``stream_rw`` / ``random_rw`` / ``cloud1_rw`` — the same addresses, each op a write with probability 0.3;
* ``copy`` — even i read 64·(i/2), odd i write 512 MiB + 64·((i−1)/2);
* ``seq200k`` / ``rand200k`` — 200,000-request stream and random traces.

All ArchGym traces issue one request per player cycle (cycle_i = i) and are read-only.

User traces use the DRAMSys STL text format, one request per line::

    <cycle>[:] <read|write|r|w> <address>      # address hex (0x...) or decimal; '#' starts a comment

An optional fourth field (STL data) is ignored. ``load_trace`` names the file, line and field of any bad line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Any

import numpy as np

from opsrl.core.errors import ParameterError
from opsrl.envs.dram.devices import Device, decode

REQUEST_BYTES = 64
CHUNK = 50  # cloud traces: block granularity (spec §2.11)
ADDRESS_WORDS = 1 << 24  # 64-byte words in 1 GiB
COPY_DST = 512 * 1024 * 1024
RW_WRITE_FRACTION = 0.3

TRACE_NAMES = ("stream", "random", "cloud1", "cloud2", "stream_rw", "random_rw", "cloud1_rw", "cloud2_rw", "copy",
               "seq200k", "rand200k")
ALIASES = {"cloud-1": "cloud1", "cloud-2": "cloud2", "cloud-1_rw": "cloud1_rw", "cloud-2_rw": "cloud2_rw",
           "sequential": "stream"}


class TraceError(ParameterError):
    """A trace (file or array) is malformed."""


@dataclasses.dataclass(frozen=True, eq=False)
class Trace:
    """A request trace: player cycle (int64, non-decreasing), write flag (bool) and byte address (int64)."""

    cycle: np.ndarray
    is_write: np.ndarray
    address: np.ndarray
    name: str = "custom"

    def __post_init__(self) -> None:
        cyc = np.ascontiguousarray(self.cycle, dtype=np.int64)
        wr = np.ascontiguousarray(self.is_write, dtype=np.bool_)
        addr = np.ascontiguousarray(self.address, dtype=np.int64)
        if cyc.ndim != 1 or cyc.shape != wr.shape or cyc.shape != addr.shape:
            raise TraceError(f"trace arrays must be 1-D of equal length; got shapes {cyc.shape}, {wr.shape}, "
                             f"{addr.shape}")
        if cyc.size == 0:
            raise TraceError("trace is empty: it needs at least one request")
        if (cyc < 0).any():
            raise TraceError(f"trace cycle must be >= 0; first bad request {int(np.argmax(cyc < 0))}")
        if (np.diff(cyc) < 0).any():
            raise TraceError(f"trace cycles must be non-decreasing; request {int(np.argmax(np.diff(cyc) < 0)) + 1} "
                             "is earlier than the one before it")
        if (addr < 0).any():
            raise TraceError(f"trace address must be >= 0; first bad request {int(np.argmax(addr < 0))}")
        object.__setattr__(self, "cycle", cyc)
        object.__setattr__(self, "is_write", wr)
        object.__setattr__(self, "address", addr)

    def __len__(self) -> int:
        return int(self.cycle.size)

    @property
    def n_writes(self) -> int:
        return int(self.is_write.sum())

    @property
    def read_only(self) -> bool:
        return not self.is_write.any()

    def fingerprint(self) -> str:
        """A hash of the content: the key of on-disk caches."""
        h = hashlib.sha256()
        for a in (self.cycle, self.is_write.astype(np.int8), self.address):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


def canonical_name(name: str) -> str:
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in TRACE_NAMES:
        raise ParameterError(f"trace={name!r} is invalid: must be one of {list(TRACE_NAMES) + list(ALIASES)} "
                             "or a path to a trace file")
    return key


def _cloud_words(n: int, rng: np.random.Generator, start_sequential: bool) -> np.ndarray:
    words = np.empty(n, dtype=np.int64)
    n_chunks = -(-n // CHUNK)
    kinds = rng.random(n_chunks) < 0.5  # True = sequential
    kinds[0] = start_sequential
    cursor = 0
    for c in range(n_chunks):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        if kinds[c]:
            words[lo:hi] = cursor + np.arange(hi - lo)
            cursor += hi - lo
        else:
            words[lo:hi] = rng.integers(0, ADDRESS_WORDS, size=hi - lo)
    return words


def make_trace(name: str, n_requests: int | None = None, seed: int = 0, write_fraction: float | None = None) -> Trace:
    """Generate a named trace (see the module docstring) of ``n_requests`` (default 10,000; 200,000 for the
    ``*200k`` traces) from ``seed``. ``write_fraction`` overrides the write probability (0 for read-only
    names, 0.3 for ``*_rw``); ``copy`` ignores it."""
    key = canonical_name(name)
    default_n = 200_000 if key.endswith("200k") else 10_000
    n = default_n if n_requests is None else int(n_requests)
    if n < 1:
        raise ParameterError(f"n_requests={n_requests!r} is invalid: must be >= 1")
    base = key.removesuffix("_rw")
    wf = (RW_WRITE_FRACTION if key.endswith("_rw") else 0.0) if write_fraction is None else float(write_fraction)
    if not 0.0 <= wf <= 1.0:
        raise ParameterError(f"write_fraction={write_fraction!r} is invalid: must be in [0, 1]")
    # one stream for addresses, an independent one for ops: changing f_w never changes the addresses
    addr_rng = np.random.default_rng([seed, 0])
    op_rng = np.random.default_rng([seed, 1])
    if base in ("stream", "seq200k"):
        words = np.arange(n, dtype=np.int64)
    elif base in ("random", "rand200k"):
        words = addr_rng.integers(0, ADDRESS_WORDS, size=n, dtype=np.int64)
    elif base in ("cloud1", "cloud2"):
        words = _cloud_words(n, addr_rng, start_sequential=base == "cloud1")
    else:  # copy
        i = np.arange(n, dtype=np.int64)
        is_write = (i % 2) == 1
        address = np.where(is_write, COPY_DST + REQUEST_BYTES * ((i - 1) // 2), REQUEST_BYTES * (i // 2))
        return Trace(i, is_write, address, name=key)
    is_write = op_rng.random(n) < wf if wf > 0 else np.zeros(n, dtype=np.bool_)
    return Trace(np.arange(n, dtype=np.int64), is_write, REQUEST_BYTES * words, name=key)


# -- STL files ------------------------------------------------------------------------------------------
_OPS = {"read": False, "r": False, "rd": False, "write": True, "w": True, "wr": True}


def _parse_int(text: str) -> int:
    t = text.strip().lower()
    return int(t, 16) if t.startswith("0x") else int(t, 10)


def parse_trace_lines(lines: Any, source: str = "<trace>") -> Trace:
    """Parse STL lines (see the module docstring); errors name ``source``, the line number and the field."""
    cyc, wr, addr = [], [], []
    last = 0
    for no, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(":", " ", 1).split()
        where = f"{source}:{no}: {raw.strip()!r}"
        if len(fields) < 3:
            raise TraceError(f"{where}: expected '<cycle> <read|write> <address>', got {len(fields)} field(s)")
        if len(fields) > 4:
            raise TraceError(f"{where}: too many fields ({len(fields)}); expected '<cycle> <read|write> <address>'")
        try:
            c = _parse_int(fields[0])
        except ValueError:
            raise TraceError(f"{where}: cycle {fields[0]!r} is not an integer") from None
        if c < 0:
            raise TraceError(f"{where}: cycle {c} is negative")
        if c < last:
            raise TraceError(f"{where}: cycle {c} is earlier than the previous request's cycle {last}")
        op = fields[1].lower()
        if op not in _OPS:
            raise TraceError(f"{where}: operation {fields[1]!r} is not one of read, write, r, w")
        try:
            a = _parse_int(fields[2])
        except ValueError:
            raise TraceError(f"{where}: address {fields[2]!r} is not a hex (0x...) or decimal integer") from None
        if a < 0 or a >= 1 << 62:
            raise TraceError(f"{where}: address {fields[2]!r} is out of range")
        last = c
        cyc.append(c)
        wr.append(_OPS[op])
        addr.append(a)
    if not cyc:
        raise TraceError(f"{source}: no requests found (every line is empty or a comment)")
    return Trace(np.array(cyc, dtype=np.int64), np.array(wr, dtype=np.bool_), np.array(addr, dtype=np.int64),
                 name=os.path.basename(source))


def load_trace(path: str | os.PathLike) -> Trace:
    """Read an STL trace file. Raises :class:`TraceError` (a ``ValueError``) naming the bad line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise TraceError(f"trace file {path!r} does not exist")
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            return parse_trace_lines(fh, source=path)
        except UnicodeDecodeError as exc:
            raise TraceError(f"{path}: not a text file ({exc.reason})") from None


def save_trace(trace: Trace, path: str | os.PathLike) -> None:
    """Write a trace in STL format (``cycle:\\top\\t0xaddr``), readable by DRAMSys and :func:`load_trace`."""
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        for c, w, a in zip(trace.cycle.tolist(), trace.is_write.tolist(), trace.address.tolist(), strict=True):
            fh.write(f"{c}:\t{'write' if w else 'read'}\t{a:#x}\n")


def as_trace(trace: Any, n_requests: int | None = None, seed: int = 0, write_fraction: float | None = None) -> Trace:
    """A :class:`Trace` from a name, a file path, a ``Trace``, a 1-D array of byte addresses (reads, one per
    player cycle) or an ``[N, 3]`` array of ``(cycle, is_write, address)``."""
    if isinstance(trace, Trace):
        return trace
    if isinstance(trace, (str, os.PathLike)):
        text = os.fspath(trace)
        key = ALIASES.get(text.lower(), text.lower())
        if key in TRACE_NAMES:
            return make_trace(key, n_requests, seed, write_fraction)
        if os.path.sep in text or os.path.exists(text) or text.endswith((".stl", ".txt", ".trace")):
            return load_trace(text)
        canonical_name(text)  # raises the list of valid names
    try:
        arr = np.asarray(trace)
    except Exception:  # noqa: BLE001 - any non-array input is reported the same way
        arr = None
    if arr is None or arr.dtype.kind not in "iub":
        raise TraceError(f"trace must be a name, a file, a Trace or an integer array; got {type(trace).__name__}")
    if arr.ndim == 1:
        return Trace(np.arange(arr.size, dtype=np.int64), np.zeros(arr.size, dtype=np.bool_), arr.astype(np.int64))
    if arr.ndim == 2 and arr.shape[1] == 3:
        return Trace(arr[:, 0], arr[:, 1] != 0, arr[:, 2])
    raise TraceError(f"trace array must have shape [N] (addresses) or [N, 3] (cycle, is_write, address); "
                     f"got {arr.shape}")


@dataclasses.dataclass(frozen=True, eq=False)
class DecodedTrace:
    """A trace mapped onto a device: what the kernel takes (struct of arrays)."""

    arrival_cycle: np.ndarray  # int64 controller cycle at which request i is first offered
    arrival_ps: np.ndarray  # int64 player time cycle·1,250 ps
    bank: np.ndarray
    row: np.ndarray
    column: np.ndarray  # column address (for the same-address hazard check)
    is_write: np.ndarray  # int8
    pair: np.ndarray  # int64 dense id of the (bank, row) pair, in [0, n)
    bank_group: np.ndarray  # [n_banks] bank -> group
    n: int
    key: str  # cache key: trace fingerprint + device


def decode_trace(trace: Trace, device: Device, player_ps: int = 1250) -> DecodedTrace:
    fields = decode(trace.address, device)
    arrival_ps = trace.cycle * player_ps
    arrival_cycle = -(-arrival_ps // device.tck_ps)  # first controller cycle at or after the player time
    bank_group = np.arange(device.n_banks, dtype=np.int64) // device.banks_per_group
    pair = np.unique(fields["bank"] * device.rows + fields["row"], return_inverse=True)[1].astype(np.int64)
    return DecodedTrace(arrival_cycle=arrival_cycle.astype(np.int64), arrival_ps=arrival_ps.astype(np.int64),
                        bank=fields["bank"], row=fields["row"], column=fields["column"],
                        is_write=trace.is_write.astype(np.int8), pair=pair.ravel(), bank_group=bank_group, n=len(trace),
                        key=f"{trace.fingerprint()}-{device.name}")


def context_features(trace: Trace, dec: DecodedTrace, device: Device) -> np.ndarray:
    """Workload/device context of the observation (spec §4, slots 15–22), each in [0, ~1]."""
    n = len(trace)
    stride = float(np.mean(np.diff(trace.address) == REQUEST_BYTES)) if n > 1 else 0.0
    span = float(trace.address.max() - trace.address.min() + REQUEST_BYTES)
    counts = np.bincount(dec.bank, minlength=device.n_banks).astype(np.float64)
    p = counts[counts > 0] / n
    entropy = float(-(p * np.log(p)).sum() / np.log(device.n_banks))
    pairs = dec.bank * (1 << 20) + dec.row
    reuse = 1.0 - np.unique(pairs).size / n
    onehot = [1.0, 0.0] if device.name.startswith("DDR3") else [0.0, 1.0]
    return np.array([stride, trace.n_writes / n, np.log2(span) / 32.0, n / 1e5, entropy, reuse, *onehot])
