"""Annotator routes: the page, the next task, submitting a label (which answers with the next task, saving a
round trip), undo, and the annotator's own labels. Every query is scoped to the token's annotator."""

from __future__ import annotations

import time

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from .. import assign
from ..app import STATIC
from ..auth import annotator_for
from ..models import Label, Task
from ..tasks import shown
from .deps import run_tx

router = APIRouter()
EXPIRY_EVERY_S = 60.0


def _next_view(s, who, config) -> dict:
    found = assign.next_assignment(s, who.id, config)
    view = {"progress": assign.progress(s, who.id)}
    if found is None:
        return {**view, "done": True, "task": None}
    a, task = found
    rate_all = config.rate_all or task.kind == "model-comparison"
    return {**view, "done": False, "assignment_id": a.id, "task": shown(task, a.shown_order), "rate_all": rate_all}


def _label_view(label: Label, task_id: str) -> dict:
    return {"label_id": label.id, "task_id": task_id, "outcome": label.outcome, "best": label.best,
            "ratings": label.ratings, "edit": label.edit, "shown_order": label.shown_order,
            "seconds": label.seconds, "created_at": label.created_at.isoformat()}


def _maybe_expire(request: Request) -> None:
    state = request.app.state
    if time.monotonic() - state.last_expiry < EXPIRY_EVERY_S:
        return
    state.last_expiry = time.monotonic()
    with state.store.tx() as s:
        assign.expire_stale(s, state.config.reservation_minutes)


@router.get("/join/{token}", include_in_schema=False)
def join_page(request: Request, token: str):
    with request.app.state.store.tx() as s:
        known = annotator_for(s, token) is not None
    if not known:
        return HTMLResponse("<!doctype html><title>Invite not valid</title><p>This invite link is not valid. "
                            "Ask for a new one.</p>", status_code=403)
    return FileResponse(STATIC / "annotate.html", headers={"Cache-Control": "no-store"})


@router.get("/guidelines", include_in_schema=False)
def guidelines_page():
    return FileResponse(STATIC / "guidelines.html")


@router.get("/api/me")
async def me(request: Request):
    config = request.app.state.config

    def work(s, who):
        return {"name": who.name, "is_admin": who.is_admin, "criteria": config.criteria,
                "ratings_required": config.ratings_required, "show_situation": config.show_situation,
                "progress": assign.progress(s, who.id)}
    return await run_tx(request, work)


@router.get("/api/next")
async def next_task(request: Request):
    _maybe_expire(request)
    return await run_tx(request, lambda s, who: _next_view(s, who, request.app.state.config))


@router.post("/api/labels")
async def post_label(request: Request, payload: dict = Body(...)):
    config = request.app.state.config

    def work(s, who):
        try:
            label_id, created = assign.submit(s, who.id, payload, config)
        except assign.NotYours as e:
            raise HTTPException(404, str(e)) from None
        except assign.LabelRejected as e:
            raise HTTPException(422, str(e)) from None
        return {"label_id": label_id, "created": created, "next": _next_view(s, who, config)}
    return await run_tx(request, work)


@router.post("/api/undo")
async def post_undo(request: Request):
    def work(s, who):
        undone = assign.undo(s, who.id)
        return {"undone": undone, "next": _next_view(s, who, request.app.state.config)}
    return await run_tx(request, work)


@router.get("/api/labels")
async def my_labels(request: Request):
    def work(s, who):
        rows = s.execute(select(Label, Task.task_id).join(Task, Task.id == Label.task_id)
                         .where(Label.annotator_id == who.id).order_by(Label.id)).all()
        return {"labels": [_label_view(label, tid) for label, tid in rows]}
    return await run_tx(request, work)


@router.get("/api/labels/{label_id}")
async def my_label(request: Request, label_id: int):
    def work(s, who):
        row = s.execute(select(Label, Task.task_id).join(Task, Task.id == Label.task_id)
                        .where(Label.id == label_id, Label.annotator_id == who.id)).first()
        if row is None:
            raise HTTPException(404, "no such label")
        return _label_view(*row)
    return await run_tx(request, work)
