"""Vectorised helpers: dates as day numbers, keyed hashes, fixed-width strings, groups.

Dates are ``int32`` day numbers since 1970-01-01 throughout the generator; Arrow
``date32`` uses the same representation, so no conversion is needed on output.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

MISSING_DATE = int(np.datetime64("1600-01-01", "D").astype(np.int64))  # SNDS "no date"
NO_DATE = np.int32(2**30)  # "never" (alive at the end, no end of treatment …)

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8)[:32]


def day(text: str) -> int:
    """Day number of an ISO date.

    >>> day("1970-01-02")
    1
    """
    return int(np.datetime64(text, "D").astype(np.int64))


def year_start(year: int) -> int:
    return day(f"{year:04d}-01-01")


def to_datetime64(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]")


def _by_lookup(days: np.ndarray, unit: str) -> np.ndarray:
    days = np.asarray(days)
    if len(days) < 10_000:
        return to_datetime64(days).astype(f"datetime64[{unit}]").astype(np.int64)
    low, high = int(days.min()), int(days.max())
    if high - low > 200_000:
        return to_datetime64(days).astype(f"datetime64[{unit}]").astype(np.int64)
    table = np.arange(low, high + 1).astype("datetime64[D]").astype(f"datetime64[{unit}]")
    return table.astype(np.int64)[days - low]


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return _by_lookup(days, "Y") + 1970


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each day number."""
    return _by_lookup(days, "M")


def month_start(months: np.ndarray) -> np.ndarray:
    """Day number of the first day of each month index."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """A bijective 64-bit mix: distinct inputs give distinct outputs."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def keyed_hash(seed: int, values: np.ndarray) -> np.ndarray:
    """Bijective hash of ``values`` under a key derived from ``seed``."""
    key = splitmix64(np.array([seed], dtype=np.uint64))[0]
    return splitmix64(values.astype(np.uint64) ^ key)


def strings_from_matrix(chars: np.ndarray) -> pa.StringArray:
    """Arrow strings from an ``(n, width)`` uint8 matrix of ASCII characters."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def pseudonyms(seed: int, values: np.ndarray, width: int = 17) -> pa.StringArray:
    """Distinct ``width``-character pseudonyms for distinct ``values`` (width >= 13).

    The first 13 characters encode the full 64-bit keyed hash (injective); the others are
    filler derived from a second hash.

    >>> arr = pseudonyms(1, np.arange(5))
    >>> len(set(arr.to_pylist())), len(arr[0].as_py())
    (5, 17)
    """
    h = keyed_hash(seed, values)
    h2 = splitmix64(h)
    cols = [(h >> np.uint64(5 * k)) & np.uint64(31) for k in range(13)]
    cols += [(h2 >> np.uint64(5 * k)) & np.uint64(31) for k in range(width - 13)]
    matrix = _ALPHABET[np.stack(cols, axis=1).astype(np.intp)]
    return strings_from_matrix(matrix)


def digits(values: np.ndarray, width: int) -> pa.StringArray:
    """Zero-padded decimal strings of non-negative integers.

    >>> digits(np.array([7, 1234]), 5).to_pylist()
    ['00007', '01234']
    """
    v = values.astype(np.int64)
    cols = [(v // 10**k) % 10 for k in range(width - 1, -1, -1)]
    matrix = (np.stack(cols, axis=1) + ord("0")).astype(np.uint8)
    return strings_from_matrix(matrix)


def yearmonth(days: np.ndarray) -> pa.Array:
    """'YYYYMM' strings of day numbers (1600-01-01 gives '160001').

    >>> yearmonth(np.array([day("2019-03-15"), MISSING_DATE])).to_pylist()
    ['201903', '160001']
    """
    months = month_index(days)
    if len(months) == 0:
        return pa.array([], type=pa.string())
    low = int(months.min())
    span = np.arange(low, int(months.max()) + 1)
    labels = (span // 12 + 1970) * 100 + span % 12 + 1
    return digits(labels, 6).take(pa.array((months - low).astype(np.int32)))


def take_strings(values: list[str] | np.ndarray, indices: np.ndarray) -> pa.Array:
    """``values[indices]`` as an Arrow string array (negative indices → null)."""
    dictionary = pa.array(list(values), type=pa.string())
    indices = np.asarray(indices)
    mask = indices < 0
    if mask.any():
        idx = pa.array(np.where(mask, 0, indices).astype(np.int32), mask=mask)
    else:
        idx = pa.array(indices.astype(np.int32, copy=False))
    return dictionary.take(idx)


def group_starts(keys: np.ndarray) -> np.ndarray:
    """Boolean array: True where a sorted key array starts a new group."""
    starts = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        starts[1:] = keys[1:] != keys[:-1]
    return starts


def rank_in_group(starts: np.ndarray) -> np.ndarray:
    """0-based position of each element within its group (groups contiguous)."""
    idx = np.arange(len(starts))
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first


def segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every group start."""
    total = np.cumsum(values)
    offsets = np.where(starts, total - values, 0)
    return total - np.maximum.accumulate(offsets) if len(values) else total


def repeat_ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts c_i, the owner index and the 0-based rank of each of sum(c) items."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.zeros(len(owner), dtype=bool)
    if len(owner):
        first = np.cumsum(counts) - counts
        starts[first[counts > 0]] = True
    return owner, rank_in_group(starts)


def triangular_days(rng: np.random.Generator, spec: tuple[int, int, int], n: int) -> np.ndarray:
    low, mode, high = spec
    if high <= low:
        return np.full(n, low, dtype=np.int32)
    return np.rint(rng.triangular(low, min(max(mode, low), high), high, n)).astype(np.int32)


def uniform_int(rng: np.random.Generator, bounds: tuple[int, int], n: int) -> np.ndarray:
    low, high = bounds
    return (
        rng.integers(low, high + 1, n).astype(np.int32)
        if high > low
        else np.full(n, low, dtype=np.int32)
    )
