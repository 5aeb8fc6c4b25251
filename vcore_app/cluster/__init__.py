"""Worker nodes (issue 20): what changes when QUEUE_URL puts the queues on Redis.

The single-process appliance needs none of this: without QUEUE_URL nothing here is imported. With it:
- events.py: job changes, log lines and kill requests travel over Redis pub/sub between nodes;
- nodes.py: every node registers in the `worker` table and sends a heartbeat; a node silent for
  WORKER_DEAD_AFTER_SECONDS is lost and its running jobs are recovered as after a crash;
- lease.py: one web node at a time fires the schedulers;
- logship.py: job logs are shipped into the database, so any web node can show any job's log.
The database stays the ledger: every status change is still the one guarded UPDATE of
jobs/service.py, so a message delivered twice, or a lost node coming back, cannot run an attempt twice.
"""
