"""``make bench``: what Flowsite costs and how fast it goes, against the real stack.

``python -m benchmarks`` measures one configuration, the one DATABASE_URL and REDIS_URL
name (SQLite and the ORM broker without them); ``make bench`` runs it for the embedded
configuration and, when PostgreSQL and Redis answer, for the team one. Each run starts
Flowsite as ``make run`` does on a throwaway data dir, and prints every figure beside its
target:

- idle: PSS of the whole stack and its CPU use (costs.py),
- per execution: database transactions (one task, each extra task) and CPU (costs.py),
- one execution at a time: hello-world against the bare costs under it, Windmill's 40
  fibo tasks, a Parallel of sleeps (runs.py),
- executions per minute through the REST API, steady and in a burst (load.py).

The targets are for the benchmark only; no test asserts a timing.
"""
