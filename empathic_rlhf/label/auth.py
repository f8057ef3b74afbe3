"""Invite tokens: a random secret per annotator, stored only as its SHA-256 (a leaked DB leaks no logins)."""

from __future__ import annotations

import functools
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
        if existing is not None and existing.kind != "human":  # a person's labels would be exported as synthetic
            raise EmpathicError(f"annotator {name!r} is simulated ({existing.kind}): it gets no invite link")
        if existing is None:
            s.add(Annotator(name=name, token_hash=hash_token(token), is_admin=admin))
        else:
            existing.token_hash, existing.is_admin = hash_token(token), admin or existing.is_admin
    return token


def annotator_for(session, token: str | None):
    """The annotator holding ``token`` (a row with id, name, is_admin), or None."""
    from sqlalchemy import Connection

    if not token:
        return None
    conn = session if isinstance(session, Connection) else session.connection()
    return conn.execute(_by_token(), {"h": hash_token(token)}).first()


@functools.cache
def _by_token():
    from sqlalchemy import bindparam, select

    from .models import Annotator

    return select(Annotator.id, Annotator.name, Annotator.is_admin).where(Annotator.token_hash == bindparam("h"))


def join_url(base: str, token: str, *, admin: bool = False) -> str:
    return f"{base.rstrip('/')}/{'admin' if admin else 'join'}/{token}"


def revoke(store, name: str, *, admin_only: bool = False) -> str:
    """End a person's access: their link stops working at once (the stored hash is replaced by one no token
    has); their labels stay, and so do their rights (`label invite NAME --rotate` issues the same kind of link).

    ``admin_only`` drops admin rights. An admin link opens only the admin pages, so it ends with them: it must not
    turn into a labelling link (which would reserve tasks). The person stays, with any labels from before they
    were an admin; `label invite NAME --rotate` then issues a labelling link. Someone who is no admin is an error
    (nothing changes). Returns what changed."""
    from sqlalchemy import select

    from .models import Annotator

    with store.tx() as s:
        person = s.scalar(select(Annotator).where(Annotator.name == name))
        if person is None:
            raise EmpathicError(f"no annotator named {name!r}")
        if admin_only and not person.is_admin:
            raise EmpathicError(f"{name!r} is not an admin (to end their link: `label revoke {name}`)")
        person.token_hash = "revoked:" + secrets.token_hex(24)  # not a SHA-256 of anything: no token matches
        if admin_only:
            person.is_admin = False
            return (f"{name}: admin rights dropped; their admin link no longer opens anything "
                    f"(`label invite {name} --rotate` issues a labelling link)")
        return f"{name}: link revoked (labels kept; `label invite {name} --rotate` issues a new link)"


def delete(store, name: str) -> str:
    """Remove a person who has no labels (their unfinished reservations go back to the pool). Someone with labels
    is kept (the labels name them): revoke their link instead."""
    from sqlalchemy import delete as sql_delete
    from sqlalchemy import func, select

    from .assign import release_all
    from .models import Annotator, Chat, Label

    with store.tx() as s:
        person = s.scalar(select(Annotator).where(Annotator.name == name))
        if person is None:
            raise EmpathicError(f"no annotator named {name!r}")
        if s.scalar(select(func.count()).select_from(Label).where(Label.annotator_id == person.id)):
            raise EmpathicError(f"{name!r} has labels, which name them: use `label revoke {name}` instead")
        if s.scalar(select(func.count()).select_from(Chat).where(Chat.annotator_id == person.id)):
            raise EmpathicError(f"{name!r} has live-chat conversations (they can delete them on the chat page): "
                                f"use `label revoke {name}` instead")
        release_all(s, person.id)
        s.execute(sql_delete(Annotator).where(Annotator.id == person.id))
    return f"{name}: deleted"
