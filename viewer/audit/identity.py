"""Who is acting: the OS account plus the clinician's printed name and role.

21 CFR 11.50 asks that a signed record show the signer's printed name, the date/time and the
meaning of the act; the OS account alone is not a printed name, so the site can require one.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from viewer.config import Settings
from viewer.errors import AuditWriteError


@dataclass(frozen=True)
class User:
    """The acting user as recorded in every audit row."""

    os_account: str
    name: str
    role: str

    @property
    def display(self) -> str:
        """``Name (Role)`` for people; falls back to the OS account when no name is set."""
        who = self.name.strip() or self.os_account
        return f"{who} ({self.role.strip()})" if self.role.strip() else who


class IdentityRequiredError(AuditWriteError):
    """The site requires a printed name before any decision, and none is set."""


def os_account() -> str:
    """The login name; ``uid:N`` when the platform cannot name it (containers without passwd)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        getuid = getattr(os, "getuid", None)
        return f"uid:{getuid()}" if getuid else "unknown"


def current_user(settings: Settings) -> User:
    """The user from the OS and the settings' ``[user]`` section."""
    return User(
        os_account=os_account(),
        name=settings.values.user.name.strip(),
        role=settings.values.user.role.strip(),
    )


def require_named_user(settings: Settings, user: User | None = None) -> User:
    """Return the acting user, or refuse when the site requires a printed name and none is set.

    The UI calls this before letting a clinician decide, so the refusal comes before any work;
    :meth:`AuditLog.append` enforces it again for decisions and amendments.
    """
    user = user or current_user(settings)
    if settings.values.user.require_named_user and not user.name.strip():
        raise IdentityRequiredError(
            "This site requires your printed name before any decision is recorded, and none is "
            "set. Set your name (and role) in the user settings, then record the decision again. "
            "The decision was NOT saved."
        )
    return user
