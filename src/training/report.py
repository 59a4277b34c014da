"""Markdown for evaluation results (written by evaluate.py, shown in the model card)."""

from __future__ import annotations


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def fraction(counts: dict) -> str:
    """ "12/36 (33.3%)", or "-" when there is nothing to count."""
    if not counts["total"]:
        return "-"
    return f"{counts['right']}/{counts['total']} ({percent(counts['right'] / counts['total'])})"


def markdown_table(evaluation: dict) -> str:
    lines = [
        "| set | agreement | false relations, objects present | caption truth rate | names colour + shape "
        "| states a relation (≥ 2 objects) |",
        "|---|---|---|---|---|---|",
    ]
    for row in evaluation["sets"]:
        lines.append(
            f"| {row['name']} | {percent(row['agreement'])} | {fraction(row['relation_decides'])} "
            f"| {percent(row['caption_truth_rate'])} | {percent(row['names_colour_and_shape'])} "
            f"| {percent(row['states_relation'])} |"
        )
    macro = evaluation["macro"]
    lines.append(
        f"| **macro average** | **{percent(macro['agreement'])}** | **{percent(macro['agreement_relation_decides'])}** (pooled) "
        f"| **{percent(macro['caption_truth_rate'])}** | **{percent(macro['names_colour_and_shape'])}** "
        f"| **{percent(macro['states_relation'])}** |"
    )
    return "\n".join(lines)


def targets_table(evaluation: dict) -> str:
    lines = ["| measure | target | measured | met |", "|---|---|---|---|"]
    for target in evaluation["targets"]:
        met = "yes" if target["met"] else "**no**"
        lines.append(f"| {target['measure']} | ≥ {percent(target['target'])} | {percent(target['value'])} | {met} |")
    return "\n".join(lines)
