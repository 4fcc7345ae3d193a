// A grpcurl-style reflection client for the integration tests, built on the
// maintained npm packages grpc-js-reflection-client and @grpc/grpc-js.
//
//   node reflection_client.js ADDRESS VERSION list
//   node reflection_client.js ADDRESS VERSION methods SERVICE
//   node reflection_client.js ADDRESS VERSION describe SYMBOL
//   node reflection_client.js ADDRESS VERSION invoke SERVICE METHOD JSON
//   node reflection_client.js ADDRESS VERSION raw HEX|pad:N...
//
// raw sends each HEX string as one request message on one ServerReflectionInfo
// stream and reports the raw answers: {"ok": {"responses": [HEX...],
// "code": N, "details": "..."}} (for hostile-input checks).
// VERSION is v1 or v1alpha. Prints one JSON object on stdout:
// {"ok": <result>} or {"error": "<message>"}; exits 0 either way (2 on bad usage).
'use strict';
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

const [address, version, command, ...args] = process.argv.slice(2);
if (!address || !version || !command) {
  console.error('usage: reflection_client.js ADDRESS VERSION list|methods|describe|invoke ...');
  process.exit(2);
}

const creds = grpc.ChannelCredentials.createInsecure();
const reflection = new GrpcReflection(address, creds, {}, version);
const deadline = () => ({ deadline: Date.now() + 10000 });

async function run() {
  switch (command) {
    case 'list':
      return (await reflection.listServices('*', deadline())).slice().sort();
    case 'methods':
      return (await reflection.listMethods(args[0], deadline())).map((m) => m.name).sort();
    case 'describe': {
      const descriptor = await reflection.getDescriptorBySymbol(args[0], deadline());
      const type = descriptor.getProtobufJsRoot().lookup(args[0]);
      return type.toJSON();
    }
    case 'invoke': {
      const [service, method, json] = args;
      const descriptor = await reflection.getDescriptorBySymbol(service, deadline());
      const pkg = descriptor.getPackageObject({ keepCase: true, longs: String, defaults: false });
      let ctor = pkg;
      for (const part of service.split('.')) ctor = ctor[part];
      const client = new ctor(address, creds);
      return await new Promise((resolve, reject) => {
        client[method](JSON.parse(json), deadline(), (err, reply) => {
          client.close();
          if (err) reject(err);
          else resolve(reply);
        });
      });
    }
    case 'raw': {
      const client = new grpc.Client(address, creds);
      const path = '/grpc.reflection.' + version + '.ServerReflection/ServerReflectionInfo';
      const identity = (b) => b;
      return await new Promise((resolve) => {
        const responses = [];
        let status = null;
        let ended = false;
        // grpc-js emits 'status' as soon as the trailers arrive, which can be
        // before the last buffered messages reach 'data'; 'end' comes only
        // after every message has been delivered, so answer once both are in.
        const finish = () => {
          if (!status || !ended) return;
          client.close();
          resolve({ responses, code: status.code, details: status.details });
        };
        const call = client.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata(), deadline());
        call.on('data', (b) => responses.push(Buffer.from(b).toString('hex')));
        call.on('error', () => {});
        call.on('end', () => { ended = true; finish(); });
        call.on('status', (st) => { status = st; finish(); });
        for (const arg of args) {
          if (arg.startsWith('pad:')) {
            // A list_services request whose name is N bytes of "a".
            const n = Number(arg.slice(4));
            const varint = [];
            for (let v = n; ; v >>>= 7) {
              if (v < 0x80) { varint.push(v); break; }
              varint.push((v & 0x7f) | 0x80);
            }
            call.write(Buffer.concat([Buffer.from([0x3a, ...varint]), Buffer.alloc(n, 'a')]));
          } else {
            call.write(Buffer.from(arg, 'hex'));
          }
        }
        call.end();
      });
    }
    default:
      throw new Error('unknown command ' + command);
  }
}

run().then(
  (ok) => {
    process.stdout.write(JSON.stringify({ ok }) + '\n');
    process.exit(0);
  },
  (err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + '\n');
    process.exit(0);
  },
);
