"""Flow graphs, build planning and execution (see notes in each module)."""
