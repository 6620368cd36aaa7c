"""The sections of the Annex IV technical documentation about the model and its data: general
description, data sources and lineage, data quality, training procedure and metrics.

Each function returns ``{"key", "title", "basis", "blocks"}`` (block shapes in ``aiact_documentation``)
and says in a ``missing`` block what is not known and how to fix it. ``version`` is the documented
``registry.ModelVersion`` (None when no model was chosen). The sections about production (monitoring,
oversight, versions, the assessment) are in ``aiact_sections_production``.
"""

from __future__ import annotations

from typing import Any

from modelworks.governance.services import aiact_blocks as b

__all__ = [
    "data_and_lineage",
    "data_quality",
    "general",
    "lab_session",
    "lineage_steps",
    "metrics",
    "training",
]


# --- 1. General description --------------------------------------------------------------------------


def general(use_case: Any, version: Any) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    blocks.append(
        b.facts(
            [
                ("Use case", use_case.title),
                ("Business unit", use_case.business_unit),
                ("Business owner", b.who(use_case.business_owner)),
                ("Sponsor", use_case.sponsor),
                ("Stage", use_case.stage.label if use_case.stage_id else ""),
                (
                    "Linked projects",
                    [p.name for p in use_case.projects.order_by("name")] if use_case.pk else [],
                ),
            ]
        )
    )
    if use_case.problem_statement.strip():
        blocks.append(b.p(f"Intended purpose: {use_case.problem_statement.strip()}"))
    else:
        blocks.append(
            b.missing("The intended purpose is not written down: fill the use case's problem statement.")
        )
    if version is None:
        blocks.append(b.missing(b.NO_MODEL))
        return b.section("general", "1. General description and intended purpose", "Annex IV point 1", blocks)
    model = version.registered_model
    blocks.append(
        b.facts(
            [
                ("Model", f"{model.name} version {version.version}"),
                ("Project", model.project.name),
                ("Aliases", sorted(version.aliases.values_list("alias", flat=True))),
                ("Registered", version.created_at),
                ("Registered by", b.who(version.created_by)),
                ("Description", version.description or model.description),
                ("Model URI", version.model_uri),
            ]
        )
    )
    signature = version.signature or {}
    inputs = _signature_columns(signature.get("inputs"))
    outputs = _signature_columns(signature.get("outputs"))
    if inputs:
        blocks.append(b.table("Inputs the model expects", ["Column", "Type"], inputs))
        if outputs:
            blocks.append(b.table("Outputs", ["Column", "Type"], outputs))
    else:
        blocks.append(b.missing(f"{model.name} v{version.version} has no signature: log the model with one."))
    packages = version.package_versions or {}
    if packages:
        blocks.append(
            b.table(
                "Software it needs", ["Package", "Version"], [[k, v] for k, v in sorted(packages.items())]
            )
        )
    return b.section("general", "1. General description and intended purpose", "Annex IV point 1", blocks)


def _signature_columns(raw: Any) -> list[list[Any]]:
    import json

    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    if not isinstance(raw, list):
        return []
    return [[c.get("name", "—"), c.get("type", "—")] for c in raw if isinstance(c, dict)]


# --- 2. Data and lineage -----------------------------------------------------------------------------


def _upstream(version: Any) -> tuple[Any, Any]:
    """The lineage node of the training dataset and its upstream graph (None, None when unknown)."""
    from modelworks.catalog.lineage import neighbourhood
    from modelworks.catalog.lineage.graph import MAX_DEPTH, dataset_key
    from modelworks.catalog.models import LineageDataset

    data = version.training_dataset_version
    node = LineageDataset.objects.filter(project=data.dataset.project, dataset=data.dataset).first()
    if node is None:
        return None, None
    graph = neighbourhood(data.dataset.project, dataset_key(node.pk), depth=MAX_DEPTH, direction="upstream")
    return node, graph


def lineage_steps(graph: Any) -> list[list[str]]:
    """``[step, kind, reads, writes]`` rows of a lineage graph's jobs, by name."""
    from modelworks.catalog.lineage.graph import parse_key

    reads: dict[int, list[str]] = {}
    writes: dict[int, list[str]] = {}
    for source, target in graph.edges:
        src, dst = parse_key(source), parse_key(target)
        if src is None or dst is None:
            continue
        if src[0] == "dataset" and src[1] in graph.datasets:
            reads.setdefault(dst[1], []).append(graph.datasets[src[1]].label)
        elif dst[0] == "dataset" and dst[1] in graph.datasets:
            writes.setdefault(src[1], []).append(graph.datasets[dst[1]].label)
    rows = []
    for pk, job in sorted(graph.jobs.items(), key=lambda item: item[1].name):
        kind, _, name = job.name.partition("/")
        label = name if kind == "recipe" and name else job.name
        what = (
            "Recipe"
            if kind == "recipe"
            else (job.get_kind_display() if hasattr(job, "get_kind_display") else "")
        )
        rows.append(
            [label, what, ", ".join(sorted(reads.get(pk, []))), ", ".join(sorted(writes.get(pk, [])))]
        )
    return rows


