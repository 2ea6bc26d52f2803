"""The HTTP API: v1 routes (:mod:`.routes`), response models (:mod:`.models`), request
bodies (:mod:`.bodies`), dependencies and the API key check (:mod:`.deps`), the start
(:mod:`.startup`), and the calls the routes and the pages make off the event loop
(:mod:`.calls`). The app factory that mounts it with the pages is :mod:`service.app`.
"""
