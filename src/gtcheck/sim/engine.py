"""The offline global table: moto's regions joined by a replicator, behind one gateway.

Each region's table is a real moto table. Its DynamoDB stream is tapped: every change a
client makes becomes a `Change`, versioned by last-writer-wins, and is delivered to every
other replica after `lag` +- `jitter`. Deliveries run on a thread in server mode, or when
the injected clock advances in tests, so tests never really wait.
"""

from __future__ import annotations

import copy
import json
import math
import random
import threading
from collections import deque
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any

from gtcheck.errors import EnvironmentProblem, UsageError
from gtcheck.sim import fastjson, inprocess, workshop_table, wsgi
from gtcheck.sim.capacity import CapacityLedger, Kind, Resource
from gtcheck.sim.clock import Clock, ManualClock, SystemClock
from gtcheck.sim.config import SimConfig, TableSetup, validate_fraction, validate_lag
from gtcheck.sim.faults import Direction, Faults
from gtcheck.sim.gateway import Gateway
from gtcheck.sim.lww import Version, VersionBook
from gtcheck.sim.metering import current_image, write_charges
from gtcheck.sim.metrics import publish_latency
from gtcheck.sim.queue import Change, Delivery, DeliveryQueue
from gtcheck.sim.requestlog import RequestLog
from gtcheck.sim.streamlimit import GetRecordsLimit
from gtcheck.workshop import known_regions

RECENT_DELIVERIES = 5000  # deliveries kept for the control API's `recent_deliveries`


def _plain_key(item: Any) -> Hashable:
    """An item's key as plain values, e.g. ("USER#global-user-ana", "PROFILE")."""
    return (item.hash_key.value, item.range_key.value if item.range_key else None)


def _item_key(item: Any) -> Hashable:
    """A plain hashable identity for a moto item's primary key."""
    hk, rk = item.hash_key, item.range_key
    return (hk.type, hk.cast_value, rk.type if rk else None, rk.cast_value if rk else None)


