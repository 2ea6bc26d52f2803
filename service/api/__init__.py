"""The HTTP API: app factory (:mod:`.app`), v1 routes (:mod:`.routes`), request bodies
(:mod:`.bodies`), dependencies and the API key check (:mod:`.deps`).

``from service.api import create_app`` is the entry point; importing loads no model.
"""

from service.api.app import create_app

__all__ = ["create_app"]
