"""Manager reports on cases: the 工单明细 list, its CSV export, and the 好差评 follow-up list."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from agent_desk.models import AuditEntry, Case
from agent_desk.services.reports import count_cases, export_cases_csv
from agent_desk.services.tracking import CHINA_TZ
from tests.agent_desk.desk_process import plain_desk, seed_case, seed_rating  # noqa: F401  (fixture)

PHONE, ID_NO = "13812345678", "110101199003071234"


@pytest.fixture
async def api(plain_desk):  # noqa: F811
    async with httpx.AsyncClient(base_url=plain_desk.url, timeout=60) as client:
        yield client


@pytest.fixture
def manager(plain_desk):  # noqa: F811
    return plain_desk.headers("manager", "manager-demo-2026")


def today() -> str:
    return datetime.now(CHINA_TZ).date().isoformat()


async def served(api, plain_desk, desk_ctx, *, score: int | None, comment: str = "", **seed) -> Case:  # noqa: F811
    """A case accepted and closed by 王晓明, then rated ``score`` (when given)."""
    case = await seed_case(desk_ctx, **seed)
    agent = plain_desk.headers("agent", "agent-demo-2026")
    assert (await api.post(f"/api/cases/{case.id}/accept", headers=agent)).status_code == 200
    assert (await api.post(f"/api/cases/{case.id}/close", json={}, headers=agent)).status_code == 200
    if score is not None:
        await seed_rating(desk_ctx, case=case, score=score, comment=comment)
    async with desk_ctx.sessions() as session:
        fresh = await session.get(Case, case.id)
        assert fresh is not None
        return fresh


async def audit_actions(desk_ctx, action: str) -> list[AuditEntry]:
    async with desk_ctx.sessions() as session:
        return list((await session.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars())


async def test_case_export_is_excel_ready_masked_and_audited(api, plain_desk, desk_ctx, manager) -> None:  # noqa: F811
    bad = await served(api, plain_desk, desk_ctx, score=1, comment=f"=HYPERLINK(\"x\") 打我电话{PHONE}，身份证{ID_NO}",
                       name="钱女士", bot_topics=("gjj_tiqu", "human_handoff"), last_topic="human_handoff")
    waiting = await seed_case(desk_ctx, name="孙先生", reason="button")
    agent = plain_desk.headers("agent", "agent-demo-2026")
    assert (await api.get("/api/reports/cases.csv", headers=agent)).status_code == 403

    r = await api.get("/api/reports/cases.csv", params={"from": today(), "to": today()}, headers=manager)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and "filename*=UTF-8''" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    assert "content-length" not in r.headers  # streamed, not built in memory first
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["受理编号", "渠道", "状态", "转人工时间", "接入时间", "办结时间", "坐席", "咨询主题",
                       "转人工原因", "评价", "市民意见", "整改状态", "整改说明"]
    by_no = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    row = by_no[bad.tracking_no]
    shown = [row[k] for k in ("渠道", "状态", "坐席", "咨询主题", "转人工原因", "评价", "整改状态")]
    assert shown == ["网页", "已办结", "王晓明", "住房公积金提取", "要求人工", "非常不满意", "待整改"]
    assert row["转人工时间"] == bad.created_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert row["办结时间"] == bad.closed_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert row["市民意见"].startswith("'=HYPERLINK")  # Excel shows it as text, never runs it
    assert PHONE not in r.text and ID_NO not in r.text and "138****5678" in row["市民意见"]
    assert "钱女士" not in r.text and "孙先生" not in r.text  # no citizen names
    assert by_no[waiting.tracking_no]["状态"] == "排队等待人工客服" and by_no[waiting.tracking_no]["评价"] == ""

    exports = [e for e in await audit_actions(desk_ctx, "report.export") if e.detail.get("from") == today()]
    assert exports and exports[-1].detail["rows"] >= 2

    # Outside the range: nothing but the header.
    old = await api.get("/api/reports/cases.csv", params={"from": "2001-01-01", "to": "2001-01-31"}, headers=manager)
    assert list(csv.reader(io.StringIO(old.content.decode("utf-8-sig"))))[1:] == []
    bad_range = await api.get("/api/reports/cases.csv", params={"from": "2026-02-01", "to": "2026-01-01"},
                              headers=manager)
    assert bad_range.status_code == 400


async def test_export_pages_through_every_case_once(desk_ctx) -> None:
    for _ in range(5):
        await seed_case(desk_ctx)
    day = datetime.now(CHINA_TZ).date()
    chunks = [c async for c in export_cases_csv(desk_ctx.sessions, start=day, end=day, batch=2)]
    rows = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))[1:]
    async with desk_ctx.sessions() as session:
        total = await count_cases(session, start=day, end=day)
    assert len(chunks) >= 4 and len(rows) == total and len({r[0] for r in rows}) == total


async def test_case_list_pages_newest_first(api, plain_desk, desk_ctx, manager) -> None:  # noqa: F811
    seeded = [await seed_case(desk_ctx) for _ in range(3)]
    first = (await api.get("/api/reports/cases", params={"from": today(), "to": today(), "limit": 2},
                           headers=manager)).json()
    assert first["total"] >= 3 and len(first["cases"]) == 2 and first["next_before"] == first["cases"][-1]["id"]
    assert first["cases"][0]["id"] == seeded[-1].id  # the newest
    second = (await api.get("/api/reports/cases", params={"from": today(), "to": today(), "limit": 2,
                                                          "before": first["next_before"]}, headers=manager)).json()
    assert second["cases"][0]["id"] == seeded[0].id
    agent = plain_desk.headers("agent", "agent-demo-2026")
    assert (await api.get("/api/reports/cases", headers=agent)).status_code == 403


async def test_follow_up_list_masks_comments_and_records_who_rectified(api, plain_desk, desk_ctx,  # noqa: F811
                                                                        manager) -> None:
    case = await served(api, plain_desk, desk_ctx, score=2, comment=f"回电{PHONE}")
    happy = await served(api, plain_desk, desk_ctx, score=5, comment="很好")
    pending = (await api.get("/api/ratings/", params={"rectification": "pending"}, headers=manager)).json()
    mine = next(r for r in pending["ratings"] if r["tracking_no"] == case.tracking_no)
    assert mine["comment"] == "回电138****5678" and mine["label"] == "不满意" and mine["agent_name"] == "王晓明"
    assert mine["rectification_label"] == "待整改" and mine["case_closed_at"]
    assert all(r["tracking_no"] != happy.tracking_no for r in pending["ratings"])

    done = await api.post(f"/api/ratings/{mine['id']}/rectification", json={"note": "已回访市民并致歉"},
                          headers=manager)
    assert done.status_code == 200
    assert done.json()["rating"]["rectified_by_name"] == "张主任"
    assert done.json()["rating"]["rectification_label"] == "已整改"
    bad = (await api.get("/api/ratings/", params={"rectification": "bad"}, headers=manager)).json()["ratings"]
    row = next(r for r in bad if r["tracking_no"] == case.tracking_no)
    assert (row["rectification"], row["rectification_note"], row["rectified_by_name"]) == (
        "done", "已回访市民并致歉", "张主任")
    assert all(r["score"] <= 2 for r in bad)
    assert any(e.target_id == case.tracking_no for e in await audit_actions(desk_ctx, "rating.rectify"))
    assert await audit_actions(desk_ctx, "rating.list")


async def test_follow_up_list_pages(api, plain_desk, desk_ctx, manager) -> None:  # noqa: F811
    for score in (1, 2, 1):
        await served(api, plain_desk, desk_ctx, score=score)
    first = (await api.get("/api/ratings/", params={"rectification": "bad", "limit": 2}, headers=manager)).json()
    assert len(first["ratings"]) == 2 and first["next_before"] == first["ratings"][-1]["id"]
    rest = (await api.get("/api/ratings/", params={"rectification": "bad", "limit": 2,
                                                   "before": first["next_before"]}, headers=manager)).json()
    assert rest["ratings"] and max(r["id"] for r in rest["ratings"]) < first["next_before"]
    assert (await api.get("/api/ratings/", params={"rectification": "odd"}, headers=manager)).status_code == 400


def test_china_time_format() -> None:
    from agent_desk.services.reports import china_time

    assert china_time(datetime(2026, 1, 31, 16, 30, tzinfo=CHINA_TZ) - timedelta(hours=8)) == "2026-01-31 08:30:00"
    assert china_time(None) == ""
