"""Passwordless passkey (WebAuthn) login for Apache Airflow 3.

Set ``[core] auth_manager = airflow_webauthn.auth_manager.WebAuthnAuthManager``. This module is imported
by Airflow's CLI and API server at start-up, so it stays free of heavy imports.
"""

from __future__ import annotations

__version__ = "0.1.0"

import warnings

# Airflow's own execution API imports ``svcs.fastapi``, which imports ``fastapi.testclient`` at run time
# (for a type annotation), and Starlette 1.x warns there that its test client wants ``httpx2``. No Airflow
# process runs that test client, we cannot change the import, and installing httpx2 would add a second HTTP
# stack to every deployment only to keep a log line away. So exactly that warning, from exactly that module,
# is ignored; any other deprecation still shows. This package is imported early (provider discovery) in
# every Airflow process that loads the manager: the api-server and the CLI.
warnings.filterwarnings(
    "ignore",
    message=r"Using `httpx` with `starlette\.testclient` is deprecated",
    module=r"fastapi\.testclient|svcs\.",
)
