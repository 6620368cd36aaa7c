from django.db import migrations, models


class Migration(migrations.Migration):
    # Written next to 0002_output_storage (another change of RecipeOutput made at the same time):
    # depending on it keeps one leaf migration.
    dependencies = [
        ("flows", "0002_output_storage"),
    ]

    operations = [
        migrations.AddField(
            model_name="recipeoutput",
            name="virtual",
            field=models.BooleanField(
                default=False,
                help_text="Not stored: computed on the fly by the recipes that read it (it never has versions).",
            ),
        ),
    ]
