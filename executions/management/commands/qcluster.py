"""``manage.py qcluster``: django-q2's command, stopped the way ``manage.py workers`` is
(executions/cluster.py says why), so that a SIGTERM to its process group ends it within
seconds. It takes precedence over django-q2's own because settings.py lists this app
before ``django_q``."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from django_q.management.commands.qcluster import Command as DjangoQCommand

from executions.cluster import ClusterRun


class Command(DjangoQCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        run = ClusterRun()
        if options.get("run_once"):
            run.cluster.start()
            run.stop()
            return
        run.watch()
        if not run.asked:
            raise CommandError(
                f"The cluster's sentinel ended (exit code {run.cluster.sentinel.exitcode})"
            )
