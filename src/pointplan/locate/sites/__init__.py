"""Candidate sites from real places: hospitals, clinics, post offices, planned sites, yours.

A planner chooses among buildings, not grid cells. This module turns the places shipped with
pointplan (and the user's own file) into named, typed and precision-flagged candidate sites:

``hospital`` / ``clinic``
    OpenStreetMap ``amenity=hospital`` features (``data/poi/hanoi_osm_hospitals_2024-09.geojson``)
    at their mapped coordinates (``location_precision="osm_mapped"``: the position mapped in OSM,
    a building or its centre). Features outside the 126 units are left out and reported. A
    commune health station (*trạm y tế*), a *phòng khám* or an OSM ``clinic`` tag is a clinic.
``post_office``
    VNPost offices (``data/poi/hanoi_vnpost_offices_pre2025.csv``) have addresses only. An
    office is placed on the street its address names when the road network has a street of
    that name inside the office's 2025 unit (``street_in_unit``, the street is recorded), at
    the point of that street nearest to the unit's stand-in; otherwise at the unit's stand-in
    (its precision; a stand-in that sits on the *head office's* street is flagged
    ``unit_representative_point`` for a post office, because it is not the office's street).
    The old ward's reference point in the file is never used as the office's location.
``planned_site``
    The planned kiosks in malls and the urban-area community point of
    ``tables/hanoi_2025_sites.csv``: a street match when the address names a street of the
    unit, else the reference point of the old ward the table names (``old_unit_reference``).
``user``
    The user's own file (any format :func:`pointplan.candidates.read_candidates` reads, with a
    ``name`` column); precision from its ``location_precision`` column, else ``unknown``.

Problems are reported by row, never fatal: a file with no names, rows without a name,
duplicate sites (same name within :data:`DUPLICATE_M`, or the same address in the same unit),
sites outside the city, addresses that match no street. The report is a DataFrame with the
columns :data:`REPORT_COLUMNS`.

Matching streets needs the inner-city road network (about 6 s to read), so the located post
offices and planned sites are shipped as a package table (``tables/located_sites.csv``) that
:func:`real_sites` reads; :func:`locate_address_sites` recomputes it (``python -m
pointplan.locate.sites`` rewrites it, after the stand-ins) and a test checks a few rows.

:func:`constraint_cost` states what choosing a real building costs against the best
unconstrained spot (see its Notes for the method).
"""

from __future__ import annotations

from pointplan.locate.sites._common import (
    DUPLICATE_M,
    LOCAL_SPOTS,
    LOCATED_TABLE,  # noqa: F401  (the package table's file name, as before the split)
    NEARBY_M,
    NO_BUILDING_M,
    REPORT_COLUMNS,
    SITE_COLUMNS,
    SITE_KINDS,
    SiteKind,
    _report,  # noqa: F401  (kept importable: tests replace real_sites with a stub using it)
)
from pointplan.locate.sites.cost import constraint_cost
from pointplan.locate.sites.hospitals import hospital_sites
from pointplan.locate.sites.streets import locate_address_sites, match_street
from pointplan.locate.sites.table import (
    compute_located_sites,
    load_located_table,
    post_office_rows,
    write_located_table,
    write_standins_table,
)
from pointplan.locate.sites.user import read_user_sites, real_sites, sites_to_candidates

__all__ = [
    "DUPLICATE_M",
    "LOCAL_SPOTS",
    "NEARBY_M",
    "NO_BUILDING_M",
    "REPORT_COLUMNS",
    "SITE_COLUMNS",
    "SITE_KINDS",
    "SiteKind",
    "compute_located_sites",
    "constraint_cost",
    "hospital_sites",
    "load_located_table",
    "locate_address_sites",
    "match_street",
    "post_office_rows",
    "read_user_sites",
    "real_sites",
    "sites_to_candidates",
    "write_located_table",
    "write_standins_table",
]
