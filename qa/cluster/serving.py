"""Serving a sharded index from a Ray cluster: one actor per shard (`qa.search.sharded.ShardReader`),
spread over the nodes; a question is embedded by the caller, fanned out to every actor and merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.cluster.connection import connect, task_error
from qa.errors import ClusterError, QAError
from qa.search.sharded import ShardReader
from qa.store.shards import shard_name


class RayShards:
    """Every shard of a generation in its own Ray actor, spread over the nodes (see `qa.search.sharded.ThreadShards`)."""

    def __init__(self, gen: Path, shards: int, address: str) -> None:
        self.ray = connect(address)
        # Shard actors hold memory, not cores: they wait for questions, so they reserve no CPU.
        actor = self.ray.remote(num_cpus=0, scheduling_strategy="SPREAD", max_restarts=0)(ShardReader)
        folder = gen.resolve()
        self.actors = [actor.remote(str(folder / shard_name(i)), shard_name(i)) for i in range(shards)]

    def run(self, calls: list[tuple[int, str, tuple]]) -> list[Any]:
        """The results of (shard, method, args) calls on the shard actors, run concurrently, in the order given."""
        refs = [getattr(self.actors[s], m).remote(*a) for s, m, a in calls]
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayError as exc:
            cause = task_error(exc)
            if isinstance(cause, QAError):
                raise cause from None
            first = str(exc).strip().splitlines()[0][:200]
            raise ClusterError(f"a shard actor failed ({first}); reopen the index") from exc

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001 - the cluster may already be gone
                pass
        self.actors = []
