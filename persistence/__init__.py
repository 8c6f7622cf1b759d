"""PostgreSQL (asyncpg, plain SQL) and Redis: what outlives a forecast."""
