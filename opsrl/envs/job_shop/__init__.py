"""Job-shop scheduling (``opsrl/JobShop-v0``): dispatching MDP, Taillard/classic instances, dispatching
rules, CP-SAT. See ``envs/job_shop.md``. Submodules are imported lazily (no kernel compiles on import)."""
