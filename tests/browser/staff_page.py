"""Helpers for the staff pages (/agent, /reports) in Chromium."""
from __future__ import annotations


def login(page, url: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Open a staff page and sign in through its login form."""
    page.goto(url)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
