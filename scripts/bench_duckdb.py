#!/usr/bin/env python3
"""DuckDB on the same data as `kechuang bench engine --duckdb`: distinct
enterprises holding a valid qualification at each month end, by area — for
high-tech enterprises alone and for every qualification kind.

Three formulations are timed and the fastest is the one to compare with:
  naive    range join with the months, count(DISTINCT credit_code);
  islands  each firm's overlapping validity merged first (window functions),
           then a range join without DISTINCT;
  events   the merged intervals as +1/-1 events per area, summed over the
           months with a window (no expansion to firm-months).
All three must give the same rows and the same sum, printed as a check
against the engine's own figure.

Results are materialised inside DuckDB (CREATE TEMP TABLE), not fetched into
Python, so the times are DuckDB's own.

Usage: bench_duckdb.py ENTS.csv QUALS.csv PLAN_START MONTHS
Needs the PyPI package duckdb (pip install duckdb)."""
import sys
import time

import duckdb

ents, quals, start, months = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
t = time.perf_counter()
con.execute(
    f"CREATE TABLE ents AS SELECT * FROM read_csv('{ents}', header=true, "
    "columns={'credit_code':'VARCHAR','area':'VARCHAR'})"
)
con.execute(
    f"CREATE TABLE quals AS SELECT * FROM read_csv('{quals}', header=true, "
    "columns={'credit_code':'VARCHAR','kind':'VARCHAR','valid_from':'DATE','valid_to':'DATE'})"
)
con.execute(
    f"CREATE TABLE months AS SELECT i, last_day(date '{start}' + to_months(i::INT)) AS m "
    f"FROM range(0, {months}) t(i)"
)
load = time.perf_counter() - t


def naive(where):
    return f"""
SELECT q.kind, e.area, months.m, count(DISTINCT q.credit_code) n
FROM quals q JOIN ents e USING (credit_code)
JOIN months ON q.valid_from <= months.m AND q.valid_to >= months.m
{where} GROUP BY ALL"""


def islands_cte(where):
    # Month indexes: a qualification counts at the end of month i when
    # valid_from <= last_day(i) <= valid_to.
    return f"""
WITH iv AS (
  SELECT credit_code, kind,
    (year(valid_from) - year(date '{start}')) * 12 + month(valid_from) - month(date '{start}') AS s,
    (year(valid_to) - year(date '{start}')) * 12 + month(valid_to) - month(date '{start}')
      - CASE WHEN valid_to = last_day(valid_to) THEN 0 ELSE 1 END AS e
  FROM quals q {where}),
cl AS (SELECT credit_code, kind, greatest(s, 0) s, least(e, {months} - 1) e FROM iv
       WHERE greatest(s, 0) <= least(e, {months} - 1)),
mx AS (SELECT *, max(e) OVER (PARTITION BY credit_code, kind ORDER BY s, e
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) pe FROM cl),
st AS (SELECT *, sum(CASE WHEN pe IS NULL OR s > pe + 1 THEN 1 ELSE 0 END)
                   OVER (PARTITION BY credit_code, kind ORDER BY s, e) isl FROM mx),
isl AS (SELECT credit_code, kind, min(s) s, max(e) e FROM st GROUP BY credit_code, kind, isl)"""


def islands(where):
    return islands_cte(where) + """
SELECT isl.kind, e.area, months.m, count(*) n
FROM isl JOIN ents e USING (credit_code) JOIN months ON months.i BETWEEN isl.s AND isl.e
GROUP BY ALL"""


def events(where):
    return islands_cte(where) + f""",
ie AS (SELECT isl.kind, e.area, isl.s, isl.e FROM isl JOIN ents e USING (credit_code)),
ev AS (SELECT kind, area, s i, 1 d FROM ie
       UNION ALL SELECT kind, area, e + 1 i, -1 d FROM ie WHERE e + 1 < {months}),
agg AS (SELECT kind, area, i, sum(d) d FROM ev GROUP BY ALL),
grid AS (SELECT g.kind, g.area, months.i, months.m, coalesce(agg.d, 0) d
         FROM (SELECT DISTINCT kind, area FROM agg) g CROSS JOIN months
         LEFT JOIN agg ON agg.kind = g.kind AND agg.area = g.area AND agg.i = months.i)
SELECT kind, area, m, n FROM (
  SELECT kind, area, m, sum(d) OVER (PARTITION BY kind, area ORDER BY i) n FROM grid)
WHERE n > 0"""


def best(sql, runs=3):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute("CREATE OR REPLACE TEMP TABLE r AS " + sql)
        times.append(time.perf_counter() - t)
    rows, total = con.execute("SELECT count(*), coalesce(sum(n), 0) FROM r").fetchone()
    return min(times), rows, int(total)


print(f"duckdb {duckdb.__version__}: load CSV {load:.1f} s (not timed below)")
for label, where in [
    ("high-tech enterprises valid at each month end by area", "WHERE q.kind = 'hte'"),
    ("all qualification kinds", ""),
]:
    results = [(name, *best(f(where))) for name, f in [("naive", naive), ("islands", islands), ("events", events)]]
    if len({(r[2], r[3]) for r in results}) != 1:
        print(f"duckdb {label}: formulations disagree: {results}")
    fastest = min(results, key=lambda r: r[1])
    detail = ", ".join(f"{name} {t:.3f} s" for name, t, _, _ in results)
    print(
        f"duckdb {label}: {fastest[1]:.3f} s ({fastest[0]}, best of 3; {detail}; "
        f"{fastest[2]} area-month rows, sum {fastest[3]})"
    )
