"""Result rows and their Markdown table."""

from __future__ import annotations

from agents.benchmarks.measure import Result, markdown_table


def test_markdown_table_formats_rates_and_ratios():
    table = markdown_table(
        [
            Result("env", "rate", 12345.6, "steps/s"),
            Result("env", "r", 0.5, "x", ">= 0.5"),
        ]
    )
    assert table.splitlines()[2:] == [
        "| env | rate | 12,346 | steps/s |  |",
        "| env | r | 0.50 | x | >= 0.5 |",
    ]
