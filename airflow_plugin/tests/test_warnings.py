"""The one warning the package silences (Airflow's own import of Starlette's test client), and no other."""

from __future__ import annotations

import importlib
import warnings

from starlette.exceptions import StarletteDeprecationWarning

import airflow_webauthn

TESTCLIENT_WARNING = "Using `httpx` with `starlette.testclient` is deprecated; install `httpx2` instead."


def _shown(message: str, module: str) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        # Only the package's own filter in front of "always" (pytest's configuration ignores this one too);
        # catch_warnings restores everything afterwards.
        warnings.resetwarnings()
        warnings.simplefilter("always")
        importlib.reload(airflow_webauthn)
        warnings.warn_explicit(message, StarletteDeprecationWarning, "testclient.py", 1, module=module)
    return bool(caught)


def test_starlette_testclient_warning_from_airflows_import_is_silenced() -> None:
    """The warning raised when fastapi.testclient is imported (by svcs, for Airflow) stays out of logs."""
    assert not _shown(TESTCLIENT_WARNING, "fastapi.testclient")


def test_other_deprecations_still_show() -> None:
    """Only that message is filtered: another deprecation from the same module, or that message from
    anywhere else, is still shown."""
    assert _shown("something else is deprecated", "fastapi.testclient")
    assert _shown(TESTCLIENT_WARNING, "my_own_code")
