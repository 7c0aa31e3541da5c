"""Button payloads: short, versioned strings that fit Telegram's 64-byte callback data.

A payload is `<version>:<verb>[:<arg>...]`. Buttons live on in old messages for months, so a payload
from another version is answered with a clear "this button is out of date", never misread.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64


class StaleAction(ValueError):
    """The payload comes from another version of the assistant or is not one of ours."""


@dataclass(frozen=True)
class Action:
    verb: str
    args: tuple[str, ...] = ()

    def arg(self, position: int, default: str = "") -> str:
        return self.args[position] if position < len(self.args) else default


def encode(verb: str, *args: object) -> str:
    payload = ":".join([VERSION, verb, *(str(a) for a in args)])
    if len(payload.encode()) > MAX_BYTES:
        raise ValueError(f"button payload longer than {MAX_BYTES} bytes: {payload!r}")
    return payload


def decode(payload: str) -> Action:
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != VERSION or not parts[1]:
        raise StaleAction(payload)
    return Action(parts[1], tuple(parts[2:]))
