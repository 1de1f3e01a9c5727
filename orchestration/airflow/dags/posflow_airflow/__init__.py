"""posflow's Airflow support: settings (Variables, environment, defaults), the runner of the
posflow binary, and the operators the DAGs posflow_batch and posflow_maintenance are made of."""
