"""API routes: participants (being written)."""
