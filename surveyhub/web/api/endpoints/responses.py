"""API routes: responses (being written)."""
