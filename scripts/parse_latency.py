"""HTTP /model/parse latency of a trained model, measured on a real `rasa run --enable-api`.

Used by scripts/eval_nlu.py (bot environment); stdlib only.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_latency(
    model: Path, texts: list[str], repeats: int, *, cwd: Path, pythonpath: Path
) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, number of samples): sequential parses of ``texts`` after a warm-up."""
    port = free_port()
    token = "eval-token"
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    cmd = [
        str(Path(sys.executable).parent / "rasa"), "run", "--enable-api", "--auth-token", token,
        "-i", "127.0.0.1", "-p", str(port), "--model", str(model),
    ]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("rasa run exited:\n" + log.read().decode(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("rasa run did not become ready in 180 s")
            time.sleep(0.5)

        def parse(text: str) -> float:
            body = json.dumps({"text": text}).encode()
            req = urllib.request.Request(
                f"{url}/model/parse?token={token}", data=body, headers={"Content-Type": "application/json"}
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            return (time.perf_counter() - t0) * 1000

        for text in texts[:20]:  # warm-up: jieba, TF graph
            parse(text)
        samples = sorted(parse(t) for _ in range(repeats) for t in texts)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    def pct(q: float) -> float:
        return samples[min(len(samples) - 1, int(round(q * (len(samples) - 1))))]

    return pct(0.50), pct(0.95), len(samples)
