"""The body of ``POST /api/labels``, built from the shared record types (``records``): the same field means the
same thing in the request, in the database and in ``labels.jsonl``. Parsed straight from the raw bytes (after the
token was checked), so a malformed body costs nothing but its bounded read."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..records import MAX_CANDIDATES, Edit, Id, Outcome, Ratings

MAX_DB_ID = 2**63 - 1  # the largest id a database integer column holds: larger ones are not ids at all
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
CandId = Annotated[str, Field(min_length=1, max_length=16)]


class LabelRejected(ValueError):
    """The submitted label is malformed; the message says why (HTTP 422)."""


class LabelRequest(BaseModel):
    """One judgement as the page sends it. ``task_id`` repeats which task the judgement is about: the server
    checks it against the assignment, so a stale tab can never store its choice on another task."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    assignment_id: DbId
    task_id: Id
    outcome: Outcome
    best: CandId | None = None
    ratings: dict[CandId, Ratings] = Field(default_factory=dict, max_length=MAX_CANDIDATES)
    edit: Edit | None = None
    seconds: float | None = Field(default=None, ge=0)  # time on the task as the page measured it


def parse_label_request(body: bytes) -> LabelRequest:
    """The request, or LabelRejected naming the first bad field."""
    try:
        request = LabelRequest.model_validate_json(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise LabelRejected(f"{where}: {first['msg']}") from None
    if request.seconds is not None and not math.isfinite(request.seconds):
        raise LabelRejected("seconds: must be a finite number")
    return request
