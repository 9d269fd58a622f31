"""The leaderboard builders (shared with tests/leaderboard)."""
from tests.leaderboard.conftest import _clear_cache, board, scored_board, small_board  # noqa: F401
