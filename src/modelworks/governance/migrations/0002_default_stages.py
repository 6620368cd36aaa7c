"""Seeds the default use-case pipeline: idea → qualified → proof of concept → pilot → production,
and the two closing stages (retired, rejected). Leads may rename, reorder and extend it later."""

from __future__ import annotations

from typing import Any

from django.db import migrations

DEFAULT_STAGES = [
    ("idea", "Idea", 10, "intake", "Submitted through demand intake; waiting for a governance lead."),
    ("qualified", "Qualified", 20, "active", "Accepted into the portfolio: worth exploring."),
    ("poc", "Proof of concept", 30, "active", "A first model shows whether the idea can work."),
    ("pilot", "Pilot", 40, "active", "Used for real by a limited group, with its value measured."),
    ("production", "Production", 50, "production", "In production and monitored."),
    ("retired", "Retired", 60, "closed", "No longer in use."),
    ("rejected", "Rejected", 70, "closed", "Not taken forward; the reason is kept with the use case."),
]


def seed_stages(apps: Any, schema_editor: Any) -> None:
    Stage = apps.get_model("governance", "Stage")
    for key, label, order, kind, description in DEFAULT_STAGES:
        Stage.objects.get_or_create(
            key=key, defaults={"label": label, "order": order, "kind": kind, "description": description}
        )


def remove_stages(apps: Any, schema_editor: Any) -> None:
    Stage = apps.get_model("governance", "Stage")
    Stage.objects.filter(key__in=[row[0] for row in DEFAULT_STAGES], use_cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(seed_stages, remove_stages)]
