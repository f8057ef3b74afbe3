"""``create_app(store, config)``: the FastAPI app. Pages are static files that fill themselves from the JSON API,
so no dialogue text is ever spliced into HTML on the server; the browser code only uses ``textContent``."""

from __future__ import annotations

from pathlib import Path

from .config import LabelConfig

STATIC = Path(__file__).parent / "static"


def create_app(store, config: LabelConfig):
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from .routes import admin, annotate

    app = FastAPI(title="empathic-rlhf labelling", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.config = config
    app.state.last_expiry = 0.0
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(annotate.router)
    app.include_router(admin.router)
    return app
