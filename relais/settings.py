"""Settings from the environment (``RELAIS_*``), with the embedded defaults."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais.i18n import from_environment


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAIS_", extra="ignore")

    # SQLite file under the working directory by default; PostgreSQL in real deployments,
    # e.g. postgresql+psycopg://relais@db.example/relais
    database_url: str = f"sqlite:///{Path('var') / 'relais.sqlite3'}"
    # SQLite (WAL): "normal" keeps every commit through a crash of the process, "full" also
    # through a power cut or a crash of the system, at a slower commit (relais/db.py)
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    # the command line's and the server's messages: RELAIS_LANG, else the locale of the
    # environment (LC_ALL, LC_MESSAGES, LANG: de_CH.UTF-8 is German), else French
    lang: str = Field(default_factory=lambda: from_environment(
        os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")))
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for a collector
    revolving_door_transfers: int = 3

    # orchestration: the dispatcher and the deadline sweep (embedded in ``relais serve``,
    # or ``relais worker`` processes beside a Prefect server)
    orchestrate: bool = True  # false: this API process leaves the work to ``relais worker``
    sweep_every_s: float = 15.0  # the timer lag is at most this, plus the handling
    poll_s: float = 1.0
    lease_s: float = 300.0  # a worker that dies gives its rows back after this long
    # flow runs at once per process: more only with a Prefect server on PostgreSQL (on the
    # ephemeral SQLite server, 4 threads ran 8x fewer actions: "database is locked")
    dispatch_threads: int = 1
    # e-mail: an SMTP relay when smtp_host is set, else .eml files in mail_folder
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "relais@cii.ne.example"
    mail_folder: Path = Path("var") / "mail-outbox"
    # SMS: one JSON file per message in this folder, for the operator's gateway
    sms_folder: Path = Path("var") / "sms-outbox"
    # where institutions' files come from: {"*": "demo", "OAI-NE": "https://…",
    # "SSR-LCF": "folder:/srv/partage/ssr"} (JSON in RELAIS_FILE_SOURCES)
    file_sources: dict[str, str] = {"*": "demo"}
    # the pages' session cookies: signed with this key (empty: one made once in
    # var/secret_key); Secure cookies when the pages are served over HTTPS
    secret_key: str = ""
    secure_cookies: bool = False
    # the reverse proxies whose X-Forwarded-For names the client (comma-separated addresses,
    # as uvicorn's forwarded_allow_ips); empty: the header is ignored and the client is the
    # socket's peer. Sign-in throttling counts by this address: trust only your own proxy.
    trusted_proxies: str = ""
    # the audit's checkpoints (relais/audit_key.py): signed with this key (empty: one made
    # once in var/audit_key), taken this often by the orchestration's sweeping process
    audit_key: str = ""
    checkpoint_every_s: float = 3600.0  # 0: never (then `relais audit checkpoint` from cron)
    # the largest file a case manager may upload from the case page
    upload_max_mb: int = 10


@cache
def settings() -> Settings:
    return Settings()
