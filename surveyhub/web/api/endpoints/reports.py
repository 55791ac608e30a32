"""API routes: reports (being written)."""
