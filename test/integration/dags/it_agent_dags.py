"""DAGs for the agents test: an agent may act on finance_* for a person, never on marketing_daily.

Not prefixed it_, and tagged with tags no other test's rules name: the per-DAG rules of the other tests
(it_fin_*, it_sales_*, it_ml_*; the browser suite's tag rule on "finance") never match them, and those tests
count only their own DAGs.
"""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

DAGS = {"finance_daily": ["agents-finance"], "marketing_daily": ["agents-marketing"]}

for dag_id, tags in DAGS.items():
    with DAG(dag_id=dag_id, schedule=None, tags=tags, catchup=False) as dag:
        EmptyOperator(task_id="work")
    globals()[dag_id] = dag
