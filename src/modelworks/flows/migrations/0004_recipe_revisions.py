# Recipe history (RecipeRevision), and a first "created" revision for every recipe that exists already,
# so each recipe's history starts with the state it had when history was switched on.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def first_revisions(apps, schema_editor):
    Recipe = apps.get_model("flows", "Recipe")
    RecipeRevision = apps.get_model("flows", "RecipeRevision")
    RecipeInput = apps.get_model("flows", "RecipeInput")
    RecipeOutput = apps.get_model("flows", "RecipeOutput")
    for recipe in Recipe.objects.all().iterator():
        inputs = list(
            RecipeInput.objects.filter(recipe=recipe)
            .order_by("position")
            .values_list("dataset__name", flat=True)
        )
        outputs = list(
            RecipeOutput.objects.filter(recipe=recipe)
            .order_by("position")
            .values_list("dataset__name", flat=True)
        )
        revision = RecipeRevision.objects.create(
            project_id=recipe.project_id,
            recipe=recipe,
            recipe_pk=recipe.pk,
            recipe_name=recipe.name,
            number=1,
            change="created",
            name=recipe.name,
            kind=recipe.kind,
            spec=recipe.spec,
            inputs=inputs,
            outputs=outputs,
            description=recipe.description,
            created_by_id=recipe.created_by_id,
        )
        # auto_now_add set "now"; the recipe's own creation time tells the truth.
        RecipeRevision.objects.filter(pk=revision.pk).update(created_at=recipe.created_at)


class Migration(migrations.Migration):
    # Depends on 0001 (its real need) and on the 0002/0003 written meanwhile, so the graph has one leaf.
    dependencies = [
        ("core", "0002_job_attempt_budget_and_workers"),
        ("flows", "0001_initial"),
        ("flows", "0002_output_storage"),
        ("flows", "0003_virtual_outputs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RecipeRevision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "recipe_pk",
                    models.PositiveBigIntegerField(
                        db_index=True, help_text="The recipe's id, kept after the recipe is deleted."
                    ),
                ),
                (
                    "recipe_name",
                    models.CharField(help_text="The recipe's name after this change.", max_length=200),
                ),
                ("number", models.PositiveIntegerField(help_text="1, 2, 3… within the recipe.")),
                (
                    "change",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("updated", "Changed"),
                            ("renamed", "Renamed"),
                            ("reverted", "Reverted"),
                            ("deleted", "Deleted"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "reverted_from",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="For a revert: the revision number whose state was restored.",
                        null=True,
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("kind", models.CharField(max_length=16)),
                ("spec", models.JSONField(blank=True, default=dict)),
                (
                    "inputs",
                    models.JSONField(blank=True, default=list, help_text="Input dataset names, in order."),
                ),
                (
                    "outputs",
                    models.JSONField(blank=True, default=list, help_text="Output dataset names, in order."),
                ),
                ("description", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.project"
                    ),
                ),
                (
                    "recipe",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="revisions",
                        to="flows.recipe",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "recipe_pk", "-number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("recipe_pk", "number"), name="unique_recipe_revision_number"
                    )
                ],
            },
        ),
        migrations.RunPython(first_revisions, migrations.RunPython.noop),
    ]
