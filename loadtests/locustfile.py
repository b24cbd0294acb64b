"""Load on 127.0.0.1 only: citizens chatting over socket.io and agents polling the queue.

Run through `make bench` (scripts/bench.sh), which starts the stack, runs locust headless
for a fixed time and writes the figures to docs/benchmarks.md.
"""
from __future__ import annotations

import os
import random
import threading
import time
import uuid

import socketio
from locust import HttpUser, User, between, events, task

HOST = os.environ.get("BENCH_DESK_URL", "http://127.0.0.1:8000")
if not HOST.startswith("http://127.0.0.1") and not HOST.startswith("http://localhost"):
    raise SystemExit("load tests only target 127.0.0.1")

QUESTIONS = [
    "社保卡丢了怎么补办", "公积金怎么提取", "护照怎么办理", "新生儿怎么上户口", "居住证怎么办",
    "驾驶证到期了怎么换", "营业执照怎么申请", "个税汇算什么时候开始", "低保怎么申请", "大厅几点上班",
    "异地就医备案怎么弄", "失业金怎么领", "结婚登记需要什么材料", "无犯罪记录证明在哪开",
]


class CitizenUser(User):
    """A citizen on the web widget: connect, ask a question, wait for the bot's answer.

    Reads the answer and types the next question in 3-6 s: about 12 messages a minute, under
    the desk's per-citizen limit (DESK_WEB_RATE_CITIZEN, 20/60) as real citizens are."""

    wait_time = between(3, 6)

    def on_start(self) -> None:
        self.answers: dict[int, threading.Event] = {}
        self.sio = socketio.Client(reconnection=False)
        self.session_id = uuid.uuid4().hex
        self._answered = threading.Event()
        self.sio.on("bot_uttered", lambda data: self._answered.set())
        t0 = time.perf_counter()
        try:
            self.sio.connect(HOST, transports=["websocket"])
            self.sio.emit("session_request", {"session_id": self.session_id})
            events.request.fire(request_type="socketio", name="connect",
                                response_time=(time.perf_counter() - t0) * 1000, response_length=0, exception=None,
                                context={})
        except Exception as exc:  # reported to locust as a failure
            events.request.fire(request_type="socketio", name="connect", response_time=0, response_length=0,
                                exception=exc, context={})
            raise

    def on_stop(self) -> None:
        self.sio.disconnect()

    @task
    def ask(self) -> None:
        self._answered.clear()
        t0 = time.perf_counter()
        exc: Exception | None = None
        try:
            ack = self.sio.call("user_uttered", {"message": random.choice(QUESTIONS), "session_id": self.session_id,
                                                 "message_id": uuid.uuid4().hex}, timeout=30)
            stored = (time.perf_counter() - t0) * 1000
            events.request.fire(request_type="socketio", name="message stored+answered (ack)", response_time=stored,
                                response_length=0, exception=None if ack.get("ok") else RuntimeError(ack),
                                context={})
            if not self._answered.wait(30):
                exc = TimeoutError("no bot_uttered within 30 s")
        except Exception as e:
            exc = e
        events.request.fire(request_type="socketio", name="question → first answer",
                            response_time=(time.perf_counter() - t0) * 1000, response_length=0, exception=exc,
                            context={})


class AgentUser(HttpUser):
    """An agent's workspace polling the queue and a manager looking at today's report."""

    host = HOST
    wait_time = between(2, 5)

    def on_start(self) -> None:
        r = self.client.post("/api/auth/login", json={"username": "agent", "password": "agent-demo-2026"})
        self.auth = {"Authorization": f"Bearer {r.json()['token']}"}
        m = self.client.post("/api/auth/login", json={"username": "manager", "password": "manager-demo-2026"})
        self.mauth = {"Authorization": f"Bearer {m.json()['token']}"}

    @task(5)
    def queue(self) -> None:
        self.client.get("/api/cases/?status=queued", headers=self.auth, name="/api/cases/?status=queued")

    @task(1)
    def report(self) -> None:
        self.client.get("/api/reports/summary", headers=self.mauth, name="/api/reports/summary")

    @task(2)
    def health(self) -> None:
        self.client.get("/healthz")
