"""``make run`` prints where each page is: every desk page README's table lists is in the
start-up banner of scripts/run.sh."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_banner_lists_every_desk_page_of_the_readme() -> None:
    pages = re.findall(r"^\| http://127\.0\.0\.1:8000(/[a-z]+) \|", (ROOT / "README.md").read_text(), re.M)
    assert {"/widget", "/agent", "/reports", "/staff"} <= set(pages)
    script = (ROOT / "scripts" / "run.sh").read_text()
    start = script.index("is running (Ctrl-C stops everything)")
    banner = script[start:script.index("\nEOT", start)]
    listed = re.findall(r"http://127\.0\.0\.1:\$DESK_PORT(/[a-z]+)$", banner, re.M)
    assert listed == pages
