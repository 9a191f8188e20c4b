"""Opaque global ids: base64url of "Type:pk". Clients never see or build raw keys."""

from __future__ import annotations

import base64
import binascii

from workflow.errors import NotFound


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """The (type, pk) an id names, or None for anything malformed."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw_pk = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        pk = int(raw_pk)
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if not type_name or pk <= 0 or pk > 2**63 - 1:
        return None
    return type_name, pk


def decode_id(global_id: str, type_name: str, field: str = "id") -> int:
    """The pk of an id that must name `type_name`; a wrong or malformed id reads as missing."""
    parsed = from_global_id(global_id)
    if parsed is None or parsed[0] != type_name:
        raise NotFound(type_name.lower() if type_name != "KeyResult" else "key result", field)
    return parsed[1]


def decode_optional(global_id: str | None, type_name: str, field: str) -> int | None:
    return None if global_id is None else decode_id(global_id, type_name, field)
