"""Opening the SQLite database: many processes creating the same new file at once all succeed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_ONE = """
import sys
from service.storage.cache import DatabaseCache
from service.storage import Database
db = Database.connect("sqlite:///" + sys.argv[1])
DatabaseCache(db).put("k" + sys.argv[2], {"n": sys.argv[2]})
db.close()
"""


def test_concurrent_first_opens_of_one_file_all_succeed(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"cache-{attempt}.sqlite3"
        processes = [
            subprocess.Popen([sys.executable, "-c", OPEN_ONE, str(path), str(n)],
                             stderr=subprocess.PIPE, text=True)
            for n in range(6)
        ]
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
