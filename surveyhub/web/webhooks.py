"""Webhook endpoints: register, delivery log, send a test event (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("webhooks", __name__)
