"""Who is acting: the OS account plus the clinician's printed name and role.

21 CFR 11.50 asks that a signed record show the signer's printed name, the date/time and the
meaning of the act; the OS account alone is not a printed name, so the site can require one.
"""

from __future__ import annotations

import functools
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


# getpass.getuser's variables, in its order: a set one names the account, as it always has
_ACCOUNT_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


def os_account() -> str:
    """The login name (``getpass.getuser``: the variables first, then the password database);
    ``uid:N`` when the platform cannot name it (containers without passwd)."""
    for name in _ACCOUNT_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value
    getuid = getattr(os, "getuid", None)
    return _account_of(getuid()) if getuid else "unknown"


@functools.lru_cache(maxsize=8)
def _account_of(uid: int) -> str:
    """The password database's name for ``uid``, looked up once per process and uid: each audit
    log open, verification and change record asks, and with LOGNAME/USER unset each ask was a
    ``getpwuid`` (an NSS lookup: a file read, or a directory server on a networked login). A
    running process keeps its uid (Bedside never calls setuid), so the answer cannot change."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid:{uid}"


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
