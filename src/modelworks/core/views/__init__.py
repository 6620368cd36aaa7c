"""Pages of the core app, one module per topic."""
