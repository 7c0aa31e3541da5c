"""The one error family: every failure hocvu reports to a person is a `HocvuError`.

Like httpx's, the root has families named by who must act: an operator fixes the configuration, a content
writer fixes a file, whoever installs the assistant runs the command a `SetupError` names, and a
`ServiceError` is a service that refused or could not be reached. Each carries its exit code, so
`hocvu`'s entry point turns any of them into a message and a code in one place (hocvu/cli.py:main).
Errors a component handles itself (a stale button, an NLU engine that timed out and has a fallback) live
with that component; only those that end a command belong here.
"""

from __future__ import annotations

from collections.abc import Iterable


class HocvuError(Exception):
    """The root: a failure with a message for a person and an exit code for scripts."""

    exit_code = 1

    def describe(self) -> str:
        """The message the command line prints."""
        return str(self)


class ConfigError(HocvuError):
    """The configuration or the environment is invalid; the message names the file, key or variable."""

    exit_code = 2

    def describe(self) -> str:
        return f"configuration error: {self}"


class InputError(HocvuError):
    """What a command was given is wrong (an empty text, a malformed recipient, an unknown id); the message
    names it. Nothing was changed."""

    exit_code = 2


class ContentError(HocvuError):
    """Content files are invalid; carries every problem found (file, line, field), not just the first."""

    exit_code = 2
    subject = "the knowledge base"

    def __init__(self, problems: Iterable[object]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def describe(self) -> str:
        return f"{self.subject} has {len(self.problems)} problem(s):\n{self}"


class SetupError(HocvuError):
    """Something the assistant needs is not installed or built here; the message says which command fixes it."""

    exit_code = 2


class ServiceError(HocvuError):
    """A service the assistant talks to (a messenger's API, the Rasa server) refused or is unreachable."""

    exit_code = 1
