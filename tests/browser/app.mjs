// Runs in the page: one unary call, one server stream and one failing call
// through the proxy named by ?proxy=, and leaves what it saw in window.results.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

async function run() {
  const proxy = new URLSearchParams(location.search).get("proxy");
  const set = new Uint8Array(await (await fetch("/echo.pb")).arrayBuffer());
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, set));
  const Echo = registry.getService("switchyard.test.Echo");
  const client = createClient(Echo, createGrpcWebTransport({ baseUrl: proxy }));
  const out = { proxy };

  const unary = await client.unary({ payload: new TextEncoder().encode("hello from chromium") });
  out.unary = { payload: new TextDecoder().decode(unary.payload), backend: unary.backend };

  out.stream = [];
  for await (const m of client.serverStream({ count: 5, responseSize: 10 })) out.stream.push(Number(m.seq));

  try {
    await client.unary({ failCode: Code.NotFound, failMessage: "nothing here" });
    out.error = { code: 0, message: "the call succeeded" };
  } catch (e) {
    const err = ConnectError.from(e);
    out.error = { code: err.code, message: err.rawMessage };
  }
  return out;
}

window.results = run().catch((e) => ({ fatal: String((e && e.stack) || e) }));
window.results.then((r) => {
  document.getElementById("out").textContent = JSON.stringify(r, null, 2);
});
