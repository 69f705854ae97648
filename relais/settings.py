"""Settings from the environment (``RELAIS_*``), with the embedded defaults."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_", extra="ignore")

    # SQLite file under the working directory by default; PostgreSQL in real deployments,
    # e.g. postgresql+psycopg://relais@db.example/relais
    database_url: str = f"sqlite:///{Path('var') / 'relais.sqlite3'}"
    lang: str = "fr"
    revolving_door_transfers: int = 3


@cache
def settings() -> Settings:
    return Settings()
