"""Cursor pagination over keyset-ordered lists: the cursor is an opaque offset."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from workflow.errors import ValidationFailed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().partition(":")
        offset = int(raw)
    except (ValueError, UnicodeError):
        raise ValidationFailed("That cursor is not one this server issued.", "after") from None
    if kind != "o" or offset < 0:
        raise ValidationFailed("That cursor is not one this server issued.", "after")
    return offset


def page(first: int | None, after: str | None, max_size: int = MAX_PAGE_SIZE) -> Page:
    if first is None:
        first = DEFAULT_PAGE_SIZE
    if first < 0 or first > max_size:
        raise ValidationFailed(f"`first` must be between 0 and {max_size}.", "first")
    offset = 0 if after is None else decode_cursor(after) + 1
    return Page(offset=offset, limit=first)
