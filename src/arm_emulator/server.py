"""The ARM emulator: an HTTPS server (Entra ID token endpoint + Azure Resource Manager) run on a thread.

Use it in-process::

    with ArmEmulator(storage_endpoint="http://127.0.0.1:10000") as arm:
        arm.add_subscription(SUB)
        arm.register_client(AppRegistration(tenant_id=T, client_id=C, secret=S))
        ... SDK clients with base_url=arm.url, connection_verify=str(arm.ca_path) ...
        arm.requests.count(method="PUT")       # request log
        arm.faults.add(FaultRule(...))         # fault injection
        arm.knobs.default_polls = 3            # latency

Every request is handled under one lock, so tests may read state through the accessor methods at any
time. Requests under ``/_emulator/`` are the control API (:mod:`arm_emulator.control`); paths under
``/subscriptions/`` are ARM; anything else is Entra ID (``/<tenant>/…``).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from arm_emulator import control, faults, tls, traffic
from arm_emulator.arm import ArmService
from arm_emulator.auth import PUBLIC_ARM_AUDIENCES, AppRegistration, Directory
from arm_emulator.blobs import StorageBackend
from arm_emulator.httpserver import TlsThreadingServer, read_body, reset_connection
from arm_emulator.lro import OperationBook
from arm_emulator.requestlog import ARM, CONTROL, TOKEN, RequestLog
from arm_emulator.store import ResourceStore
from arm_emulator.types import default_registry
from arm_emulator.types.base import Ctx, Knobs, Registry
from arm_emulator.wire import ArmError, Reply, Request

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorOptions:
    """Start-up settings: ``port`` 0 picks a free port; ``storage_endpoint`` is the blob service base URL
    advertised by storage accounts (Azurite or the fault proxy); ``storage_keys`` adds account keys the
    blob service knows (``devstoreaccount1`` is built in); ``traffic_dir`` enables oav traffic recording;
    ``state_dir`` keeps the TLS files (default: a temporary directory); ``verify_blobs`` probes VHD sources."""

    port: int = 0
    storage_endpoint: str | None = None
    storage_keys: Mapping[str, str] = field(default_factory=dict)
    traffic_dir: Path | None = None
    state_dir: Path | None = None
    verify_blobs: bool = True


class ArmEmulator:
    """Local ARM + Entra ID over HTTPS on 127.0.0.1 (see the module docstring)."""

    def __init__(self, options: EmulatorOptions | None = None, registry: Registry | None = None) -> None:
        opts = options or EmulatorOptions()
        self.options = opts
        self.lock = threading.RLock()
        self.knobs = Knobs()
        self.faults = faults.FaultInjector()
        self.requests = RequestLog()
        self.directory = Directory()
        self.store = ResourceStore()
        self.operations = OperationBook()
        self.registry = registry or default_registry()
        self.storage = StorageBackend(opts.storage_endpoint, opts.storage_keys, opts.verify_blobs)
        self.ctx = Ctx(self.store, self.knobs, self.storage, self.registry, self.operations)
        self._subscriptions: set[str] = set()
        self._recorder = traffic.TrafficRecorder(opts.traffic_dir) if opts.traffic_dir is not None else None
        self._tmp = tempfile.TemporaryDirectory(prefix="arm-emulator-") if opts.state_dir is None else None
        self.tls = tls.generate(Path(self._tmp.name) if self._tmp is not None else Path(str(opts.state_dir)))
        self._server = TlsThreadingServer(("127.0.0.1", opts.port), _Handler, self.tls.server_context())
        self._server.emulator = self  # type: ignore[attr-defined]
        self.arm = ArmService(self.ctx, self.directory, self.audiences, self._subscription_keys)

    # ---- lifecycle ------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` (no trailing slash)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def ca_pem(self) -> str:
        return self.tls.ca_pem

    def start(self) -> ArmEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> ArmEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def audiences(self) -> list[str]:
        """Token audiences ARM accepts: its own URL (IP or localhost) and the public-cloud ARM audiences."""
        return [self.url, f"https://localhost:{self.port}", *PUBLIC_ARM_AUDIENCES]

    # ---- configuration --------------------------------------------------------------------------------

    def add_subscription(self, subscription_id: str) -> None:
        with self.lock:
            self._subscriptions.add(subscription_id.lower())

    def _subscription_keys(self) -> set[str]:
        return self._subscriptions

    def register_client(self, app: AppRegistration) -> None:
        with self.lock:
            self.directory.register(app)

    def set_traffic_dir(self, directory: Path | None) -> None:
        with self.lock:
            self._recorder = traffic.TrafficRecorder(directory) if directory is not None else None

    # ---- state access for tests -----------------------------------------------------------------------

    def resource(self, resource_id: str, expand: str = "") -> dict[str, Any] | None:
        """The GET body of a stored resource (None when absent)."""
        with self.lock:
            record = self.store.get(resource_id)
            if record is None:
                return None
            rtype = self.registry.get(record.type_key)
            query = {"$expand": expand} if expand else {}
            return rtype.render(self.ctx, record, query) if rtype else record.snapshot()

    def resources(self, type_name: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(r.body) for r in self.store.all() if type_name is None or r.type_key == type_name.lower()
            ]

    def complete_operations(self) -> int:
        """End every running long-running operation now; return how many ended."""
        with self.lock:
            return self.operations.complete_all()

    def call(self, method: str, path: str, body: Any = None, api_version: str = "2021-04-01") -> Reply:
        """Run an ARM request in-process without authentication (seeding and assertions)."""
        sep = "&" if "?" in path else "?"
        target = f"{path}{sep}api-version={api_version}" if "api-version=" not in path else path
        raw = b"" if body is None else json.dumps(body).encode()
        request = Request.build(method, target, {"Content-Type": "application/json"}, raw, self.url)
        with self.lock:
            return self.arm.handle(request, authenticate=False)

    def seed(self, path: str, body: Any, api_version: str) -> dict[str, Any]:
        """PUT a resource in-process and finish its operation; return its body (raises on error)."""
        reply = self.call("PUT", path, body, api_version)
        if reply.status >= 400:
            raise RuntimeError(f"seeding {path} failed: {reply.status} {reply.body}")
        self.complete_operations()
        found = self.resource(path.partition("?")[0])
        assert found is not None
        return found

    # ---- request handling (called by the HTTP handler) ------------------------------------------------

    def route(self, request: Request) -> tuple[str, Reply | None, faults.Reset | None, str | None]:
        """Answer one request: ``(log kind, reply, reset, fault name)``.

        ``reply`` is None when the connection is to be reset before answering; with a mid-response reset
        both are set and the handler sends part of the reply.
        """
        if request.path.startswith(control.PREFIX):
            return CONTROL, control.handle(self, request), None, None
        is_arm = request.path.lower().startswith("/subscriptions/")
        kind = self.arm.classify(request) if is_arm else TOKEN
        rule = self.faults.pick(request.method, request.path, request.query)
        action = rule.action if rule is not None else None
        label = (rule.name or type(action).__name__) if rule is not None else None
        if isinstance(action, faults.Respond):
            reply = action.reply()
            return kind, _with_request_ids(reply, request) if is_arm else reply, None, label
        reset = action if isinstance(action, faults.Reset) else None
        if reset is not None and not reset.mid_response:
            return kind, None, reset, label
        op_fault = action if isinstance(action, faults.OperationFault) else None
        return kind, self._answer(request, is_arm, op_fault), reset, label

    def _answer(self, request: Request, is_arm: bool, op_fault: faults.OperationFault | None) -> Reply:
        with self.lock:
            try:
                if is_arm:
                    return _with_request_ids(self.arm.handle(request, op_fault), request)
                reply = self.directory.handle(request)
                return reply if reply is not None else ArmError(404, "NotFound", "Not found.").reply()
            except Exception:
                logger.exception("emulator failed on %s %s", request.method, request.path)
                return ArmError(500, "InternalServerError", "The emulator failed; see its log.").reply()

    def record(self, request: Request, kind: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        recorder = self._recorder
        if recorder is None or kind != ARM or not traffic.should_record(request.path):
            return
        url = f"{request.base_url}{request.path}" + (f"?{request.raw_query}" if request.raw_query else "")
        recorder.record(
            traffic.Exchange(
                method=request.method,
                url=url,
                request_headers=request.headers,
                request_body=request.body,
                status=status,
                response_headers=headers,
                response_body=body,
            )
        )


def _with_request_ids(reply: Reply, request: Request) -> Reply:
    """ARM's tracing headers: a fresh ``x-ms-request-id``; the caller's correlation id or a fresh one."""
    correlation = request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
    reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
    reply.headers.setdefault("x-ms-correlation-request-id", correlation)
    return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "arm-emulator"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        emulator: ArmEmulator = self.server.emulator  # type: ignore[attr-defined]
        body = read_body(self.rfile, self.headers)
        host = self.headers.get("Host") or f"127.0.0.1:{emulator.port}"
        request = Request.build(self.command, self.path, dict(self.headers.items()), body, f"https://{host}")
        kind, reply, reset, fault = emulator.route(request)
        status, headers, payload = 0, dict[str, str](), b""
        if reply is not None:
            payload, headers = reply.encoded()
            status = reply.status
        # Log (and record) before answering, so a client that got the answer always finds it in the log.
        emulator.requests.add(
            method=request.method,
            path=request.path,
            query=request.raw_query,
            status=0 if reset is not None else status,
            kind=kind,
            client_request_id=request.headers.get("x-ms-client-request-id") or request.headers.get("client-request-id"),
            fault=fault,
        )
        if reset is not None:
            self._reset(status, headers, payload)
            return
        emulator.record(request, kind, status, headers, payload)
        self._send(status, headers, payload)

    def _send(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def _reset(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        """Cut the connection; with a reply (mid-response reset) first send its head and half its body."""
        if status:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(max(len(payload), 2)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
        self.close_connection = True
        reset_connection(self.connection)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815
