"""Read a scoring request body into columns of Python values, then into typed arrays.

Accepted bodies (JSON unless said):

* ``{"records": [{"a": 1, ...}, ...]}`` and MLflow's ``{"dataframe_records": [...]}``
* ``{"columns": {"a": [1, 2], ...}}``
* MLflow's ``{"dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]?}}``
* MLflow's ``{"instances": ...}`` and ``{"inputs": ...}``: a list of records, a dict of column lists, or a
  list of positional rows (values in the signature's column order)
* a bare list of records (or of positional rows)
* ``text/csv``: a header line then one line per row (MLflow's CSV input)

MLflow's optional ``"params"`` key is accepted next to the data and ignored (scoring takes no
parameters); any other top-level key is refused, so a typo is not silently scored as nothing.

Validation against the model's :class:`InputSchema`:

* columns are matched by name; **columns not in the schema are ignored** (clients may send more, e.g.
  the row id or the target);
* a required column absent from the body or from a row is ``missing_column``; an optional one is
  filled with nulls;
* ``null`` in a required column is ``missing_value``;
* numbers must be JSON numbers (``"1.5"`` in a ``double`` column and ``true`` in a number column are
  ``wrong_type``); whole-number columns (``long``/``integer``) accept ``2.0`` but not ``2.5``;
  ``string`` columns take only text (send codes like ``"01230"`` quoted);
* **non-finite numbers**: ``NaN`` (which Python's ``json.dumps`` writes) is read as a missing value,
  so it is accepted only in columns the signature marks optional (``required: false``; MLflow marks
  a column optional when its training sample had nulls); ``Infinity``/``-Infinity`` and numbers too
  large for a double are always refused (``not_finite``): no model was trained on them.

Layout: ``table`` (:class:`RawTable`, shared helpers), ``bodies`` (:func:`read_payload`, every body
format) and ``columns`` (typed columns and their checks).
"""

from __future__ import annotations

from modelworks.engine.scoring.parsing.bodies import read_payload
from modelworks.engine.scoring.parsing.columns import check_ids as check_ids
from modelworks.engine.scoring.parsing.columns import infer_schema as infer_schema
from modelworks.engine.scoring.parsing.columns import typed_column as typed_column
from modelworks.engine.scoring.parsing.table import ABSENT as ABSENT
from modelworks.engine.scoring.parsing.table import MAX_DEPTH, RawTable

__all__ = [
    "MAX_DEPTH",
    "RawTable",
    "read_payload",
]
