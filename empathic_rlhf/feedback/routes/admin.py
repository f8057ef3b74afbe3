"""Admin routes (admin token only): the dashboard page, its numbers, the comparison report, and exports."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from .. import compare, export, report
from ..app import STATIC
from ..auth import annotator_for
from .deps import in_tx

router = APIRouter()


def _admin(request: Request) -> None:
    in_tx(request, lambda s, who: None, admin=True)  # raises 401/403 unless the token is an admin's


@router.get("/admin/{token}", include_in_schema=False)
def admin_page(request: Request, token: str):
    with request.app.state.store.tx() as s:
        who = annotator_for(s, token)
        ok = who is not None and who.is_admin
    if not ok:
        return HTMLResponse("<!doctype html><title>Forbidden</title><p>Admin link not valid.</p>", status_code=403)
    return FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-store"})


@router.get("/api/admin/stats")
def admin_stats(request: Request):
    _admin(request)
    return report.stats(request.app.state.store)


@router.get("/api/admin/compare")
def admin_compare(request: Request):
    _admin(request)
    return {"rows": compare.report(request.app.state.store)}


@router.get("/api/admin/export/{name}")
def admin_export(request: Request, name: str):
    _admin(request)
    files = dict(zip(("labels.jsonl", "pairs.jsonl", "tasks.jsonl"),
                     export.export_rows(request.app.state.store, request.app.state.config)))
    if name not in files:
        raise HTTPException(404, f"export one of {sorted(files)}")
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in files[name])
    return Response(body, media_type="application/x-ndjson",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
