"""A loopback HTTP server that hosts one emulated service, with fault injection and a request log.

Each service (Kowalski, Fritz) implements :class:`Service`: it turns a :class:`Request` into a
:class:`Response`. The server adds what is common to both: body-size limits, the emulator-only
control routes under ``/__emulator__/`` (alias ``/_emulator/``; ``log`` = ``requests``), faults, the rate limit and the request log.

Control routes (never faulted, never logged, no auth)::

    GET    /_emulator/requests     recorded requests (JSON list)
    DELETE /_emulator/requests     clear the log
    GET    /_emulator/faults       active faults
    POST   /_emulator/faults       add a fault (object) or several (list); see Fault
    DELETE /_emulator/faults       clear faults and switch the rate limit off
    POST   /_emulator/ratelimit    {"rate", "burst", "enabled", "retry_after"}
    POST   /_emulator/reset        clear faults, rate limit and log
    POST   /_emulator/<name>       service-specific controls (Service.control)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from scope_assets.emulator.faults import Fault, FaultInjector, LoggedRequest, RequestLog

logger = logging.getLogger(__name__)

CONTROL_PREFIXES = ("/__emulator__/", "/_emulator/")
"""Control routes: the spec's ``/__emulator__/`` and the shorter ``/_emulator/`` alias."""
MAX_DRAIN_BYTES = 64 << 20


@dataclass(frozen=True)
class Request:
    """An HTTP request as a service sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        """The **last** value of a query parameter (Tornado's semantics)."""
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The JSON body; ``{}`` when the body is empty."""
        return json.loads(self.body) if self.body.strip() else {}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, dumps: Callable[[Any], str] = json.dumps) -> Response:
    return Response(status, dumps(payload).encode())


def text_response(
    status: int, text: str, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    return Response(status, text.encode(), content_type)


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("Unauthorized", "Bad Gateway", …)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def nginx_error_page(status: int) -> Response:
    """The HTML page nginx answers with (429 from the rate limit, 502/503/504 from upstream)."""
    title = f"{status} {reason(status)}"
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return text_response(status, html, "text/html")


class Service(Protocol):
    """An emulated HTTP API."""

    name: str
    max_body_bytes: int | None

    def handle(self, request: Request) -> Response: ...

    def fault_response(self, status: int) -> Response: ...

    def control(self, action: str, payload: Any) -> Any: ...

    def reset(self) -> None: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections are closed (and their threads end) after this
    disable_nagle_algorithm = True  # no delayed-ACK stalls between header and body writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the stdlib's per-request stderr line (the request log records them)."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self) -> tuple[bytes, bool]:
        """The request body and whether it exceeded the service's limit (then it is drained)."""
        length = int(self.headers.get("Content-Length") or 0)
        limit = self.server.app.service.max_body_bytes
        if limit is not None and length > limit:
            remaining = min(length, MAX_DRAIN_BYTES)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
            return b"", True
        return (self.rfile.read(length) if length else b""), False

    def _dispatch(self) -> None:
        if self.server.app.stopping.is_set():  # a kept-alive connection outliving stop()
            self.close_connection = True
            return
        body, too_large = self._read_body()
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
        )
        response = self.server.app.respond(request, too_large)
        if response is None:  # the client gave up while a fault delayed us, or we are stopping
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status, reason(response.status))
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: ServiceApp


class ServiceApp:
    """Routes a request through control routes, faults, the service and the log."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.faults = FaultInjector()
        self.log = RequestLog()
        self.stopping = threading.Event()

    def respond(self, request: Request, too_large: bool = False) -> Response | None:
        if request.path.startswith(CONTROL_PREFIXES):
            return self._control(request)
        auth_key = request.headers.get("Authorization") or ""
        decision = self.faults.intercept(request.method, request.path, auth_key, request.body)
        if decision.delay_s and self.stopping.wait(decision.delay_s):
            return None
        injected = decision.fault is not None and decision.fault.status is not None
        if injected:
            response = self._fault_response(decision.fault)
        elif decision.rate_limited:
            response = nginx_error_page(429)
            if self.faults.rate_limit.retry_after:
                response.headers["Retry-After"] = "1"
            injected = True
        elif too_large:
            response = text_response(413, f"413: {reason(413)}")
        else:
            response = self._service_response(request)
        self.log.record(
            LoggedRequest(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=dict(request.headers.items()),
                body=request.body,
                status=response.status,
                injected=injected,
            )
        )
        return response

    def _service_response(self, request: Request) -> Response:
        try:
            return self.service.handle(request)
        except Exception:  # a bug in the emulator must still give an HTTP answer
            logger.exception(
                "%s emulator failed on %s %s", self.service.name, request.method, request.path
            )
            return self.service.fault_response(500)

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        response = self.service.fault_response(fault.status)
        if fault.body is not None:
            response.body = fault.body.encode()
        if fault.content_type is not None:
            response.content_type = fault.content_type
        response.headers.update(fault.headers)
        return response

    def _control(self, request: Request) -> Response:
        prefix = next(p for p in CONTROL_PREFIXES if request.path.startswith(p))
        action = request.path[len(prefix) :].strip("/")
        action = "requests" if action == "log" else action
        try:
            payload = request.json()
            result = self._control_action(request.method, action, payload)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response(
                400, {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
            )
        if result is NotImplemented:
            return json_response(404, {"status": "error", "message": f"no control route {action}"})
        return json_response(200, {"status": "success", "data": result})

    def _control_action(self, method: str, action: str, payload: Any) -> Any:
        match method, action:
            case "GET", "requests":
                return [entry.to_dict() for entry in self.log.entries()]
            case "DELETE", "requests":
                self.log.clear()
                return None
            case "GET", "faults":
                return [fault.to_dict() for fault in self.faults.active()]
            case "POST", "faults":
                items = payload if isinstance(payload, list) else [payload]
                return [self.faults.add(Fault.from_dict(item)).to_dict() for item in items]
            case "DELETE", "faults":
                self.faults.clear()
                return None
            case "POST", "ratelimit":
                self.faults.set_rate_limit(**payload)
                return self.faults.rate_limit.to_dict()
            case "POST", "reset":
                self.faults.clear()
                self.log.clear()
                self.service.reset()
                return None
            case "POST", _:
                return self.service.control(action, payload)
        return NotImplemented


class ServiceServer:
    """One service on ``host:port`` (port 0 = ephemeral) in a background thread."""

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = ServiceApp(service)
        self._server = _Server((host, port), _Handler)
        self._server.app = self.app
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator-{service.name}",
            daemon=True,
        )

    @property
    def service(self) -> Service:
        return self.app.service

    @property
    def faults(self) -> FaultInjector:
        return self.app.faults

    @property
    def log(self) -> RequestLog:
        return self.app.log

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def inject(self, status: int | None = None, **kwargs: Any) -> Fault:
        """Add a :class:`Fault` (shortcut for ``faults.add(Fault(status, ...))``)."""
        return self.faults.add(Fault(status=status, **kwargs))

    def requests(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[LoggedRequest]:
        return self.log.entries(method, path_regex)

    def start(self) -> ServiceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.app.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
