"""The archive's world map, drawn on the server as SVG from vendored Natural Earth data.

Standard library only. The countries come from ``capital/data/world-atlas/countries-110m.json``
(TopoJSON, see the README beside it), projected with the Equal Earth projection (Šavrič,
Patterson and Jenny, 2018): areas keep their true proportions, so no continent looks larger
than it is. The outline is computed once per process; markers are added per request.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "world-atlas" / "countries-110m.json"
ANTARCTICA = "010"  # ISO 3166-1 numeric; left out: no member city, and it would fill a third of the height

WIDTH = 960
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2
# Without Antarctica the map stops at 60° south.
SOUTH = -60.0


def equal_earth(longitude: float, latitude: float) -> tuple[float, float]:
    """The Equal Earth projection of a point, in unit-scale coordinates (y grows northwards)."""
    lam, phi = math.radians(longitude), math.radians(latitude)
    theta = math.asin(_M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


# Half the projected width and the top of the world at scale 1 (λ = 180°, φ = 90°).
_X_MAX = equal_earth(180, 0)[0]
_Y_MAX = equal_earth(0, 90)[1]
SCALE = WIDTH / (2 * _X_MAX)
HEIGHT = math.ceil((_Y_MAX - equal_earth(0, SOUTH)[1]) * SCALE)


def to_map(longitude: float, latitude: float) -> tuple[float, float]:
    """A point's place on the map, in SVG pixels from the top left corner."""
    x, y = equal_earth(longitude, latitude)
    return round(WIDTH / 2 + x * SCALE, 1), round((_Y_MAX - y) * SCALE, 1)


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON's quantised, delta-encoded arcs as lists of (longitude, latitude)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(indices: list[int], arcs) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)  # consecutive arcs share their end point
    # A ring that crosses the antimeridian continues east of 180° (the SVG clips it) instead of
    # drawing a line across the whole map.
    if any(abs(b[0] - a[0]) > 180 for a, b in zip(points, points[1:])):
        points = [(lon + 360 if lon < 0 else lon, lat) for lon, lat in points]
    return points


def _path(rings) -> str:
    """The rings as one path in whole pixels and relative steps, repeated points dropped: at the
    map's 960 pixels a finer outline draws the same, and this keeps the year page that shows the
    map small (about 45 KB of outline instead of 111 KB)."""
    parts = []
    for ring in rings:
        points = []
        for lon, lat in ring:
            x, y = to_map(lon, max(lat, SOUTH))
            point = (round(x), round(y))
            if not points or point != points[-1]:
                points.append(point)
        if len(points) < 3:  # an island smaller than a pixel
            continue
        steps = " ".join(f"{bx - ax},{by - ay}" for (ax, ay), (bx, by) in zip(points, points[1:]))
        parts.append(f"M{points[0][0]},{points[0][1]}l{steps.replace(' -', '-')}z")
    return "".join(parts)


@lru_cache(maxsize=1)
def country_paths() -> tuple[str, ...]:
    """One SVG path (``d``) per country, projected; computed once."""
    topology = json.loads(DATA.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    paths = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("id") == ANTARCTICA or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        paths.append(_path(_ring(ring, arcs) for polygon in polygons for ring in polygon))
    return tuple(paths)


@dataclass(frozen=True)
class Marker:
    """A place on the map: a link to ``href`` named ``label``."""

    latitude: float
    longitude: float
    label: str
    href: str


def world_map_svg(markers: list[Marker], *, title: str, map_id: str = "world-map") -> str:
    """The world with a linked, labelled marker per place."""
    countries = "".join(f'<path d="{d}"/>' for d in country_paths())
    pins = []
    for marker in markers:
        x, y = to_map(marker.longitude, marker.latitude)
        label = escape(marker.label)
        pins.append(
            f'<a href="{escape(marker.href)}" aria-label="{label}"><title>{label}</title>'
            f'<circle cx="{x:g}" cy="{y:g}" r="10" fill="#b3261e" stroke="#ffffff" stroke-width="2"/></a>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="world-map" id="{escape(map_id)}" '
        f'aria-labelledby="{map_id}-title" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f'<title id="{map_id}-title">{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#eef4fb"/>'
        f'<g fill="#d9dee4" stroke="#ffffff" stroke-width="0.5" aria-hidden="true">{countries}</g>'
        f'<g>{"".join(pins)}</g></svg>'
    )
