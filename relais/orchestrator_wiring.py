"""Build the orchestration from settings: channels, file sources, the orchestrator.

Apart from ``relais.wiring`` so that the commands that do not orchestrate (routes, users,
audit...) do not load Prefect (~4 s)."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from relais.cases.services import CaseServices
from relais.cases.store.checkpoints import take
from relais.orchestration import limits
from relais.orchestration.channels import FolderMailer, FolderSms, Mailer, SmtpMailer
from relais.orchestration.orchestrator import Orchestrator
from relais.orchestration.runtime import Runtime
from relais.orchestration.sources import Sources

from . import prefect_child
from .audit_key import audit_key
from .logs import configure
from .settings import settings

log = logging.getLogger("relais.orchestrator")


def show_logs() -> None:
    """The orchestration's own lines (Prefect away and back, failed actions) on stderr."""
    configure(settings().log_format)


def build_runtime(services: CaseServices) -> Runtime:
    """The orchestration's channels and file sources, from settings."""
    s = settings()
    mailer: Mailer = (SmtpMailer(s.smtp_host, s.smtp_port, s.mail_from,
                                 starttls=s.smtp_starttls, user=s.smtp_user or None,
                                 password=s.smtp_password or None)
                      if s.smtp_host else FolderMailer(s.mail_folder, s.mail_from))
    return Runtime(services, mailer, FolderSms(s.sms_folder), Sources(s.file_sources))


def batch_size() -> int:
    """Rows one flow run takes (``RELAIS_DISPATCH_BATCH``): Prefect's per-run cost is shared
    by them. 100 embedded, where a flow run costs seconds of Prefect's SQLite ("database is
    locked" retries: 100 actions at 2.7/s in batches of 20, 7.3/s in one); 20 against a
    server, so that several workers share a burst. Read here, beside the other Prefect-only
    settings, not in ``settings``."""
    default = 20 if os.environ.get("PREFECT_API_URL") else 100
    return max(1, int(os.environ.get("RELAIS_DISPATCH_BATCH") or default))


# RELAIS_DISPATCH_PER_ROW=true: the former way, a flow run per row (bench.throughput_scaled)
def build_orchestrator(services: CaseServices, *, worker: str, sweep: bool = True,
                       batch: int | None = None) -> Orchestrator:
    s = settings()
    per_row = os.environ.get("RELAIS_DISPATCH_PER_ROW") == "true"
    if not os.environ.get("PREFECT_API_URL"):
        prefect_child.install()  # its ephemeral server must not outlive this process
        log.info("Prefect en mode éphémère (PREFECT_API_URL absent) : ses exécutions ne sont "
                 "visibles que dans ce processus / Prefect in ephemeral mode, runs visible "
                 "to this process only")
    # the process that sweeps also signs the audit's checkpoints
    checkpoint = partial(take_checkpoint, services.engine) \
        if sweep and s.checkpoint_every_s > 0 else None
    rows = 1 if per_row else batch or batch_size()
    return Orchestrator(build_runtime(services), worker=worker, poll_s=s.poll_s,
                        sweep_every_s=s.sweep_every_s if sweep else None,
                        lease=timedelta(seconds=s.lease_s), batch=rows,
                        threads=s.dispatch_threads, checkpoint=checkpoint,
                        checkpoint_every_s=s.checkpoint_every_s,
                        per_row=per_row,
                        concurrency_limits=limits.parse(
                            os.environ.get("RELAIS_CONCURRENCY_LIMITS")))


def take_checkpoint(engine: Engine) -> None:
    """One signed checkpoint; a refusal (what the last one signed no longer holds) is logged
    as an error, each time, until someone looks (``relais audit verify``)."""
    key = audit_key(make=True)
    assert key is not None, "made when absent"
    made, problems = take(engine, key, datetime.now(UTC))
    lang = settings().lang
    if made is None:
        log.error("point de contrôle refusé / checkpoint refused: %s",
                  "; ".join(p.message(lang) for p in problems))
    else:
        log.info("point de contrôle / checkpoint %s : %s cas / cases", made.id,
                 made.body["cases"])
