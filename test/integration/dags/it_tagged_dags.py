"""DAGs with tags for the per-DAG access tests (dag_access rules match them by tag or by id glob)."""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

# dag_id -> tags. it_hr_payroll carries "finance" without the it_fin_ prefix: only a tag rule opens it.
DAGS = {
    "it_fin_daily": ["finance"],
    "it_fin_monthly": ["finance", "reports"],
    "it_hr_payroll": ["hr", "finance"],
    "it_ml_train": ["ml"],
    "it_sales_report": [],
}

for dag_id, tags in DAGS.items():
    with DAG(dag_id=dag_id, schedule=None, tags=tags, catchup=False) as dag:
        EmptyOperator(task_id="work")
    globals()[dag_id] = dag
