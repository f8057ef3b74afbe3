"""Annotator routes: the page, the next task, submitting a label (which answers with the next task, saving a
round trip), undo, and the annotator's own labels. Every query is scoped to the token's annotator."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from .. import assign
from ..models import Label, Task
from ..requests import MAX_DB_ID, LabelRejected, parse_label_request
from ..tasks import shown
from .deps import STATIC, authenticate_first, run_tx, whoami

router = APIRouter()


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


@router.get("/join/{token}", include_in_schema=False)
async def join_page(request: Request, token: str):
    if not await whoami(request, token, admin=False):
        return HTMLResponse("<!doctype html><title>Invite not valid</title><p>This invite link is not valid. "
                            "Ask for a new one.</p>", status_code=403)
    return FileResponse(STATIC / "annotate.html")


@router.get("/guidelines", include_in_schema=False)
def guidelines_page():
    return FileResponse(STATIC / "guidelines.html")


@router.get("/api/me")
async def me(request: Request):
    config = request.app.state.config

    def work(s, who):
        return {"name": who.name, "criteria": config.criteria, "ratings_required": config.ratings_required,
                "show_situation": config.show_situation, "progress": assign.progress(s, who.id),
                "done_poll_seconds": config.done_poll_seconds, "reservation_minutes": config.reservation_minutes}
    return await run_tx(request, work)


@router.get("/api/next")
async def next_task(request: Request):
    return await run_tx(request, lambda s, who: _next_view(s, who, request.app.state.config))


@router.post("/api/labels")
async def post_label(request: Request):
    config = request.app.state.config
    await authenticate_first(request)
    body = await request.body()  # bounded by the Guard middleware

    def work(s, who):
        try:
            label_id, created = assign.submit(s, who.id, parse_label_request(body), config)
        except assign.NotYours as e:
            raise HTTPException(404, str(e)) from None
        except assign.OtherTask as e:
            raise HTTPException(409, str(e)) from None
        except LabelRejected as e:
            raise HTTPException(422, str(e)) from None
        return {"label_id": label_id, "created": created, "next": _next_view(s, who, config)}
    return await run_tx(request, work)


@router.post("/api/undo")
async def post_undo(request: Request):
    def work(s, who):
        answer = assign.newest_label(s, who.id)  # the page selects it again on the task that comes back
        undone = assign.undo(s, who.id)
        return {"undone": undone, "undone_label": answer, "next": _next_view(s, who, request.app.state.config)}
    return await run_tx(request, work)


@router.get("/api/labels")
async def my_labels(request: Request):
    def work(s, who):
        rows = s.execute(select(Label, Task.task_id).join(Task, Task.id == Label.task_id)
                         .where(Label.annotator_id == who.id).order_by(Label.id)).all()
        return {"labels": [_label_view(label, tid) for label, tid in rows]}
    return await run_tx(request, work, read=True)


@router.get("/api/labels/{label_id}")
async def my_label(request: Request, label_id: int = Path(ge=1, le=MAX_DB_ID)):
    def work(s, who):
        row = s.execute(select(Label, Task.task_id).join(Task, Task.id == Label.task_id)
                        .where(Label.id == label_id, Label.annotator_id == who.id)).first()
        if row is None:
            raise HTTPException(404, "no such label")
        return _label_view(*row)
    return await run_tx(request, work, read=True)