def data_and_lineage(version: Any) -> dict[str, Any]:
    title, basis = "2. Data sources and lineage", "Annex IV point 2(d); Article 10"
    if version is None:
        return b.section("data", title, basis, [b.missing(b.NO_MODEL)])
    data = version.training_dataset_version
    if data is None:
        return b.section(
            "data",
            title,
            basis,
            [
                b.missing(
                    f"{version.registered_model.name} v{version.version} does not name its training dataset "
                    "version: register it from the Lab, or pass the training dataset version when registering."
                )
            ],
        )
    dataset = data.dataset
    blocks = [
        b.facts(
            [
                ("Training dataset", f"{dataset.name} version {data.number}"),
                ("Rows", data.row_count),
                ("Columns", len(data.schema)),
                ("Content hash", data.content_hash),
                ("Created", data.created_at),
                ("How it was made", data.get_how_display()),
                ("Dataset owner", b.who(dataset.owner)),
                ("Description", dataset.description),
            ]
        ),
        b.table(
            f"Columns of {dataset.name} v{data.number}",
            ["Column", "Type", "Description"],
            [
                [c.get("name"), c.get("type"), (dataset.column_descriptions or {}).get(c.get("name"), "")]
                for c in data.schema
            ],
        ),
    ]
    if version.recipe is not None:
        blocks.append(
            b.p(
                f"The training data was produced by the recipe '{version.recipe.name}' ({version.recipe.kind})."
            )
        )
    _, graph = _upstream(version)
    if graph is None or not graph.jobs:
        blocks.append(
            b.missing(
                f"The lineage graph records nothing upstream of {dataset.name}: it was uploaded or imported "
                "directly. Build it with Flow recipes from its sources, or report its lineage with OpenLineage."
            )
        )
    else:
        sources = sorted(
            d.label
            for d in graph.datasets.values()
            if not any(edge[1] == f"dataset:{d.pk}" for edge in graph.edges)
        )
        blocks.append(b.p(f"Original sources upstream of {dataset.name}: {', '.join(sources) or '—'}."))
        blocks.append(
            b.table(
                "Steps upstream (from the catalog's lineage graph)",
                ["Step", "Kind", "Reads", "Writes"],
                lineage_steps(graph),
            )
        )
        if graph.truncated:
            blocks.append(
                b.p("The lineage is larger than shown; open the catalog's lineage page for all of it.")
            )
    return b.section("data", title, basis, blocks)


# --- 3. Data quality ---------------------------------------------------------------------------------


def _quality_datasets(version: Any) -> list[tuple[Any, Any]]:
    """(dataset, version checked) of the training data and of every Modelworks dataset upstream."""
    data = version.training_dataset_version
    found: list[tuple[Any, Any]] = [(data.dataset, data)]
    _, graph = _upstream(version)
    if graph is not None:
        for node in sorted(graph.datasets.values(), key=lambda d: d.label):
            if node.dataset is not None and node.dataset_id != data.dataset_id:
                found.append((node.dataset, node.dataset.current_version))
    return found


def data_quality(version: Any) -> dict[str, Any]:
    from modelworks.datasets.models import QualityRun, QualityStatus

    title, basis = "3. Data quality", "Annex IV point 2(d); Article 10(2) and 10(3)"
    if version is None:
        return b.section("quality", title, basis, [b.missing(b.NO_MODEL)])
    if version.training_dataset_version is None:
        return b.section(
            "quality",
            title,
            basis,
            [b.missing("No training dataset is known, so no quality results either.")],
        )
    blocks: list[dict[str, Any]] = []
    for dataset, checked in _quality_datasets(version):
        if checked is None:
            blocks.append(b.missing(f"{dataset.name} has no version to check."))
            continue
        rules = dataset.rules.filter(enabled=True).count()
        run = QualityRun.objects.filter(version=checked).prefetch_related("results").first()
        if not rules and run is None:
            blocks.append(
                b.missing(f"No quality rules on {dataset.name}: add some on the dataset's Quality page.")
            )
            continue
        if run is None:
            blocks.append(
                b.missing(
                    f"{dataset.name} has {rules} rule(s) but they never ran on version {checked.number}: run "
                    "the checks from the dataset's Quality page."
                )
            )
            continue
        blocks.append(
            b.table(
                f"{dataset.name} v{checked.number}: {b.status_label(QualityStatus, run.status)} "
                f"({run.passed} passed, {run.failed} failed, checked {run.created_at:%Y-%m-%d})",
                ["Rule", "Result", "Failing rows", "Details"],
                [
                    [r.rule_description, r.get_status_display(), r.failing_count, r.message]
                    for r in run.results.all()
                ],
            )
        )
    return b.section("quality", title, basis, blocks)


