"""Queues and staff: waiting at each point, where the officials should sit, what online frees.

Each point is an M/M/c queue (Erlang C) hour by hour: arrivals from the assessment's visits
a day (nearest point or Huff) spread by an hourly and weekly profile
(:func:`default_profile`, or :func:`profile_from_records` from timestamped dossiers), a
service time per dossier (15 minutes by default, overridable, by procedure group if known)
and the staffed counters (one official each).

* :func:`queue_table` / :func:`point_queues` — probability of waiting, mean and P90 wait,
  utilisation by hour and at the peak; a point whose peak arrivals reach its capacity is
  "overloaded at the peak" (waits ``NaN``, ``null`` in JSON), never an infinite number;
* :func:`staffing_plan` — officials needed (P90 wait at the peak ≤ 15 minutes) against
  assumed, per point and city-wide, and where a given number of officials should sit
  (greedy marginal allocation, exact for these convex costs);
* :func:`online_whatif` — waits and officials freed at 40 %, 30 %, 20 % in person;
* :func:`time_to_service` — travel plus expected wait at the nearest point, per unit;
* :func:`propose_with_waiting` — proposals that account for waiting, by alternating location
  and staffing (a heuristic, reported as such).

Examples
--------
>>> from pointplan.staffing import mmc_metrics
>>> round(float(mmc_metrics(6.0, 2, 10.0)["prob_wait"].iloc[0]), 4)
0.3333
"""

from __future__ import annotations

from pointplan.staffing.allocate import (
    DEFAULT_COUNTER_BOUNDS,
    TARGET_P90_MIN,
    allocate_counters,
    counter_bounds,
    counters_for_target,
    waiting_cost,
    waiting_cost_table,
)
from pointplan.staffing.erlang import erlang_b, erlang_c, min_counters, mmc_metrics
from pointplan.staffing.locate import WaitAwareProposal, propose_with_waiting
from pointplan.staffing.outputs import (
    POINT_COLUMNS,
    SUMMARY_KEYS,
    points_columns,
    summary_figures,
    wait_colour,
)
from pointplan.staffing.plan import DEFAULT_IN_PERSON_SHARES, StaffingPlan, WhatIf, online_whatif, staffing_plan
from pointplan.staffing.profiles import (
    DEFAULT_HOURLY,
    DEFAULT_SERVICE_MINUTES,
    DEFAULT_WEEKLY,
    ArrivalProfile,
    default_profile,
    group_shares_from_records,
    mean_service_minutes,
    profile_from_records,
)
from pointplan.staffing.queue import OVERLOADED_STATUS, PointQueues, arrival_matrix, point_queues, queue_table
from pointplan.staffing.service import time_to_service

__all__ = [
    "DEFAULT_COUNTER_BOUNDS",
    "DEFAULT_HOURLY",
    "DEFAULT_IN_PERSON_SHARES",
    "DEFAULT_SERVICE_MINUTES",
    "DEFAULT_WEEKLY",
    "OVERLOADED_STATUS",
    "POINT_COLUMNS",
    "SUMMARY_KEYS",
    "TARGET_P90_MIN",
    "ArrivalProfile",
    "PointQueues",
    "StaffingPlan",
    "WaitAwareProposal",
    "WhatIf",
    "allocate_counters",
    "arrival_matrix",
    "counter_bounds",
    "counters_for_target",
    "default_profile",
    "erlang_b",
    "erlang_c",
    "group_shares_from_records",
    "mean_service_minutes",
    "min_counters",
    "mmc_metrics",
    "online_whatif",
    "point_queues",
    "points_columns",
    "profile_from_records",
    "propose_with_waiting",
    "queue_table",
    "staffing_plan",
    "summary_figures",
    "time_to_service",
    "wait_colour",
    "waiting_cost",
    "waiting_cost_table",
]
