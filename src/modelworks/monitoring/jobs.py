"""Background jobs of the monitoring app: computing a monitor and running a back-test.

Listed in ``MODELWORKS_JOB_TYPES``:

* ``monitoring.compute`` → ``ComputeMonitorJob`` (params ``{"monitor": id, "recompute": bool}``),
* ``monitoring.backtest`` → ``BacktestJob`` (params ``{"backtest": id}``).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobFailed
from modelworks.engine.errors import EngineError
from modelworks.monitoring.errors import MonitoringError
from modelworks.monitoring.models import Backtest, BacktestStatus, Monitor

__all__ = ["BacktestJob", "ComputeMonitorJob"]


def _id(params: dict[str, Any], key: str) -> dict[str, Any]:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidJobParamsError(f"'{key}' must be the id (a positive integer) of a {key}; got {value!r}.")
    return params


class ComputeMonitorJob(BaseJob):
    """Compute the windows of a monitor that are not computed yet (all of them with ``recompute``)."""

    kind = "monitoring.compute"
    title = "Compute a monitor"
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = _id(params, "monitor")
        return {"monitor": params["monitor"], "recompute": bool(params.get("recompute", False))}

    def run(self) -> dict[str, Any] | None:
        from modelworks.monitoring.services.compute import compute_monitor

        monitor = (
            Monitor.objects.select_related("project", "deployment", "recipe", "reference_version")
            .filter(pk=self.params["monitor"])
            .first()
        )
        if monitor is None:
            raise JobFailed(f"Monitor {self.params['monitor']} no longer exists.")
        try:
            result = compute_monitor(
                monitor, recompute=self.params.get("recompute", False), progress=self.progress
            )
        except (MonitoringError, EngineError) as exc:
            Monitor.objects.filter(pk=monitor.pk).update(last_error=str(exc))
            raise JobFailed(str(exc)) from exc
        self.log(result.message)
        return result.to_dict()


class BacktestJob(BaseJob):
    """Evaluate model versions over past windows of a labelled dataset version."""

    kind = "monitoring.backtest"
    title = "Back-test model versions"
    max_attempts = 1

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {"backtest": _id(params, "backtest")["backtest"]}

    def run(self) -> dict[str, Any] | None:
        from modelworks.monitoring.services.backtests import run_backtest

        backtest = (
            Backtest.objects.select_related("project", "dataset_version")
            .filter(pk=self.params["backtest"])
            .first()
        )
        if backtest is None:
            raise JobFailed(f"Back-test {self.params['backtest']} no longer exists.")
        Backtest.objects.filter(pk=backtest.pk).update(status=BacktestStatus.RUNNING, error="")
        try:
            result = run_backtest(backtest, progress=self.progress)
        except MonitoringError as exc:
            Backtest.objects.filter(pk=backtest.pk).update(status=BacktestStatus.FAILED, error=exc.message)
            raise JobFailed(exc.message) from exc
        except Exception as exc:
            Backtest.objects.filter(pk=backtest.pk).update(
                status=BacktestStatus.FAILED, error=f"Internal error: {type(exc).__name__}: {exc}"
            )
            raise
        return {"windows": len(result["windows"]), "versions": len(result["versions"])}
