"""``naebu demo --shape exports``: the demo city as other systems export it.

The files are read back here as ``examples/exports-city/config.toml`` describes them (folder,
pattern, header row, table), with plain csv/openpyxl/sqlite3, so these checks do not depend on
the connectors: same records as the canonical city, the intended encodings, Korean headers and
no canonical names, every column the config maps present, every value a value map meets
covered, the derived figures derivable, and every labelled record present.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sqlite3
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from naebu.core import datasets
from naebu.demo import DemoSummary, build_frames, volumes
from naebu.demo.exports import generate_exports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "exports-city" / "config.toml"
SCALE = 0.2
BOM = b"\xef\xbb\xbf"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
#: Rows a connector must quarantine, per source (as in the canonical city).
BAD_ROWS = {"payments": 2, "card_approvals": 2}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_exports(tmp_path_factory.mktemp("x") / "demo-city", seed=42, scale=SCALE)


@pytest.fixture(scope="module")
def canonical() -> tuple[dict[str, pd.DataFrame], list[tuple[str, str, str]]]:
    return build_frames(42, size=volumes.resolve(SCALE))


@pytest.fixture(scope="module")
def config() -> dict:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def _files(city: DemoSummary, spec: dict) -> list[Path]:
    """The files of a files source, ``demo-city/...`` in the config read under ``city.out``."""
    folder = city.out / Path(spec["path"]).relative_to("demo-city")
    return sorted(folder.glob(spec["pattern"]))


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(BOM):
        return data[len(BOM) :].decode("utf-8"), "utf-8-sig"
    return data.decode("cp949"), "cp949"


def _rows(path: Path, header_row: int) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV or XLSX file, the header on ``header_row``."""
    if path.suffix == ".xlsx":
        import openpyxl

        from naebu.connectors.files import cell_text

        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        lines = [[cell_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    else:
        text, _ = _decode(path.read_bytes())
        lines = list(csv.reader(io.StringIO(text, newline="")))
    return lines[header_row - 1], lines[header_row:]


_READ: dict[tuple[Path, str], pd.DataFrame] = {}


def read_source(city: DemoSummary, config: dict, name: str) -> pd.DataFrame:
    """A source of the example config as text columns, read as the config says (once)."""
    if (city.out, name) not in _READ:
        _READ[city.out, name] = _read(city, config, name)
    return _READ[city.out, name]


def _read(city: DemoSummary, config: dict, name: str) -> pd.DataFrame:
    spec = config["sources"][name]
    if spec["kind"] == "sql":
        url = config["connections"][spec["connection"]]["url"]
        db = city.out / Path(url.removeprefix("sqlite:///")).relative_to("demo-city")
        con = sqlite3.connect(db)
        try:
            return pd.read_sql_query(f'SELECT * FROM "{spec["table"]}"', con).astype(str)
        finally:
            con.close()
    frames = []
    for path in _files(city, spec):
        header, rows = _rows(path, spec.get("header_row", 1))
        frames.append(pd.DataFrame(rows, columns=header, dtype=object))
    assert frames, f"{name}: no file matches {spec['pattern']}"
    return pd.concat(frames, ignore_index=True)


def _source_names(config: dict, dataset: str) -> list[str]:
    return [n for n, s in config["sources"].items() if s["dataset"] == dataset]


def test_every_dataset_has_a_source_and_one_sql_source(config: dict) -> None:
    fed = {s["dataset"] for s in config["sources"].values()}
    assert fed == set(datasets.DATASETS)
    assert any(s["kind"] == "sql" for s in config["sources"].values())
    assert len(_source_names(config, "attendance")) == 3


def test_deterministic(city: DemoSummary, tmp_path: Path) -> None:
    again = generate_exports(tmp_path / "demo-city", seed=42, scale=SCALE)

    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digests(again.out) == digests(city.out)


def test_same_records_as_the_canonical_city(city: DemoSummary, config: dict, canonical) -> None:
    frames, _ = canonical
    for dataset, df in frames.items():
        names = _source_names(config, dataset)
        if dataset == "attendance":
            keys = set()
            for name in names:
                spec = config["sources"][name]
                src = read_source(city, config, name)
                cols = spec["columns"]
                day = pd.to_datetime(src[cols["work_date"]], format=spec["formats"]["work_date"])
                keys |= set(zip(src[cols["employee_id"]], day.dt.strftime("%Y-%m-%d"), strict=True))
            assert len(keys) == len(df), dataset
            continue
        (name,) = names
        n = len(read_source(city, config, name)) - BAD_ROWS.get(name, 0)
        if dataset == "card_transactions":  # the one cash payment is no card approval
            assert n == int((df["payment_method"] == "카드").sum()) == len(df) - 1
        else:
            assert n == len(df), dataset


def test_encodings_as_intended(city: DemoSummary) -> None:
    found = {}
    for path in sorted((city.out / "exports").glob("*/*.csv")):  # not labels.csv
        data = path.read_bytes()
        _, encoding = _decode(data)
        if encoding == "cp949":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")  # Korean text in cp949 is no UTF-8
        found[path.name] = encoding
    assert found["직원현황.csv"] == "cp949"
    assert found["부서현황.csv"] == "utf-8-sig"
    cards = [e for n, e in found.items() if n.startswith("승인내역_")]
    assert len(cards) == 12 and set(cards) == {"cp949", "utf-8-sig"}
    assert list((city.out / "exports").rglob("*.xlsx"))


def test_headers_korean_and_not_canonical(city: DemoSummary, config: dict) -> None:
    canonical_names = {c for d in datasets.DATASETS.values() for c in d.column_names}
    for name in config["sources"]:
        header = list(read_source(city, config, name).columns)
        assert all(HANGUL.search(h) for h in header), (name, header)
        assert not canonical_names & set(header), (name, header)


def test_title_rows_above_headers(city: DemoSummary, config: dict) -> None:
    titled = [n for n, s in config["sources"].items() if s.get("header_row", 1) > 1]
    assert len(titled) >= 5
    for name in titled:
        spec = config["sources"][name]
        header, _ = _rows(_files(city, spec)[0], spec["header_row"])
        assert set(spec["columns"].values()) <= set(header), name


def test_no_role_column_in_the_directory(config: dict) -> None:
    assert "role" not in config["sources"]["employees"]["columns"]
    assert config["routing"]["roles"]


def test_config_maps_every_column_it_names(city: DemoSummary, config: dict) -> None:
    """Each mapped or derived-from source column exists; each canonical column is given once."""
    for name, spec in config["sources"].items():
        header = set(read_source(city, config, name).columns)
        ds = datasets.get(spec["dataset"])
        given = [*spec["columns"], *spec.get("constants", {}), *spec.get("derive", {})]
        assert len(given) == len(set(given)), name
        assert set(given) <= set(ds.column_names), name
        assert set(spec["columns"].values()) <= header, name
        for expression in spec.get("derive", {}).values():
            words = set(re.findall(r"[\uac00-\ud7a3][\w]*", re.sub(r'"[^"]*"', "", expression)))
            assert words <= header, (name, expression)


def test_value_maps_cover_every_source_value(city: DemoSummary, config: dict, canonical) -> None:
    """Every value of a value-mapped column maps onto a value the canonical city holds."""
    frames, _ = canonical
    for name, spec in config["sources"].items():
        src = read_source(city, config, name)
        for column, mapping in spec.get("values", {}).items():
            seen = set(src[spec["columns"][column]]) - {""}
            want = set(frames[spec["dataset"]][column].dropna().astype(str))
            if column == "active":
                want = {"Y", "N"}
            mapped = {mapping.get(v, v) for v in seen}
            assert mapped <= want, (name, column, mapped - want)


def test_derived_figures_are_derivable(city: DemoSummary, config: dict, canonical) -> None:
    """The appraisal count, mean and oldest date from the three appraisal columns, the
    attendees from 대상인원, equal the canonical values (computed here with pandas)."""
    frames, _ = canonical
    src = read_source(city, config, "property_sales").set_index("매각번호")
    sales = frames["property_sales"].set_index("sale_id").loc[src.index]
    amounts = np.column_stack(
        [
            pd.to_numeric(src[f"감정평가액{i}"].str.replace(",", ""), errors="coerce")
            for i in (1, 2, 3)
        ]
    )
    dates = pd.concat(
        [pd.to_datetime(src[f"감정평가일{i}"], format="%Y.%m.%d") for i in (1, 2, 3)], axis=1
    )
    count = np.isfinite(amounts).sum(axis=1)
    assert (count == sales["appraisal_count"].to_numpy()).all()
    mean = np.nansum(amounts, axis=1) / np.maximum(count, 1)
    has = count > 0
    assert (mean[has] == sales["appraisal_mean"].to_numpy()[has]).all()
    assert (dates.min(axis=1)[has].to_numpy() == sales["appraisal_date"].to_numpy()[has]).all()
    assert "appraisal_mean" not in config["sources"]["property_sales"]["columns"]

    cards = read_source(city, config, "card_approvals").set_index("승인번호")
    k = frames["card_transactions"]
    want = k[k["payment_method"] == "카드"].set_index("approval_id")["attendees"]
    kinds = cards["카드구분"].value_counts()  # every card of the city, told apart
    assert set(kinds.index) == {"업무추진비", "일반구매"} and kinds["일반구매"] >= 2
    heads = pd.to_numeric(cards["대상인원"].str.extract(r"(\d[\d,]*)\s*명")[0], errors="coerce")
    both = heads.dropna().index.intersection(want.index)
    assert len(both) >= len(want) - 3
    assert (heads[both].astype(int) == want[both].astype(int)).all()


def test_labels_keyed_as_the_exports_are(city: DemoSummary, canonical) -> None:
    frames, labels = canonical
    written = pd.read_csv(city.out / "exports" / "labels.csv", dtype=str)
    assert list(written.columns) == ["rule_id", "dataset", "record_key"]
    assert len(written) == len(labels)
    att = written[written["dataset"] == "attendance"]["record_key"]
    assert len(att) and att.str.fullmatch(r"E\d+\|\d{4}-\d{2}-\d{2}").all()
    rest = sorted(tuple(r) for r in written[written["dataset"] != "attendance"].to_numpy())
    assert rest == sorted(r for r in labels if r[1] != "attendance")


def test_every_labelled_record_is_in_the_exports(city: DemoSummary, config: dict) -> None:
    written = pd.read_csv(city.out / "exports" / "labels.csv", dtype=str)
    for dataset, keys in written.groupby("dataset")["record_key"]:
        present: set[str] = set()
        for name in _source_names(config, dataset):
            spec = config["sources"][name]
            src = read_source(city, config, name)
            if "merge_on" in spec:
                cols = spec["columns"]
                day = pd.to_datetime(src[cols["work_date"]], format=spec["formats"]["work_date"])
                present |= set(src[cols["employee_id"]] + "|" + day.dt.strftime("%Y-%m-%d"))
            else:
                present |= set(src[spec["columns"][datasets.get(dataset).key]])
        missing = set(keys) - present
        assert not missing, (dataset, sorted(missing)[:5])


def test_cli_shape_exports_beside_the_canonical_city(tmp_path: Path) -> None:
    """Both shapes may share one folder: the exports city keeps to ``exports/``."""
    out = tmp_path / "city"
    canonical = run_cli("demo", "--out", str(out), "--scale", "0.05", cwd=tmp_path)
    assert canonical.returncode == 0, canonical.stderr
    before = (out / "labels.csv").read_bytes()
    result = run_cli(
        "demo", "--shape", "exports", "--out", str(out), "--scale", "0.05", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "exports shape" in result.stdout
    assert (out / "exports" / "labels.csv").exists() and (out / "exports" / "재정.sqlite").exists()
    assert (out / "labels.csv").read_bytes() == before
    assert b"attendance,E" in before and b"|2025-" not in before


@pytest.fixture(scope="module")
def exports_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example config beside an exports city, after one ``naebu run --once``."""
    folder = tmp_path_factory.mktemp("exports-city")
    text = CONFIG.read_text(encoding="utf-8").replace('"../../rules"', repr(str(ROOT / "rules")))
    (folder / "config.toml").write_text(text, encoding="utf-8")
    generate_exports(folder / "demo-city", seed=42, scale=SCALE)
    result = run_cli("run", "--once", "--config", "config.toml", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unassigned 0" in result.stdout, result.stdout
    return folder


def test_exports_city_alerts_equal_labels(exports_run: Path) -> None:
    result = run_cli(
        "evaluate", "--labels", "demo-city/exports/labels.csv", "--format", "json",
        "--config", "config.toml", cwd=exports_run,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    wrong = [r for r in rows if r["false_positives"] or r["false_negatives"]]
    assert not wrong, wrong
    # every labelled record is in a case alert, and every case alert holds one
    assert sum(r["labelled"] for r in rows) == sum(r["found"] for r in rows) > 0
    assert sum(r["true_positives"] for r in rows) > 0


def test_exports_city_second_run_raises_nothing(exports_run: Path) -> None:
    """Nothing new, nothing raised: reference data read from files (the directory, the
    accounts) stays stored when no new file came (a run used to empty it)."""
    result = run_cli("run", "--once", "--config", "config.toml", cwd=exports_run)
    assert result.returncode == 0, result.stderr
    assert "new alerts: 0" in result.stdout, result.stdout


def test_exports_city_every_rule_live(exports_run: Path) -> None:
    """Done-when 1: `naebu check` on the example config shows every rule of the pack live."""
    result = run_cli("check", "--config", "config.toml", cwd=exports_run)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "coverage: 35 live, 0 partial, 0 not evaluable" in result.stdout, result.stdout


def test_without_the_card_constant_the_card_rules_are_not_evaluable(
    exports_run: Path, tmp_path: Path
) -> None:
    """Done-when 2: take the constant that makes card approvals card payments out of the config:
    `naebu check` lists the card rules as not evaluable naming the column, and a run over the
    same files raises none of them (and the rest as before)."""
    text = (exports_run / "config.toml").read_text(encoding="utf-8")
    section = re.search(r"(?ms)^\[sources\.card_approvals\.constants\]\n.*?\n\n", text)
    assert section is not None and "payment_method" in section.group(0)
    text = text.replace(section.group(0), "")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    (tmp_path / "demo-city").symlink_to(exports_run / "demo-city", target_is_directory=True)

    checked = run_cli("check", "--config", "config.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    card_rules = ["CARD-HOLIDAY", "CARD-MERCHANT", "CARD-NIGHT", "CARD-PERPERSON", "CARD-SPLIT"]
    for rule in card_rules:
        assert re.search(
            rf"{rule}\s+not evaluable \(missing card_transactions\.payment_method\)", checked.stdout
        ), checked.stdout
    assert "30 live, 0 partial, 5 not evaluable" in checked.stdout
    strict = run_cli("check", "--strict", "--config", "config.toml", cwd=tmp_path)
    assert strict.returncode == 1

    ran = run_cli("run", "--once", "--config", "config.toml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    listed = run_cli("alerts", "list", "--format", "json", "--config", "config.toml", cwd=tmp_path)
    rules = {a["rule_id"] for a in json.loads(listed.stdout)}
    assert rules and not rules & set(card_rules), sorted(rules)
    for rule in card_rules:
        assert re.search(rf"{rule}\s+0\s+0\s+NOT EVALUABLE", ran.stdout), ran.stdout
