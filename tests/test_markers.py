"""The `server` marker finds what a test starts, however deep in the test helpers it is
(tests/conftest.py), so that `make test-fast` never waits for a server or a process."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.api_server import running
from tests.conftest import starts_a_process


def _serve_the_api(really: bool = False) -> None:
    if really:  # the marker reads the code; these tests never start the server
        with running(None):  # type: ignore[arg-type]
            pass


def _through_another_helper() -> None:
    _serve_the_api()


class _Processes:
    def start(self) -> None:
        subprocess.run(["true"], check=True)


def _count(n: int) -> int:
    return sum(range(n))


def test_a_test_that_starts_the_api_through_two_helpers_is_a_server_test() -> None:
    def a_test() -> None:
        _through_another_helper()
    assert starts_a_process(a_test, set())


def test_a_class_of_the_tests_that_starts_a_process_makes_its_users_server_tests() -> None:
    def a_test() -> None:
        _Processes().start()
    assert starts_a_process(a_test, set())


def test_a_test_that_only_computes_is_not_a_server_test() -> None:
    def a_test() -> None:
        assert _count(3) == 3
    assert not starts_a_process(a_test, set())


@pytest.fixture
def api() -> Iterator[None]:
    _serve_the_api()
    yield


def test_a_fixture_that_serves_marks_the_tests_using_it(request: pytest.FixtureRequest,
                                                        api: None) -> None:
    assert request.node.get_closest_marker("server") is not None
    assert request.node.get_closest_marker("browser") is None
