"""Small real tables for the training tests (built once per session; copy before changing them).

Import the builders: ``from training_tables import breast_cancer, penguins, …``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer, load_wine

SEED = 0


@functools.cache
def _breast_cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"}).astype("str")
    return frame


def breast_cancer() -> pd.DataFrame:
    """569 rows, 30 numbers, binary string target 'target' (pandas str dtype)."""
    return _breast_cancer().copy()


def wine() -> pd.DataFrame:
    """178 rows, 13 numbers, three integer classes in 'target'."""
    return load_wine(as_frame=True).frame


def penguins() -> pd.DataFrame:
    """344 rows, str columns with nulls, 'species' has three classes."""
    return load_penguins()


def time_series(rows: int = 400) -> pd.DataFrame:
    """Daily sales with a trend, a weekly pattern, a promotion flag, a region and noise.

    'when' is an ISO text date column, 'sales' the regression target.
    """
    rng = np.random.default_rng(SEED)
    days = pd.date_range("2022-01-01", periods=rows, freq="D")
    promo = rng.random(rows) < 0.2
    region = rng.choice(["north", "south", "east"], rows)
    price = rng.normal(10.0, 2.0, rows)
    sales = (
        50.0
        + 0.05 * np.arange(rows)
        + 8.0 * (days.day_of_week >= 5)
        + 15.0 * promo
        - 2.0 * price
        + np.where(region == "south", 5.0, 0.0)
        + rng.normal(0.0, 2.0, rows)
    )
    frame = pd.DataFrame(
        {
            "when": days.strftime("%Y-%m-%d"),
            "promo": promo,
            "region": region,
            "price": price,
            "sales": sales,
        }
    )
    # Shuffled so that a time split has to sort by itself.
    return frame.sample(frac=1.0, random_state=SEED).reset_index(drop=True)


def mixed(rows: int = 300) -> pd.DataFrame:
    """Every kind of column the Lab proposes, with nulls, for a binary target 'churn'."""
    rng = np.random.default_rng(SEED)
    tenure = rng.integers(1, 72, rows).astype(float)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    words = np.array(
        ["slow", "great", "support", "price", "cancel", "happy", "internet", "bill", "late", "fast"]
    )
    complaint = [" ".join(rng.choice(words, rng.integers(5, 12))) + f" ticket {i}" for i in range(rows)]
    churn = (rng.random(rows) < 1 / (1 + np.exp(0.08 * tenure - 2 + (plan == "pro")))).astype(int)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{100000 + i}" for i in range(rows)],
            "row": np.arange(rows),
            "tenure": tenure,
            "plan": pd.Series(plan, dtype="str"),
            "city": pd.Series(rng.choice([f"city{i}" for i in range(40)], rows), dtype="category"),
            "autopay": pd.array(rng.choice([True, False], rows), dtype="boolean"),
            "seats": pd.array(rng.integers(1, 5, rows), dtype="Int64"),
            "signed_up": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
            "complaint": complaint,
            "country": "FR",
            "fax": [None] * (rows - 3) + ["123", "456", "789"],
            "cancel_reason": np.where(churn == 1, "moved", "none"),
            "churn": churn,
        }
    )
    frame.loc[::11, "tenure"] = np.nan
    frame.loc[::13, "plan"] = None
    frame.loc[::17, "autopay"] = pd.NA
    frame.loc[::19, "seats"] = pd.NA
    return frame
