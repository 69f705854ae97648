"""Finding a person: ``GET /api/cases?q=…&avs=…`` over the real server, on SQLite and
PostgreSQL. Names are found whatever their accents, case or transliteration; an AVS number in
any written form; only cases the caller may see; each result on the read record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from relais.cases.domain.avs import ean13_check_digit, format_avs
from relais.cases.domain.search import fold
from relais.cases.services import CaseServices
from relais.cases.store.tables import person_t, read_t
from tests.api_server import People, running
from tests.conftest import PERSON


def avs(n: int) -> str:
    first = f"756{n:09d}"
    return first + str(ean13_check_digit(first))


DJORDJEVIC = {"avs": "756.1234.5678.97", "official_name": "Đorđević-Šimić",
              "first_name": "Milica", "birth_date": "1985-02-03"}
ROCHAT = {"avs": format_avs(avs(111)), "official_name": "Rochat", "first_name": "Daniel",
          "birth_date": "1970-07-08"}
YILDIZ = {"avs": format_avs(avs(222)), "official_name": "Yıldız", "first_name": "Şükrü",
          "birth_date": "1990-01-01"}
# referred by the OAI: the ORP does not take part in this one
ROCHAT_OAI = {"avs": format_avs(avs(333)), "official_name": "Rochat", "first_name": "Daniel",
              "birth_date": "1961-01-01"}


def refer(people: People, who: str, person: dict[str, str]) -> str:
    r = people[who].post("/api/cases", json={
        "route": "reseau-cii", "person": person, "consent": {"grantor": person["first_name"]},
        "fields": {"age": 40, "capacite_adaptee_pct": 80}})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def world(services: CaseServices) -> Iterator[tuple[People, dict[str, str]]]:
    with running(services) as base:
        people = People(services, base)
        ids = {"muster": refer(people, "ORP-NE", {**PERSON, "avs": format_avs(avs(444))}),
               "djordjevic": refer(people, "ORP-NE", DJORDJEVIC),
               "rochat": refer(people, "ORP-NE", ROCHAT),
               "yildiz": refer(people, "ORP-NE", YILDIZ),
               "rochat_oai": refer(people, "OAI-NE", ROCHAT_OAI)}
        yield people, ids
        people.close()


def found(people: People, who: str, **params: str) -> list[str]:
    r = people[who].get("/api/cases", params=params)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_fold_names() -> None:
    assert fold("Đorđević-Šimić") == "djordjevic simic"
    assert fold("Şükrü Yıldız") == "sukru yildiz"
    assert fold("Ørsted Straße Æbelø Œuvre") == "orsted strasse aebelo oeuvre"
    assert fold("  ROCHAT  ") == "rochat"


def test_names_are_found_whatever_their_accents(world: tuple[People, dict[str, str]]) -> None:
    people, ids = world
    assert found(people, "ORP-NE", q="Djordjevic") == [ids["djordjevic"]]
    assert found(people, "ORP-NE", q="djordjević šimić") == [ids["djordjevic"]]
    assert found(people, "ORP-NE", q="Milica Djordj") == [ids["djordjevic"]]
    assert found(people, "ORP-NE", q="rochat") == [ids["rochat"]]
    assert found(people, "ORP-NE", q="Yildiz") == [ids["yildiz"]]
    assert found(people, "ORP-NE", q="Nobody") == []


def test_avs_in_any_written_form(world: tuple[People, dict[str, str]]) -> None:
    people, ids = world
    for typed in ("7561234567897", "756.1234.5678.97", "756 1234 5678 97"):
        assert found(people, "ORP-NE", avs=typed) == [ids["djordjevic"]], typed
    assert found(people, "ORP-NE", avs=avs(999)) == []
    r = people["ORP-NE"].get("/api/cases", params={"avs": "12345"})
    assert r.status_code == 422 and r.json()["type"]


def test_case_number_prefix(world: tuple[People, dict[str, str]]) -> None:
    people, ids = world
    assert found(people, "ORP-NE", q=ids["yildiz"][:8]) == [ids["yildiz"]]


def test_cases_the_caller_does_not_take_part_in_are_not_found(
        world: tuple[People, dict[str, str]]) -> None:
    people, ids = world
    assert found(people, "ORP-NE", q="Rochat Daniel") == [ids["rochat"]]
    assert found(people, "OAI-NE", q="Rochat Daniel") == [ids["rochat_oai"]]
    assert found(people, "ORP-NE", avs=ROCHAT_OAI["avs"]) == []
    assert found(people, "SMIG-NE", q="Rochat") == []
    assert found(people, "SMIG-NE", q=ids["rochat_oai"][:8]) == []


def test_a_search_is_on_the_read_record(world: tuple[People, dict[str, str]],
                                        services: CaseServices) -> None:
    people, ids = world
    assert found(people, "ORP-NE", q="Djordjevic") == [ids["djordjevic"]]
    with services.engine.connect() as conn:
        rows = conn.execute(select(read_t.c.case_id, read_t.c.institution)
                            .where(read_t.c.what == "search")).all()
    assert [(r.case_id, r.institution) for r in rows] == [(ids["djordjevic"], "ORP-NE")]


def test_the_migration_writes_the_key_of_people_already_there(
        world: tuple[People, dict[str, str]], services: CaseServices) -> None:
    from alembic import command

    from relais.migrate import alembic_config
    engine = services.engine
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011l")  # as it was: no search key
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        keys = set(conn.execute(select(person_t.c.search_key)).scalars())
    assert " djordjevic simic milica " in keys and None not in keys
    people, ids = world
    assert found(people, "ORP-NE", q="Djordjevic") == [ids["djordjevic"]]


def test_a_reader_who_does_not_see_the_person_does_not_find_them_by_name(
        services: CaseServices) -> None:
    """The coordination lists a social service's case referred without consent, but not
    the person's identity (no statute for SA data): a search by name or AVS number must not
    tell it that this person is known; the case number still finds the case."""
    hidden = {"avs": format_avs(avs(555)), "official_name": "Tesfaye", "first_name": "Abeba",
              "birth_date": "1992-04-04"}
    with running(services) as base:
        people = People(services, base)
        r = people["SSR-NE"].post("/api/cases", json={
            "route": "reseau-cii", "person": hidden,
            "fields": {"age": 30, "capacite_adaptee_pct": 80}})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        coord = "CII-NE:coordinator"
        listed = people[coord].get("/api/cases").json()["items"]
        assert [c["id"] for c in listed] == [cid]  # the coordination sees the case
        assert "Tesfaye" not in str(listed)  # … not the person
        assert found(people, coord, q="Tesfaye") == []
        assert found(people, coord, avs=hidden["avs"]) == []
        assert found(people, coord, q=cid[:8]) == [cid]
        assert found(people, "SSR-NE", q="tesfaye") == [cid]
        people.close()
