"""Everything the process runs besides the web server: database, queues, scheduler.

The launcher starts it before uvicorn listens and stops it after uvicorn has stopped accepting.
An app built without a runtime (tests, `create_app(settings)`) owns one in its lifespan instead.
"""

from __future__ import annotations

import os
import time
import uuid

from loguru import logger

from vcore_app import __version__, db
from vcore_app.first_run import new_setup_token
from vcore_app.jobs.queues import QueueSet
from vcore_app.models import Boot
from vcore_app.scheduler import SchedulerThread
from vcore_app.settings import Settings
from vcore_app.users import ensure_first_superuser


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = db.make_engine(settings.DB_URL, echo=settings.DATABASE_ECHO)
        self.boot_id = uuid.uuid4().hex
        self.started_at = time.time()
        self.queues = QueueSet(
            paths={"default": settings.HUEY_DEFAULT_SQLITE_PATH, "reserved": settings.HUEY_RESERVED_SQLITE_PATH},
            workers={"default": settings.WORKERS_DEFAULT, "reserved": settings.WORKERS_RESERVED},
        )
        self.scheduler = SchedulerThread()
        # While no user exists: the one-time token of /setup (first_run.py). Only ever in memory.
        self.setup_token: str | None = None
        self._started = False

    def start(self) -> None:
        """In order: migrate, record the boot, create the first superuser if configured, start the queue consumers, start the scheduler."""
        db.migrate(self.settings.DB_URL)
        with db.session(self.engine) as session:
            session.add(Boot(id=self.boot_id, version=__version__, pid=os.getpid()))
        ensure_first_superuser(settings=self.settings, engine=self.engine)
        with db.session(self.engine, readonly=True) as session:
            self.setup_token = new_setup_token(session=session)
        if self.setup_token:
            # The link itself goes to the console only (launcher): the log file never holds a secret.
            logger.warning("no user exists yet: open the setup link printed on the console, "
                           "or create one with `vcore-app users create --superuser`")
        self.queues.start()
        self.scheduler.start()
        self._started = True
        logger.info("runtime started (boot {}, data folder {})", self.boot_id, self.settings.DATA_DIR)

    def stop(self) -> None:
        """Stop in order: scheduler, consumers (bounded by SHUTDOWN_TIMEOUT), database."""
        if not self._started:
            return
        self._started = False
        self.scheduler.stop()
        if not self.queues.stop(self.settings.SHUTDOWN_TIMEOUT):
            logger.warning("some queue workers were still busy after {} s", self.settings.SHUTDOWN_TIMEOUT)
        self.queues.close()
        self.engine.dispose()
        logger.info("runtime stopped")
