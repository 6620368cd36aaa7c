"""What the scoring service (``modelworks serve-models``) reads from the database.

The service polls ``current_revision()`` every second; when the value changes it calls
``routing_snapshot()`` and swaps its routing table. The revision must be read **before** the
snapshot (``routing_snapshot`` does so itself and stores it in ``RoutingSnapshot.revision``): a
write landing between the two reads then shows up as a new revision at the next poll, never as a
missed change.

What changes the revision (each part is one scalar sub-query of a single ``SELECT``):

* the ``RoutingRevision`` counter, bumped in the same transaction by every write of the
  deployments services (create, edit, pause, resume, delete, token issued or revoked);
* count and latest change of deployments, count and highest id of targets and tokens, number of
  revoked tokens: changes made outside the services (a project deleted with its deployments, the
  admin site) still move the revision;
* the number of tokens whose expiry time has passed: a token stops working when it expires,
  without any write;
* the highest ``AliasEvent`` id and the count and latest change of ``ModelAlias``: every alias move
  (promotion, rollback, alias removed, version deleted) changes it. This covers every model, not
  only deployed ones: a spurious rebuild is cheap (models are cached by version id), a missed one
  would serve the wrong version.

Models are never loaded here: this module only reads the database and resolves folders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from modelworks.deployments.models import (
    Deployment,
    DeploymentStatus,
    DeploymentTarget,
    EndpointToken,
    RoutingRevision,
    TargetRole,
)

__all__ = [
    "EndpointConfig",
    "RoutingSnapshot",
    "TargetConfig",
    "bump_revision",
    "current_revision",
    "mark_tokens_used",
    "model_dir",
    "resolve_targets",
    "routing_snapshot",
]


@dataclass(frozen=True)
class TargetConfig:
    """One model version an endpoint routes to (aliases already resolved)."""

    version_id: int
    model_name: str
    version: int
    model_dir: Path
    role: str
    weight: int
    alias: str  # "" when the target is pinned to a version

    @property
    def label(self) -> str:
        """``<model>/<n>``, the ``model_version`` of answers and of the prediction log."""
        return f"{self.model_name}/{self.version}"


@dataclass(frozen=True)
class EndpointConfig:
    """Everything the scoring service needs to serve one deployment."""

    name: str
    deployment_id: int
    project_slug: str
    mode: str
    targets: tuple[TargetConfig, ...]
    token_hashes: frozenset[str]
    log_sample_rate: float
    max_rows: int
    id_column: str
    explain_allowed: bool

    @property
    def prediction_source(self) -> str:
        return f"deployment-{self.deployment_id}"


@dataclass(frozen=True)
class RoutingSnapshot:
    """The routing table at one revision.

    ``endpoints`` holds the active deployments that have a primary target to answer with.
    ``problems`` names the active deployments left out, with the reason (e.g. the alias they follow
    no longer exists), so the service can answer 503 with that reason instead of a bare 404.
    """

    revision: str
    endpoints: Mapping[str, EndpointConfig]
    problems: Mapping[str, str] = field(default_factory=dict)


def bump_revision() -> None:
    """Move the routing revision; call inside the transaction of the write it announces."""
    updated = RoutingRevision.objects.filter(pk=1).update(counter=F("counter") + 1, changed_at=timezone.now())
    if not updated:
        RoutingRevision.objects.get_or_create(pk=1, defaults={"counter": 1})


def _revision_sql() -> str:
    from modelworks.registry.models import AliasEvent, ModelAlias

    q = connection.ops.quote_name
    rev = q(RoutingRevision._meta.db_table)
    dep = q(Deployment._meta.db_table)
    tgt = q(DeploymentTarget._meta.db_table)
    tok = q(EndpointToken._meta.db_table)
    alias = q(ModelAlias._meta.db_table)
    event = q(AliasEvent._meta.db_table)
    # Table names come from the models (quoted), never from users; the only value (now) is bound.
    parts = [
        f"MAX(counter) FROM {rev}",
        f"COUNT(*) FROM {dep}",
        f"MAX(updated_at) FROM {dep}",
        f"COUNT(*) FROM {tgt}",
        f"MAX(id) FROM {tgt}",
        f"MAX(updated_at) FROM {tgt}",
        f"COUNT(*) FROM {tok}",
        f"MAX(id) FROM {tok}",
        f"COUNT(*) FROM {tok} WHERE revoked_at IS NOT NULL",
        f"COUNT(*) FROM {tok} WHERE expires_at IS NOT NULL AND expires_at <= %s",
        f"MAX(id) FROM {event}",
        f"COUNT(*) FROM {alias}",
        f"MAX(updated_at) FROM {alias}",
    ]
    return "SELECT " + ", ".join(f"(SELECT {part})" for part in parts)


def current_revision() -> str:
    """A short string that changes whenever what the scoring service serves may have changed.

    One ``SELECT`` of scalar sub-queries over small tables (see the module docstring for what it
    covers). Comparing two values for equality is its only use.
    """
    with connection.cursor() as cursor:
        cursor.execute(_revision_sql(), [timezone.now()])
        row = cursor.fetchone()
    text = "|".join("" if value is None else str(value) for value in row)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def model_dir(version: Any) -> Path:
    """The local folder of a model version's files (its MLmodel file is inside).

    Raises:
        ArtifactStoreError: the stored location is not a safe path inside the artifact store.
    """
    from modelworks.registry.services.common import artifact_store
    from modelworks.registry.services.sources import storage_key

    return Path(artifact_store().path_of(storage_key(version.storage_location)))


@dataclass(frozen=True)
class ResolvedTarget:
    """A target with the version it points at now (``version`` None: the alias does not exist)."""

    target: DeploymentTarget
    version: Any  # ModelVersion | None


def resolve_targets(targets: Iterable[DeploymentTarget]) -> list[ResolvedTarget]:
    """Each target with the version it points at now, with one query for all alias targets."""
    from modelworks.registry.models import ModelAlias

    targets = list(targets)
    wanted = {(t.registered_model_id, t.alias) for t in targets if t.alias}
    by_alias: dict[tuple[int, str], Any] = {}
    if wanted:
        model_ids = {m for m, _ in wanted}
        aliases = {a for _, a in wanted}
        for row in ModelAlias.objects.filter(
            registered_model_id__in=model_ids, alias__in=aliases
        ).select_related("model_version__registered_model"):
            by_alias[(row.registered_model_id, row.alias)] = row.model_version
    return [
        ResolvedTarget(t, by_alias.get((t.registered_model_id, t.alias)) if t.alias else t.model_version)
        for t in targets
    ]


def _endpoint(deployment: Deployment, token_hashes: frozenset[str]) -> EndpointConfig | str:
    """The endpoint of an active deployment, or the reason it cannot be served."""
    from modelworks.tracking.artifacts.storage import ArtifactStoreError

    configs = []
    for resolved in resolve_targets(deployment.targets.all()):
        target, version = resolved.target, resolved.version
        if version is None:
            if target.role == TargetRole.PRIMARY:
                return (
                    f"The primary model {target.reference} cannot be resolved: the model has no alias "
                    f"'{target.alias}'. Set the alias in the registry or edit the deployment."
                )
            continue  # a challenger or shadow whose alias vanished: serve without it
        try:
            folder = model_dir(version)
        except (ArtifactStoreError, ValueError, IndexError) as exc:  # unsafe location: report, keep polling
            if target.role == TargetRole.PRIMARY:
                return f"The files of {version} cannot be found in the artifact store: {exc}"
            continue
        configs.append(
            TargetConfig(
                version_id=version.pk,
                model_name=target.registered_model.name,
                version=version.version,
                model_dir=folder,
                role=target.role,
                weight=target.weight,
                alias=target.alias,
            )
        )
    if not any(c.role == TargetRole.PRIMARY for c in configs):
        return "The deployment has no primary model; edit it and choose one."
    return EndpointConfig(
        name=deployment.name,
        deployment_id=deployment.pk,
        project_slug=deployment.project.slug,
        mode=deployment.mode,
        targets=tuple(configs),
        token_hashes=token_hashes,
        log_sample_rate=float(deployment.log_sample_rate),
        max_rows=int(deployment.max_rows),
        id_column=deployment.id_column,
        explain_allowed=bool(deployment.explain_allowed),
    )


def routing_snapshot() -> RoutingSnapshot:
    """The routing table of every active deployment, aliases resolved to versions, live tokens only.

    The revision is read first (see the module docstring), then the data. Under READ COMMITTED
    the later queries may see a write committed after the revision was read; that write moved
    the revision, so the next poll rebuilds: a snapshot is never older than its revision says.
    """
    revision = current_revision()
    with transaction.atomic():  # one connection state for the reads; no write happens here
        deployments = list(
            Deployment.objects.filter(status=DeploymentStatus.ACTIVE)
            .select_related("project")
            .prefetch_related("targets__registered_model", "targets__model_version__registered_model")
            .order_by("name")
        )
        now = timezone.now()
        hashes: dict[int, set[str]] = {}
        for deployment_id, key_hash, expires_at in EndpointToken.objects.filter(
            deployment__status=DeploymentStatus.ACTIVE, revoked_at__isnull=True
        ).values_list("deployment_id", "key_hash", "expires_at"):
            if expires_at is None or expires_at > now:
                hashes.setdefault(deployment_id, set()).add(key_hash)
        endpoints: dict[str, EndpointConfig] = {}
        problems: dict[str, str] = {}
        for deployment in deployments:
            built = _endpoint(deployment, frozenset(hashes.get(deployment.pk, ())))
            if isinstance(built, str):
                problems[deployment.name] = built
            else:
                endpoints[deployment.name] = built
    return RoutingSnapshot(revision=revision, endpoints=endpoints, problems=problems)


def mark_tokens_used(key_hashes: Iterable[str]) -> int:
    """Record that these tokens were just used (the scoring service calls it, batched, at most once a
    minute per token). Does not move the revision. Returns the number of tokens updated."""
    hashes = list(set(key_hashes))
    if not hashes:
        return 0
    return EndpointToken.objects.filter(key_hash__in=hashes).update(last_used_at=timezone.now())
