"""Every threshold of every suite, in one place, with the reason for its value.

Reference figures are the real Sparkify mini log (286,500 events, 225 users; see
../shared/data/sparkify-real/README.md) and the calibrated generator at mini and full scale.
"Critical" expectations fail `sparkify validate` (exit 1) and close the scoring gate; warnings
are recorded and printed but do not fail the run.
"""

from __future__ import annotations

# --- history: what a new build may lose against the previous validated run -------------------
# Tables only grow between daily runs (new events, new as-of dates). Losing more than a fifth of
# the rows or users at once means lost input, not churn: a whole day is < 2% of the log.
MIN_RATIO_TO_PREVIOUS = 0.8

# --- stg_sparkify__events -----------------------------------------------------------------------
# Logged-out and guest events have no user: 2.9% of the real mini log. Above 10% the user id is
# being lost somewhere.
MIN_SHARE_WITH_USER = 0.90
# A song lasts seconds to minutes; the longest in the real logs is about 3,025 s.
SONG_LENGTH_S = (1.0, 3_600.0)
SONG_LENGTH_MOSTLY = 0.999
# Mean song length in the real logs is 249 s; a shift of a minute means a unit or parsing change.
MEAN_SONG_LENGTH_S = (190.0, 310.0)

# --- stg_sparkify__events_daily (the page mix of each day) ----------------------------------------
# Days with fewer thumbs than this are too small for a share to mean anything (partial last day).
MIN_THUMBS_PER_DAY = 50
# Thumbs Down / (Thumbs Up + Thumbs Down): 16.9% in the real mini log, 18-20% generated; a
# binomial day of 200 thumbs stays within +-0.08. Outside [0.05, 0.45] the rating events of that
# day are wrong (for example every Thumbs Up logged as Thumbs Down).
THUMBS_DOWN_SHARE_PER_DAY = (0.05, 0.45)
# NextSong is 79.6% of real events; a day below 65% or above 92% has lost or duplicated a page type.
SONG_SHARE_PER_DAY = (0.65, 0.92)
MIN_EVENTS_PER_DAY_FOR_SHARES = 500

# --- fct_user_features ------------------------------------------------------------------------------
# Ratios are shares by construction.
SHARE_FEATURES = (
    "thumbs_down_share_7d",
    "thumbs_down_share_28d",
    "thumbs_down_share_to_date",
    "paid_share_28d",
)
# Counts, durations, rates and trends of activity cannot be negative: one check over all of them
# (the dbt tests keep to structure: keys, nulls, relationships, accepted values).
NON_NEGATIVE_FEATURES = tuple(
    [f"{name}_{days}d" for name in ("songs", "sessions", "active_days") for days in (7, 14, 28)]
    + [f"{name}_to_date" for name in ("songs", "sessions", "active_days", "level_changes", "downgrades")]
    + [
        f"{name}_{days}d"
        for name in (
            "listening_hours",
            "distinct_artists",
            "songs_per_session",
            "avg_session_minutes",
            "thumbs_up",
            "thumbs_down",
            "roll_advert",
            "roll_advert_per_song",
            "errors",
            "help",
            "downgrade_page",
        )
        for days in (7, 28)
    ]
    + [
        "help_per_song_7d",
        "thumbs_up_per_song_28d",
        "add_to_playlist_28d",
        "add_friend_28d",
        "settings_28d",
        "upgrade_page_28d",
        "tenure_days",
    ]
    + [f"{name}_trend_7d_vs_prior_21d" for name in ("songs", "sessions", "thumbs_down", "roll_advert")]
)
# Listening time must agree with the song count: the mean song is about 4.1 minutes, so the
# minutes per song over 28 days of a user with >= 20 songs sits well inside [2, 8].
MINUTES_PER_SONG_28D = (2.0, 8.0)
MINUTES_PER_SONG_MOSTLY = 0.99
# Every row has at least one event before its as-of date, so recency is always known.
MIN_SHARE_WITH_RECENCY = 1.0
# Median songs in 28 days per user-date: about 250-450 generated, 300 real; a median outside
# [50, 2000] means the windows are wrong (a day instead of 28, or no window at all).
SONGS_28D_MEDIAN = (50.0, 2_000.0)

# --- fct_training_set ---------------------------------------------------------------------------------
# Share of user-dates that cancel within the 7-day horizon: 3-5% on the generated logs (about 3.5%
# in the real mini log: 52 cancellations over 63 days among about 190 active users). Below 1% the
# labels are lost; above 35% the horizon or the churn page is wrong.
CHURN_RATE = (0.01, 0.35)
# The purged time split (ml/training/dataset.py) needs 7 test days, 7 validation days, 7 days for the
# tuning fit's horizon to close and at least one fit date: 22 daily as-of dates.
MIN_LABELLED_DATES = 22
MIN_CHURNED_ROWS = 10

# --- churn_scores (the latest scoring run) -------------------------------------------------------
# A model whose scores barely vary around their mean has collapsed to a constant. Relative to the
# mean (the coefficient of variation), because a weekly churn rate of a few percent makes an honest
# model's scores small: one run of 150 users had mean 0.012 and stdev 0.0074 (0.6 of the mean), and
# an absolute floor of 0.01 refused it. A constant gives 0.
MIN_SCORE_RELATIVE_STDEV = 0.1
MIN_DISTINCT_SCORES = 5
# Mean predicted churn far outside the observed base rate band means a broken model or inputs.
MEAN_SCORE = (0.005, 0.6)
