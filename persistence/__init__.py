"""PostgreSQL (asyncpg, plain SQL) and Redis: what outlives a forecast."""
import asyncpg

# PostgreSQL away rather than refusing what it was sent: refused or lost connections, a
# server shutting down, a timeout (an OSError). What meets one is kept and tried again.
AWAY = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
