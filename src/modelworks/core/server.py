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
        from modelworks.config.wsgi import application

        return application


def serve(host: str, port: int, workers: int = 2, threads: int = 8) -> int:
    """Serve the pages and the API until stopped. Binds to ``host`` only (127.0.0.1 by default)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    print(f"Modelworks web server listening on http://{bind}/", flush=True)
    _Application(
        {
            "bind": [bind],
            "workers": max(1, workers),
            "threads": max(1, threads),
            "worker_class": "gthread",
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
