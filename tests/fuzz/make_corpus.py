#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The HTTP/2 seeds are made with python3-h2 (Debian package): valid exchanges of
every RPC kind, and small hostile cases from issue 8's list. Run it again after
changing a seed; the output is deterministic, so unchanged seeds stay
byte-identical.

  /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import os
import struct
import sys

import h2.config
import h2.connection
import h2.settings

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def grpc(payload, compressed=False):
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(payload)) + payload


def req_headers(path, extra=()):
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", "switchyard.test"), ("content-type", "application/grpc"),
            ("te", "trailers")] + list(extra)


class Client:
    """An h2 client whose bytes after the preface and SETTINGS are the seed."""

    def __init__(self):
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.c.initiate_connection()
        self.c.data_to_send()  # the fuzzer sends its own preface + SETTINGS
        self.out = b""

    def flush(self):
        self.out += self.c.data_to_send()

    def call(self, path, messages, end=True, extra=()):
        sid = self.c.get_next_available_stream_id()
        self.c.send_headers(sid, req_headers(path, extra), end_stream=not messages and end)
        for i, m in enumerate(messages):
            data = grpc(m)
            chunks = [data[k:k + 16384] for k in range(0, len(data), 16384)]
            for j, chunk in enumerate(chunks):
                last = end and i == len(messages) - 1 and j == len(chunks) - 1
                self.c.send_data(sid, chunk, end_stream=last)
        self.flush()
        return sid

    def raw(self, data):
        self.flush()
        self.out += data


