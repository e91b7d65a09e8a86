"""The ``pick``, ``tune`` and ``predict`` commands of ``threshold-estimators``.

``common`` reads and writes CSV files with the standard library (the CLI needs
only the core dependencies) and turns user mistakes into one-line messages;
``objective`` parses the ``--objective`` grammar; ``pick`` and ``model`` hold
the commands. ``threshold_estimators.cli`` assembles the parser.
"""
