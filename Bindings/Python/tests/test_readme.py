"""The README's "From Python" example runs as written and prints a verified sum."""

from __future__ import annotations

import re
import subprocess
import sys

from _support import REPOSITORY


def test_readme_example_runs():
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "no python example in the README's From Python section"
    example = blocks[0]
    assert 20 <= len(example.strip().splitlines()) <= 40
    completed = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("verified: the sum of clients [1, 2, 3, 4]"), completed.stdout
