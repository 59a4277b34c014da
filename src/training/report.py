"""Markdown for evaluation results (written by evaluate.py, shown in the model card)."""

from __future__ import annotations


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def markdown_table(evaluation: dict) -> str:
    lines = [
        "| set | agreement | caption truth rate | names colour + shape | states a relation (≥ 2 objects) |",
        "|---|---|---|---|---|",
    ]
    for row in evaluation["sets"]:
        lines.append(
            f"| {row['name']} | {percent(row['agreement'])} | {percent(row['caption_truth_rate'])} "
            f"| {percent(row['names_colour_and_shape'])} | {percent(row['states_relation'])} |"
        )
    macro = evaluation["macro"]
    lines.append(
        f"| **macro average** | **{percent(macro['agreement'])}** | **{percent(macro['caption_truth_rate'])}** "
        f"| **{percent(macro['names_colour_and_shape'])}** | **{percent(macro['states_relation'])}** |"
    )
    return "\n".join(lines)


def targets_table(evaluation: dict) -> str:
    lines = ["| measure | target | measured | met |", "|---|---|---|---|"]
    for target in evaluation["targets"]:
        met = "yes" if target["met"] else "**no**"
        lines.append(f"| {target['measure']} | ≥ {percent(target['target'])} | {percent(target['value'])} | {met} |")
    return "\n".join(lines)
