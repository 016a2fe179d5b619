"""redditess_core.jsonfile: the kit's JSON files are read with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from redditess_core.jsonfile import read_json, read_json_object


def test_reads_objects_and_other_values(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"version": "0.1.0", "n": [1, 2]}', encoding="utf-8")
    (tmp_path / "b.json").write_text("[1, 2]", encoding="utf-8")
    assert read_json_object(tmp_path / "a.json") == {"version": "0.1.0", "n": [1, 2]}
    assert read_json(str(tmp_path / "b.json")) == [1, 2]


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (None, FileNotFoundError, r"x\.json: no such file"),
        ('{"a": 1', ValueError, r"x\.json is not valid JSON \(.* at line 1\)"),
        ("{}\n{}", ValueError, r"x\.json is not valid JSON \(Extra data at line 2\)"),
        ("[1, 2]", ValueError, r"x\.json is not a JSON object \(found list\)"),
        ('"text"', ValueError, r"x\.json is not a JSON object \(found str\)"),
    ],
)
def test_errors_name_the_file(tmp_path: Path, text: str | None, error: type, message: str) -> None:
    path = tmp_path / "x.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match=message):
        read_json_object(path)
