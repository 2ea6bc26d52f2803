"""Articles that come by themselves: pages fetched by URL and entries of followed feeds.

  guard   the address guard (SSRF): which URLs and addresses may be fetched
  fetch   one guarded fetch: redirects, time and size limits, content types
"""