class Simulator:
    """One engine, two doors: `client()`/`session()` in process, `serve()` over HTTP.

    moto keeps its backends per process, so one Simulator owns them at a time; creating a
    new one resets moto.
    """

    def __init__(self, config: SimConfig | None = None, clock: Clock | None = None) -> None:
        from moto.moto_api._internal.models import moto_api_backend
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        fastjson.install()
        self.config = config or SimConfig()
        self.clock = clock or SystemClock()
        self.faults = Faults.from_config(self.config)
        self.lock = threading.RLock()
        self.request_log = RequestLog()
        self.get_records_limit = GetRecordsLimit()
        self.capacity: CapacityLedger | None = (
            CapacityLedger(self.config.burst_seconds, self.provisioned_rate)
            if self.config.capacity
            else None
        )
        self._wake = threading.Condition(self.lock)
        self._delay_rng = random.Random(self.config.seed)
        self._throttle_rng = random.Random(f"throttle-{self.config.seed}")
        self._book = VersionBook()
        self._queue = DeliveryQueue()
        self._replicas: dict[str, list[str]] = {}
        # When a replica added by UpdateTable turns ACTIVE: (table, region) -> time.
        self._active_from: dict[tuple[str, str], float] = {}
        self._applying = False
        self._last_insert: tuple[Any, Change] | None = None
        self._transaction: list[tuple[str, Change, Version | None]] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.delivered = 0
        # The latest deliveries, oldest first: what each replication really took.
        self.recent_deliveries: deque[dict[str, Any]] = deque(maxlen=RECENT_DELIVERIES)
        # When each item's latest write was applied, per region: (region, table, key) -> time.
        self.applied_at: dict[tuple[str, str, Hashable], float] = {}
        moto_api_backend.reset()
        self._moto = DomainDispatcherApplication(create_backend_app)
        self.app = Gateway(self, self._moto)
        if isinstance(self.clock, ManualClock):
            self.clock.on_advance(self.pump)
        self._create_workshop_table()

    # ----- doors -------------------------------------------------------------------------
    def session(self, region: str | None = None) -> Any:
        """A boto3 session whose clients reach this simulator in process."""
        return inprocess.session(self.app, region or self.config.primary)

    def client(self, service: str, region: str, config: Any = None) -> Any:
        """A boto3 client for `service` in `region`, served in process."""
        return inprocess.client(self.app, service, region, config)

    def advance(self, seconds: float) -> None:
        """Move an injected clock forward and deliver what became due, each at its due time."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a Simulator built with a ManualClock")
        end = self.clock.now() + seconds
        # Stop at each due time on the way, so latencies do not depend on the step size.
        while (due := self._queue.next_due(self.faults.is_paused)) is not None and due < end:
            self.clock.advance(max(0.0, due - self.clock.now()))
            if self.clock.now() < due:
                break  # float rounding: never spin
        self.clock.advance(end - self.clock.now())

    # ----- replica group -----------------------------------------------------------------
    def replicas(self, table: str) -> list[str]:
        """The regions holding a replica of `table` (empty when it is not global)."""
        with self.lock:
            return list(self._replicas.get(table, []))

    def replica_descriptions(self, table: str, region: str) -> list[dict[str, Any]] | None:
        """DescribeTable's `Replicas` as seen from `region`: the other replicas, or None."""
        with self.lock:
            group = self._replicas.get(table, [])
            if region not in group or len(group) < 2:
                return None
            return [
                {
                    "RegionName": other,
                    "ReplicaStatus": self.replica_status(table, other),
                    "ReplicaTableClassSummary": {"TableClass": "STANDARD"},
                }
                for other in group
                if other != region
            ]

    def replica_status(self, table: str, region: str) -> str:
        """CREATING until a new replica's creation time has passed on the clock, then ACTIVE."""
        with self.lock:
            active_from = self._active_from.get((table, region))
            if active_from is not None and self.clock.now() < active_from:
                return "CREATING"
            return "ACTIVE"

    def apply_replica_updates(self, table: str, region: str, updates: list[dict[str, Any]]) -> None:
        """UpdateTable `ReplicaUpdates`: Create copies the table and its items, Delete drops it."""
        with self.lock:
            for update in updates:
                for action, details in update.items():
                    target = (details or {}).get("RegionName", "")
                    if action == "Create":
                        self._create_replica(table, region, target)
                    elif action == "Delete":
                        self._delete_replica(table, target)
                    elif action != "Update":
                        raise UsageError(f"unknown replica update {action!r}")

    def forget_replica(self, table: str, region: str) -> None:
        """The table was deleted in `region`: it leaves the replica group."""
        with self.lock:
            group = self._replicas.get(table, [])
            if region in group:
                group.remove(region)
                self._active_from.pop((table, region), None)
                self._queue.drop_region(region)
                self._book.forget(region, table)

    def tap_tables(self) -> None:
        """Tap every replica's stream (a stream re-enabled by UpdateTable is a new shard)."""
        with self.lock:
            for table, group in self._replicas.items():
                for region in group:
                    self._tap(region, table)

    # ----- faults --------------------------------------------------------------------------
    def pause(self, source: str, target: str) -> None:
        self._check_direction(source, target)
        with self._wake:
            self.faults.pause((source, target))
            self._wake.notify_all()

    def resume(self, source: str, target: str) -> None:
        self._check_direction(source, target)
        with self._wake:
            self.faults.resume((source, target))
            self._wake.notify_all()
        self.pump()

    def set_lag(self, lag: float, jitter: float | None = None) -> None:
        self.faults.set_lag(lag, jitter)

    def set_throttle(self, fraction: float) -> None:
        self.faults.set_throttle(fraction)

    def should_throttle(self) -> bool:
        """Draw whether this read is answered with ProvisionedThroughputExceededException."""
        fraction = self.faults.throttle
        return fraction > 0 and self._throttle_rng.random() < fraction

    def apply_fault_request(self, request: dict[str, Any]) -> None:
        """The control API's fault changes: pause/resume `A>B` lists, lag, jitter, throttle."""
        if not isinstance(request, dict):
            raise UsageError('a fault request is a JSON object, e.g. {"lag": 2.5}')
        # Validate everything first: a request is applied whole or not at all.
        pauses = [_direction(text) for text in request.get("pause", [])]
        resumes = [_direction(text) for text in request.get("resume", [])]
        for direction in pauses + resumes:
            self._check_direction(*direction)
        lag = validate_lag("lag", float(request.get("lag", self.faults.lag)))
        jitter = request.get("jitter")
        jitter = None if jitter is None else validate_lag("jitter", float(jitter))
        throttle = request.get("throttle")
        throttle = None if throttle is None else validate_fraction("throttle", float(throttle))
        for direction in pauses:
            self.pause(*direction)
        for direction in resumes:
            self.resume(*direction)
        if "lag" in request or jitter is not None:
            self.set_lag(lag, jitter)
        if throttle is not None:
            self.set_throttle(throttle)

    def state(self) -> dict[str, Any]:
        """What a running simulator reports about itself (the control API's answer).

        `last_applied`: per region, when the latest write there (a client's or a replicated
        one) was applied, in the clock's seconds; benchmarks time detection from it.
        `recent_deliveries`: the latest deliveries (at most RECENT_DELIVERIES), each with
        its direction, key, put or delete, latency in ms as published to CloudWatch, and
        when it was applied (`at`, the clock's seconds).
        """
        with self.lock:
            last_applied: dict[str, float] = {}
            for (region, _table, _key), moment in self.applied_at.items():
                last_applied[region] = max(moment, last_applied.get(region, moment))
            return {
                "regions": list(self.config.regions),
                "replicas": {table: list(group) for table, group in self._replicas.items()},
                "replica_status": {
                    table: {region: self.replica_status(table, region) for region in group}
                    for table, group in self._replicas.items()
                },
                "faults": self.faults.snapshot(),
                "pending": {f"{s}>{t}": n for (s, t), n in self._queue.pending().items()},
                "delivered": self.delivered,
                "get_records": self.get_records_limit.snapshot(),
                "capacity": {
                    "enforced": self.capacity is not None,
                    "burst_seconds": self.config.burst_seconds,
                    "usage": {} if self.capacity is None else self.capacity.snapshot(),
                },
                "last_applied": last_applied,
                "recent_deliveries": list(self.recent_deliveries),
            }

    # ----- provisioned capacity ------------------------------------------------------------
    def provisioned_rate(self, resource: Resource, kind: Kind) -> float | None:
        """A table's or GSI's provisioned units per second now; None if not provisioned."""
        table = self._moto_table(resource.region, resource.table)
        if table is None or table.billing_mode == "PAY_PER_REQUEST":
            return None
        throughput = table.throughput
        if resource.index is not None:
            found = [i for i in table.global_indexes if i.name == resource.index]
            if not found:
                return None
            throughput = found[0].throughput
        member = "ReadCapacityUnits" if kind is Kind.READ else "WriteCapacityUnits"
        return float(throughput.get(member) or 0)

    # ----- stream reads --------------------------------------------------------------------
    def shard_of_iterator(self, region: str, iterator: str) -> tuple[str, str] | None:
        """(table, shard id) a DynamoDB Streams iterator of `region` reads, or None."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        backend = dynamodbstreams_backends[self.config.account_id][region]
        found = backend.shard_iterators.get(iterator)
        if found is None:
            return None
        return found.stream_shard.table.name, found.stream_shard.id

    def admit_get_records(self, region: str, table: str, shard_id: str) -> bool:
        """One GetRecords call on a shard, on the simulator's clock (5 per second pass).

        moto gives every table's shard the same id, so the table names the stream.
        """
        return self.get_records_limit.admit(region, f"{table}/{shard_id}", self.clock.now())

    # ----- replication -------------------------------------------------------------------
    def pump(self) -> int:
        """Deliver every change due by now on running directions; returns how many."""
        with self.lock:
            due = self._queue.pop_due(self.clock.now(), self.faults.is_paused)
            for delivery in due:
                self._deliver(delivery)
            return len(due)

    def start(self) -> None:
        """Deliver on a thread, at each change's due time (server mode)."""
        with self.lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="gtcheck-replicator", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve(self, host: str = "127.0.0.1", port: int = 4566) -> Any:
        """Start the HTTP door and the replicator thread; returns the running SimServer."""
        from gtcheck.sim.server import SimServer

        server = SimServer(self, host, port)
        server.start()
        return server

    def _run(self) -> None:
        with self._wake:
            while not self._stopping:
                due = self._queue.next_due(self.faults.is_paused)
                wait = None if due is None else due - self.clock.now()
                if wait is not None and wait <= 0:
                    self.pump()
                else:
                    self._wake.wait(wait)

    def _on_stream_record(self, region: str, table: str, old: Any, new: Any) -> None:
        """A client's write landed in `region`: version it and send it to the other replicas."""
        if self._applying:
            return  # a replicated write: never echoed back
        last_insert, self._last_insert = self._last_insert, None
        if old is None and last_insert is not None and last_insert[0] is new:
            # moto's UpdateItem on a new key inserts a keys-only placeholder, then reports the
            # update as a second INSERT of the same item: one write, so one change.
            last_insert[1].image.update(copy.deepcopy(new.to_json()["Attributes"]))
            return
        item = new if new is not None else old
        key = _item_key(item)
        now = self.clock.now()
        self.applied_at[(region, table, _plain_key(item))] = now
        previous = self._book.held(region, (table, key))
        version = self._book.stamp_local(region, (table, key), now, deleted=new is None)
        image = copy.deepcopy(new.to_json()["Attributes"]) if new is not None else None
        change = Change(table, (key, item.hash_key, item.range_key), image, version, region, now)
        if old is None and new is not None:
            self._last_insert = (new, change)
        if self._transaction is not None:
            self._transaction.append((region, change, previous))
        else:
            self._send(region, change)

    def begin_transaction(self) -> None:
        """Hold the writes of a TransactWriteItems until it is known to have committed."""
        self._transaction = []

    def end_transaction(self, committed: bool) -> None:
        """Send a committed transaction's writes; forget a cancelled one's (moto rolled the
        table back, so its versions are rolled back too)."""
        held, self._transaction = self._transaction or [], None
        if committed:
            for region, change, _ in held:
                self._send(region, change)
            return
        for region, change, previous in reversed(held):
            self._book.restore(region, (change.table, change.key[0]), previous)  # type: ignore[index]

    def _send(self, region: str, change: Change) -> None:
        """Queue a change for every other replica, after lag +- jitter."""
        now = change.written_at
        table = change.table
        with self._wake:
            for target in self._replicas.get(table, []):
                if target != region:
                    self._queue.push(change, target, now + self.faults.delay(self._delay_rng))
            self._wake.notify_all()

    def _deliver(self, delivery: Delivery) -> None:
        change = delivery.change
        table = self._moto_table(delivery.target, change.table)
        if table is None or delivery.target not in self._replicas.get(change.table, []):
            return
        key, hash_key, range_key = change.key  # type: ignore[misc]
        if self._book.admit(delivery.target, (change.table, key), change.version):
            key_image = _key_image(table, hash_key, range_key)
            before = current_image(table, key_image) if self.capacity else None
            self._applying = True
            try:
                if change.image is None:
                    table.delete_item(hash_key, range_key)
                else:
                    table.put_item(copy.deepcopy(change.image))
            finally:
                self._applying = False
            if self.capacity is not None:
                # Replicated writes use the receiving table's capacity but are never refused.
                after = current_image(table, key_image)
                now = self.clock.now()
                charges = write_charges(delivery.target, change.table, table, before, after)
                for resource, units in charges.items():
                    self.capacity.charge(resource, Kind.WRITE, units, now)
            plain_key = (hash_key.value, range_key.value if range_key else None)
            self.applied_at[(delivery.target, change.table, plain_key)] = self.clock.now()
        now = self.clock.now()
        self.delivered += 1
        self.recent_deliveries.append(
            {
                "source": change.source,
                "target": delivery.target,
                "key": [hash_key.value, range_key.value if range_key else None],
                "kind": "delete" if change.image is None else "put",
                "latency_ms": round((now - change.written_at) * 1000, 3),
                "at": now,
            }
        )
        publish_latency(
            self.config.account_id,
            (change.source, delivery.target),
            change.table,
            delivery.target,
            (now - change.written_at) * 1000,
            now,
        )

    # ----- moto plumbing -----------------------------------------------------------------
    def call(self, region: str, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Call moto's DynamoDB directly (no gateway), raising on an error answer."""
        response = wsgi.call(
            self._moto,
            "POST",
            "http://localhost/",
            wsgi.internal_headers(region, operation),
            json.dumps(request).encode(),
        )
        payload = response.json()
        if response.status != 200:
            message = payload.get("message") or payload.get("Message") or payload
            raise EnvironmentProblem(f"{operation} in {region} failed: {message}")
        return payload

    def moto_table(self, region: str, table: str) -> Any:
        """The moto table `table` of `region`, or None."""
        return self._moto_table(region, table)

    def _moto_table(self, region: str, table: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.config.account_id][region].tables.get(table)

    def _tap(self, region: str, table_name: str) -> None:
        table = self._moto_table(region, table_name)
        shard = getattr(table, "stream_shard", None)
        # The mark holds the shard's id: moto restores a table from a deep copy when a
        # transaction is cancelled, and the copy (a new shard) must be tapped afresh.
        if shard is None or getattr(shard, "gtcheck_tapped", None) == id(shard):
            return
        original = type(shard).add.__get__(shard)

        def add(old: Any, new: Any) -> None:
            if old is not None and new is not None and old == new:
                return  # a write that changed nothing: DynamoDB streams and replicates nothing
            original(old, new)
            if shard.items:
                _stamp_record(shard.items[-1].record, region, self.clock.now())
            self._on_stream_record(region, table_name, old, new)

        shard.add = add
        shard.gtcheck_tapped = id(shard)

    def _create_workshop_table(self) -> None:
        setup = self.config.setup
        if setup is TableSetup.NONE:
            return
        regions = self.config.regions if setup is TableSetup.GLOBAL else self.config.regions[:1]
        table = self.config.table
        with self.lock:
            for region in regions:
                self.call(region, "CreateTable", workshop_table.create_table_request(table))
                for operation, request in workshop_table.follow_up_requests(table):
                    self.call(region, operation, request)
            self._replicas[table] = list(regions)
            self.tap_tables()

    def _create_replica(self, table: str, source: str, target: str) -> None:
        if target not in known_regions():
            raise UsageError(f"unknown region {target!r}")
        source_table = self._moto_table(source, table)
        if source_table is None:
            raise UsageError(f"Requested resource not found: Table: {table} not found")
        spec = source_table.stream_specification or {}
        if spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES":
            raise UsageError(
                "Table write capacity should either be Pay-Per-Request or AutoScaled, and "
                "StreamSpecification with NEW_AND_OLD_IMAGES must be enabled to add a replica"
            )
        group = self._replicas.setdefault(table, [source])
        if source not in group:
            group.append(source)
        if target in group or self._moto_table(target, table) is not None:
            raise UsageError(
                f"Failed to create a new replica of table {table} in {target}: "
                "a table with that name already exists there"
            )
        description = self.call(source, "DescribeTable", {"TableName": table})["Table"]
        self.call(target, "CreateTable", workshop_table.replica_create_request(description))
        ttl = self.call(source, "DescribeTimeToLive", {"TableName": table})
        ttl_description = ttl.get("TimeToLiveDescription", {})
        if ttl_description.get("TimeToLiveStatus") == "ENABLED":
            self.call(
                target,
                "UpdateTimeToLive",
                {
                    "TableName": table,
                    "TimeToLiveSpecification": {
                        "Enabled": True,
                        "AttributeName": ttl_description["AttributeName"],
                    },
                },
            )
        copy_table = self._moto_table(target, table)
        self._applying = True
        try:
            for item in list(source_table.all_items()):
                copy_table.put_item(copy.deepcopy(item.to_json()["Attributes"]))
        finally:
            self._applying = False
        self._book.copy_region(source, target, table)
        self._queue.copy_to_new_replica(source, target)
        group.append(target)
        self._tap(target, table)
        # Items are copied now and later writes flow to it at once, as DynamoDB replicates
        # writes made while a replica is created; only its status waits.
        self._active_from[(table, target)] = self.clock.now() + self.config.replica_create_seconds

    def _delete_replica(self, table: str, target: str) -> None:
        group = self._replicas.get(table, [])
        if target not in group:
            raise UsageError(f"Cannot delete replica in {target}: it is not a replica of {table}")
        self.forget_replica(table, target)
        self.call(target, "DeleteTable", {"TableName": table})

    def _check_direction(self, source: str, target: str) -> None:
        regions = set(self.config.regions) | {r for g in self._replicas.values() for r in g}
        for region in (source, target):
            if region not in regions:
                raise UsageError(f"{region!r} is not a region of this simulator")
        if source == target:
            raise UsageError("a replication direction needs two different regions")


def _key_image(table: Any, hash_key: Any, range_key: Any) -> dict[str, Any]:
    """A moto item key as typed JSON under the table's key names."""
    key = {table.hash_key_attr: hash_key.to_json()}
    if table.range_key_attr and range_key is not None:
        key[table.range_key_attr] = range_key.to_json()
    return key


def _stamp_record(record: dict[str, Any], region: str, now: float) -> None:
    """Make a stream record say what DynamoDB's would: its own region, and the time the
    write was applied rounded down to the second (moto says us-east-1 and the wall clock)."""
    record["awsRegion"] = region
    stamp = datetime.fromtimestamp(math.floor(now), tz=UTC).replace(tzinfo=None)
    record["dynamodb"]["ApproximateCreationDateTime"] = stamp


def _direction(text: str) -> Direction:
    """`us-east-1>eu-west-1` as a (source, receiving) pair."""
    source, sep, target = str(text).partition(">")
    if not sep or not source or not target:
        raise UsageError(f"a direction looks like us-east-1>eu-west-1, got {text!r}")
    return source.strip(), target.strip()
