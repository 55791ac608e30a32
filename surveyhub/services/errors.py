"""Errors that services raise; the web and CLI faces turn them into pages and lines."""


class ServiceError(Exception):
    """A user error with a message fit to show as it is."""


class NotFound(ServiceError):
    """The thing does not exist, or the actor may not know it exists."""


class Forbidden(ServiceError):
    """The actor may see this but not do that."""


class Conflict(ServiceError):
    """The change clashes with what is stored (a duplicate, a used version)."""
