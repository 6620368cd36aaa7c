"""Background jobs of the governance app.

Listed in ``MODELWORKS_JOB_TYPES``:

* ``governance.value`` → ``ComputeValueJob`` (params ``{"definition": id}``): compute the realised
  value of one ``prediction_log`` value definition (queued by
  :func:`modelworks.governance.services.value_schedule.tick` or from the value page).
"""

from __future__ import annotations

from typing import Any

from modelworks.core.jobs import BaseJob, InvalidJobParamsError, JobFailed

__all__ = ["ComputeValueJob"]


class ComputeValueJob(BaseJob):
    """Compute the realised value of a value definition from its prediction log, per period."""

    kind = "governance.value"
    title = "Compute realised value"
    max_attempts = 2

    @classmethod
    def clean_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        value = params.get("definition")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidJobParamsError(
                f"'definition' must be the id (a positive integer) of a value definition; got {value!r}."
            )
        return {"definition": value}

    def run(self) -> dict[str, Any] | None:
        from modelworks.governance.models import ValueDefinition
        from modelworks.governance.services.value import RealisedValueError, compute_definition

        definition = (
            ValueDefinition.objects.select_related("use_case", "deployment")
            .filter(pk=self.params["definition"])
            .first()
        )
        if definition is None:
            raise JobFailed(f"Value definition {self.params['definition']} no longer exists.")
        self.progress(5, f"Reading the prediction log of '{definition.name}'")
        try:
            result = compute_definition(definition, actor=None)
        except RealisedValueError as exc:
            raise JobFailed(str(exc)) from exc
        self.log(result.message)
        return result.to_dict()
