#!/usr/bin/env python3
"""Reference vectors for `src/indicators` from TA-Lib, on real bars.

How to run (from the repository root, with `shared/` beside the repo):

    pip install TA-Lib==0.8.2 numpy      # binary wheel, Python 3.11
    python3 scripts/talib_reference.py   # rewrites tests/fixtures/indicators/*.csv

CI does not run this script: its output is committed, and
`tests/indicators.rs` compares every kernel against it.

Inputs: the first ROWS bars of each file in SOURCES (`../shared/data`,
parsed with the csv module). For each TA-Lib function and source one file
`<function>_<source>.csv` is written: the input column(s), then one column
`<function>_<period>` per period with TA-Lib's output. NaN (warm-up) is
written as an empty cell; numbers are written with `repr` (shortest
round-trip, full precision).

`volatility` is not a TA-Lib function: its reference is numpy
(sample standard deviation, ddof=1, of the last n log returns, times
sqrt(bars per year)); the column is `volatility_<n>_bpy<bars per year>`.
"""

import csv
import math
import os
import sys

import numpy as np
import talib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "fixtures", "indicators")
ROWS = 2000
SOURCES = {
    "GC_1h": "GC_1h_2023-07_2025-07.csv",
    "USDJPY_1h": "USDJPY_1h_2023-07_2025-07.csv",
}
# Function -> (periods, input columns).
SINGLE = {
    "sma": ([5, 20, 200], talib.SMA),
    "ema": ([5, 20, 200], talib.EMA),
    "wma": ([5, 20, 200], talib.WMA),
    "rsi": ([2, 14], talib.RSI),
    "stddev": ([5, 20, 200], lambda x, n: talib.STDDEV(x, timeperiod=n, nbdev=1.0)),
    "max": ([5, 20], talib.MAX),
    "min": ([5, 20], talib.MIN),
    "linearreg_slope": ([5, 20, 200], talib.LINEARREG_SLOPE),
    "rocr": ([1, 10], talib.ROCR),
    "mom": ([1, 10], talib.MOM),
}
ATR_PERIODS = [1, 14]
VOL_PERIODS = [2, 20]
BARS_PER_YEAR = 6048  # 24 hourly bars x 252 days


def load(path, rows):
    """First `rows` bars as float64 arrays open, high, low, close."""
    cols = {"open": [], "high": [], "low": [], "close": []}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for i, rec in enumerate(reader):
            if i >= rows:
                break
            for k in cols:
                cols[k].append(float(rec[k]))
    if len(cols["close"]) < rows:
        sys.exit(f"{path}: only {len(cols['close'])} rows, need {rows}")
    return {k: np.array(v, dtype=np.float64) for k, v in cols.items()}


def cell(v):
    v = float(v)
    return "" if math.isnan(v) else repr(v)


def write(name, header, columns):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in zip(*columns):
            w.writerow([cell(v) for v in row])
    print(f"wrote {path}")


def volatility(close, n, bars_per_year):
    out = np.full(len(close), np.nan)
    r = np.full(len(close), np.nan)
    r[1:] = np.log(close[1:] / close[:-1])
    for i in range(n, len(close)):
        out[i] = np.std(r[i - n + 1 : i + 1], ddof=1) * math.sqrt(bars_per_year)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for tag, file in SOURCES.items():
        bars = load(os.path.join(DATA, file), ROWS)
        close = bars["close"]
        for fname, (periods, func) in SINGLE.items():
            outs = [func(close, n) for n in periods]
            write(
                f"{fname}_{tag}.csv",
                ["close"] + [f"{fname}_{n}" for n in periods],
                [close] + outs,
            )
        outs = [talib.ATR(bars["high"], bars["low"], close, n) for n in ATR_PERIODS]
        write(
            f"atr_{tag}.csv",
            ["high", "low", "close"] + [f"atr_{n}" for n in ATR_PERIODS],
            [bars["high"], bars["low"], close] + outs,
        )
        outs = [volatility(close, n, BARS_PER_YEAR) for n in VOL_PERIODS]
        write(
            f"volatility_{tag}.csv",
            ["close"] + [f"volatility_{n}_bpy{BARS_PER_YEAR}" for n in VOL_PERIODS],
            [close] + outs,
        )


if __name__ == "__main__":
    main()
