"""Small DAGs for bench/airflow: both api-servers list exactly these.

``BENCH_DAG_COUNT`` (default 20) sets how many. Each carries the tag "bench", one of four "group-N" tags
and one of fifty "t-N" tags (what the bench's dag_access tag rules match).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, task

for number in range(int(os.environ.get("BENCH_DAG_COUNT", "20"))):
    with DAG(
        dag_id=f"bench_{number:04d}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["bench", f"group-{number % 4}", f"t-{number % 50}"],
    ) as dag:

        @task
        def extract() -> int:
            return 1

        @task
        def load(value: int) -> None:
            print(value)

        load(extract())
    globals()[dag.dag_id] = dag
