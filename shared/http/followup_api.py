"""The follow-up routes: the state and note of each exception, and the chase list per employee."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api")
