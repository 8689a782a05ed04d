"""The error of the command line that the user can fix."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """An error the user can fix; printed as one line without a traceback."""
