"""Geocoding the head offices, branches and post offices: checked answers a person can review.

Head-office and branch coordinates are not published; a planner with internet gets them by
geocoding the published addresses, checked and reviewable:

- :mod:`~pointplan.geocode.address` normalises Vietnamese addresses (2025 unit names, "số",
  "ngõ/ngách/hẻm", old district names) and parses them into house number, street, place
  and unit;
- :mod:`~pointplan.geocode.client` asks a Nominatim service over plain HTTP for several
  candidates, at most one request a second, caching answers and "no match" (with their
  date and the service URL) but never transient failures, which it retries with backoff;
- :mod:`~pointplan.geocode.check` accepts a candidate only inside the unit the address
  names (or within :data:`pointplan.settings.geocode_edge_tolerance_m` of its edge) and
  reads its precision from the answer's type;
- :mod:`~pointplan.geocode.batch` geocodes the address list (:func:`geocode_addresses`)
  and updates stand-in points (:func:`geocode_points`);
- :mod:`~pointplan.geocode.review` writes the review file a person checks and applies it
  back to the points with precision ``reviewed`` (:func:`apply_review`).

pointplan goes online only when ``pointplan.settings.allow_downloads`` is ``True``
(``--allow-downloads`` on the CLI); otherwise answers come from the cache alone.

Examples
--------
>>> from pointplan.geocode import parse_address
>>> parse_address("Số 2, phố Hà Cầu, phường Hà Đông").street
'Hà Cầu'
>>> import pointplan
>>> pointplan.settings.allow_downloads = True                     # doctest: +SKIP
>>> table = geocode_addresses(address_list())                     # doctest: +SKIP
>>> write_review(table, "review.csv")                             # doctest: +SKIP
>>> pts = apply_review("review.csv")                              # doctest: +SKIP
"""

from __future__ import annotations

from pointplan.geocode.address import (
    OTHER_PROVINCES,
    ParsedAddress,
    build_queries,
    normalize_address,
    parse_address,
    resolve_units,
)
from pointplan.geocode.batch import (
    REVIEW_COLUMNS,
    STATUSES,
    _key,
    address_list,
    geocode,
    geocode_addresses,
    geocode_points,
    post_office_addresses,
)
from pointplan.geocode.check import (
    GEOCODE_PRECISIONS,
    POINT_PRECISION,
    Candidate,
    UnitChecker,
    answer_precision,
    choose,
)
from pointplan.geocode.client import Answer, NominatimClient, TransientGeocodingError, cache_path, user_agent
from pointplan.geocode.review import (
    REVIEWED_MARKS,
    apply_review,
    is_reviewed,
    read_review,
    write_points_csv,
    write_review,
)

__all__ = [
    "GEOCODE_PRECISIONS",
    "OTHER_PROVINCES",
    "POINT_PRECISION",
    "REVIEWED_MARKS",
    "REVIEW_COLUMNS",
    "STATUSES",
    "Answer",
    "Candidate",
    "NominatimClient",
    "ParsedAddress",
    "TransientGeocodingError",
    "UnitChecker",
    "_key",
    "address_list",
    "answer_precision",
    "apply_review",
    "build_queries",
    "cache_path",
    "choose",
    "geocode",
    "geocode_addresses",
    "geocode_points",
    "is_reviewed",
    "normalize_address",
    "parse_address",
    "post_office_addresses",
    "read_review",
    "resolve_units",
    "user_agent",
    "write_points_csv",
    "write_review",
]
