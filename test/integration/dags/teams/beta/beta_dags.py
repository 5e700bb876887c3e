"""Team beta's DAG (its own bundle, owned by team beta in the multi-team integration test)."""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="beta_etl", schedule=None, tags=["beta"], catchup=False) as dag:
    EmptyOperator(task_id="work")
