"""Fixtures shared by the mini-program tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_wechat import FakeWeChat


@pytest.fixture(scope="module")
def fake(request: pytest.FixtureRequest) -> Iterator[FakeWeChat]:
    """WeChat's token and send APIs, for the appid the test module configures its desk with."""
    server = FakeWeChat(appid=request.module.APPID).start()
    yield server
    server.stop()
