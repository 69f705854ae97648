"""The session key of the embedded default: made once, kept private, the same for every
process of the machine, even when they start together."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from relais.keys import secret_key


def test_a_configured_key_is_used_as_it_is(tmp_path: Path) -> None:
    assert secret_key("k" * 40, tmp_path) == "k" * 40
    assert not (tmp_path / "secret_key").exists()


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = secret_key("", tmp_path / "var")
    assert secret_key("", tmp_path / "var") == first and len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]  # no draft left


def test_processes_starting_together_all_get_the_same_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(secret_key, [""] * 16, [tmp_path] * 16))
    assert len(keys) == 1


def test_an_emptied_key_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ValueError, match="supprimez le fichier"):
        secret_key("", tmp_path)
