"""API routes: exports (being written)."""
