"""Record the outputs of every regression configuration in ``fixture.pkl.gz``.

Run from a frozen copy of the package whose behaviour is to be preserved::

    git worktree add /tmp/regress_base HEAD
    PYTHONPATH=/tmp/regress_base python tests/regression/make_fixture.py

The script prints where ``threshold_estimators`` was imported from: check that
it is the frozen copy. The fixture is a gzip pickle of ``{config_id: outputs}``
(see ``configurations.py``), written byte-for-byte reproducibly (gzip mtime 0,
pickle protocol 4), and read by ``tests/test_regression.py``.
"""

from __future__ import annotations

import gzip
import pickle
import sys
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixture.pkl.gz"


def main() -> int:
    sys.path.insert(0, str(FIXTURE.parent))
    from configurations import config_id, configurations, outputs

    import threshold_estimators

    print(f"threshold_estimators imported from {threshold_estimators.__file__}")
    start = time.perf_counter()
    recorded = {}
    for config in configurations():
        key = config_id(config)
        if key in recorded:
            raise RuntimeError(f"duplicate configuration id {key!r}")
        recorded[key] = outputs(config)
    errors = sum("error" in result for result in recorded.values())
    payload = pickle.dumps(recorded, protocol=4)
    with (
        open(FIXTURE, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out,
    ):
        out.write(payload)
    print(
        f"{len(recorded)} configurations ({errors} raising at fit) in "
        f"{time.perf_counter() - start:.1f} s; wrote {FIXTURE} "
        f"({FIXTURE.stat().st_size / 1e6:.2f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
