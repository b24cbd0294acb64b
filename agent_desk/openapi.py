"""The OpenAPI 3.1 description of the desk's HTTP API, served at /api/openapi.json."""
from __future__ import annotations

from typing import Any


def _op(summary: str, *, tag: str, auth: bool = True, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, responses: dict[str, str] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag],
                          "responses": {code: {"description": d} for code, d in (responses or {"200": "OK"}).items()}}
    if auth:
        op["security"] = [{"bearer": []}, {"cookie": []}]
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema_type: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": schema_type}}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _content(media_types: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    return {media: {"schema": schema} for media in media_types}


def _with(op: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """``op`` with extra keys, e.g. a non-JSON requestBody or response bodies."""
    return {**op, **extra}


_WECHAT_QUERY = [_query("signature", {"type": "string"}), _query("timestamp", {"type": "string"}, True),
                 _query("nonce", {"type": "string"}, True)]
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_UPLOAD_NAME = {"name": "name", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{32}\\.(png|jpg|pdf)$"}}
_UPLOADED = {"image/png": {"schema": {"type": "string", "format": "binary"}},
             "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
             "application/pdf": {"schema": {"type": "string", "format": "binary"}}}


_STAFF = {"type": "object", "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
    "role": {"type": "string", "enum": ["agent", "manager"]}, "active": {"type": "boolean"},
    "locked": {"type": "boolean", "description": "too many wrong passwords: logins refused until locked_until"},
    "locked_until": {"type": ["string", "null"], "format": "date-time", "description": "UTC; null when not locked"},
    "locked_seconds": {"type": "integer", "description": "seconds left on the lock; 0 when not locked"}}}
_CASE = [_path_param("case_id")]
_ERR = {"401": "not logged in", "403": "wrong role", "404": "no such case", "409": "conflict"}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "政务服务智能客服 desk API", "version": "1.0.0",
             "description": "Agent workspace, manager reports and service endpoints. Citizens use socket.io "
                            "(Rasa socketio protocol) at /socket.io/ and the WeChat push at /webhooks/miniprogram."},
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "desk_session"},
        "citizen": {"type": "apiKey", "in": "header", "name": "X-Citizen-Token",
                    "description": "the widget's signed citizen identity (session_identity event)"},
    }},
    "paths": {
        "/healthz": {"get": _op("Health of the desk and its dependencies", tag="ops", auth=False,
                                responses={"200": "healthy", "503": "database or redis down"})},
        "/api/auth/login": {"post": _op("Staff login", tag="auth", auth=False, body={
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
            responses={"200": "token and user", "400": "missing fields", "401": "wrong credentials",
                       "429": "too many failed logins for this username or address: locked for a while "
                              "(Retry-After header, retry_after in the body)"})},
        "/api/auth/logout": {"post": _with(_op(
            "Staff logout: ends this session (the token stops working at once); everywhere=true ends all "
            "of this user's sessions", tag="auth", responses={"200": "logged out", "401": "not logged in"}),
            requestBody={"required": False, "content": _content(["application/json"], {
                "type": "object", "properties": {"everywhere": {"type": "boolean"}}})})},
        "/api/auth/me": {"get": _op("The logged-in user", tag="auth",
                                    responses={"200": "user", "401": "not logged in"})},
        "/api/cases/": {"get": _op("List cases", tag="cases", params=[
            _query("status", {"type": "string", "enum": ["queued", "assigned", "closed", "mine"]})],
            responses={"200": "cases", "400": "bad status", **_ERR})},
        "/api/cases/{case_id}": {"get": _op("One case", tag="cases", params=_CASE, responses={"200": "case", **_ERR})},
        "/api/cases/{case_id}/messages": {
            "get": _op("Whole transcript (bot part included)", tag="cases",
                       params=_CASE + [_query("after", {"type": "integer"})], responses={"200": "messages", **_ERR}),
            "post": _op("Send a message to the citizen (or a private note)", tag="cases", params=_CASE, body={
                "type": "object", "properties": {"text": {"type": "string", "maxLength": 4000},
                                                 "private": {"type": "boolean"}, "client_id": {"type": "string"}}},
                responses={"201": "stored and sent", "200": "client_id already used by this agent for this "
                           "citizen: the message stored then (duplicate: true), not sent again",
                           "400": "empty or too long", **_ERR})},
        "/api/cases/{case_id}/accept": {"post": _op("Take a queued case (one agent wins)", tag="cases",
                                                    params=_CASE, responses={"200": "assigned", **_ERR})},
        "/api/cases/{case_id}/read": {"post": _op("Mark citizen messages read", tag="cases", params=_CASE,
                                                  body={"type": "object", "properties": {"up_to": {"type": "integer"}}},
                                                  responses={"200": "ids marked", **_ERR})},
        "/api/cases/{case_id}/typing": {"post": _op("Agent is typing", tag="cases", params=_CASE,
                                                    responses={"200": "sent", **_ERR})},
        "/api/cases/{case_id}/close": {"post": _op("Close the case and ask the citizen to rate", tag="cases",
                                                   params=_CASE, body={"type": "object", "properties": {
                                                       "note": {"type": "string", "maxLength": 2000}}},
                                                   responses={"200": "closed", **_ERR})},
        "/api/reports/summary": {"get": _op("Conversations, handoffs, closed cases and ratings", tag="reports",
                                            params=[_query("from", {"type": "string", "format": "date"}),
                                                    _query("to", {"type": "string", "format": "date"})],
                                            responses={"200": "summary", "400": "bad dates", **_ERR})},
        "/api/reports/cases": {"get": _op(
            "工单明细: cases handed off in the date range, newest first, paged (manager)", tag="reports",
            params=[_query("from", {"type": "string", "format": "date"}),
                    _query("to", {"type": "string", "format": "date"}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                    _query("before", {"type": "integer", "description": "a case id: the page after it"})],
            responses={"200": "cases", "400": "bad dates or paging", **_ERR})},
        "/api/reports/cases.csv": {"get": _with(_op(
            "Case-level CSV export (UTF-8 with BOM, China time, personal data masked), streamed (manager)",
            tag="reports", params=[_query("from", {"type": "string", "format": "date"}),
                                   _query("to", {"type": "string", "format": "date"})],
            responses={"200": "text/csv", "400": "bad dates", **_ERR}))},
        "/api/ratings/": {"get": _op("好差评 list, newest first (manager)", tag="ratings", params=[
            _query("rectification", {"type": "string", "enum": ["none", "pending", "done", "bad"],
                                     "description": "bad = every 不满意/非常不满意 rating"}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
            _query("before", {"type": "integer", "description": "a rating id: the page after it"})],
            responses={"200": "ratings", "400": "bad filter or paging", **_ERR})},
        "/api/ratings/{rating_id}/rectification": {"post": _op(
            "Record the rectification (整改) of a bad rating (manager)", tag="ratings",
            params=[_path_param("rating_id")], body={"type": "object", "required": ["note"],
                                                     "properties": {"note": {"type": "string", "maxLength": 2000}}},
            responses={"200": "done", "400": "note missing", **_ERR})},
        "/api/staff/": {"get": _with(_op(
            "Staff accounts: id, username, name, role, active, and whether wrong passwords have locked its "
            "login now (locked, locked_until, locked_seconds; read from the login throttle's Redis state) "
            "(manager)", tag="staff", responses={"200": "staff", "401": "not logged in", "403": "wrong role"}),
            responses={"200": {"description": "staff", "content": _content(["application/json"], {
                "type": "object", "properties": {"staff": {"type": "array", "items": _STAFF}}})},
                "401": {"description": "not logged in"}, "403": {"description": "wrong role"}})},
        "/api/staff/{user_id}/disable": {"post": _op(
            "停用 an account: it can no longer log in, every session of it ends and its live workspace "
            "sockets are closed at once; the cases it was serving go back to the queue at their original "
            "places and their citizens are told (requeued_cases: their tracking numbers; user: the account "
            "as in the list) (manager)", tag="staff",
            params=[_path_param("user_id")], responses={"200": "disabled", "401": "not logged in",
                                                        "403": "wrong role", "404": "no such account",
                                                        "409": "one's own account"})},
        "/api/staff/{user_id}/enable": {"post": _op(
            "启用 an account again; it must log in anew; a login lock on it is lifted too "
            "(was_locked) (manager)", tag="staff", params=[_path_param("user_id")],
            responses={"200": "enabled", "401": "not logged in", "403": "wrong role", "404": "no such account"})},
        "/api/staff/{user_id}/unlock": {"post": _op(
            "解锁: lift the login lock that too many wrong passwords put on the account and forget the "
            "failures counted so far (was_locked: whether it was locked; user: the account as in the list, "
            "locked false); audited staff.unlock (manager)",
            tag="staff", params=[_path_param("user_id")],
            responses={"200": "unlocked", "401": "not logged in", "403": "wrong role", "404": "no such account"})},
        "/api/audit/": {"get": _op(
            "审计日志: staff actions, newest first, detail and target with ID, bank card and mobile numbers "
            "masked; read-only and not itself audited (manager)", tag="audit",
            params=[_query("actor", {"type": "string", "maxLength": 64, "description": "a username"}),
                    _query("action", {"type": "string", "maxLength": 64,
                                      "description": "exact, or a prefix ending in '.' (staff.)"}),
                    _query("target", {"type": "string", "maxLength": 64, "description": "the target id"}),
                    _query("from", {"type": "string", "format": "date", "description": "China date, inclusive"}),
                    _query("to", {"type": "string", "format": "date", "description": "China date, inclusive"}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                    _query("before", {"type": "integer", "description": "an entry id: the page after it"})],
            responses={"200": "entries, next_before", "400": "bad filter, date or paging",
                       "401": "not logged in", "403": "wrong role"})},
        "/api/cases/{case_id}/channel-info": {"get": _op(
            "Channel facts for answering: for WeChat, the 48-hour window and messages left", tag="cases",
            params=_CASE, responses={"200": "channel, window (null outside WeChat), undelivered count", **_ERR})},
        "/api/web/uploads": {"post": _with(
            _op("Citizen uploads an image or PDF to the conversation (type taken from the bytes)", tag="citizen",
                auth=False, responses={"201": "stored and delivered as a message", "400": "no or empty file",
                                       "401": "citizen token missing or invalid", "413": "file too large",
                                       "415": "not PNG, JPEG or PDF", "429": "too many uploads"}),
            security=[{"citizen": []}],
            requestBody={"required": True, "content": _content(["multipart/form-data"], {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"},
                               "client_id": {"type": "string", "maxLength": 128},
                               "citizen_token": {"type": "string",
                                                 "description": "instead of the X-Citizen-Token header"}}})})},
        "/uploads/{name}": {
            "get": _with(_op("An uploaded file (unguessable name)", tag="citizen", auth=False, params=[_UPLOAD_NAME],
                             responses={"200": "the file", "404": "no such file"}),
                         responses={"200": {"description": "the file; PDF as an attachment", "content": _UPLOADED},
                                    "404": {"description": "no such file"}}),
            "head": _op("Headers of an uploaded file", tag="citizen", auth=False, params=[_UPLOAD_NAME],
                        responses={"200": "exists", "404": "no such file"})},
        "/webhooks/miniprogram": {
            "get": _with(_op("WeChat server URL verification", tag="miniprogram", auth=False,
                             params=_WECHAT_QUERY + [_query("echostr", {"type": "string"}, True)]),
                         responses={"200": {"description": "echostr, signature good", "content": _TEXT},
                                    "403": {"description": "signature mismatch"},
                                    "503": {"description": "WECHAT_TOKEN not configured"}}),
            "post": _with(_op("WeChat customer-service message push (plain or safe mode)", tag="miniprogram",
                              auth=False, params=_WECHAT_QUERY + [_query("msg_signature", {"type": "string"}),
                                                                   _query("encrypt_type", {"type": "string"})]),
                          requestBody={"required": True, "content": {
                              "application/json": {"schema": {"type": "object"}},
                              "text/xml": {"schema": {"type": "string"}}}},
                          responses={"200": {"description": "\"success\" (the answer is sent through the "
                                                            "customer-service API)", "content": _TEXT},
                                     "400": {"description": "malformed body"},
                                     "403": {"description": "bad signature, stale timestamp or other appid"},
                                     "413": {"description": "body over 64 KB"},
                                     "503": {"description": "WECHAT_TOKEN not configured"}})},
        "/api/internal/cases/{tracking_no}": {"get": _op(
            "Case status for the bot's action server (service token)", tag="internal",
            params=[_path_param("tracking_no", "string")], responses={"200": "status", "401": "bad token",
                                                                      "404": "unknown number"})},
    },
}
