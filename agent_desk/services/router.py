"""The conversation router: every inbound citizen message goes through ``handle_inbound``.

Order of work for one message: normalise → store (dedupe) → commit → then, by conversation
state, either relay to Rasa (bot mode) or to the agents (human mode). Rasa never sees a
message of a conversation that is queued or assigned.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import (
    INBOUND_METADATA_KEYS,
    STANDING_BUTTONS,
    Button,
    InboundMessage,
    OutboundMessage,
    clean_display_text,
    safe_text,
)
from channels.normalize import mask_pii, normalize_text

from ..bot_client import BotClient, BotUnavailable
from ..context import DeskContext
from ..models import Citizen, Conversation, ConversationStatus, Message, utcnow
from .cases import announce_opened, case_view, open_case
from .crisis import CRISIS_REPLY, is_crisis
from .delivery import deliver_to_citizen, notify_agents, say_to_citizen, with_message_id
from .human_mode import crisis_in_case, relay_to_agents, tell_queue_position
from .language import FOREIGN_LANGUAGE_REPLY, is_foreign_language
from .messages import store_message, store_outbound
from .ratings import RatingError, RatingRequest, parse_rate_payload, rate_case, rating_display

log = logging.getLogger("desk.router")

HANDOFF_PAYLOAD = "/human_handoff"
# Typed while already waiting: the citizen wants to know the person is coming, not a new case.
HANDOFF_WORDS = {HANDOFF_PAYLOAD, "转人工", "人工", "人工客服", "转人工客服", "找人工", "真人", "人呢", "有人吗"}
RATE_PREFIX = "/rate"
# Button payloads are "/<topic id>". Rasa's own control intents and payloads carrying
# entities ("/intent{...}") are not something a citizen's button sends: they go as plain text.
PAYLOAD_RE = re.compile(r"^/[a-z_]{2,40}$")
RASA_CONTROL = {"/restart", "/session_start", "/back", "/nlu_fallback", "/action_listen"}
FALLBACKS_BEFORE_HANDOFF = 2
# A message with no word in it (only emoji, punctuation or digits: "😀😀", "？？", "123"; kana and
# Hangul are words) that the bot cannot place is no sign the citizen needs a person; its
# fallback is not counted.
_HAS_WORDS = re.compile(r"[A-Za-z\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
KNOWLEDGE_REPLY_KINDS = frozenset({"answer"})  # a menu only guesses the topic; an answer names it
HARD_MAX_STORED_CHARS = 20000  # what we keep of an over-long message; channels cap bodies earlier
OFFERED_LOOKBACK = 50  # desk messages searched for the button a citizen pressed

_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


@dataclass(frozen=True)
class InboundResult:
    duplicate: bool
    message_id: int | None
    conversation_id: int | None
    # What transcripts show instead of a button payload ("转人工" for "/human_handoff"); None = the text.
    display_text: str | None = None


def bot_text(text: str) -> str:
    """What Rasa may see: topic-button payloads as they are, anything else slash-led as text."""
    if text.startswith("/") and (not PAYLOAD_RE.match(text) or text in RASA_CONTROL):
        return text.lstrip("/").strip() or text
    return text


async def get_or_create_citizen(session: AsyncSession, *, channel: str, external_id: str) -> Citizen:
    stmt = select(Citizen).where(Citizen.channel == channel, Citizen.external_id == external_id)
    citizen = (await session.execute(stmt)).scalar_one_or_none()
    if citizen is not None:
        citizen.last_seen_at = utcnow()
        return citizen
    citizen = Citizen(channel=channel, external_id=external_id)
    try:
        async with session.begin_nested():
            session.add(citizen)
            await session.flush()
    except IntegrityError:  # created concurrently by another worker
        citizen = (await session.execute(stmt)).scalar_one()
    return citizen


async def latest_conversation(session: AsyncSession, *, citizen_id: int) -> Conversation | None:
    return (await session.execute(
        select(Conversation).where(Conversation.citizen_id == citizen_id)
        .order_by(Conversation.id.desc()).limit(1)
    )).scalar_one_or_none()


async def open_conversation(session: AsyncSession, *, citizen: Citizen) -> Conversation:
    conv = await latest_conversation(session, citizen_id=citizen.id)
    if conv is None or conv.status == ConversationStatus.closed:
        conv = Conversation(citizen_id=citizen.id, channel=citizen.channel)
        session.add(conv)
        await session.flush()
    return conv


async def handle_inbound(ctx: DeskContext, msg: InboundMessage) -> InboundResult:
    """Process one citizen message, strictly in arrival order per citizen."""
    key = f"{msg.channel}:{msg.external_user_id}"
    async with _locks[key]:
        # Cross-worker: the same citizen may be connected to two workers (two tabs).
        async with ctx.redis.lock(ctx.keys.citizen_lock(msg.channel, msg.external_user_id),
                                  timeout=60, blocking_timeout=60):
            try:
                return await _handle(ctx, msg)
            finally:
                lock = _locks.get(key)
                if lock is not None and not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                    _locks.pop(key, None)


async def offered_titles(session: AsyncSession, *, citizen_id: int, payload: str) -> list[str]:
    """Titles of the buttons with this payload that the desk offered the citizen, latest first."""
    rows = await session.execute(
        select(Message.payload).where(Message.citizen_id == citizen_id, Message.sender != "citizen",
                                      Message.private.is_(False))
        .order_by(Message.id.desc()).limit(OFFERED_LOOKBACK))
    titles = [str(b.get("title")) for p in rows.scalars() if isinstance(p, dict)
              for b in p.get("buttons") or () if isinstance(b, dict) and b.get("payload") == payload]
    return titles + [b.title for b in STANDING_BUTTONS if b.payload == payload]


async def citizen_metadata(session: AsyncSession, *, citizen: Citizen, msg: InboundMessage, text: str,
                           rating: RatingRequest | None) -> dict[str, object]:
    """The metadata stored with a citizen's message (and forwarded to Rasa).

    Only known keys survive. ``display_text`` is what agents and the citizen's other tabs show
    instead of the text, so it is never taken on a client's word: a rating reads as the desk
    words it; a button payload shows a button's title only if the desk offered that button to
    this citizen (the claimed title if it is one of them, else the latest one); typed text is
    shown as typed.
    """
    meta = {k: v for k, v in msg.metadata.items() if k in INBOUND_METADATA_KEYS}
    claimed = clean_display_text(meta.pop("display_text", None))
    payload = text.strip()
    display: str | None = None
    if rating is not None:
        display = rating_display(rating)
    elif msg.kind == "text" and payload.startswith("/") and len(payload) <= 2000:
        titles = await offered_titles(session, citizen_id=citizen.id, payload=payload)
        if claimed is not None:
            display = claimed if claimed in titles else None
        elif titles:
            display = titles[0]
    if claimed is not None and display != claimed:
        log.info("citizen display text not shown: no such button offered", extra={"payload": payload[:40]})
    if display:
        meta["display_text"] = display
    return meta


async def _handle(ctx: DeskContext, msg: InboundMessage) -> InboundResult:
    raw = safe_text(msg.text or "")
    # The normalised text is for deciding what the message is; what the citizen wrote is kept
    # as written (the stored text, a rating's comment).
    norm = normalize_text(raw, max_len=ctx.settings.max_message_chars)
    # Read whole, whatever its length or kind: a citizen in distress often writes a long story,
    # or says it in a rating comment (services/crisis.py).
    in_crisis = msg.kind == "text" and is_crisis(
        norm.text if not norm.too_long else normalize_text(raw, max_len=HARD_MAX_STORED_CHARS).text)
    is_rate_payload = msg.kind == "text" and norm.text.startswith(RATE_PREFIX)
    rating = (parse_rate_payload(raw) or parse_rate_payload(norm.text)) if is_rate_payload else None

    async with ctx.sessions() as session:
        citizen = await get_or_create_citizen(session, channel=msg.channel, external_id=msg.external_user_id)
        if msg.source_id:
            dup = (await session.execute(select(Message.id, Message.conversation_id).where(
                Message.citizen_id == citizen.id, Message.source_id == msg.source_id))).first()
            if dup is not None:
                return InboundResult(duplicate=True, message_id=dup[0], conversation_id=dup[1])
        if is_rate_payload:
            conv = await latest_conversation(session, citizen_id=citizen.id) or await open_conversation(
                session, citizen=citizen)
        else:
            conv = await open_conversation(session, citizen=citizen)
        meta = await citizen_metadata(session, citizen=citizen, msg=msg, text=raw, rating=rating)
        stored = await store_message(
            session, conversation=conv, sender="citizen", kind=msg.kind, text=raw[:HARD_MAX_STORED_CHARS],
            payload={"normalized": norm.text, "too_long": norm.too_long, **msg.payload,
                     **({"metadata": meta} if meta else {})},
            source_id=msg.source_id,
        )
        try:
            await session.commit()
        except IntegrityError:  # the same source_id stored concurrently
            await session.rollback()
            return InboundResult(duplicate=True, message_id=None, conversation_id=conv.id)
        result = InboundResult(duplicate=False, message_id=stored.id, conversation_id=conv.id,
                               display_text=str(meta["display_text"]) if meta.get("display_text") else None)
        log.info("inbound stored", extra={"channel": msg.channel, "conversation": conv.id,
                                           "message_id": stored.id, "text": mask_pii(norm.text[:80])})

        if is_rate_payload:
            await _handle_rating(ctx, session, citizen=citizen, conv=conv, rating=rating)
            if not in_crisis:
                return result
            # The rated conversation is over: the citizen in distress is put through to a person,
            # in a new conversation, or in the one they are already in.
            conv = await open_conversation(session, citizen=citizen)
            await session.commit()
            if conv.status in (ConversationStatus.queued, ConversationStatus.assigned):
                await crisis_in_case(ctx, session, citizen=citizen, conv=conv)
                return result
        elif conv.status in (ConversationStatus.queued, ConversationStatus.assigned):
            await relay_to_agents(ctx, session, conv=conv, message=stored)
            if in_crisis:
                await crisis_in_case(ctx, session, citizen=citizen, conv=conv)
            elif conv.status == ConversationStatus.queued and norm.text.strip(" ，,。.!！?？") in HANDOFF_WORDS:
                await tell_queue_position(ctx, session, citizen=citizen, conv=conv)
            return result

    await _bot_turn(ctx, citizen=citizen, conv=conv, msg=msg, metadata=meta, text=norm.text,
                    is_empty=norm.is_empty, too_long=norm.too_long, in_crisis=in_crisis)
    return result


async def _handle_rating(ctx: DeskContext, session: AsyncSession, *, citizen: Citizen, conv: Conversation,
                         rating: RatingRequest | None) -> None:
    if rating is None:
        out = OutboundMessage(sender="system", text="评价未能识别，请点击评价卡片上的选项进行评价。",
                              metadata={"event": "rating_rejected"})
        await say_to_citizen(ctx, session, citizen=citizen, conv=conv, out=out)
        return
    meta: dict[str, object]
    try:
        case, stored = await rate_case(session, citizen=citizen, request=rating)
        text = f"感谢您的评价（{stored.label}，受理编号 {case.tracking_no}）！"
        if stored.rectification == "pending":
            text += "我们会认真核查并整改，工作人员将尽快与您联系。"
        meta = {"event": "rated", "case": case.tracking_no, "score": stored.score}
    except RatingError as exc:
        text, meta, case = str(exc), {"event": exc.event, **exc.extra}, None
        if exc.case:
            meta["case"] = exc.case
    out = OutboundMessage(sender="system", text=text, metadata=meta)
    await say_to_citizen(ctx, session, citizen=citizen, conv=conv, out=out)
    if case is not None:
        await notify_agents(ctx, "case_rated", {"case_id": case.id, "score": rating.score}, agent_id=case.agent_id)


async def _bot_turn(ctx: DeskContext, *, citizen: Citizen, conv: Conversation, msg: InboundMessage,
                    metadata: dict[str, object], text: str, is_empty: bool, too_long: bool,
                    in_crisis: bool = False) -> None:
    replies: list[OutboundMessage]
    handoff_reason: str | None = None
    if in_crisis:
        replies = [OutboundMessage(sender="system", text=CRISIS_REPLY, metadata={"event": "crisis"})]
        handoff_reason = "crisis"
    elif msg.kind != "text":
        replies = [OutboundMessage(sender="system",
                                   text="智能客服暂时只能阅读文字。如需发送图片或文件，请点击“转人工”，由工作人员为您查看。",
                                   metadata={"event": "unsupported_kind", "kind": msg.kind})]
    elif is_empty:
        replies = [OutboundMessage(sender="system", text="您好，请输入您要咨询的问题，例如“社保卡丢了怎么补办”。",
                                   metadata={"event": "empty"})]
    elif too_long:
        replies = [OutboundMessage(sender="system",
                                   text=f"您的消息较长（超过{ctx.settings.max_message_chars}字），已为您保存。"
                                        "请用一两句话概括您要办理的事项，方便我准确回答。",
                                   metadata={"event": "too_long"})]
    elif text.strip() == HANDOFF_PAYLOAD:
        replies, handoff_reason = [], "button"
    elif is_foreign_language(text):
        # Counted as a miss (fallback): a second one hands the citizen to a person.
        replies = [OutboundMessage(sender="system", text=FOREIGN_LANGUAGE_REPLY,
                                   buttons=(Button(title="转人工", payload=HANDOFF_PAYLOAD),),
                                   metadata={"event": "foreign_language", "fallback": True})]
    else:
        bot: BotClient = ctx.extras["bot"]
        try:
            # The desk's facts come last, so a client cannot claim another identity to the bot.
            replies = await bot.converse(sender_id=f"conv-{conv.id}", text=bot_text(text),
                                         metadata={**metadata, "channel": msg.channel,
                                                   "conversation_id": conv.id, "citizen_id": citizen.id})
        except BotUnavailable as exc:
            log.warning("bot unavailable, handing off", extra={"conversation": conv.id, "error": str(exc)})
            replies = [OutboundMessage(sender="system", text="智能客服暂时无法应答，正在为您转接人工客服。",
                                       metadata={"event": "bot_unavailable"})]
            handoff_reason = "bot_unreachable"

    async with ctx.sessions() as session:
        conv_row = await session.get(Conversation, conv.id)
        assert conv_row is not None
        stored: list[tuple[OutboundMessage, int]] = []
        for out in replies:
            meta = out.metadata
            # A case's topic is the last knowledge topic answered; greetings, goodbyes and the
            # handoff reply carry their intent as topic too, but say nothing about the matter.
            if meta.get("topic") and meta.get("kind") in KNOWLEDGE_REPLY_KINDS:
                conv_row.last_topic = str(meta["topic"])
            m = await store_outbound(session, conversation=conv_row, out=out)
            stored.append((out, m.id))
        if replies and msg.kind == "text" and not is_empty and not too_long and handoff_reason is None:
            if any(o.metadata.get("handoff") for o in replies):
                handoff_reason = "handoff_intent"
            elif any(o.metadata.get("fallback") for o in replies):
                conv_row.consecutive_fallbacks += 1 if _HAS_WORDS.search(text) or is_foreign_language(text) else 0
                if conv_row.consecutive_fallbacks >= FALLBACKS_BEFORE_HANDOFF:
                    handoff_reason = "fallback"
            else:
                conv_row.consecutive_fallbacks = 0
        case = None
        if handoff_reason is not None and conv_row.status == ConversationStatus.bot:
            case = await open_case(ctx, session, conversation=conv_row, reason=handoff_reason)
        await session.commit()

    for out, mid in stored:
        await deliver_to_citizen(ctx, citizen=citizen, out=with_message_id(out, mid), message_id=mid)
    if case is not None:
        log.info("handoff", extra={"conversation": conv.id, "case": case.tracking_no, "reason": handoff_reason})
        await announce_opened(ctx, case=case, citizen=citizen)


__all__ = ["InboundResult", "handle_inbound", "case_view"]
