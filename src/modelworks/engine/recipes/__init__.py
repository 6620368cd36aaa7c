"""Recipes: compile visual and SQL recipes to one relational plan; run Python recipes isolated."""
