"""API routes: documents (being written)."""
