"""Start ONE real auth service and ONE real Airflow api-server for the browser suite; run until SIGTERM.

    .venv/bin/python test/integration/support/serve_stack.py --out /tmp/stack.json [--workdir DIR]

Reuses the integration suite's ``AuthService``/``AirflowServer``. Once both answer, and an example DAG is
serialized into Airflow's database (so the UI lists it), it writes a JSON description of the stack to
``--out`` (atomically) and waits. SIGTERM/SIGINT — or its parent process going away — stops both servers.

The service signs people in through a real OpenID provider too (``support.oidc_provider``, with its sign-in
page for the browser and back-channel logout to Airflow): BROWSER_IDP_ACCOUNTS below, their groups mapped by
the suite's role_mapping; FEDERATION_PASSKEY_REQUIRED_GROUPS leaves viewers out.

Start-up (overlapped where nothing depends on it):
  OpenID provider ─► auth service ─► CLI: Airflow's service account + the tests' admin account ─► airflow api-server ─► health
  airflow db migrate ───────────────────────────────────────────────────────────────┘
  airflow dags reserialize (the example DAG and the integration suite's, once; while the api-server boots)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # test/integration, for `support.*`

from support.oidc_provider import Provider
from support.processes import free_port
from support.stack import (
    ROLE_MAPPING,
    SERVICE_CLI,
    SERVICE_MAIN,
    AirflowServer,
    AuthService,
)

EXAMPLE_DAG_ID = "browser_example_dag"
EXAMPLE_DAG = f'''"""A one-task DAG so the browser suite can see something in Airflow's DAG list."""
from __future__ import annotations

import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="{EXAMPLE_DAG_ID}",
    schedule=None,
    start_date=datetime.datetime(2024, 1, 1),
    catchup=False,
    tags=["browser-suite"],
):
    EmptyOperator(task_id="noop")
'''


IDP_DISPLAY_NAME = "Example Corp SSO"
# The provider's accounts (an id "<account>-<suffix>" is a new person with that account's groups, so every
# test run signs in someone new). fed-outsider's group is outside OIDC_ALLOWED_GROUPS.
BROWSER_IDP_ACCOUNTS = {
    "fedadmin": {"preferred_username": "fedadmin", "name": "Fed Admin", "groups": ["airflow-admins"]},
    "fedviewer": {"preferred_username": "fedviewer", "name": "Fed Viewer", "groups": ["it-viewers"]},
    "fedoutsider": {"preferred_username": "fedoutsider", "name": "Fed Outsider", "groups": ["it-contractors"]},
}
IDP_SETTINGS = {
    "OIDC_DISPLAY_NAME": IDP_DISPLAY_NAME,
    "OIDC_ALLOWED_GROUPS": "airflow-admins,it-ops,it-users,it-viewers",
    "FEDERATION_PASSKEY_REQUIRED_GROUPS": "airflow-admins,it-ops,it-users",
}


def _add_example_dag(airflow: AirflowServer) -> None:
    """Put the example DAG in the dags folder, where ``serialize_suite_dags`` stores it with the suite's
    (one ``airflow dags reserialize``: each one costs an Airflow start-up)."""
    dags = airflow.workdir / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / f"{EXAMPLE_DAG_ID}.py").write_text(EXAMPLE_DAG)


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, type=Path, help="where to write the stack description (JSON)")
    parser.add_argument(
        "--workdir", type=Path, help="databases and logs (default: a new temporary directory)"
    )
    args = parser.parse_args()

    missing = [str(p) for p in (SERVICE_MAIN, SERVICE_CLI) if not p.exists()]
    if missing:
        print(
            f"auth service is not built ({', '.join(missing)} missing): run `npm run build`", file=sys.stderr
        )
        return 2

    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="webauthn-browser-stack-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())

    airflow_port = free_port()
    airflow_origin = f"http://localhost:{airflow_port}"
    idp = Provider(
        f"{airflow_origin}/auth/oidc/callback",
        accounts=BROWSER_IDP_ACCOUNTS,
        # Server to server: the api-server listens on 127.0.0.1 (Node may resolve localhost to ::1 first).
        backchannel_logout_uri=f"http://127.0.0.1:{airflow_port}/auth/oidc/backchannel-logout",
        login_form=True,
        log=workdir / "oidc-provider.log",
    )
    service = AuthService(
        workdir=workdir, airflow_origin=airflow_origin, extra_env=idp.service_env(**IDP_SETTINGS)
    )
    airflow = AirflowServer(workdir=workdir, port=airflow_port, service=service)
    timings: dict[str, float] = {}
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=3)
    parent = os.getppid()
    try:
        service.start()
        _add_example_dag(airflow)
        migrated = pool.submit(airflow.migrate_database)
        timings["service_ready"] = service.wait_ready()
        airflow_account = pool.submit(
            service.cli, "service-account", "create", "--name", "airflow", "--scopes", "sessions:read"
        )
        admin_account = pool.submit(
            service.cli,
            "service-account",
            "create",
            "--name",
            "browser-admin",
            "--groups",
            "airflow-admins",
            "--scopes",
            "admin",
        )
        creds = airflow_account.result()
        airflow.service_credentials = f"{creds['clientId']}:{creds['clientSecret']}"
        migrated.result()
        timings["migrated"] = time.monotonic() - started
        serialized = pool.submit(airflow.serialize_suite_dags)
        airflow.start()
        timings["airflow_ready"] = airflow.wait_ready()
        serialized.result()
        timings["dags_serialized"] = time.monotonic() - started
        admin = admin_account.result()
        timings["total_start"] = time.monotonic() - started
        _write_atomically(
            args.out,
            {
                "airflowUrl": airflow.url,
                "serviceUrl": service.url,
                "serviceDatabase": str(service.database or workdir / "auth.sqlite"),
                "workdir": str(workdir),
                "logs": {
                    "auth-service": str(service.log),
                    "airflow-api-server": str(airflow.log),
                    "airflow-dags-reserialize": str(workdir / "airflow-dags-reserialize.log"),
                    "oidc-provider": str(workdir / "oidc-provider.log"),
                },
                "adminClient": {"clientId": admin["clientId"], "clientSecret": admin["clientSecret"]},
                "roleMapping": ROLE_MAPPING,
                "exampleDagId": EXAMPLE_DAG_ID,
                "idp": {"issuer": idp.issuer, "displayName": IDP_DISPLAY_NAME, **IDP_SETTINGS},
                "timings": timings,
                "pid": os.getpid(),
            },
        )
        print(
            f"stack ready in {timings['total_start']:.1f}s: {airflow.url} (service {service.url})", flush=True
        )
        # Parent gone (jest killed without teardown): the orphan is re-parented, so stop too.
        while not stop.wait(1):
            if os.getppid() != parent:
                break
        return 0
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        airflow.stop()
        service.stop()
        idp.stop()


if __name__ == "__main__":
    sys.exit(main())
