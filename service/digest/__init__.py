"""The daily digest: one local day's articles, grouped by story, briefed, delivered once.

One module per stage; import from the module (this package re-exports nothing, so the
article store can use :mod:`service.digest.fingerprint` without loading the rest):

  window          the local day as a UTC interval; ``YYYY-MM-DD`` parsing
  fingerprint     MinHash fingerprints of article text (stored with each article)
  stories         articles grouped into stories (same text, or similar fingerprints)
  ranking         which stories lead
  compose         each story's title and short briefing; the overview (:class:`StoryBriefer`)
  build           ``build_digest``: the stages in order; the digest stored
  slack_messages  the digest as Block Kit messages within Slack's limits (pure)
  slack_webhook   webhook URL checks and redaction; the sender with retries
  ledger          the delivery ledger with its lease: exactly-once delivery, resumable
  job             ``DailyJob``: build, then deliver
  scheduler       the cron schedule inside ``briefing serve``; catch-up of a missed run
"""
