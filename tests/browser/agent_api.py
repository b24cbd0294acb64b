"""The agent side of browser tests, driven over the HTTP API."""
from __future__ import annotations

import time
from typing import Any

import httpx


class AgentApi:
    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def case_by_tracking(self, tracking_no: str, status: str = "queued", timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for case in self.http.get("/api/cases/", params={"status": status}).json()["cases"]:
                if case["tracking_no"] == tracking_no:
                    return case
            time.sleep(0.2)
        raise AssertionError(f"case {tracking_no} not {status}")

    def accept(self, case_id: int) -> None:
        self.http.post(f"/api/cases/{case_id}/accept").raise_for_status()

    def say(self, case_id: int, text: str) -> dict[str, Any]:
        r = self.http.post(f"/api/cases/{case_id}/messages", json={"text": text})
        r.raise_for_status()
        return r.json()["message"]

    def messages(self, case_id: int) -> list[dict[str, Any]]:
        return self.http.get(f"/api/cases/{case_id}/messages").json()["messages"]

    def typing(self, case_id: int) -> None:
        self.http.post(f"/api/cases/{case_id}/typing").raise_for_status()

    def read(self, case_id: int, up_to: int) -> list[int]:
        return self.http.post(f"/api/cases/{case_id}/read", json={"up_to": up_to}).json()["read"]

    def close(self, case_id: int, note: str = "") -> None:
        self.http.post(f"/api/cases/{case_id}/close", json={"note": note}).raise_for_status()
