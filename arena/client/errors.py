"""The one error the client raises: a message fit to show a user as is."""

from __future__ import annotations


class ArenaClientError(Exception):
    """A failed call: the server's ``{"error"}`` message, an unreachable server, or bad local input."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        self.message = message
        self.status = status
        self.code = code
        super().__init__(message)


def message_from_body(body: object) -> tuple[str, str]:
    """(message, code) from an error body: Arena's ``{"error", "code"}``, DRF's ``{"detail"}`` or field errors."""
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return body["error"], str(body.get("code", ""))
        if isinstance(body.get("detail"), str):
            return body["detail"], str(body.get("code", ""))
        parts = []
        for field, problems in body.items():
            text = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
            parts.append(f"{field}: {text}")
        if parts:
            return "; ".join(parts), "invalid"
    if isinstance(body, list) and body:
        return "; ".join(map(str, body)), "invalid"
    return "", ""
