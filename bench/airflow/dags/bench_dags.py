"""Twenty small DAGs for bench/airflow: both api-servers list exactly these."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

for number in range(20):
    with DAG(
        dag_id=f"bench_{number:02d}",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["bench", f"group-{number % 4}"],
    ) as dag:

        @task
        def extract() -> int:
            return 1

        @task
        def load(value: int) -> None:
            print(value)

        load(extract())
    globals()[dag.dag_id] = dag
