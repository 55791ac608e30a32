"""A plugin whose dependency is not installed: it fails to import."""

import surveyhub_weather_service  # noqa: F401  (does not exist, on purpose)
