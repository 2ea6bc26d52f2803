"""The API's routes, one module per resource; :mod:`service.app` includes each router.

``/v1/*`` routers carry the API key dependency; the probes (``ops``) stay open. A new
resource is a module here with its ``router``, added to :data:`V1_ROUTERS`.
"""

from service.api.routes import articles, briefings, digests, feeds, ops

V1_ROUTERS = (briefings.router, digests.router, articles.router, feeds.router)
OPEN_ROUTERS = (ops.router,)

__all__ = ["OPEN_ROUTERS", "V1_ROUTERS"]
