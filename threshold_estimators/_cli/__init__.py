"""The commands of ``threshold-estimators``: ``demo``, ``pick``, ``tune``, ``predict``,
``retarget``.

``files`` reads CSV files (bounded lines, standard input) and writes outputs
through a temporary file, never over an input, with the standard library (the
CLI needs only the core dependencies); ``columns`` reads just the columns
``pick`` needs from large CSV or Parquet files, with pyarrow (the ``parquet``
extra) or pandas when installed, falling back to ``files``; ``common`` turns
user mistakes into
one-line messages and formats the reports;
``objective`` parses the ``--objective`` grammar; ``demo``, ``pick``,
``model`` (``tune`` and ``predict``) and ``retarget`` hold the commands.
``threshold_estimators.cli`` assembles the parser.
"""
