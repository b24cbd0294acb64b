"""Phone numbers and codes as citizens type them: full-width digits (输入法全角) are the same
number and the same code. Real Redis."""
from __future__ import annotations

import pytest

from agent_desk.services import citizen_identity as ident


@pytest.mark.parametrize("typed", ["13912345678", "１３９１２３４５６７８", "139 1234 5678", "139-1234-5678",
                                   "+86 139 1234 5678", "＋８６１３９１２３４５６７８", "１３９－１２３４－５６７８"])
def test_phone_numbers_as_typed(typed: str) -> None:
    assert ident.clean_phone(typed) == "13912345678"


@pytest.mark.parametrize("bad", ["", "1391234567", "139123456789", "12912345678", "13٩12345678",
                                 "phone", None, 13912345678])
def test_not_a_phone_number(bad: object) -> None:
    with pytest.raises(ident.IdentityError):
        ident.clean_phone(bad)


def test_codes_as_typed() -> None:
    assert ident.clean_code(" ０１２３４５ ") == "012345"
    assert ident.clean_code("012345") == "012345"
    for bad in ("٠١٢٣٤٥", "12345", "1234567", 123456, None):
        assert ident.clean_code(bad) is None


async def test_full_width_number_and_code_verify_the_same_phone(desk_ctx) -> None:
    identity = ident.CitizenIdentity("test-secret-for-identity")
    first, second = identity.new_external_id(), identity.new_external_id()
    masked = await ident.request_phone_code(desk_ctx.redis, desk_ctx.keys, identity, phone="１３９１２３４５６７８",
                                            dev_mode=True)
    assert masked == "139****5678"
    code_key = ":".join((desk_ctx.keys.prefix, "citizen", "phone", "code", identity.phone_digest("13912345678")))
    code = await desk_ctx.redis.get(code_key)
    full_width_code = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    bound = await ident.verify_phone(desk_ctx.redis, desk_ctx.keys, identity, phone="13912345678",
                                     code=full_width_code, current_external_id=first)
    assert bound == first
    await ident.request_phone_code(desk_ctx.redis, desk_ctx.keys, identity, phone="139 1234 5678", dev_mode=True)
    code = await desk_ctx.redis.get(code_key)
    again = await ident.verify_phone(desk_ctx.redis, desk_ctx.keys, identity, phone="１３９１２３４５６７８",
                                     code=code, current_external_id=second)
    assert again == first  # one number, however typed: one binding
