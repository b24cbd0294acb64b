"""Staff accounts for in-process desk tests (real PostgreSQL)."""
from __future__ import annotations

import uuid

from agent_desk.models import Role
from agent_desk.services.auth import create_user


async def make_agent(ctx, name: str):  # type: ignore[no-untyped-def]
    """A new agent named ``name`` (unique username), committed."""
    async with ctx.sessions() as session:
        user = await create_user(session, username=f"{name}-{uuid.uuid4().hex[:6]}", display_name=name,
                                 role=Role.agent, password="agent-password-123")
        await session.commit()
        return user
