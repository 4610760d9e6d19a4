"""python -m tests.golden --write: regenerate the golden hashes (a deliberate, noted event)."""

import json
import sys

from . import HASHES, compute

if "--write" not in sys.argv:
    sys.exit("python -m tests.golden --write regenerates tests/golden/hashes.json (a deliberate event)")
HASHES.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
print(f"wrote {HASHES}")
