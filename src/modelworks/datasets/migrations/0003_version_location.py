from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0002_source_kind_recipe"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasetversion",
            name="location",
            field=models.JSONField(
                blank=True,
                default=None,
                help_text=(
                    "Where this version's data lives in a database: {connection_id, schema, table}. Recipes "
                    "whose inputs and outputs live in the same connection run there, on this table; "
                    "everything else reads the Parquet snapshot (object_id), a copy taken when the version "
                    "was made."
                ),
                null=True,
            ),
        ),
    ]
