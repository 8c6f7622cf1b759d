import pytest

from persistence.migrate import migrate, migration_files

pytestmark = pytest.mark.integration

TABLES = {"forecast_metrics", "model_registry", "forecast_validation", "market_regime_history",
          "feature_importance", "risk_adjustment_history", "prediction_audit", "command_audit", "schema_migrations"}


async def test_migrations_create_the_seed_tables_once(pool, tmp_path):
    async with pool.acquire() as conn:
        assert await migrate(conn) == []  # the fixture applied them already
        names = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert TABLES <= names
        applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        assert applied == len(migration_files())


async def test_a_failing_migration_is_rolled_back_and_not_recorded(pool, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE mig_probe_a (x int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE mig_probe_b (x int); SELECT nonsense;")
    async with pool.acquire() as conn:
        await conn.execute("CREATE SCHEMA probe; SET search_path TO probe")
        try:
            with pytest.raises(Exception, match="nonsense"):
                await migrate(conn, tmp_path)
            tables = {r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'probe'")}
            assert "mig_probe_a" in tables and "mig_probe_b" not in tables
            assert await conn.fetchval("SELECT max(version) FROM probe.schema_migrations") == 1
        finally:
            await conn.execute("DROP SCHEMA probe CASCADE; SET search_path TO public")
