"""The measurement engine: instrument schema, registry, question types and scoring.

Named ``measures`` so it is never confused with the top-level ``instruments/``
folder, which holds instrument definitions (data).
"""
