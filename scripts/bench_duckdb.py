#!/usr/bin/env python3
"""DuckDB on the same data as `kechuang bench engine --duckdb`: high-tech
enterprises valid at each month end by area, and all qualification kinds.

Usage: bench_duckdb.py ENTS.csv QUALS.csv PLAN_START MONTHS
Needs the PyPI package duckdb (pip install duckdb)."""
import sys
import time

import duckdb

ents, quals, start, months = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
t = time.perf_counter()
con.execute(f"CREATE TABLE ents AS SELECT * FROM read_csv('{ents}', header=true, columns={{'credit_code':'VARCHAR','area':'VARCHAR'}})")
con.execute(f"CREATE TABLE quals AS SELECT * FROM read_csv('{quals}', header=true, columns={{'credit_code':'VARCHAR','kind':'VARCHAR','valid_from':'DATE','valid_to':'DATE'}})")
con.execute(f"CREATE TABLE months AS SELECT last_day(date '{start}' + to_months(i::INT)) AS m FROM range(0, {months}) t(i)")
load = time.perf_counter() - t


def best(sql, runs=3):
    times = []
    rows = 0
    for _ in range(runs):
        t = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - t)
    return min(times), rows


hte, n1 = best("""
SELECT e.area, months.m, count(DISTINCT q.credit_code)
FROM quals q JOIN ents e USING (credit_code)
JOIN months ON q.valid_from <= months.m AND q.valid_to >= months.m
WHERE q.kind = 'hte'
GROUP BY ALL""")
kinds, n2 = best("""
SELECT q.kind, e.area, months.m, count(DISTINCT q.credit_code)
FROM quals q JOIN ents e USING (credit_code)
JOIN months ON q.valid_from <= months.m AND q.valid_to >= months.m
GROUP BY ALL""")
print(f"duckdb {duckdb.__version__}: load CSV {load:.1f} s (not timed below)")
print(f"duckdb high-tech enterprises valid at each month end by area: {hte:.3f} s (best of 3, {n1} rows)")
print(f"duckdb all qualification kinds: {kinds:.3f} s (best of 3, {n2} rows)")
