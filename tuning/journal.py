"""The JSON-lines run log: a header (space, seed, options), then one line per ask and per tell.

Replaying it rebuilds a tuner's state exactly, so a killed run resumes where it stopped and a
finished run can be reproduced. A half-written last line (the process died mid-write) is dropped.
"""

import json
from pathlib import Path
from typing import Any

from treadle.tuning.errors import TuningError

VERSION = 1


def read(path: Path) -> list[dict[str, Any]]:
    """Events in the log; drops (and truncates away) a torn final line."""
    text = path.read_text()
    lines = text.split("\n")
    events, good_chars = [], 0
    for i, line in enumerate(lines):
        if not line.strip():
            good_chars += len(line) + 1
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1 or all(not rest.strip() for rest in lines[i + 1:]):
                with path.open("r+") as f:  # cut the torn line so appends start clean
                    f.truncate(good_chars)
                break
            raise TuningError(f"{path}:{i + 1}: error: corrupt log line {line[:80]!r}") from None
        good_chars += len(line) + 1
    if events and events[0].get("event") != "header":
        raise TuningError(f"{path}: error: not a Treadle tuning log (no header line)")
    return events


class Journal:
    """Appends events to a log file, flushing each so a kill loses at most the line being written."""

    def __init__(self, path: Path):
        self.path = path
        if path.exists() and path.stat().st_size and not path.read_text().endswith("\n"):
            with path.open("a") as f:
                f.write("\n")
        self.file = path.open("a")

    def write(self, event: dict[str, Any]) -> None:
        self.file.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()
