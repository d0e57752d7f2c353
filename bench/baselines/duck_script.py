"""The end-to-end DuckDB script: read the city's sources, load them into DuckDB, run every
rule of the pack - what a competent analyst writes instead of naebu, timed against
``naebu run --once`` from the same sources.

    python -m bench.baselines.duck_script PLAN.json [--keys OUT.json]

``PLAN.json`` (:mod:`bench.baselines.script_plan`) names the sources, each canonical column's
source column and type, and the 35 queries. The script:

1. reads every SQLite table through ADBC (Arrow-native; every column as text, so a malformed
   value cannot stop the read) and the card drop's CSV files through pyarrow (UTF-8, else
   CP949);
2. types the columns in DuckDB (``TRY_CAST``/``try_strptime``), trimming text and making blank
   text null, once; a row whose non-blank value does not type, or that lacks a required
   column, is left out (naebu quarantines it);
3. adds the cleaned columns the rules compare (:mod:`bench.baselines.tables`: NFKC names,
   account digits, attendee counts, statutory deadlines, the holiday table), once per
   distinct value;
4. runs the queries and, with ``--keys``, writes each rule's flagged keys.

It prints one JSON line of its phases' seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.baselines import tables

ENCODINGS = ("utf-8", "cp949")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_sqlite(database: str, table: str) -> pa.Table:
    """The whole table as Arrow, every column as text (NULL read as '': ADBC types a column
    from its first rows, and a column NULL there would be typed as a number; the load below
    reads '' as missing anyway)."""
    import adbc_driver_sqlite.dbapi as adbc  # imported here: only the script needs it

    with adbc.connect(database) as con, con.cursor() as cur:
        cur.execute(f"SELECT * FROM {_quoted(table)} LIMIT 0")
        names = [d[0] for d in cur.description or []]
        cols = ", ".join(f"coalesce(CAST({_quoted(n)} AS TEXT), '') AS {_quoted(n)}" for n in names)
        cur.execute(f"SELECT {cols} FROM {_quoted(table)}")
        return cur.fetch_arrow_table()


def read_csv(path: Path) -> pa.Table:
    """One CSV file, every column as text, UTF-8 else CP949."""
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            header = raw.split(b"\n", 1)[0].decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        names = next(csv.reader([header.rstrip("\r")]))
        try:
            return pacsv.read_csv(
                pa.BufferReader(raw),
                read_options=pacsv.ReadOptions(encoding=encoding),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=False
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            continue
    raise RuntimeError(f"{path}: neither UTF-8 nor CP949")


def _typed(column: str, kind: str, fmt: str | None) -> str:
    """SQL typing ``column`` (text) as ``kind``; NULL where it does not type."""
    x = f"nullif(trim(CAST({_quoted(column)} AS VARCHAR)), '')"
    if kind == "str":
        return x
    if kind in ("number", "int"):
        number = f"TRY_CAST(regexp_replace({x}, '[,원₩ ]', '', 'g') AS DOUBLE)"
        return number if kind == "number" else f"TRY_CAST({number} AS BIGINT)"
    if kind == "bool":
        return (f"CASE WHEN lower({x}) IN ('y', 'yes', 'true', '1', '예') THEN TRUE "
                f"WHEN lower({x}) IN ('n', 'no', 'false', '0', '아니오') THEN FALSE END")  # fmt: skip
    target = {"date": "DATE", "datetime": "TIMESTAMP", "time": "TIME"}[kind]
    if fmt:
        return f"CAST(try_strptime({x}, '{fmt}') AS {target})"
    return f"TRY_CAST({x} AS {target})"


def load(con: duckdb.DuckDBPyConnection, source: dict[str, Any], raw: pa.Table) -> int:
    """Create the dataset's table from ``raw``; the rows left out."""
    present = set(raw.column_names)
    exprs, checks = [], []
    for canonical, column in source["columns"].items():
        kind = source["types"][canonical]
        if column not in present:
            exprs.append(f"NULL AS {_quoted(canonical)}")
            if canonical in source["required"]:
                checks.append("FALSE")
            continue
        typed = _typed(column, kind, source["formats"].get(canonical))
        exprs.append(f"{typed} AS {_quoted(canonical)}")
        if canonical in source["required"]:
            checks.append(f"{typed} IS NOT NULL")
        elif kind != "str":
            checks.append(
                f"(nullif(trim(CAST({_quoted(column)} AS VARCHAR)), '') IS NULL OR {typed} IS NOT NULL)"
            )
    con.register("raw", raw)
    where = " AND ".join(checks) or "TRUE"
    con.execute(f"CREATE TABLE {_quoted(source['dataset'])} AS "
                f"SELECT {', '.join(exprs)} FROM raw WHERE {where}")  # fmt: skip
    con.unregister("raw")
    row = con.execute(f"SELECT count(*) FROM {_quoted(source['dataset'])}").fetchall()[0]
    return raw.num_rows - (int(row[0]) if row else 0)


