"""Small synthetic tables shared by the scoring tests (imported by name: a module called
``conftest`` would clash with the other test folders' conftests when the whole suite runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = [f"f{i}" for i in range(6)]


def numeric_table(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    frame["label"] = (frame.f0 + 0.5 * frame.f1 - frame.f2 > 0).astype(int)
    frame["level"] = np.digitize(frame.f0 + frame.f3, [-0.7, 0.7])  # 0, 1, 2
    frame["amount"] = 3 * frame.f0 - frame.f4 + rng.normal(scale=0.1, size=rows)
    return frame


def flights_table(rows: int = 240, seed: int = 1) -> pd.DataFrame:
    """A small flights-like table: numbers, a category, a date and a binary text target."""
    rng = np.random.default_rng(seed)
    distance = rng.uniform(100, 3000, rows)
    carrier = rng.choice(["AF", "KL", "LH"], rows)
    hour = rng.integers(5, 23, rows)
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 180, rows), unit="D")
    late = np.where((hour > 17) ^ (carrier == "AF") ^ (distance > 2000), "late", "on_time")
    frame = pd.DataFrame(
        {
            "flight_id": [f"F{i:04d}" for i in range(rows)],
            "distance": distance,
            "carrier": pd.Series(carrier, dtype="str"),
            "hour": hour.astype("int64"),
            "day": day,
            "late": late,
        }
    )
    frame.loc[::9, "distance"] = np.nan
    return frame
