"""Generation files as systems: load, name, and align them on prompt ids (with clear errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.io import format_rows, read_jsonl

REQUIRED = ("id", "post", "response")


@dataclass
class System:
    """One generation file: its name, records by id (file order kept) and provenance."""

    name: str
    path: Path
    records: dict[str, dict[str, Any]]

    @property
    def provenance(self) -> dict[str, Any] | None:
        first = next(iter(self.records.values()))
        return first.get("provenance")


def load_system(path: str | Path, name: str | None = None) -> System:
    """Read a `generate` JSONL; missing fields and duplicate ids raise listing the offending lines."""
    path = Path(path)
    rows = read_jsonl(path)
    problems: list[str] = []
    records: dict[str, dict[str, Any]] = {}
    for lineno, row in enumerate(rows, 1):
        missing = [k for k in REQUIRED if row.get(k) is None]
        if missing:
            problems.append(f"record {lineno} (id={row.get('id')!r}): missing {missing}")
            continue
        rid = str(row["id"])
        if rid in records:
            problems.append(f"record {lineno}: duplicate id {rid!r}")
            continue
        records[rid] = row
    if problems:
        raise ValueError(f"{path}: invalid generation records:{format_rows(problems)}")
    names = {str(r.get("system")) for r in records.values() if r.get("system")}
    return System(name or (names.pop() if len(names) == 1 else path.stem), path, records)


def load_systems(paths: Sequence[str | Path], names: Sequence[str] | None = None) -> list[System]:
    """Load several files; names must be unique (pass names= when two files carry the same one)."""
    if names and len(names) != len(paths):
        raise ValueError(f"{len(names)} system names for {len(paths)} generation files")
    systems = [load_system(p, names[i] if names else None) for i, p in enumerate(paths)]
    seen: dict[str, Path] = {}
    for s in systems:
        if s.name in seen:
            raise ValueError(
                f"two generation files are both named system {s.name!r} ({seen[s.name]}, {s.path}); pass distinct names"
            )
        seen[s.name] = s.path
    return systems


def common_ids(systems: Sequence[System]) -> list[str]:
    """The shared prompt ids in the first file's order; any id missing from some file is an error."""
    all_ids = set().union(*(s.records for s in systems))
    problems = []
    for s in systems:
        missing = sorted(all_ids - set(s.records))
        if missing:
            problems.append(f"{s.path} ({s.name}) lacks {len(missing)} id(s): {', '.join(missing[:10])}")
    if problems:
        raise ValueError("generation files are not on the same prompts:" + format_rows(problems))
    mismatched = [
        f"id {rid}: post differs between {systems[0].name} and {s.name}"
        for rid in systems[0].records
        for s in systems[1:]
        if s.records[rid]["post"] != systems[0].records[rid]["post"]
    ]
    if mismatched:
        raise ValueError(
            "generation files share ids but not posts (different datasets?):" + format_rows(mismatched)
        )
    return list(systems[0].records)
