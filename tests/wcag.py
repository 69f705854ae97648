"""WCAG 2 colour arithmetic for the tests that check the pages' and the diagrams' contrasts."""

from __future__ import annotations


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two colours (AA asks 4.5 for text, 3 for a field's border)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def blend(under: str, over: str, opacity: float) -> str:
    """``over`` painted at ``opacity`` on ``under``."""
    mixed = (round(int(under[i:i + 2], 16) * (1 - opacity) + int(over[i:i + 2], 16) * opacity)
             for i in (1, 3, 5))
    return "#" + "".join(f"{v:02x}" for v in mixed)
