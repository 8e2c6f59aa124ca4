"""``pointplan info --province X``: a province's units, populations and what they rest on."""

from __future__ import annotations

from pointplan.cli._common import _print
from pointplan.cli.codes import EXIT_OK


def print_province(province: str) -> int:
    """Print a province's units and where their populations come from (``list``: all 34).

    Examples
    --------
    >>> print_province("Lai Châu")  # doctest: +ELLIPSIS
    Tỉnh Lai Châu (code 12, slug lai-chau): 38 units (xa 36, phuong 2), population 526,940
      population sources: official 37, worldpop_estimate 1
        03487 Xã Lê Lợi: official 911, WorldPop 30,906 (below_0.3x_worldpop) → 23,449 (estimate)
      head offices: addresses only (stand-ins at each unit's population centre; geocode to place them)
    0
    """
    from pointplan.data import load_units
    from pointplan.provinces import PROVINCES, resolve_province, unlinked_units

    if province.strip().lower() == "list":
        for p in PROVINCES:
            _print(f"{p.code}  {p.name:<24s} {p.units:4d} units  ({p.slug})")
        return EXIT_OK
    prov = resolve_province(province)
    units = load_units(prov.code)
    kinds = ", ".join(f"{k} {v}" for k, v in units["kind"].value_counts().items())
    _print(
        f"{prov.name} (code {prov.code}, slug {prov.slug}): {len(units)} units ({kinds}), "
        f"population {int(units['population'].sum()):,}"
    )
    sources = units["population_source"].value_counts()
    _print("  population sources: " + ", ".join(f"{k} {v}" for k, v in sources.items()))
    if "population_flag" in units:
        flagged = units[units["population_flag"] != ""]
        for code, row in flagged.head(20).iterrows():
            official = (
                "none"
                if row["population_official"] != row["population_official"]
                else f"{row['population_official']:,.0f}"
            )
            _print(
                f"    {code} {row['full_name']}: official {official}, WorldPop {row['worldpop2020_1km_zonal_sum']:,}"
                f" ({row['population_flag']}) → {row['population']:,} (estimate)"
            )
        if len(flagged) > 20:
            _print(f"    … and {len(flagged) - 20} more (population_flag in units.csv)")
    island = unlinked_units(units)
    if island.any():
        _print("  no land link (islands): " + ", ".join(units.loc[island, "full_name"]))
    _print("  head offices: addresses only (stand-ins at each unit's population centre; geocode to place them)")
    return EXIT_OK
