"""Bot tests run in the bot environment:  .venv-bot/bin/python -m pytest tests/bot"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
for path in (str(ROOT), str(BOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DIALOGUE_INTENTS = {"greet", "goodbye", "human_handoff", "case_status", "out_of_scope"}


def policy_topics_path() -> Path:
    candidates = [os.environ.get("POLICY_TOPICS"), ROOT.parent / "shared" / "policy_topics.yml", "/work/shared/policy_topics.yml"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.skip("shared/policy_topics.yml (the topic contract) is not beside the repository")


@pytest.fixture(scope="session")
def policy_topics() -> list:
    import yaml

    return yaml.safe_load(policy_topics_path().read_text(encoding="utf-8"))["topics"]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model scripts/train_bot.sh produces (cached by input hash; trains on a miss)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train_bot.sh")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    model = Path(result.stdout.strip().splitlines()[-1])
    assert model.is_file(), model
    return model
