"""API tokens: the admin's page to create and revoke them (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_tokens", __name__)