def downstream_seeds():
    t = "fuzz_downstream"
    c = Client(); c.call("/switchyard.test.Echo/Unary", [b"hello"]); write(t, "unary", c.out)
    c = Client(); c.call("/switchyard.test.Echo/ServerStream", [b"\x08\x05"]); write(t, "server_streaming", c.out)
    c = Client(); c.call("/switchyard.test.Echo/ClientStream", [b"a", b"bb", b"ccc"]); write(t, "client_streaming", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Bidi", [b"one"], end=False)
    c.c.send_data(sid, grpc(b"two")); c.c.end_stream(sid); c.flush(); write(t, "bidi", c.out)
    c = Client()
    for _ in range(3):
        c.call("/switchyard.test.Echo/Unary", [b"x" * 100])
    write(t, "three_unary_multiplexed", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Bidi", [b"a"], end=False)
    c.c.reset_stream(sid, 8); c.flush(); write(t, "cancel", c.out)
    c = Client(); c.call("/switchyard.test.Echo/Unary", [b"x" * 40000]); write(t, "body_beyond_window", c.out)
    for i, v in enumerate(["1n", "abc", "-1S", "99999999H", "0S", "1.5S", ""]):
        c = Client(); c.call("/switchyard.test.Echo/Unary", [b"t"], extra=[("grpc-timeout", v)])
        write(t, "grpc_timeout_%d" % i, c.out)
    c = Client(); c.call("/other.Service/Call", [b"x"]); write(t, "unrouted", c.out)
    c = Client(); c.c.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":path", "/switchyard.test.Echo/Unary"),
                                       (":authority", "a"), ("content-type", "text/plain")], end_stream=True)
    c.flush(); write(t, "bad_content_type", c.out)
    c = Client(); c.call("/switchyard.test.Echo/Unary", [b"x"], extra=[("x-big", "v" * 5000)]); write(t, "big_metadata", c.out)
    c = Client(); c.call("/switchyard.test.Echo/Unary", [b"x"], extra=[("grpc-encoding", "gzip")]); write(t, "grpc_encoding", c.out)
    # Hostile cases.
    c = Client()
    for _ in range(40):
        sid = c.call("/switchyard.test.Echo/Unary", [], end=False)
        c.c.reset_stream(sid, 8)
    c.flush(); write(t, "rapid_reset", c.out)
    c = Client(); c.raw(b"".join(frame(6, 0, 0, bytes(8)) for _ in range(50))); write(t, "ping_flood", c.out)
    c = Client(); c.raw(b"".join(frame(4, 0, 0, b"") for _ in range(50))); write(t, "settings_flood", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Bidi", [b"a"], end=False)
    c.raw(b"".join(frame(0, 0, sid, b"") for _ in range(50))); write(t, "empty_data_flood", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Bidi", [b"a"], end=False)
    c.raw(frame(8, 0, sid, struct.pack(">I", 0x7fffffff)) * 2); write(t, "window_update_overflow", c.out)
    c = Client(); c.raw(frame(8, 0, 0, struct.pack(">I", 0))); write(t, "window_update_zero", c.out)
    # HEADERS without END_HEADERS, then a CONTINUATION flood.
    c = Client(); block = c.c.encoder.encode(req_headers("/switchyard.test.Echo/Unary"))
    c.raw(frame(1, 0, 1, block) + b"".join(frame(9, 0, 1, b"\x40\x01a\x01b") for _ in range(30)))
    write(t, "continuation_flood", c.out)
    c = Client(); block = c.c.encoder.encode(req_headers("/switchyard.test.Echo/Unary"))
    c.raw(frame(1, 4 | 1, 5, block) + frame(1, 4 | 1, 3, block)); write(t, "stream_ids_decreasing", c.out)
    c = Client(); c.raw(frame(1, 4 | 1, 2, block)); write(t, "even_stream_id", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Unary", [], end=False)
    c.raw(frame(0, 1, sid, b"\x00\xff\xff\xff\xff" + b"x" * 10)); write(t, "grpc_length_huge", c.out)
    c = Client(); sid = c.call("/switchyard.test.Echo/Unary", [], end=False)
    c.raw(frame(0, 1, sid, grpc(b"zz", compressed=True))); write(t, "compressed_flag_without_encoding", c.out)
    c = Client(); c.raw(frame(0, 1, 0, b"x")); write(t, "data_on_stream_zero", c.out)
    # An indexed huge value referenced many times (HPACK bomb).
    big = b"\x40\x05x-bom" + b"\x7f\x81\x1f" + b"b" * 4000  # literal, incremental indexing, 4000+ byte value
    refs = b"\xbe" * 200  # index 62: the entry just added
    pre = c.c.encoder.encode(req_headers("/switchyard.test.Echo/Unary"))
    c = Client(); c.raw(frame(1, 4, 1, pre + big + refs)); write(t, "hpack_bomb", c.out)
    c = Client(); c.raw(frame(7, 0, 0, struct.pack(">II", 0, 0))); write(t, "goaway", c.out)
    c = Client(); c.raw(frame(2, 0, 1, struct.pack(">IB", 1, 16))); write(t, "priority_self_dependency", c.out)


def upstream_seeds():
    """Backend bytes after the server's SETTINGS, for the proxy's streams 1 and 3."""
    t = "fuzz_upstream"

    def server():
        cli = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        cli.initiate_connection()
        cli.send_headers(1, req_headers("/switchyard.test.Echo/Unary"), end_stream=False)
        cli.send_data(1, grpc(b"ping"), end_stream=True)
        cli.send_headers(3, req_headers("/switchyard.test.Echo/Bidi"), end_stream=False)
        cli.send_data(3, grpc(b"one"))
        s = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        s.initiate_connection()
        s.receive_data(cli.data_to_send())
        s.data_to_send()
        return s

    ok = [(":status", "200"), ("content-type", "application/grpc")]
    s = server()
    for sid in (1, 3):
        s.send_headers(sid, ok)
        s.send_data(sid, grpc(b"pong"))
        s.send_headers(sid, [("grpc-status", "0")], end_stream=True)
    write(t, "both_ok", s.data_to_send())
    s = server(); s.send_headers(1, ok + [("grpc-status", "14")], end_stream=True); write(t, "trailers_only_unavailable", s.data_to_send())
    s = server(); s.send_headers(1, ok + [("grpc-status", "5"), ("grpc-message", "not%20found")], end_stream=True)
    write(t, "trailers_only_not_found", s.data_to_send())
    s = server(); s.send_headers(3, ok)
    for i in range(20):
        s.send_data(3, grpc(b"m%d" % i))
    write(t, "server_stream_no_end", s.data_to_send())
    s = server(); s.reset_stream(1, 7); s.reset_stream(3, 2); write(t, "reset_refused_and_internal", s.data_to_send())
    s = server(); s.send_headers(1, ok); s.send_data(1, grpc(b"x"), end_stream=True); write(t, "data_end_without_trailers", s.data_to_send())
    s = server(); s.send_headers(1, [(":status", "100")]); s.send_headers(1, ok); s.send_headers(1, [("grpc-status", "0")], end_stream=True)
    write(t, "interim_100", s.data_to_send())
    s = server(); s.send_headers(1, [(":status", "503")], end_stream=True); write(t, "http_503", s.data_to_send())
    s = server(); s.send_headers(1, [(":status", "200"), ("content-type", "text/html")], end_stream=True)
    write(t, "wrong_content_type", s.data_to_send())
    s = server(); s.close_connection(0, last_stream_id=1); write(t, "goaway_last_1", s.data_to_send())
    s = server(); s.send_headers(1, ok + [("x-big", "v" * 20000)]); write(t, "big_response_headers", s.data_to_send())
    s = server(); s.send_headers(1, ok); s.send_data(1, b"\x00\xff\xff\xff\xff" + b"x" * 100)
    s.send_headers(1, [("grpc-status", "0")], end_stream=True); write(t, "grpc_length_huge", s.data_to_send())
    s = server(); s.send_headers(1, ok); s.send_headers(1, [("grpc-status", "0"), ("x-t", "t" * 20000)], end_stream=True)
    write(t, "big_trailers", s.data_to_send())
    write(t, "settings_max_streams_0", frame(4, 0, 0, struct.pack(">HI", 3, 0)))
    write(t, "ping", frame(6, 0, 0, bytes(8)))
    write(t, "data_without_headers", frame(0, 1, 1, grpc(b"x")))
    write(t, "window_update_overflow", frame(8, 0, 0, struct.pack(">I", 0x7fffffff)) * 2)
    write(t, "push_promise", frame(5, 4, 1, struct.pack(">I", 2) + b"\x82"))
    write(t, "garbage", b"\xff" * 64)


def text_seeds():
    for i, v in enumerate(["1n", "100m", "5S", "99999999H", "0S", "12345678u", "1M", "abc", "-1S", "1.5S", "1s", "+1S",
                           "0x10S", "123456789S", ""]):
        write("fuzz_grpc_timeout", "t%02d" % i, v)
    for i, v in enumerate(["/helloworld.Greeter/SayHello", "/switchyard.test.Echo/Unary", "/grpc.health.v1.Health/Check",
                           "/a/b", "//", "/a//b", "/a/b/c", "noslash", "/", "", "/pkg.Svc/", "/pkg.Svc/M?x=1",
                           "/%2e%2e/x"]):
        write("fuzz_method_path", "p%02d" % i, v)
    write("fuzz_grpc_message", "two_messages", b"\x03" + grpc(b"hello") + grpc(b"") )
    write("fuzz_grpc_message", "partial", b"\x01" + grpc(b"hello")[:7])
    write("fuzz_grpc_message", "huge_length", b"\x05\x00\xff\xff\xff\xff" + b"x" * 10)
    write("fuzz_grpc_message", "utf8_and_percent", b"\x02" + "caf\u00e9 100%% %zz %4".encode())


def config_seeds():
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "config")
    for dirpath, _, names in sorted(os.walk(src)):
        for name in sorted(names):
            if name.endswith(".yaml"):
                with open(os.path.join(dirpath, name), "rb") as f:
                    write("fuzz_config", name, f.read())
    write("fuzz_config", "full.yaml", """workers: 2
admin: { address: 127.0.0.1:9901 }
drain_timeout: 10s
logging: { level: info, access_log: stdout }
listeners:
  - name: public
    address: 0.0.0.0:8080
    idle_timeout: 5m
    http2: { max_concurrent_streams: 100, initial_stream_window: 65535, initial_connection_window: 1048576,
             max_frame_size: 16384, max_header_list_size: 8192 }
routes:
  - match: { service: helloworld.Greeter, method: SayHello }
    cluster: greeter
    timeout: { default: 5s, max: 30s }
    retry: { retry_on: [14, 4], max_attempts: 3, backoff_base: 25ms, backoff_max: 250ms }
  - match: { prefix: /grpc. }
    cluster: greeter
  - cluster: greeter
clusters:
  - name: greeter
    endpoints: [127.0.0.1:50051, "[::1]:50052"]
    lb: round_robin
    connect_timeout: 1s
    max_connections_per_endpoint: 4
    health_check: { interval: 5s }
""")
    write("fuzz_config", "errors.yaml", "workers: -1\nlisteners:\n  - name: x\n    address: nowhere\nroutes: [{cluster: nope}]\n")
    write("fuzz_config", "anchors.yaml", "a: &a [*a]\nworkers: *a\n")
    write("fuzz_config", "tags.yaml", "workers: !!binary aGVsbG8=\nlisteners: !!set {a, b}\n")


def main():
    downstream_seeds()
    upstream_seeds()
    text_seeds()
    config_seeds()
    print("seeds written under", ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
