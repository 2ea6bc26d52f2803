"""Web pages over the API's services: brief an article, a day's articles, a day's digest.

Server-rendered (Jinja2, autoescaped) with a small stylesheet and script shipped as package
data; no build step and nothing from another origin. See :mod:`service.web.pages`.
"""

from service.web.pages import CONTENT_SECURITY_POLICY, install_pages

__all__ = ["CONTENT_SECURITY_POLICY", "install_pages"]
