"""The briefing service; ``__version__`` is the installed distribution's version."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("briefing-service")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
