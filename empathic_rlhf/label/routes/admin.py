"""Admin routes (admin token only): the dashboard page, its numbers, the comparison report, and exports.

Statistics and the comparison report are computed in a worker process (``reports.py``: no GIL shared with the
annotators' requests), at most once per ``admin_refresh_seconds`` whoever asks: ten admins polling cost what one
does. Exports read on the reader connection, off the event loop."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from .. import export
from .deps import STATIC, run_tx, whoami

router = APIRouter()
EXPORTS = ("labels.jsonl", "pairs.jsonl", "tasks.jsonl")


async def _admin(request: Request) -> None:
    await run_tx(request, lambda s, who: None, admin=True, read=True, raw=True)  # 401/403 unless an admin's


@router.get("/admin/{token}", include_in_schema=False)
async def admin_page(request: Request, token: str):
    if not await whoami(request, token, admin=True):
        return HTMLResponse("<!doctype html><title>Forbidden</title><p>Admin link not valid.</p>", status_code=403)
    return FileResponse(STATIC / "admin.html")


@router.get("/api/admin/stats")
async def admin_stats(request: Request):
    await _admin(request)
    return await request.app.state.reports.get("stats")


@router.get("/api/admin/compare")
async def admin_compare(request: Request):
    await _admin(request)
    return {"rows": await request.app.state.reports.get("compare")}


@router.get("/api/admin/export/{name}")
async def admin_export(request: Request, name: str):
    await _admin(request)
    if name not in EXPORTS:
        raise HTTPException(404, f"export one of {list(EXPORTS)}")
    state = request.app.state
    files = dict(zip(EXPORTS, await state.db.run(export.export_rows, state.store, on_reader=True)))
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in files[name])
    return Response(body, media_type="application/x-ndjson",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
