"""``pointplan roads``: download the city's roads and footpaths from OpenStreetMap, list what is cached.

``pointplan roads --download`` fetches the area (the city by default, or ``--units``,
``--province``) from Overpass in tiles, resumably, then converts it once into each mode's
arrays under ``<cache>/roads/<name>/``; ``pointplan roads --list`` shows what is cached,
from when, and its licence. ``--from-file`` converts an OSM PBF/XML file instead (e.g.
a province clipped from Viet Nam's extract).

Register with ``add_parser(subparsers)``; the parser's ``func`` is :func:`cmd_roads`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pointplan._errors import InputError

__all__ = ["add_parser", "cmd_roads", "roads_summary"]


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``roads`` sub-command to a parser's sub-parsers.

    Parameters
    ----------
    subparsers
        What ``parser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``roads`` parser (its default ``func`` is :func:`cmd_roads`).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pointplan")
    >>> _ = add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["roads", "--list"])
    >>> args.list, args.func is cmd_roads
    (True, True)

    """
    p = subparsers.add_parser(
        "roads",
        help="download the city's roads and footpaths from OpenStreetMap (tiles, resumable); list them",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--download", action="store_true", help="download (or resume) and convert the roads")
    what.add_argument("--list", action="store_true", help="list the cached road networks")
    what.add_argument("--from-file", metavar="OSM", help="convert an OSM file (.osm.pbf, .osm, .osm.gz) instead")
    p.add_argument("--overpass-url", help="another Overpass API (default: osmnx's, overpass-api.de)")
    p.add_argument("--units", help="only these units: codes separated by commas (e.g. 00004,00008)")
    p.add_argument("--province", help="a province by name (default Hà Nội; another needs geocoding online)")
    p.add_argument("--bbox", help="a box instead: west,south,east,north in degrees")
    p.add_argument("--name", help="name of the cached network (default: hanoi, or derived from the area)")
    p.add_argument("--cache-dir", help="cache folder (default: pointplan's cache, POINTPLAN_CACHE_DIR)")
    p.add_argument("--modes", default="motorbike,car,walk", help="modes to convert (default motorbike,car,walk)")
    p.add_argument("--tile-deg", type=float, default=None, help="tile side in degrees (default 0.05)")
    p.add_argument("--retries", type=int, default=4, help="tries after the first for each tile (default 4)")
    p.set_defaults(func=cmd_roads)
    return p


def _area(args: argparse.Namespace) -> tuple[Any, str]:
    """Return the area to download (lon/lat) and its default name."""
    import shapely

    if args.bbox:
        try:
            w, s, e, n = (float(v) for v in args.bbox.split(","))
        except ValueError:
            msg = f"--bbox must be west,south,east,north in degrees, got {args.bbox!r}."
            raise InputError(msg) from None
        return shapely.box(w, s, e, n), "hanoi" if args.name is None else args.name
    if args.province and args.province.strip().lower() not in {"hanoi", "ha noi", "hà nội", "thành phố hà nội"}:
        import osmnx as ox

        gdf = ox.geocode_to_gdf(args.province)
        return gdf.union_all(), _slug(args.province)
    from pointplan.data import load_units

    units = load_units().to_crs(4326)
    if args.units:
        codes = [c.strip() for c in args.units.split(",") if c.strip()]
        unknown = sorted(set(codes) - set(units.index.astype(str)))
        if unknown:
            msg = f"Unknown unit code(s) {', '.join(unknown)}: use the codes of `pointplan info` (e.g. 00004)."
            raise InputError(msg)
        units = units.loc[units.index.astype(str).isin(codes)]
        return units.union_all(), "units-" + "-".join(sorted(codes))[:60]
    return units.union_all(), "hanoi"


def _slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in plain.lower()).split()) or "area"


