"""Run every benchmark module's `main()`, print a table, write bench/results.json.

A benchmark that fails is reported as failed, never hidden.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import traceback
from pathlib import Path

MODULES = ("dispatch", "roundtrip", "sitrep", "export", "trust", "witness", "scale",
           "intake", "hostile", "board", "deconfliction", "languages", "forms",
           "consultations", "sealing", "erasure")


def main() -> int:
    results: dict[str, dict] = {}
    only = sys.argv[1:] or MODULES
    for name in only:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                continue
            raise
        print(f"== {name}", flush=True)
        try:
            results[name] = asyncio.run(module.main())
        except Exception:
            results[name] = {"failed": traceback.format_exc(limit=3)}
        for key, value in results[name].items():
            print(f"   {key:<45} {value}", flush=True)
    out = Path(__file__).parent / "results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")
    return 1 if any("failed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
