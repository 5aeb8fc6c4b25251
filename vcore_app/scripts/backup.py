"""Built-in script: a backup of this app's data folder (backups.py), for a nightly scheduler.

It runs in the job's child process like every script, on the data folder of the app that started
it (VCORE_DATA_DIR). Only a superuser's job may run it (a scheduler's jobs are its creator's), since
each backup also rotates the oldest archive out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from vcore_app.scripts.base import Script, ScriptContext, ScriptError


class Backup(Script):
    name = "backup"
    description = "Back up the app database, secrets and plugins into DATA_DIR/backups (keeps BACKUP_KEEP)."

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def run(self, input: Input, ctx: ScriptContext) -> dict[str, Any]:
        from vcore_app import audit, backups, db
        from vcore_app.models import Job, User
        from vcore_app.settings import SettingsError, load_settings

        try:
            settings = load_settings()
        except SettingsError as exc:
            raise ScriptError(str(exc), permanent=True) from None
        engine = db.engine_for(settings)
        try:
            with db.session(engine, readonly=True) as session:
                job = session.get(Job, ctx.job_id) if ctx.job_id is not None else None
                creator = session.get(User, job.created_by) if job is not None and job.created_by else None
                if creator is None or not creator.is_superuser:
                    raise ScriptError("only a superuser's job may run a backup", permanent=True)
                actor = audit.scheduler_actor(job.scheduler_id) if job and job.scheduler_id else creator.username
            path = backups.create_backup(settings=settings, engine=engine, actor=actor)
        except backups.BackupError as exc:
            raise ScriptError(str(exc), permanent=True) from None
        finally:
            engine.dispose()
        ctx.log(f"backup written: {path.name} ({path.stat().st_size} bytes)")
        return {"archive": path.name, "bytes": path.stat().st_size}
