"""Portfolio's administrative entrypoint (used by the CLI): bootstrap users
before anyone can log in to the API."""
from __future__ import annotations

from datetime import date

from services.portfolio.adapters import repository as repo
from services.portfolio.domain.directory import Directory, UserIn
from shared import db
from shared.auth import Role
from shared.config import Settings


def ensure_user(settings: Settings, email: str, password: str, role: Role, name: str = "") -> bool:
    """Create the user if missing (an existing user's password is never changed here).
    Returns True when the user was created."""
    engine = db.make_engine(settings.database_url_for("portfolio"))
    try:
        with engine.begin() as conn:
            if repo.user_by_email(conn, email) is not None:
                return False
            user = UserIn(id="USR-" + email.split("@")[0].upper(), email=email, name=name or email, role=role,
                          password=password)
            repo.apply_directory(conn, Directory(users=[user]), date.today())
            return True
    finally:
        engine.dispose()