def derive(con: duckdb.DuckDBPyConnection) -> None:
    """The cleaned columns (once per distinct value) and the holiday table."""
    made = set(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
    for table, columns in tables.DERIVED.items():
        if table not in made:
            continue
        for new, (kind, source) in columns.items():
            values = [r[0] for r in con.execute(
                f"SELECT DISTINCT {source} FROM {table} WHERE {source} IS NOT NULL").fetchall()]  # fmt: skip
            fn = tables.KINDS[kind]
            mapped = pa.table({"v": pa.array(values, pa.string()),
                               "d": pa.array([fn(v) for v in values],
                                             pa.float64() if kind == "attendees" else pa.string())})  # fmt: skip
            con.register("mapped", mapped)
            sql_type = "DOUBLE" if kind == "attendees" else "VARCHAR"
            con.execute(f"ALTER TABLE {table} ADD COLUMN {new} {sql_type}")
            con.execute(f"UPDATE {table} SET {new} = mapped.d FROM mapped "
                        f"WHERE {table}.{source} = mapped.v")  # fmt: skip
            con.unregister("mapped")
    if "permits" in made:
        rows = con.execute("SELECT DISTINCT coalesce(received_at, CAST(received_on AS TIMESTAMP)), "
                           "legal_days, legal_unit FROM permits").fetchall()  # fmt: skip
        due = list(tables.deadlines([r for r, _, _ in rows], [p for _, p, _ in rows],
                                    [u for _, _, u in rows]).astype("datetime64[us]").tolist())  # fmt: skip
        con.register("due", pa.table({
            "r": pa.array([r[0] for r in rows], pa.timestamp("us")),
            "p": pa.array([r[1] for r in rows], pa.int64()),
            "u": pa.array([r[2] for r in rows], pa.string()),
            "d": pa.array(due, pa.timestamp("us"))}))  # fmt: skip
        con.execute("ALTER TABLE permits ADD COLUMN due_at TIMESTAMP")
        con.execute("UPDATE permits SET due_at = due.d FROM due "
                    "WHERE coalesce(permits.received_at, CAST(permits.received_on AS TIMESTAMP)) "
                    "IS NOT DISTINCT FROM due.r AND permits.legal_days IS NOT DISTINCT FROM due.p "
                    "AND permits.legal_unit IS NOT DISTINCT FROM due.u")  # fmt: skip
        con.unregister("due")
    days = tables.holiday_days([r[0] for r in con.execute(
        " UNION ".join(f"SELECT DISTINCT {c} FROM {t}" for t in made
                       for c in tables.date_columns(t))).fetchall()])  # fmt: skip
    con.register("days", pa.table({"day": pa.array(days, pa.date32())}))
    con.execute("CREATE TABLE holidays AS SELECT day FROM days")
    con.unregister("days")


def run(plan: dict[str, Any]) -> tuple[dict[str, float], dict[str, list[str]], int]:
    """Read, load, derive, evaluate: the seconds of each phase, the keys per rule and the
    rows left out."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    con = duckdb.connect(":memory:")
    left_out = 0
    read_s = 0.0
    for source in plan["sources"]:
        t = time.perf_counter()
        if source["kind"] == "sql":
            raw = read_sqlite(source["database"], source["table"])
        else:
            files = sorted(Path(source["folder"]).glob(source["pattern"]))
            parts = [read_csv(f) for f in files]
            raw = pa.concat_tables(parts, promote_options="default") if parts else pa.table({})
        read_s += time.perf_counter() - t
        left_out += load(con, source, raw)
    seconds["read"] = read_s
    seconds["load"] = time.perf_counter() - start - read_s
    t = time.perf_counter()
    derive(con)
    seconds["derive"] = time.perf_counter() - t
    t = time.perf_counter()
    keys = {rid: sorted(str(r[0]) for r in con.execute(sql).fetchall())
            for rid, sql in plan["rules"].items()}  # fmt: skip
    seconds["rules"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - start
    con.close()
    return seconds, keys, left_out


def main(argv: list[str] | None = None) -> int:
    """Run the plan; print the phases' seconds as one JSON line."""
    p = argparse.ArgumentParser(prog="python -m bench.baselines.duck_script")
    p.add_argument("plan", type=Path)
    p.add_argument("--keys", type=Path, help="write each rule's flagged keys here (JSON)")
    a = p.parse_args(argv)
    plan = json.loads(a.plan.read_text(encoding="utf-8"))
    seconds, keys, left_out = run(plan)
    if a.keys:
        a.keys.write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"seconds": seconds, "left_out": left_out,
                      "findings": sum(len(k) for k in keys.values())}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
