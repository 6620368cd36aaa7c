"""The web server behind ``modelworks serve``: gunicorn with threaded workers, in-process."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from django.urls import get_resolver

        from modelworks.config.wsgi import application

        # Django imports the URLconf (every app's views, the API and its schemas: most of the start-up
        # imports) on the first request. Import it here, in the master, before the fork: the workers
        # share those pages and answer their first request at once, instead of each importing it.
        get_resolver().url_patterns  # noqa: B018 (the attribute access does the import)
        return application


def _post_fork(server: Any, worker: Any) -> None:
    # A forked worker must never reuse the master's database connection (checked before start-up).
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.inc_thread_sharing()
        conn.close()
        conn.dec_thread_sharing()


def serve(host: str, port: int, workers: int = 2, threads: int = 8) -> int:
    """Serve the pages and the API until stopped. Binds to ``host`` only (127.0.0.1 by default)."""
    from django.db import connections

    connections.close_all()  # opened by the migration check; the workers open their own
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    print(f"Modelworks web server listening on http://{bind}/", flush=True)
    _Application(
        {
            "bind": [bind],
            "workers": max(1, workers),
            "threads": max(1, threads),
            "worker_class": "gthread",
            # Load Django once in the master and fork the workers: start-up pays the imports once and
            # the workers share those pages (copy-on-write). Connections open lazily, after the fork.
            "preload_app": True,
            "post_fork": _post_fork,
            "timeout": 120,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "modelworks-web",
        }
    ).run()
    return 0
