# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stateless, opaque pagination tokens.

A token carries the offset of the next item and a fingerprint of the query it belongs to, so a token
replayed with other filters (or a made-up one) is rejected instead of silently skipping items.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_PREFIX = "v1:"


def fingerprint(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]


def encode(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}:{query}".encode("ascii")).decode("ascii")


def decode(token: str, query: str) -> int | None:
    """The offset in ``token``, or None when the token is malformed or belongs to another query."""
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not text.startswith(_PREFIX):
        return None
    offset, dummy, token_query = text[len(_PREFIX):].partition(":")
    if token_query != query or not offset.isdigit():
        return None
    return int(offset)


def page(items: Sequence[T], offset: int, size: int, query: str) -> tuple[list[T], str | None]:
    """Slice one page; the token is None on the last page."""
    chunk = list(items[offset:offset + size])
    nxt = offset + size
    return chunk, (encode(nxt, query) if nxt < len(items) else None)
