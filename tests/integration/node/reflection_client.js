// A grpcurl-style reflection client for the integration tests, built on the
// maintained npm packages grpc-js-reflection-client and @grpc/grpc-js.
//
//   node reflection_client.js ADDRESS VERSION list
//   node reflection_client.js ADDRESS VERSION methods SERVICE
//   node reflection_client.js ADDRESS VERSION describe SYMBOL
//   node reflection_client.js ADDRESS VERSION invoke SERVICE METHOD JSON
//
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
