"""A small native Parley client in Python, over gRPC with TLS (for example through the Envoy edge).

Stubs come from proto/ via scripts/edge/python-client.sh, which also makes the virtualenv:

    bash scripts/edge/python-client.sh
    PY=~/.cache/parley-edge/py-client/venv/bin/python
    CA=~/.cache/parley-edge/run/ca.pem
    $PY clients/python/parley_chat.py request-code --target 127.0.0.1:8443 --ca $CA --phone +15550000003
    $PY clients/python/parley_chat.py chat --target 127.0.0.1:8443 --ca $CA --phone +15550000003 --code 123456

`chat` signs in with the code (VerifyCode), opens SessionService.Connect with
`authorization: Bearer <token>`, sends Hello, then reads instructions from stdin, one JSON object per line:

    {"send": {"conversation_id": "...", "count": 3, "prefix": "py"}}   sends "py 0".."py 2",
        with client_message_ids "py-0".."py-2"
    {"until": {"conversation_id": "...", "sequence": 7}}   leaves once sequence 7 has been seen
        and every send has its result

It prints one JSON object per line on stdout: {"type": "signed_in", ...}, {"type": "ready", ...},
{"type": "caught_up", ...}, {"type": "sent", ...} and, for every new event,
{"type": "event", "conversation_id", "sequence", "text", "sender"}. Events are acked cumulatively
and deduplicated by (conversation_id, sequence); server heartbeats are echoed.
"""

import argparse
import json
import os
import queue
import sys
import threading

import grpc

STUBS = os.path.join(
    os.environ.get("PARLEY_EDGE_CACHE", os.path.expanduser("~/.cache/parley-edge")), "py-client", "gen"
)
if STUBS not in sys.path:
    sys.path.append(STUBS)

from parley.v1 import events_pb2, identity_pb2, identity_pb2_grpc  # noqa: E402
from parley.v1 import messaging_pb2, session_pb2, session_pb2_grpc  # noqa: E402


def emit(**fields):
    print(json.dumps(fields), flush=True)


def open_channel(args):
    with open(args.ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    return grpc.secure_channel(args.target, credentials)


class Session:
    """One device stream: an outgoing frame queue, the events seen and the stop condition."""

    def __init__(self):
        self.outgoing = queue.Queue()
        self.lock = threading.Lock()
        self.held = {}  # conversation_id -> highest sequence seen
        self.pending = set()  # client_message_ids without a SendResult
        self.until = None  # (conversation_id, sequence)
        self.closed = False

    def frames(self):
        """The request stream: Hello, then whatever is queued, until None (half-close)."""
        yield session_pb2.ConnectRequest(hello=session_pb2.Hello())
        while (frame := self.outgoing.get()) is not None:
            yield frame

    def send_texts(self, conversation_id, count, prefix):
        for i in range(count):
            cid = f"{prefix}-{i}"
            with self.lock:
                self.pending.add(cid)
            content = events_pb2.MessageContent(text=events_pb2.TextContent(body=f"{prefix} {i}"))
            request = messaging_pb2.SendMessageRequest(conversation_id=conversation_id, client_message_id=cid, content=content)
            self.outgoing.put(session_pb2.ConnectRequest(send=request))

    def maybe_close(self):
        """Half-closes once the awaited sequence has been seen and every send is answered."""
        with self.lock:
            if self.closed or self.until is None or self.pending:
                return
            conversation_id, sequence = self.until
            if self.held.get(conversation_id, 0) < sequence:
                return
            self.closed = True
        self.outgoing.put(None)

    def follow(self, instructions):
        for line in instructions:
            if not line.strip():
                continue
            order = json.loads(line)
            if "send" in order:
                s = order["send"]
                self.send_texts(s["conversation_id"], int(s.get("count", 1)), s.get("prefix", "py"))
            if "until" in order:
                with self.lock:
                    self.until = (order["until"]["conversation_id"], int(order["until"]["sequence"]))
            self.maybe_close()

    def handle(self, response):
        kind = response.WhichOneof("frame")
        if kind == "ready":
            r = response.ready
            emit(type="ready", user_id=r.user_id, device_id=r.device_id, window=r.window)
        elif kind == "caught_up":
            emit(type="caught_up", replayed=response.caught_up.replayed)
        elif kind == "event":
            event = response.event.event
            with self.lock:
                new = event.sequence > self.held.get(event.conversation_id, 0)
                if new:
                    self.held[event.conversation_id] = event.sequence
            if new:
                text = event.message.content.text.body if event.WhichOneof("body") == "message" else ""
                emit(type="event", conversation_id=event.conversation_id, sequence=event.sequence, text=text, sender=event.sender_user_id)
            ack = session_pb2.Ack(through_delivery_id=response.event.delivery_id)
            self.outgoing.put(session_pb2.ConnectRequest(ack=ack))
        elif kind == "send_result":
            result = response.send_result
            with self.lock:
                self.pending.discard(result.client_message_id)
            if result.WhichOneof("outcome") == "sent":
                emit(type="sent", client_message_id=result.client_message_id, sequence=result.sent.sequence)
            else:
                emit(type="send_failed", client_message_id=result.client_message_id, error=str(result.error).strip())
        elif kind == "heartbeat" and not response.heartbeat.echo:
            echo = session_pb2.Heartbeat(nonce=response.heartbeat.nonce, echo=True)
            self.outgoing.put(session_pb2.ConnectRequest(heartbeat=echo))
        elif kind == "go_away":
            emit(type="go_away", reason=session_pb2.GoAwayReason.Name(response.go_away.reason))
            self.outgoing.put(None)
        elif kind == "error":
            emit(type="stream_error", error=str(response.error).strip())
        self.maybe_close()


def request_code(args):
    with open_channel(args) as channel:
        res = identity_pb2_grpc.IdentityServiceStub(channel).RequestCode(
            identity_pb2.RequestCodeRequest(phone_number=args.phone), timeout=10
        )
    emit(type="code_requested", code_length=res.code_length)


def chat(args):
    with open_channel(args) as channel:
        signed_in = identity_pb2_grpc.IdentityServiceStub(channel).VerifyCode(
            identity_pb2.VerifyCodeRequest(phone_number=args.phone, code=args.code, device_name=args.name), timeout=10
        )
        emit(type="signed_in", user_id=signed_in.user_id, device_id=signed_in.device_id)
        session = Session()
        metadata = [("authorization", f"Bearer {signed_in.tokens.access_token}")]
        responses = session_pb2_grpc.SessionServiceStub(channel).Connect(session.frames(), metadata=metadata)
        threading.Thread(target=session.follow, args=(sys.stdin,), daemon=True).start()
        for response in responses:
            session.handle(response)
    emit(type="done", held=session.held)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("request-code", "chat"):
        p = sub.add_parser(name)
        p.add_argument("--target", default="127.0.0.1:8443", help="host:port of the TLS endpoint")
        p.add_argument("--ca", default=os.path.join(os.path.dirname(STUBS), "..", "run", "ca.pem"), help="CA certificate (PEM)")
        p.add_argument("--phone", required=True, help="E.164 phone number")
        if name == "chat":
            p.add_argument("--code", required=True, help="the sign-in code")
            p.add_argument("--name", default="python client", help="device name")
    args = parser.parse_args()
    try:
        request_code(args) if args.command == "request-code" else chat(args)
    except grpc.RpcError as error:
        emit(type="rpc_error", code=error.code().name, message=error.details())
        sys.exit(1)


if __name__ == "__main__":
    main()
