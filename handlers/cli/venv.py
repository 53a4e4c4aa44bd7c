"""A plain `python app.py` from a fresh clone: run again under the project's own environment.

`./dev` is the one way in (it builds `.venv` and runs app.py inside it); this is the safety
net for a person who types `python app.py …` anyway. Standard library only: it runs before
any of the project's dependencies can be imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

NO_ENVIRONMENT = (
    "Repobox's environment is not set up here: run ./dev run (it creates the environment)"
)


def rerun_in_venv(app: str, missing: ModuleNotFoundError) -> NoReturn:
    """Re-execute `app` under `.venv/bin/python` beside it; without one, say how to make it.

    Inside that environment already, a missing module is a real fault: raised as it is."""
    here = Path(app).resolve().parent
    venv = here / ".venv"
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        raise missing
    if python.exists():
        os.execv(python, [str(python), str(Path(app).resolve()), *sys.argv[1:]])  # noqa: S606
    print(NO_ENVIRONMENT, file=sys.stderr)
    sys.exit(2)
