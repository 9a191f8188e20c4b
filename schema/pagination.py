"""Cursor pagination over keyset-ordered lists: the cursor is an opaque offset."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from schema.limits import page_sizes
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


def page(first: int | None, after: str | None, max_size: int | None = None) -> Page:
    """The window to read; the bounds are the configured ones (OKR_MAX_PAGE_SIZE) unless given."""
    sizes = page_sizes.get()
    max_size = sizes.maximum if max_size is None else max_size
    if first is None:
        first = sizes.default
    if first < 0 or first > max_size:
        raise ValidationFailed(f"`first` must be between 0 and {max_size}.", "first")
    offset = 0 if after is None else decode_cursor(after) + 1
    return Page(offset=offset, limit=first)
