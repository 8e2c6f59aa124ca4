"""Write headoffice_replies.json: Nominatim-style replies for the 126 head-office addresses.

Run once from the repository root (``python tests/geocode_fixtures/make_headoffice_replies.py``);
the JSON is committed and the tests only read it. For each unit the reply to its first query
holds, by the unit's number in the list (i = 0..125):

- i % 10 == 9: nothing (``[]``): the address stays unmatched;
- i % 10 == 8: only a candidate in the *next* unit: the address must be rejected;
- i % 3 == 0 (otherwise): a candidate in the next unit first, then one in the right unit;
- else: one candidate in the right unit.

Addresses share queries (the street-only and village queries of one unit may be another's
first query), so ``expected`` is worked out from every query of each address: accepted when
some reply to its queries holds a candidate in its own unit, rejected when replies hold only
candidates of other units, unmatched when they hold nothing.

Candidates lie at each unit's ``point_on_surface`` (EPSG:32648), so "inside" is certain; the
precision is ``house`` when the address has a house number and a street, ``street`` when it
names a street, else ``place`` (a village). ``expected`` lists the point ids accepted and
rejected by construction (see below).
"""

from __future__ import annotations

import json
from pathlib import Path

import pointplan
from pointplan.data import representative_points
from pointplan.geocode import build_queries, parse_address


def _result(code: str, lon: float, lat: float, precision: str, n: int) -> dict[str, object]:
    category, kind, rank = {
        "house": ("building", "yes", 30),
        "street": ("highway", "residential", 26),
        "place": ("place", "village", 19),
    }[precision]
    return {
        "osm_type": "node",
        "osm_id": n,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "category": category,
        "type": kind,
        "place_rank": rank,
        "display_name": f"candidate {n} in unit {code}",
    }


def main() -> None:
    units = pointplan.load_units()
    points = pointplan.load_points("units-only", units=units)
    rep = representative_points(units).to_crs(4326)
    codes = list(units.index)
    rules: dict[str, list[dict[str, object]]] = {}
    keys: dict[str, dict[str, str]] = {}
    all_queries: dict[str, list[str]] = {}
    for i, code in enumerate(codes):
        pid = f"DP{code}"
        parsed = parse_address(points.loc[pid, "address"])
        queries = build_queries(parsed)
        all_queries[code] = [json.dumps(q, ensure_ascii=False, sort_keys=True) for q in queries]
        query = queries[0]
        precision = "house" if (parsed.house and parsed.street) else ("street" if parsed.street else "place")
        nxt = codes[(i + 1) % len(codes)]
        right = _result(code, rep[code].x, rep[code].y, precision, 10_000 + i)
        wrong = _result(nxt, rep[nxt].x, rep[nxt].y, precision, 20_000 + i)
        if i % 10 == 9:
            body: list[dict[str, object]] = []
        elif i % 10 == 8:
            body = [wrong]
        elif i % 3 == 0:
            body = [wrong, right]
        else:
            body = [right]
        key = json.dumps(query, ensure_ascii=False, sort_keys=True)
        keys[key] = query
        rules.setdefault(key, []).extend(body)
    accepted, rejected = [], []
    for code, qkeys in all_queries.items():
        found = [str(r["display_name"]).rsplit(" ", 1)[-1] for k in qkeys for r in rules.get(k, [])]
        if code in found:
            accepted.append(f"DP{code}")
        elif found:
            rejected.append(f"DP{code}")
    out = {
        "about": __doc__.strip().splitlines()[0],
        "rules": [{"match": keys[k], "replies": [{"body": body}]} for k, body in rules.items()],
        "expected": {"accepted": accepted, "rejected": rejected},
    }
    path = Path(__file__).with_name("headoffice_replies.json")
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
