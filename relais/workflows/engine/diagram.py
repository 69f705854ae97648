"""Drawings of a route: SVG from a layout computed here (no Graphviz needed), and Mermaid.

Layout: each state's row is its distance from the initial state; forward moves go down,
moves back or sideways curve round the right. The current state of a case is highlighted.
"""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape

from .model import Route

BOX_H, ROW_GAP, COL_GAP, CHAR_W, PAD = 44, 78, 36, 8.2, 24  # CHAR_W: a bold 13 px letter


def _ranks(route: Route) -> dict[str, int]:
    rank = {route.initial: 0}
    todo = deque([route.initial])
    while todo:
        s = todo.popleft()
        for t in route.transitions_from(s):
            if t.target not in rank:
                rank[t.target] = rank[s] + 1
                todo.append(t.target)
    # final states share the bottom row, so the working path reads top to bottom
    last = max((r for n, r in rank.items() if not route.states[n].final), default=0)
    for name, spec in route.states.items():
        if spec.final or name not in rank:
            rank[name] = last + 1
    return rank


def _label(route: Route, name: str, lang: str) -> str:
    title = route.states[name].title
    return title.get(lang) or title["fr"]


def _subtitle(route: Route, name: str, lang: str = "fr") -> str:
    """The state's deadline in words, in ``lang`` (the state's code stays in ``data-state``)."""
    deadline = route.states[name].deadline
    return deadline.said(lang) if deadline else ""


def _move(route: Route, event: str, lang: str) -> str:
    """A move's title in ``lang`` (its transitions' first title); a route that gives none
    reads its event as words (``admettre_stage``: « Admettre stage »)."""
    title = next((t.title for t in route.transitions if t.event == event and t.title), None)
    return (title.get(lang) or title["fr"]) if title else event.replace("_", " ").capitalize()


def layout(route: Route, lang: str = "fr") -> tuple[dict[str, tuple[float, float, float]], float,
                                                    float]:
    """Each state's (x, y, width), and the canvas width and height."""
    rank = _ranks(route)
    rows: dict[int, list[str]] = {}
    for name in route.states:
        rows.setdefault(rank[name], []).append(name)
    widths = {n: max(110.0, len(_label(route, n, lang)) * CHAR_W + 28,
                     len(_subtitle(route, n, lang)) * 6.4 + 28) for n in route.states}
    row_w = {r: sum(widths[n] for n in ns) + COL_GAP * (len(ns) - 1) for r, ns in rows.items()}
    canvas_w = max(row_w.values()) + 2 * PAD + 160  # room on the right for curved returns
    boxes: dict[str, tuple[float, float, float]] = {}
    for r, names in rows.items():
        x = PAD + (canvas_w - 160 - 2 * PAD - row_w[r]) / 2
        for n in names:
            boxes[n] = (x, PAD + r * (BOX_H + ROW_GAP), widths[n])
            x += widths[n] + COL_GAP
    height = float(PAD * 2 + (max(rows) + 1) * (BOX_H + ROW_GAP) - ROW_GAP)
    return boxes, float(canvas_w), height


QUOTE = {'"': "&quot;"}  # a title inside an attribute: a quote in it must not end the attribute
LANE_GAP = 18  # between the vertical lanes of moves that skip rows


