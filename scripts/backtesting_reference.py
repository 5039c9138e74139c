#!/usr/bin/env python3
"""Reference trades for the SMA(10)/SMA(30) crossover from backtesting.py.

Run from the repository root (needs `pip install backtesting==0.6.6`):

    python3 scripts/backtesting_reference.py

It reads ../shared/data/samples/GOOG_1d_2004-2013.csv (the GOOG sample that
ships with backtesting.py) and writes
tests/fixtures/backtesting/goog_sma_10_30_trades.csv. Settings: long only,
a fixed size of 1 unit, orders filled at the next bar's open
(trade_on_close=False), no commission, no spread, and the position still
open at the end is left out (backtesting.py closes it at the last close
only for its statistics). The Rust test compares the engine's trades with
this file; CI does not run Python.
"""
import csv
import os
import sys
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "..", "shared", "data", "samples", "GOOG_1d_2004-2013.csv")
OUT = os.path.join(ROOT, "tests", "fixtures", "backtesting", "goog_sma_10_30_trades.csv")


class SmaCross(Strategy):
    n1 = 10
    n2 = 30

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.n1)
        self.sma2 = self.I(SMA, self.data.Close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2) and not self.position:
            self.buy(size=1)
        elif crossover(self.sma2, self.sma1) and self.position:
            self.position.close()


def main():
    df = pd.read_csv(SRC, parse_dates=["timestamp"], index_col="timestamp")
    df = df.rename(columns=str.capitalize)
    bt = Backtest(df, SmaCross, cash=100_000, commission=0.0, spread=0.0,
                  trade_on_close=False, exclusive_orders=False, finalize_trades=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open": intended
        stats = bt.run()
    trades = stats["_trades"]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["entry_date", "entry_price", "exit_date", "exit_price", "size", "pnl"])
        written = 0
        for _, t in trades.sort_values("EntryTime").iterrows():
            if pd.isna(t["ExitTime"]):
                continue
            written += 1
            w.writerow([t["EntryTime"].date().isoformat(), repr(float(t["EntryPrice"])),
                        t["ExitTime"].date().isoformat(), repr(float(t["ExitPrice"])),
                        int(t["Size"]), repr(float(t["PnL"]))])
    print(f"wrote {written} closed trades to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
