"""Invite tokens: a random secret per annotator, stored only as its SHA-256 (a leaked DB leaks no logins)."""

from __future__ import annotations

import hashlib
import secrets

from ..errors import EmpathicError


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(store, name: str, *, admin: bool = False, rotate: bool = False) -> str:
    """Create annotator ``name`` (or give it a new token with ``rotate``) and return the secret token."""
    from sqlalchemy import select

    from .models import Annotator

    name = name.strip()
    if not name or len(name) > 100:
        raise EmpathicError("annotator name must be 1-100 characters")
    token = secrets.token_urlsafe(24)
    with store.tx() as s:
        existing = s.scalar(select(Annotator).where(Annotator.name == name))
        if existing is not None and not rotate:
            raise EmpathicError(f"annotator {name!r} exists already; use --rotate to issue a new link")
        if existing is None:
            s.add(Annotator(name=name, token_hash=hash_token(token), is_admin=admin))
        else:
            existing.token_hash, existing.is_admin = hash_token(token), admin or existing.is_admin
    return token


def annotator_for(session, token: str | None):
    """The annotator holding ``token`` (a row with id, name, is_admin), or None."""
    from sqlalchemy import select

    from .models import Annotator

    if not token:
        return None
    return session.connection().execute(select(Annotator.id, Annotator.name, Annotator.is_admin)
                                        .where(Annotator.token_hash == hash_token(token))).first()


def join_url(base: str, token: str, *, admin: bool = False) -> str:
    return f"{base.rstrip('/')}/{'admin' if admin else 'join'}/{token}"
