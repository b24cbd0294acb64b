"""Small builders for action tests (rasa_sdk objects, a stub desk)."""
from __future__ import annotations

import asyncio
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker(
    intent: str,
    text: str = "",
    *,
    confidence: float = 0.95,
    ranking: Optional[List[Tuple[str, float]]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    response_key: Optional[str] = None,
    response_confidence: float = 0.9,
    slots: Optional[Dict[str, Any]] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])],
        "entities": entities or [],
    }
    if response_key:
        latest["response_selector"] = {
            "out_of_scope": {"response": {"intent_response_key": response_key, "confidence": response_confidence}}
        }
    return Tracker("citizen-1", slots or {}, latest, [], False, None, {}, "action_listen")


def run_action(action, trk: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Runs the action; returns (custom payloads sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, {}))
    payloads = [m["custom"] for m in dispatcher.messages]
    assert len(payloads) == len(dispatcher.messages), "every utterance must be a json_message"
    return payloads, events


class _DeskStub(BaseHTTPRequestHandler):
    cases: Dict[str, Dict[str, Any]] = {}
    token = ""
    seen: List[Tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        prefix = "/api/internal/cases/"
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(401, {"error": "unauthorized"})
        if not self.path.startswith(prefix):
            return self._send(404, {"error": "not found"})
        case = self.cases.get(self.path[len(prefix):].split("?", 1)[0])
        if case is None:
            return self._send(404, {"error": "no such case"})
        return self._send(200, case)

    def _send(self, status: int, body: Dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def desk_stub(cases: Dict[str, Dict[str, Any]], token: str) -> Iterator[Tuple[str, list]]:
    handler = type("DeskStub", (_DeskStub,), {"cases": cases, "token": token, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # bound and listening on return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
