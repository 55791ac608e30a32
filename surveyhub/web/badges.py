"""Open Badges: issuer profile, public key, status list, and residents' badges (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("badges", __name__)
