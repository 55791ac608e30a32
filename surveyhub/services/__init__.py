"""Services: the operations of SurveyHub, plain values in and out.

Each function takes a SQLAlchemy session (and an ``Actor`` where access
matters), flushes, and leaves the commit to its caller: a route or a CLI
command.
"""
