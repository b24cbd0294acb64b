"""办件进度查询: ask for the tracking number, then look the case up at the desk."""
from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_follow_up
from actions.desk_client import DeskUnavailable, fetch_case
from actions.kb import get_kb
from actions.reply import send

logger = logging.getLogger(__name__)

# After NFKC: "SL" + 8-digit date + 4-digit sequence, hyphen optional, any case.
# A hyphen or a space may sit after "SL" and between date and number ("SL-20261203-0001",
# "sl20261203 0001"): citizens copy the number from paper and retype it.
_TRACKING_RE = re.compile(r"(?<![A-Za-z0-9])[Ss][Ll][-\s]?(\d{8})[-\s]?(\d{4})(?!\d)")

STATUS_LABELS = {
    "bot": "智能客服接待中",
    "queued": "排队等待人工受理",
    "assigned": "工作人员处理中",
    "closed": "已办结",
    "rated": "已办结（已评价）",
}


def canonical_tracking_no(raw: Optional[str]) -> Optional[str]:
    """'ｓｌ２０２６１２０３－０００１' / 'sl202612030001' / 'SL-20261203 0001' -> 'SL20261203-0001'."""
    if not raw:
        return None
    match = _TRACKING_RE.search(unicodedata.normalize("NFKC", str(raw)))
    return f"SL{match.group(1)}-{match.group(2)}" if match else None


def tracking_no_from(tracker: Tracker) -> Optional[str]:
    message = tracker.latest_message or {}
    for ent in message.get("entities") or []:
        if ent.get("entity") == "tracking_no":
            number = canonical_tracking_no(ent.get("value"))
            if number:
                return number
    # The regex extractor may be absent in an old model; the text is authoritative.
    return canonical_tracking_no(message.get("text"))


# Citizens read times in China time; the desk sends ISO timestamps in UTC.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def _day(value: Any) -> str:
    """'2026-12-03T19:52:00+00:00' -> '2026-12-04 03:52' (China time); '—' when absent."""
    text = str(value or "")
    if not text:
        return "—"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:16].replace("T", " ")  # not ISO: show what the desk sent
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # the desk stores UTC
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def citizen_id_from(tracker: Tracker) -> Optional[int]:
    """The desk puts the citizen's id in every message's metadata; absent when Rasa is called directly."""
    value = ((tracker.latest_message or {}).get("metadata") or {}).get("citizen_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ActionCaseStatus(Action):
    def __init__(self) -> None:
        self.kb = get_kb()

    def name(self) -> Text:
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        number = tracking_no_from(tracker)
        if number is None and answer_follow_up(dispatcher, self.kb, tracker):
            return []  # "多久能办好" right after an answer asks about that service, not a case
        if number is None:
            send(dispatcher, text=self.kb.text("case_ask_number"), kind="case_status", topic="case_status")
            return [SlotSet("awaiting_tracking_no", True)]
        try:
            case = await fetch_case(number, citizen_id=citizen_id_from(tracker))
        except (DeskUnavailable, asyncio.TimeoutError) as exc:
            logger.warning("case lookup for %s failed: %s", number, exc)
            send(
                dispatcher,
                text=self.kb.text("case_unavailable", tracking_no=number),
                kind="case_status",
                topic="case_status",
                buttons=[("转人工客服", "/human_handoff")],
            )
            return [SlotSet("awaiting_tracking_no", False), SlotSet("tracking_no", number)]
        if case is None:
            text = self.kb.text("case_not_found", tracking_no=number)
        else:
            status = case.get("status_label") or STATUS_LABELS.get(str(case.get("status")), str(case.get("status") or "处理中"))
            text = self.kb.text(
                "case_found",
                tracking_no=number,
                status=status,
                created_at=_day(case.get("created_at")),
                updated_at=_day(case.get("updated_at")),
            )
        send(dispatcher, text=text, kind="case_status", topic="case_status")
        return [SlotSet("awaiting_tracking_no", False), SlotSet("tracking_no", number)]