# --- 4. Training procedure ---------------------------------------------------------------------------


def lab_session(version: Any) -> Any:
    from modelworks.lab.models import TrainingSession

    return (
        TrainingSession.objects.filter(
            analysis__project=version.registered_model.project,
            registered_model_name=version.registered_model.name,
            registered_version=version.version,
        )
        .select_related("analysis", "dataset_version__dataset")
        .first()
    )


def training(version: Any) -> dict[str, Any]:
    from modelworks.registry.services import version_params

    title, basis = "4. Training procedure", "Annex IV point 2(a) to 2(c) and 2(g)"
    if version is None:
        return b.section("training", title, basis, [b.missing(b.NO_MODEL)])
    blocks: list[dict[str, Any]] = []
    session = lab_session(version)
    if session is not None:
        analysis = session.analysis
        spec = session.spec or {}
        validation = spec.get("validation") or analysis.validation or {}
        blocks.append(b.p(f"Trained in the Lab: analysis '{analysis.name}', training {session.number}."))
        blocks.append(
            b.facts(
                [
                    ("Task", analysis.get_task_display()),
                    ("Target", analysis.target),
                    ("Algorithms tried", spec.get("algorithms") or analysis.algorithms),
                    ("Selection metric", spec.get("metric") or analysis.metric),
                    (
                        "Validation",
                        ", ".join(f"{k}: {b.text(v)}" for k, v in validation.items() if v is not None),
                    ),
                    ("Time budget (s)", spec.get("time_budget_s") or analysis.time_budget_s),
                    (
                        "Rows used",
                        f"{session.rows_used} of {session.rows_total}" if session.rows_total else "",
                    ),
                    ("Started", session.started_at),
                    ("Ended", session.ended_at),
                ]
            )
        )
        features = [
            f.get("name") if isinstance(f, dict) else f for f in spec.get("features") or analysis.features
        ]
        if features:
            blocks.append(b.bullets([f"Feature: {f}" for f in features if f]))
        trials = sorted(
            (t for t in session.leaderboard if isinstance(t, dict)),
            key=lambda t: (t.get("status") != "complete", -(t.get("score") or float("-inf"))),
        )
        if trials:
            blocks.append(
                b.table(
                    "Trials (best first)",
                    ["Trial", "Algorithm", "Score", "Status"],
                    [
                        [
                            t.get("label") or t.get("number"),
                            t.get("algorithm"),
                            t.get("score"),
                            t.get("status"),
                        ]
                        for t in trials
                    ],
                )
            )
    params = version_params(version)
    if params:
        blocks.append(
            b.table(
                "Parameters of the training run",
                ["Parameter", "Value"],
                [[k, v] for k, v in sorted(params.items())],
            )
        )
    if version.run is not None:
        blocks.append(
            b.facts(
                [
                    (
                        "Run",
                        f"{version.run.name or version.run.run_uuid} in experiment {version.run.experiment.name}",
                    ),
                    ("Code", version.code_reference),
                ]
            )
        )
    if session is None and version.run is None:
        blocks.append(
            b.missing(
                f"{version.registered_model.name} v{version.version} was not trained in the Lab and names no "
                "tracked run: log the training with the MLflow client and register the run's model."
            )
        )
    elif not params and session is None:
        blocks.append(b.missing("The training run logged no parameters: log them with mlflow.log_params."))
    return b.section("training", title, basis, blocks)


# --- 5. Metrics --------------------------------------------------------------------------------------


def metrics(version: Any) -> dict[str, Any]:
    from modelworks.registry.services import version_metrics

    title, basis = "5. Performance metrics", "Annex IV point 3; Article 15(1) to 15(3)"
    if version is None:
        return b.section("metrics", title, basis, [b.missing(b.NO_MODEL)])
    blocks: list[dict[str, Any]] = []
    values = version_metrics(version)
    if values:
        blocks.append(
            b.table(
                f"Metrics of {version.registered_model.name} v{version.version}",
                ["Metric", "Value"],
                [[k, v] for k, v in sorted(values.items())],
            )
        )
    session = lab_session(version)
    holdout = (session.holdout or {}) if session is not None else {}
    holdout_metrics = holdout.get("metrics") or {}
    if holdout_metrics:
        blocks.append(
            b.table(
                "Lab holdout (rows kept aside, never used for training)",
                ["Metric", "Value"],
                [[k, v] for k, v in sorted(holdout_metrics.items())],
            )
        )
    if not values and not holdout_metrics:
        blocks.append(
            b.missing(
                f"No metrics are recorded for {version.registered_model.name} v{version.version}: evaluate it "
                "on held-out data and register the metrics with the version."
            )
        )
    return b.section("metrics", title, basis, blocks)
