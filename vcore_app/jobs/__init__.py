"""The job engine: service (ledger), queues (Huey), runner, executors, logs."""
