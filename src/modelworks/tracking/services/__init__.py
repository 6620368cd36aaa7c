"""The services of experiment tracking: every write goes through here (atomic, audited where it matters).

* ``experiments``: ``find_experiment``, ``create_experiment``, ``rename_experiment``,
  ``delete_experiment``/``restore_experiment`` (audited), ``set_experiment_tag``, ``delete_experiment_tag``;
* ``runs``: ``find_run``, ``create_run``, ``update_run``, ``delete_run``/``restore_run`` (audited),
  ``set_tags``, ``delete_tag``;
* ``logging``: ``log_batch`` (metrics, params, tags in one transaction), ``log_inputs``, ``log_outputs``.
"""