def roads_summary(cache_dir: str | None = None) -> str:
    """Return what ``pointplan info`` says about downloaded roads: what is cached, from when, its licence.

    Parameters
    ----------
    cache_dir
        Cache folder (default: pointplan's cache).

    Returns
    -------
    str
        A few lines.

    Examples
    --------
    >>> print(roads_summary("/nonexistent"))
    <BLANKLINE>
    Roads downloaded from OpenStreetMap: none (run `pointplan roads --download` for the whole city's
    roads and footpaths; runs use them by default afterwards).

    """
    from pointplan.network.roadcache import list_roads

    table = list_roads(cache_dir)
    if table.empty:
        return (
            "\nRoads downloaded from OpenStreetMap: none (run `pointplan roads --download` for the whole city's\n"
            "roads and footpaths; runs use them by default afterwards)."
        )
    lines = ["\nRoads downloaded from OpenStreetMap (used by default; `pointplan roads --list`):"]
    for r in table.itertuples():
        size = f"{int(r.nodes):,} nodes" if r.status in {"ok", "altered"} else ""
        when = f"downloaded {r.downloaded}" if r.downloaded else f"built {r.built}"
        lines.append(f"  {r.name} {r.mode}: {r.status} {size}, {when}, source {r.source}")
    lines.append(f"  licence: {table['licence'].dropna().iloc[0]}")
    return "\n".join(lines)


def _list(cache_dir: str | None) -> int:
    from pointplan.network.download import roads_dir
    from pointplan.network.roadcache import list_roads

    table = list_roads(cache_dir)
    if table.empty:
        _print(f"No road network cached under {roads_dir(cache_dir)}. Run `pointplan roads --download`.")
        return 0
    _print(f"Road networks cached under {roads_dir(cache_dir)}:")
    for r in table.itertuples():
        size = f"{int(r.nodes):,} nodes, {int(r.arcs):,} arcs" if r.status in {"ok", "altered"} else ""
        when = f"downloaded {r.downloaded}" if r.downloaded else f"built {r.built}"
        _print(f"  {r.name:<12} {r.mode:<9} {r.status:<10} {size:<32} {when}; source {r.source}")
    _print(f"  licence: {table['licence'].dropna().iloc[0]}")
    return 0


def cmd_roads(args: argparse.Namespace) -> int:
    """Run ``pointplan roads``: ``--download``, ``--from-file`` or ``--list``.

    Parameters
    ----------
    args
        Parsed arguments (see :func:`add_parser`).

    Returns
    -------
    int
        0 on success (errors are raised as pointplan errors, reported by ``main``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cmd_roads(argparse.Namespace(list=True, download=False, from_file=None, cache_dir=tmp))
    No road network cached under .../roads. Run `pointplan roads --download`.
    0

    """
    from pointplan.network.roadcache import DEFAULT_MODES

    if args.list:
        return _list(args.cache_dir)
    modes = [m.strip() for m in (args.modes or ",".join(DEFAULT_MODES)).split(",") if m.strip()]
    if args.from_file:
        from pointplan.network.roadcache import convert_file

        folder = convert_file(Path(args.from_file), args.name, cache_dir=args.cache_dir, modes=modes)
        _print(f"Converted {args.from_file} into {folder} ({', '.join(modes)}).")
        return _list(args.cache_dir)
    return _download(args, modes)


def _download(args: argparse.Namespace, modes: list[str]) -> int:
    from pointplan.network.download import TILE_DEG, download_roads
    from pointplan.network.roadcache import build_roads

    area, name = _area(args)
    name = args.name or name

    def progress(done: int, total: int, tile: Any, fetched: bool) -> None:
        _print(f"  tile {done}/{total} {tile.key}: {'downloaded' if fetched else 'already here'}")

    tile_deg = args.tile_deg or TILE_DEG
    folder = download_roads(
        area, name=name, cache_dir=args.cache_dir, overpass_url=args.overpass_url, tile_deg=tile_deg,
        retries=args.retries, progress=progress,
    )  # fmt: skip
    from pointplan.network.download import read_manifest

    n_tiles = len(read_manifest(folder)["tiles"])
    _print(f"Roads {name!r}: {n_tiles} tiles in {folder}; converting {', '.join(modes)}...")
    built = build_roads(name, cache_dir=args.cache_dir, modes=modes)
    for mode, side in built.items():
        _print(f"  {mode}: {side['nodes']:,} nodes, {side['arcs']:,} arcs")
    _print("© OpenStreetMap contributors, ODbL 1.0.")
    return 0
