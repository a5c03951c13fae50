"""Many videos: finding them (discover), running them in this process, a pool or on Ray (pool,
ray), the batch summary (report).
"""
