import numpy as np

from persistence.queries import queries
from persistence.repositories.base import Repository

_SQL = queries("interval_scales")


class IntervalScalesRepository(Repository):

    async def of_version(self, model_version: str) -> dict[int, np.ndarray]:
        """horizon -> the log scales of each level; horizons with no step yet are absent."""
        return {r["horizon"]: np.asarray(r["log_scales"], dtype=float)
                for r in await self.conn.fetch(_SQL["of_version"], model_version)}

    async def step(self, model_version: str, horizon: int, gamma: float, miss_rate, levels, through) -> None:
        await self.conn.execute(_SQL["step"], model_version, horizon, gamma, [float(m) for m in miss_rate],
                                [float(l) for l in levels], through)
