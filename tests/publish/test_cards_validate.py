"""`python -m cards validate`: each check fails on the defect it exists for, and passes a clean folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cards.validate import validate_folder

TRAIN = Path("data/effective_support/train-00000-of-00001.parquet")


def _edit_first_row(folder: Path, column: str, value: str) -> None:
    table = pq.read_table(folder / TRAIN)
    rows = table.to_pylist()
    rows[0][column] = value
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), folder / TRAIN)


def test_clean_folder_passes(contract_folder: Path) -> None:
    report = validate_folder(contract_folder)
    assert report.ok, report.render()
    assert "improvement/test is empty and left out of configs" in report.notes  # the demo build has none


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (
            "comment_text",
            "write to me at jane.doe@example.org",
            "column comment_text has 1 row(s) with an email",
        ),
        ("post_text", "thanks u/jane_doe99 for this", "column post_text has 1 row(s) with a u/ username"),
        ("author", "jane_doe99", "column author has 1 value(s) that are not pseudonyms"),
    ],
)
def test_raw_usernames_and_emails_are_found(
    contract_folder: Path, column: str, value: str, expected: str
) -> None:
    _edit_first_row(contract_folder, column, value)
    report = validate_folder(contract_folder)
    assert any(expected in e and "effective_support/train" in e for e in report.errors), report.render()


def test_emails_in_nested_conversation_columns_are_found(contract_folder: Path) -> None:
    path = contract_folder / "data/preference/train-00000-of-00001.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["chosen"][0]["content"] = "mail me: helper@example.com"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)
    report = validate_folder(contract_folder)
    assert any("preference/train: column chosen has 1 row(s) with an email" in e for e in report.errors), (
        report.render()
    )


def test_configs_must_match_the_files(contract_folder: Path) -> None:
    (contract_folder / "data/preference/stray.parquet").write_bytes((contract_folder / TRAIN).read_bytes())
    (contract_folder / "data/preference/test-00000-of-00001.parquet").unlink()
    errors = validate_folder(contract_folder).errors
    assert any("data/preference/stray.parquet: parquet file not listed" in e for e in errors)
    assert any(
        "configs.preference.test: pattern 'data/preference/test-*.parquet' matches no file" in e
        for e in errors
    )


def test_row_counts_must_match_the_manifest(contract_folder: Path) -> None:
    table = pq.read_table(contract_folder / TRAIN)
    pq.write_table(table.slice(0, 2), contract_folder / TRAIN)
    errors = validate_folder(contract_folder).errors
    assert f"effective_support/train: 2 rows on disk, manifest says {table.num_rows}" in errors


def test_metadata_and_yaml_problems(contract_folder: Path) -> None:
    readme = contract_folder / "README.md"
    text = readme.read_text()
    readme.write_text(text.replace("pretty_name: RedditESS\n", "").replace("license: other\n", ""))
    errors = validate_folder(contract_folder).errors
    assert any("required metadata missing: license, pretty_name" in e for e in errors), errors
    readme.write_text("---\nconfigs: [unclosed\n---\n# card\n")
    errors = validate_folder(contract_folder).errors
    assert any("YAML metadata does not parse" in e for e in errors), errors


def test_cli_exit_status(contract_folder: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "cards", "validate", str(contract_folder)], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "OK" in ok.stdout
    _edit_first_row(contract_folder, "author", "jane_doe99")
    bad = subprocess.run(
        [sys.executable, "-m", "cards", "validate", str(contract_folder)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "not pseudonyms" in bad.stdout
    assert "jane_doe99" not in bad.stdout  # the report names the column, never the value


def test_cli_log_level(contract_folder: Path) -> None:
    cmd = [sys.executable, "-m", "cards", "validate", str(contract_folder)]
    default = subprocess.run(cmd, capture_output=True, text=True)
    assert default.returncode == 0 and "INFO cards: validating" in default.stderr
    quiet = subprocess.run([*cmd, "--log_level", "warning"], capture_output=True, text=True)
    assert quiet.returncode == 0 and "OK" in quiet.stdout and "INFO" not in quiet.stderr
    wrong = subprocess.run([*cmd, "--log_level", "loud"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice: 'loud'" in wrong.stderr
