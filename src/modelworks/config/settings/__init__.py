"""Settings modules: ``base`` (shared), ``dev`` (the demo and local use), ``prod``, ``test``."""
