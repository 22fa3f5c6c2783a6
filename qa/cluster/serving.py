"""Serving a sharded index from a Ray cluster: one actor per shard (`qa.search.sharded.ShardReader`),
spread over the nodes; a question is embedded by the caller, fanned out to every actor and merged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from qa.cluster.connection import connect, task_error
from qa.errors import ClusterError, QAError
from qa.search.sharded import ShardReader
from qa.store.shards import shard_name

# How often the actors lost with their nodes are started again before a call fails, the first wait before that
# (doubled each time: 1 + 2 + 4 s in all), and the calls that set an actor up.
ACTOR_RESTARTS = 3
RESTART_WAIT_S = 1.0
SETUP_CALLS = ("open", "use_stats")


class RayShards:
    """Every shard of a generation in its own Ray actor, spread over the nodes (see `qa.search.sharded.ThreadShards`).
    An actor lost with its node (a node taken away, a raylet killed) is started again and set up as before."""

    def __init__(self, gen: Path, shards: int, address: str) -> None:
        self.ray = connect(address)
        # Shard actors hold memory, not cores: they wait for questions, so they reserve no CPU.
        self._actor = self.ray.remote(num_cpus=0, scheduling_strategy="SPREAD", max_restarts=0)(ShardReader)
        self._folder = gen.resolve()
        # The calls that set every actor up (opening its shard, the index's BM25 figures), replayed on a new one.
        self._setup: dict[str, tuple] = {}
        self.actors = [self._start(i) for i in range(shards)]

    def _start(self, shard: int) -> Any:
        return self._actor.remote(str(self._folder / shard_name(shard)), shard_name(shard))

    def run(self, calls: list[tuple[int, str, tuple]]) -> list[Any]:
        """The results of (shard, method, args) calls on the shard actors, run concurrently, in the order given."""
        attempt = 0
        while True:
            refs = [getattr(self.actors[s], m).remote(*a) for s, m, a in calls]
            try:
                results = self.ray.get(refs)
                break
            except self.ray.exceptions.RayActorError as exc:
                if attempt == ACTOR_RESTARTS:
                    raise self._failed(exc) from exc
                self._restart_lost(refs, calls, attempt)
                attempt += 1
            except self.ray.exceptions.RayError as exc:
                raise self._failed(exc) from exc
        for _, method, args in calls:
            if method in SETUP_CALLS:
                self._setup[method] = args
        return results

    def _restart_lost(self, refs: list[Any], calls: list[tuple[int, str, tuple]], attempt: int) -> None:
        """Start the actors whose calls failed for want of them again, set up as the others are."""
        # A node lost a moment ago may still be taken for alive, and a new actor placed there: wait a little.
        time.sleep(RESTART_WAIT_S * 2**attempt)
        lost = set()
        for ref, (shard, _, _) in zip(refs, calls):
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayActorError:
                lost.add(shard)
            except self.ray.exceptions.RayError:
                pass
        for shard in sorted(lost):
            self.actors[shard] = self._start(shard)
            for method, args in self._setup.items():
                self.ray.get(getattr(self.actors[shard], method).remote(*args))

    def _failed(self, exc: Exception) -> QAError:
        cause = task_error(exc)
        if isinstance(cause, QAError):
            return cause
        first = str(exc).strip().splitlines()[0][:200]
        return ClusterError(f"a shard actor failed ({first}); reopen the index")

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001 - the cluster may already be gone
                pass
        self.actors = []
