"""Module structure: the routes get the manager's collaborators through dependencies, so they never
import the manager module (no ``auth_manager`` ↔ ``routes`` cycle), and the manager stays cheap to import."""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

ROUTES_PACKAGE = "airflow_webauthn.routes"


def _route_modules() -> list[str]:
    """Every module of the routes package, found on disk, so a new route module cannot be left out of the checks.

    Read from the package's folder (``pkgutil.walk_packages``, which imports only sub-packages, to look inside them),
    so the checks below import the modules themselves in a fresh interpreter."""
    spec = importlib.util.find_spec(ROUTES_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError(f"{ROUTES_PACKAGE} is not a package")
    found = pkgutil.walk_packages(list(spec.submodule_search_locations), prefix=f"{ROUTES_PACKAGE}.")
    return [ROUTES_PACKAGE, *sorted(module.name for module in found)]


def test_the_route_modules_are_discovered() -> None:
    """The discovery finds the modules that exist today, among them the ones a hand-written list once forgot."""
    modules = _route_modules()
    for name in (
        "admin",
        "ceremony",
        "cookies",
        "error_handlers",
        "oidc",
        "path_ids",
        "session",
        "templates",
        "token",
    ):
        assert f"{ROUTES_PACKAGE}.{name}" in modules
    assert len(modules) == len(set(modules))


def test_every_file_of_the_routes_folder_is_checked() -> None:
    """Counted another way (the ``.py`` files in the folder): none is missing from the checks below."""
    spec = importlib.util.find_spec(ROUTES_PACKAGE)
    assert spec is not None
    assert spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    on_disk = {
        ROUTES_PACKAGE if path.stem == "__init__" else f"{ROUTES_PACKAGE}.{path.stem}"
        for path in folder.glob("*.py")
    }
    assert len(on_disk) > 10
    assert on_disk <= set(_route_modules())


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this interpreter, code written by the test)
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_routes_import_first_and_never_load_the_manager_module() -> None:
    """Importing every route module in a fresh interpreter works and leaves ``auth_manager`` unloaded."""
    code = (
        "import sys\n"
        f"for name in {_route_modules()!r}: __import__(name)\n"
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
