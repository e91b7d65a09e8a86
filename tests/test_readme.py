"""The README's quick start runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})


def test_readme_has_exactly_two_setup_commands():
    commands = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert len(commands) == 2
    assert "threshold-estimators demo" in commands[0]
    assert "pytest" in commands[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1].strip() in ci.splitlines()
