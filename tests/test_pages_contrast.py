"""The style sheet's colours meet WCAG AA: 4.5:1 for text on its background, 3:1 for the
borders of fields (WCAG 1.4.11). Computed from the colours the sheet declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.wcag import contrast

CSS = (Path(__file__).resolve().parents[1] / "api" / "static" / "relais.css").read_text("utf-8")
COLOURS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))
WHITE = "#ffffff"


def test_the_contrast_formula_gives_the_known_extremes() -> None:
    assert contrast("#000000", WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast("#767676", WHITE) == pytest.approx(4.54, abs=0.01)  # the AA grey


# (text, background) as the sheet pairs them
TEXT_PAIRS = [
    ("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"),
    ("accent", "paper"), ("accent", "wash"), ("danger", "paper"), ("danger", "danger-wash"),
    ("warn", "warn-wash"), ("ok", "paper"), ("ok", "ok-wash"), ("danger", "wash"),
]


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_is_readable_on_its_background(text: str, background: str) -> None:
    assert contrast(COLOURS[text], COLOURS[background]) >= 4.5


@pytest.mark.parametrize("background", ["accent", "accent-dark"])
def test_white_text_is_readable_on_the_bar_and_primary_buttons(background: str) -> None:
    assert contrast(WHITE, COLOURS[background]) >= 4.5


def test_field_borders_stand_out_from_the_page() -> None:
    assert contrast(COLOURS["line"], COLOURS["paper"]) >= 3.0


def test_the_focus_ring_stands_out_on_the_bar_and_on_white() -> None:
    # the ring is the focus colour with a dark halo: one of the two contrasts on each ground
    for ground in (COLOURS["paper"], COLOURS["accent-dark"]):
        assert max(contrast(COLOURS["focus"], ground), contrast(COLOURS["ink"], ground)) >= 3.0
