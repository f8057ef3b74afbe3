"""Live-chat routes: the page, starting a conversation (only after consent), sending a message, waiting for the
reply (long poll), choosing between candidate replies, and deleting conversations. The server never runs the
policy: it queues a job that ``label worker`` answers (``chat_store``). Every query is scoped to the token's
annotator; all of it answers 404 when ``chat_enabled`` is off."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import chat_store
from ..requests import MAX_DB_ID
from .deps import STATIC, authenticate_first, run_tx, whoami

router = APIRouter()
POLL_S = 0.25  # how often a waiting request looks at its job (a read on the reader thread, ~1 ms)
MAX_WAIT_S = 25.0  # a long poll answers within this, job finished or not (proxies drop idle requests at ~30-60 s)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StartRequest(Body):
    consent: bool
    consent_version: str = Field(max_length=20)


class MessageRequest(Body):
    chat_id: int = Field(ge=1, le=MAX_DB_ID)
    text: str = Field(max_length=20_000)


class ChoiceRequest(Body):
    chat_id: int = Field(ge=1, le=MAX_DB_ID)
    job_id: int = Field(ge=1, le=MAX_DB_ID)
    best: str = Field(max_length=16)
    seconds: float | None = Field(default=None, ge=0, le=86400)


class ChatRef(Body):
    chat_id: int = Field(ge=1, le=MAX_DB_ID)


def _enabled(request: Request) -> None:
    if not request.app.state.config.chat_enabled:
        raise HTTPException(404, "the live chat is not enabled on this server (label serve --chat)")


async def _parse(request: Request, model: type[Body]):
    """The body as ``model``, read only after the token was checked: an unknown sender gets 401/403, never the
    body's schema in a 422."""
    await authenticate_first(request)
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise HTTPException(422, f"{where}: {first['msg']}") from None


def _checked(work):
    """``work`` with the store's domain errors answered as HTTP errors (inside the transaction: it rolls back)."""
    def run(s, who):
        try:
            return work(s, who)
        except chat_store.ChatError as e:
            raise HTTPException(e.status, str(e)) from None
    return run


@router.get("/chat/{token}", include_in_schema=False)
async def chat_page(request: Request, token: str):
    _enabled(request)
    if not await whoami(request, token, admin=False):
        return HTMLResponse("<!doctype html><title>Invite not valid</title><p>This invite link is not valid. "
                            "Ask for a new one.</p>", status_code=403)
    return FileResponse(STATIC / "chat.html")


@router.get("/api/chat")
async def chat_home(request: Request):
    """Who you are, the chat settings the page needs, and your conversations (none before you consented)."""
    _enabled(request)
    config = request.app.state.config

    def work(s, who):
        return {"name": who.name, "consent_version": chat_store.CONSENT_VERSION,
                "choice_every": config.chat_choice_every, "candidates": config.chat_candidates,
                "max_messages": config.chat_max_messages, "message_chars": config.chat_message_chars,
                "chats": chat_store.list_chats(s, who.id)}
    return await run_tx(request, work, read=True)


@router.post("/api/chat/start")
async def start(request: Request):
    _enabled(request)
    body = await _parse(request, StartRequest)

    def work(s, who):
        chat_id = chat_store.start_chat(s, who.id, body.consent, body.consent_version)
        return chat_store.chat_view(s, who.id, chat_id)
    return await run_tx(request, _checked(work))


@router.get("/api/chat/{chat_id}")
async def get_chat(request: Request, chat_id: int = Path(ge=1, le=MAX_DB_ID),
                   wait_job: int | None = Query(default=None, ge=1, le=MAX_DB_ID),
                   wait: float = Query(default=0.0, ge=0.0, le=MAX_WAIT_S)):
    """The conversation. With ``wait_job`` and ``wait`` seconds: a long poll that answers as soon as that job is
    no longer queued or running (the reply or the candidates are there, or it failed), or when the time is up."""
    _enabled(request)
    work = _checked(lambda s, who: chat_store.chat_view(s, who.id, chat_id))
    deadline = time.monotonic() + wait
    while True:
        view = await run_tx(request, work, read=True, raw=True)
        pending = view["pending"]
        waiting = pending is not None and pending["job_id"] == wait_job and pending["status"] in ("queued", "running")
        if not waiting or time.monotonic() + POLL_S > deadline or await request.is_disconnected():
            return view
        await asyncio.sleep(POLL_S)


@router.post("/api/chat/messages")
async def post_message(request: Request):
    _enabled(request)
    body = await _parse(request, MessageRequest)  # a message may be large: an unknown sender never gets it read
    config = request.app.state.config
    return await run_tx(request, _checked(lambda s, who: chat_store.add_message(s, who.id, body.chat_id, body.text,
                                                                                 config)))


@router.post("/api/chat/choice")
async def post_choice(request: Request):
    _enabled(request)
    body = await _parse(request, ChoiceRequest)
    return await run_tx(request, _checked(lambda s, who: chat_store.choose(s, who.id, body.chat_id, body.job_id,
                                                                            body.best, body.seconds)))


@router.post("/api/chat/retry")
async def post_retry(request: Request):
    _enabled(request)
    body = await _parse(request, ChatRef)
    return await run_tx(request, _checked(lambda s, who: chat_store.retry(s, who.id, body.chat_id)))


async def _delete(request: Request, chat_id: int | None):
    """Delete, then wipe what the deletion left on disk (``Store.scrub``: the SQLite WAL, PostgreSQL's dead rows),
    on the writer thread (SQLite) or the pool: a deletion is rare, and the event loop never waits for it."""
    deleted = await run_tx(request, _checked(lambda s, who: chat_store.delete_chats(s, who.id, chat_id)), raw=True)
    state = request.app.state
    if deleted["chats"]:
        tables = ("chat_turns", "chat_jobs") + (("tasks",) if deleted["tasks"] else ())  # where the text was
        deleted["wiped"] = await state.db.run(state.store.scrub, tables)
    return {"deleted": deleted}


@router.delete("/api/chat/{chat_id}")
async def delete_chat(request: Request, chat_id: int = Path(ge=1, le=MAX_DB_ID)):
    _enabled(request)
    return await _delete(request, chat_id)


@router.delete("/api/chat")
async def delete_all(request: Request):
    """Delete every conversation of yours, with the labels your choices made."""
    _enabled(request)
    return await _delete(request, None)
