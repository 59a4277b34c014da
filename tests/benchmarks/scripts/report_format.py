"""Small pieces every section of the benchmark report uses: reading a part's JSON, number and
table formatting."""
from __future__ import annotations

import json
from pathlib import Path


def load(data: Path, name: str, problems: list[str]) -> dict | None:
    path = data / f"{name}.json"
    if not path.exists():
        problems.append(f"`{name}.json` is missing: that part of the run failed (see the run's log)")
        return None
    return json.loads(path.read_text())


def of_rounds(rounds: list) -> str:
    return f", median of {len(rounds)} rounds" if len(rounds) > 1 else ""


def f(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def table(header: list[str], rows: list[list], numeric: bool = True) -> str:
    align = [("---:" if numeric and i else "---") for i in range(len(header))]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
