"""Arena's Python client and ``arena`` command-line tool (see docs/client.md)."""

from arena.client.api import ArenaClient
from arena.client.errors import ArenaClientError

__all__ = ["ArenaClient", "ArenaClientError"]
