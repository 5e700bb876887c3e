"""Module structure: the routes get the manager's collaborators through dependencies, so they never
import the manager module (no ``auth_manager`` ↔ ``routes`` cycle), and the manager stays cheap to import."""

from __future__ import annotations

import subprocess
import sys

ROUTE_MODULES = [
    "airflow_webauthn.routes",
    "airflow_webauthn.routes.admin",
    "airflow_webauthn.routes.ceremony",
    "airflow_webauthn.routes.csrf",
    "airflow_webauthn.routes.deps",
    "airflow_webauthn.routes.pages",
    "airflow_webauthn.routes.responses",
    "airflow_webauthn.routes.self_service",
    "airflow_webauthn.routes.session",
    "airflow_webauthn.routes.step_up",
    "airflow_webauthn.routes.step_up_auth",
    "airflow_webauthn.routes.token",
]


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this interpreter, code written by the test)
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_routes_import_first_and_never_load_the_manager_module() -> None:
    """Importing every route module in a fresh interpreter works and leaves ``auth_manager`` unloaded."""
    code = (
        "import sys\n"
        f"for name in {ROUTE_MODULES!r}: __import__(name)\n"
        "assert 'airflow_webauthn.auth_manager' not in sys.modules, 'routes import the manager module'\n"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_manager_module_does_not_import_the_routes() -> None:
    """The manager builds its app lazily (``get_fastapi_app``): importing it loads no route module."""
    code = (
        "import sys\n"
        "import airflow_webauthn.auth_manager\n"
        "loaded = [m for m in sys.modules if m.startswith('airflow_webauthn.routes')]\n"
        "assert not loaded, loaded\n"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
