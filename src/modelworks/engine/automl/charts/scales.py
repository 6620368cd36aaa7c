"""Axis scales and tick labels: a linear scale with round ticks over a value range, and the short
number formats (``1.2k``, ``3.4M``, scientific notation) used on ticks and in text alternatives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------------
# Scales and ticks


@dataclass(frozen=True)
class _Scale:
    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]

    def at(self, value: float, start: float, end: float) -> float:
        return start + (value - self.lo) / (self.hi - self.lo) * (end - start)


def _scale(values: Sequence[float], fixed: tuple[float, float] | None = None, count: int = 5) -> _Scale:
    """A "nice" scale covering ``values`` (or exactly ``fixed``), with round ticks and short labels."""
    if fixed is not None:
        lo, hi = float(fixed[0]), float(fixed[1])
    elif values:
        lo, hi = min(values), max(values)
    else:
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if fixed is None:
        lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    for i in range(first, first + count * 3 + 2):
        tick = i * step
        if tick > hi + step * 1e-9:
            break
        ticks.append(0.0 if abs(tick) < step * 1e-9 else tick)
    return _Scale(lo, hi, tuple(ticks), tuple(_tick_labels(ticks, step)))


_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _tick_labels(ticks: Sequence[float], step: float) -> list[str]:
    """Short labels: ``0.25``, ``1.5k``, ``20M``, ``2.5e-6``; enough digits to tell ticks apart."""
    magnitude = max((abs(t) for t in ticks), default=0.0)
    if magnitude >= 1e15 or 0 < magnitude < 1e-3:
        exponent = math.floor(math.log10(magnitude))
        digits = max(0, math.ceil(round(-math.log10(step / 10**exponent), 9)))
        return [_scientific(t, digits) for t in ticks]
    # Plain numbers up to 9999; beyond, thousands, millions… (a suffix never shows "0.5k" for 500).
    scale, suffix = next(((s, x) for s, x in _SUFFIXES if magnitude >= max(s, 1e4)), (1.0, ""))
    decimals = max(0, math.ceil(round(-math.log10(step / scale), 9)))
    return [("0" if t == 0 else f"{t / scale:.{decimals}f}{suffix}") for t in ticks]


def _scientific(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _short(value: float) -> str:
    """A single value for a tooltip or a bar end: 4 significant digits, SI suffix when large."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-3:
        return _scientific(value, 2)
    for scale, suffix in _SUFFIXES:
        if magnitude >= 10 * scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"
