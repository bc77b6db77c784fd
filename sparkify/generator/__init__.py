"""Synthetic Sparkify event logs calibrated to the real logs, with churn ground truth.

Layers: ``catalogue`` (songs, people, places, devices) -> ``chain`` (eventsim's page transitions,
bent by a user's dissatisfaction) -> ``population`` (users and their latent churn process) ->
``simulate`` (one shard of users, day by day, to sorted per-day part files) -> ``writer``
(merge, optional gzip, corruption) -> ``truth`` (ground truth and the oracle).
"""
