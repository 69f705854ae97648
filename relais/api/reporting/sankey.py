"""The changes of lead between institution kinds as an SVG Sankey diagram, laid out here.

Two columns of nodes (the kind that handed the case on, the kind that took the lead), one
filled band per flow, as wide as its published count. A "<5" is drawn as a thin band of a
fixed width, thinner than any number's, so the drawing reveals no more than the figure.
Only elements that browsers and fpdf2's SVG reader both draw: rect, path, text, title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from relais.i18n import said

from .labels import KINDS, Lang, check_lang, pick
from .model import Cell, published_sum

WIDTH, TOP, BOTTOM = 640, 44, 16
NODE_W, GAP, LABEL_SPACE = 14, 20, 130
LEFT_X, RIGHT_X = LABEL_SPACE, WIDTH - LABEL_SPACE - NODE_W
AREA = 300  # pixels shared by the numbered bands
SMALL_W, MIN_W = 2.0, 4.0  # a "<5" band; the thinnest numbered band
LINE = 13  # pixels between two count labels
TEXT = "#1a1a1a"
BAND_OPACITY = 0.45
COLOURS = {"AC": "#0072B2", "AI": "#D55E00", "SA": "#009E73", "FP": "#CC79A7",
           "MIG": "#E69F00", "CII": "#56B4E9"}  # Okabe–Ito: told apart with colour blindness
OTHER = "#777777"


@dataclass(frozen=True)
class Band:
    source: str
    target: str
    count: Cell
    width: float
    y0: float  # top at the source node
    y1: float  # top at the target node


def widths(counts: Sequence[Cell]) -> list[float]:
    """Band widths in pixels: numbers share ``AREA`` (none thinner than ``MIN_W``), each
    "<5" is ``SMALL_W``."""
    numbers = sum(c for c in counts if isinstance(c, int))
    scale = AREA / numbers if numbers else 0.0
    return [max(MIN_W, c * scale) if isinstance(c, int) else SMALL_W for c in counts]


def _order(kinds: set[str]) -> list[str]:
    known = [k for k in KINDS if k in kinds]
    return known + sorted(kinds - set(known))


def _column(nodes: list[str], bands: dict[str, list[int]], w: list[float], *,
            labelled: bool = False) -> tuple[dict[str, tuple[float, float]], dict[int, float]]:
    """Each node's (top, height) and each band's top, bands stacked in the given order.
    ``labelled``: the bands' counts stand beside the node, one a line; where they need more
    room than the node is tall, the gap below it grows (the node itself does not)."""
    spans, tops, y = {}, {}, float(TOP)
    for node in nodes:
        start = y
        for i in bands[node]:
            tops[i] = y
            y += w[i]
        spans[node] = (start, y - start)
        y += GAP + (max(0.0, LINE * len(bands[node]) - (y - start)) if labelled else 0.0)
    return spans, tops


def layout(flows: Sequence[dict[str, Any]]) -> tuple[list[Band], dict[str, Any]]:
    moves = [f for f in flows if f["count"] != 0]
    w = widths([f["count"] for f in moves])
    sources = _order({f["from"] for f in moves})
    targets = _order({f["to"] for f in moves})
    rank = {k: i for i, k in enumerate(targets)}
    out_of = {s: sorted((i for i, f in enumerate(moves) if f["from"] == s),
                        key=lambda i: rank[moves[i]["to"]]) for s in sources}
    src_rank = {k: i for i, k in enumerate(sources)}
    into = {t: sorted((i for i, f in enumerate(moves) if f["to"] == t),
                      key=lambda i: src_rank[moves[i]["from"]]) for t in targets}
    left, tops0 = _column(sources, out_of, w, labelled=True)
    right, tops1 = _column(targets, into, w)
    bands = [Band(f["from"], f["to"], f["count"], w[i], tops0[i], tops1[i])
             for i, f in enumerate(moves)]
    bottom = max([y + h for y, h in (*left.values(), *right.values())], default=TOP)
    return bands, {"left": left, "right": right, "height": bottom + BOTTOM,
                   "out_of": out_of, "into": into}


def _n(x: float) -> str:
    return f"{x:.1f}"


def _band_path(b: Band) -> str:
    x0, x1 = LEFT_X + NODE_W, RIGHT_X
    mid = (x0 + x1) / 2
    return (f"M{_n(x0)} {_n(b.y0)} C{_n(mid)} {_n(b.y0)} {_n(mid)} {_n(b.y1)} {_n(x1)} "
            f"{_n(b.y1)} L{_n(x1)} {_n(b.y1 + b.width)} C{_n(mid)} {_n(b.y1 + b.width)} "
            f"{_n(mid)} {_n(b.y0 + b.width)} {_n(x0)} {_n(b.y0 + b.width)} Z")


WORDS = {"title": ("Changements de responsable entre genres d'institution",
                   "Changes of lead between kinds of institution"),
         "from": ("Transmet le cas", "Hands the case on"),
         "to": ("Devient responsable", "Becomes the lead"), "to_word": ("vers", "to"),
         "none": ("Aucun changement de responsable dans la période.",
                  "No change of lead in the period.")}


def _words(lang: Lang) -> dict[str, str]:
    return {key: said(lang, fr, en) for key, (fr, en) in WORDS.items()}


def _text(x: float, y: float, body: str, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-family="Helvetica, Arial, sans-serif" '
            f'font-size="12" fill="{TEXT}" text-anchor="{anchor}"{weight}>{escape(body)}</text>')


def _count_labels(bands: list[Band], groups: dict[str, list[int]]) -> list[str]:
    """Each band's count just right of its source node, pushed down where bands are too thin
    for their labels to stand one above the other."""
    out = []
    for indices in groups.values():
        last = -1e9
        for i in indices:
            b = bands[i]
            y = max(b.y0 + b.width / 2 + 4, last + LINE)
            last = y
            out.append(_text(LEFT_X + NODE_W + 5, y, str(b.count)))
    return out


def _node(x: float, top: float, height: float, kind: str, label_x: float, anchor: str,
          total: Cell, lang: Lang) -> list[str]:
    colour = COLOURS.get(kind, OTHER)
    name = pick(KINDS.get(kind), lang, kind)
    return [f'<rect x="{_n(x)}" y="{_n(top)}" width="{NODE_W}" height="{_n(height)}" '
            f'fill="{colour}" stroke="{TEXT}" stroke-width="0.5"><title>'
            f'{escape(f"{name} ({kind}) : {total}")}</title></rect>',
            _text(label_x, top + height / 2 + 4, f"{kind} · {total}", anchor, bold=True)]


def sankey_svg(flows: Sequence[dict[str, Any]], lang: Lang = "fr") -> str:
    """The diagram of ``flows`` (``[{"from", "to", "count"}]``, as ``cases.steering.flows``
    answers), a standalone SVG document; the same flows give the same bytes."""
    words = _words(check_lang(lang))
    bands, shape = layout(flows)
    summary = "; ".join(f"{b.source} {words['to_word']} {b.target} : {b.count}" for b in bands)
    label = f"{words['title']}. {summary or words['none']}"
    height = shape["height"] if bands else TOP + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
             f'width="{WIDTH}" height="{_n(height)}" viewBox="0 0 {WIDTH} {_n(height)}">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{_n(height)}" fill="#ffffff"/>',
             _text(LEFT_X + NODE_W, 22, words["from"], "end", bold=True),
             _text(RIGHT_X, 22, words["to"], "start", bold=True)]
    if not bands:
        parts.append(_text(WIDTH / 2, TOP + 16, words["none"], "middle"))
    for b in bands:
        title = f"{b.source} {words['to_word']} {b.target} : {b.count}"
        parts.append(f'<path class="flow" d="{_band_path(b)}" fill="{COLOURS.get(b.source, OTHER)}"'
                     f' fill-opacity="{BAND_OPACITY}" stroke="none"><title>{escape(title)}'
                     f'</title></path>')
    for side, groups, x, label_x, anchor in (
            ("left", shape.get("out_of", {}), LEFT_X, LEFT_X - 6, "end"),
            ("right", shape.get("into", {}), RIGHT_X, RIGHT_X + NODE_W + 6, "start")):
        for kind, (top, h) in shape.get(side, {}).items():
            total = published_sum(bands[i].count for i in groups[kind])
            parts += _node(x, top, h, kind, label_x, anchor, total, lang)
    parts += _count_labels(bands, shape.get("out_of", {}))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
