"""Helpers of the real-Airflow integration suite: processes, the stack, a soft authenticator, forged JWTs."""