def svg(route: Route, current: str | None = None, lang: str = "fr") -> str:
    placed, width, height = layout(route, lang)
    edges: dict[tuple[str, str], list[str]] = {}
    for t in route.transitions:
        for src in t.sources:
            edges.setdefault((src, t.target), []).append(_move(route, t.event, lang))
    # moves down by more than one row run in lanes on the left, not through the boxes between
    long = [e for e in edges if placed[e[1]][1] - placed[e[0]][1] > BOX_H + ROW_GAP]
    shift = LANE_GAP * (len(long) + 1) if long else 0
    boxes = {n: (x + shift, y, w) for n, (x, y, w) in placed.items()}
    width += shift
    lanes = {e: LANE_GAP * (i + 1) for i, e in enumerate(long)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}" role="img" '
           f'aria-label="{escape(route.title.get(lang) or route.title["fr"], QUOTE)}" '
           f'font-family="sans-serif" font-size="13">',
           f"<title>{escape(route.title.get(lang) or route.title['fr'])} "
           f"(v{route.version})</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#374151"/></marker></defs>']
    for (src, dst), events in edges.items():
        out.append(_edge(boxes, src, dst, ", ".join(dict.fromkeys(events)),
                         lanes.get((src, dst))))
    for name, (x, y, w) in boxes.items():
        spec = route.states[name]
        cls = "state current" if name == current else "state"
        fill, stroke, sw = ("#fde68a", "#92400e", 3) if name == current else ("#f9fafb", "#374151",
                                                                              1.5)
        out.append(f'<g class="{cls}" data-state="{escape(name)}">')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BOX_H}" rx="12" '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>')
        if spec.final:
            out.append(f'<rect x="{x + 4:.1f}" y="{y + 4:.1f}" width="{w - 8:.1f}" '
                       f'height="{BOX_H - 8}" rx="9" fill="none" stroke="{stroke}"/>')
        sub = _subtitle(route, name, lang)
        out.append(f'<text x="{x + w / 2:.1f}" y="{y + (19 if sub else 27):.1f}" '
                   f'text-anchor="middle" font-weight="bold" fill="#111827">'
                   f'{escape(_label(route, name, lang))}</text>')
        if sub:
            out.append(f'<text x="{x + w / 2:.1f}" y="{y + 35:.1f}" text-anchor="middle" '
                       f'font-size="11" fill="#374151">{escape(sub)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _edge(boxes: dict[str, tuple[float, float, float]], src: str, dst: str, label: str,
          lane: float | None = None) -> str:
    sx, sy, sw = boxes[src]
    dx, dy, dw = boxes[dst]
    if lane is not None:  # down several rows: out on the left, along the lane, in from above
        n = int(lane / LANE_GAP)
        y1, y2 = sy + BOX_H / 2, dy - 8 - (n % 5) * 5
        x2 = dx + min(dw / 2, 16 + (n % 5) * 12)
        path = (f"M{sx:.1f},{y1:.1f} L{lane + 8:.1f},{y1:.1f} Q{lane:.1f},{y1:.1f} "
                f"{lane:.1f},{y1 + 8:.1f} L{lane:.1f},{y2 - 8:.1f} Q{lane:.1f},{y2:.1f} "
                f"{lane + 8:.1f},{y2:.1f} L{x2 - 6:.1f},{y2:.1f} Q{x2:.1f},{y2:.1f} "
                f"{x2:.1f},{y2 + 6:.1f} L{x2:.1f},{dy:.1f}")
        lx, ly = lane + 6 + len(label) * 3.2, y1 + BOX_H / 2 + 14 + (n % 3) * 15
    elif src == dst:  # a loop on the right side
        x, y = sx + sw, sy + BOX_H / 2
        path = f"M{x:.1f},{y - 10:.1f} C{x + 50:.1f},{y - 30:.1f} {x + 50:.1f},{y + 30:.1f} " \
               f"{x:.1f},{y + 10:.1f}"
        lx, ly = x + 44, y + 4
    elif dy > sy:  # forward: down
        x1, y1, x2, y2 = sx + sw / 2, sy + BOX_H, dx + dw / 2, dy
        path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + 40:.1f} {x2:.1f},{y2 - 40:.1f} " \
               f"{x2:.1f},{y2:.1f}"
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 + 4
    else:  # back up or sideways: round the right
        x1, y1, x2, y2 = sx + sw, sy + BOX_H / 2 + 6, dx + dw, dy + BOX_H / 2 - 6
        bulge = max(x1, x2) + 60 + abs(sy - dy) / 6
        path = f"M{x1:.1f},{y1:.1f} C{bulge:.1f},{y1:.1f} {bulge:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        lx, ly = bulge - 12, (y1 + y2) / 2 + 4
    text = escape(label)
    tw = len(label) * 6.4 + 8
    return (f'<g class="transition"><path d="{path}" fill="none" stroke="#374151" '
            f'stroke-width="1.3" marker-end="url(#arrow)"/>'
            f'<rect x="{lx - tw / 2:.1f}" y="{ly - 12:.1f}" width="{tw:.1f}" height="16" rx="3" '
            f'fill="#ffffff" opacity="0.9"/><text x="{lx:.1f}" y="{ly:.1f}" '
            f'text-anchor="middle" font-size="11" fill="#1f2937">{text}</text></g>')


def mermaid(route: Route, current: str | None = None, lang: str = "fr") -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {route.initial}"]
    for name in route.states:
        lines.append(f'    state "{_label(route, name, lang).replace(chr(34), "")}" as {name}')
    for t in route.transitions:
        for src in t.sources:
            lines.append(f"    {src} --> {t.target}: {t.event}")
    lines += [f"    {n} --> [*]" for n, s in route.states.items() if s.final]
    if current:
        lines += ["    classDef current fill:#fde68a,stroke:#92400e,stroke-width:3px",
                  f"    class {current} current"]
    return "\n".join(lines) + "\n"
