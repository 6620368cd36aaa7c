import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0001_initial"),
        ("flows", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="recipeoutput",
            name="storage_connection",
            field=models.ForeignKey(
                blank=True,
                help_text="PostgreSQL connection that stores each new version as a table; empty: Modelworks storage.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="connections.connection",
            ),
        ),
        migrations.AddField(
            model_name="recipeoutput",
            name="storage_schema",
            field=models.CharField(
                blank=True,
                default="modelworks",
                help_text="Schema of the connection where the tables are created (created when missing).",
                max_length=63,
            ),
        ),
    ]
