"""``create_app(store, config)``: the FastAPI app. Pages are static files that fill themselves from the JSON API,
so no dialogue text is ever spliced into HTML on the server; the browser code only uses ``textContent``."""

from __future__ import annotations

from .config import LabelConfig
from .guard import Guard
from .routes.deps import STATIC


def create_app(store, config: LabelConfig):
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from .routes import admin, annotate, chat
    from .reports import Reports
    from .routes.deps import DbThreads

    @asynccontextmanager
    async def lifespan(app):
        yield
        app.state.reports.close()
        app.state.db.close()

    app = FastAPI(title="empathic-rlhf labelling", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.store = store
    app.state.config = config
    app.state.db = DbThreads(store)
    app.state.reports = Reports(store.url, config)
    app.state.tokens_seen = {}
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(annotate.router)
    app.include_router(admin.router)
    app.include_router(chat.router)
    app.add_middleware(Guard)
    return app
